/* A user's kernel tried before it is trusted: everything the farm needs
 * from a loaded object's own code (its declaration, its options bound,
 * its n, its reference, its help, its calibration, its prepare hook) is
 * done in a child process, so that a constructor, an init or a hook that
 * crashes, exits or hangs is reported as a sentence, not suffered. A
 * built-in job's hooks run in the calling process. No MPI. */
#ifndef TASKFARM_KERNEL_PROBE_H_
#define TASKFARM_KERNEL_PROBE_H_

#include <stddef.h>
#include <stdint.h>

#include "jobs/jobs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* kernel_describe() for task's kernel: in the calling process for a
 * built-in job, in a child for a loaded one (which takes at most limit_s
 * seconds). With calibrate set, also measures *scale (0 when the kernel
 * has no calibrate hook). Returns 0, or a negative proto_error_t with one
 * sentence in err. */
int kernel_probe(jobs_task_t* task, int n_given, uint64_t* n, int calibrate,
                 uint64_t* scale, double limit_s, char* err, size_t errlen);

/* The help of task's kernel (its own text and its options) into help
 * (len bytes). For a loaded kernel, task->kernel_path is loaded in a
 * child. Returns 0, or a negative proto_error_t with a sentence in err. */
int kernel_help(const jobs_task_t* task, char* help, size_t len,
                double limit_s, char* err, size_t errlen);

/* The kernel's prepare hook, if it has one, on rank 0 before any chunk
 * (resume: a journal is being resumed). Returns 0, or PROTO_EINVAL with a
 * sentence in err. */
int kernel_prepare(const jobs_task_t* task, uint64_t n, int resume,
                   double limit_s, char* err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_KERNEL_PROBE_H_ */
