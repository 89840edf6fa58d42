/* The files a job reads: what identifies an input file for a journal,
 * and the bytes of a kernel's object for the HELLO fingerprint. Opened
 * without blocking, so a FIFO or a device is refused at once. */
#ifndef TASKFARM_KERNEL_INPUTS_H_
#define TASKFARM_KERNEL_INPUTS_H_

#include <stddef.h>
#include <stdint.h>

#include "jobs/jobs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The identity of the readable regular file at path (opt names it in the
 * messages: "--a"). Returns 0, or PROTO_EFILE with one sentence in err. */
int kernel_input_identity(const char* path, const char* opt,
                          jobs_input_t* in, char* err, size_t errlen);

/* FNV-1a of the regular file's bytes into *out; 0 or PROTO_EFILE. */
int kernel_input_hash(const char* path, const char* opt, uint64_t* out,
                      char* err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_KERNEL_INPUTS_H_ */
