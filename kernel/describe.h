/* A job's computation completed from its kernel's declaration, in the
 * calling process: the declared options bound to the values given, n from
 * --n or from the kernel's size hook and checked against its limit, the
 * input files' identities, the reference value, and a trial init and
 * close. For a built-in job every rank calls it before MPI starts; for a
 * user's kernel kernel/probe.h calls it in a child process. */
#ifndef TASKFARM_KERNEL_DESCRIBE_H_
#define TASKFARM_KERNEL_DESCRIBE_H_

#include <stddef.h>
#include <stdint.h>

#include "jobs/jobs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* task->value holds the values as given (key, text; as the parser found
 * them); d is the kernel's descriptor. n_given says whether --n was given
 * (its value in *n). Fills task->spec, binds and canonicalises
 * task->value, sets *n, task->input and the reference. Returns 0, or a
 * negative proto_error_t with one sentence in err. */
int kernel_describe(jobs_task_t* task, const taskfarm_kernel_t* d,
                    int n_given, uint64_t* n, char* err, size_t errlen);

/* How a job's options are written on its command line: "--" for a
 * built-in job, "--arg " for a loaded kernel's. */
const char* kernel_dash(const jobs_task_t* task);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_KERNEL_DESCRIBE_H_ */
