/* A user's kernel from a shared object (run --kernel): loading it with
 * dlopen, checking its descriptor, and the --arg list in the form its init
 * takes. No MPI. */
#ifndef TASKFARM_WORKER_PLUGIN_H_
#define TASKFARM_WORKER_PLUGIN_H_

#include <stddef.h>

#include "proto/job.h"
#include "worker/taskfarm_kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loads the object at path (a bare name is taken as ./name, never searched
 * for) and checks its descriptor: the taskfarm_kernel symbol, the interface
 * version, a name, a compute function and a result kind. Sets *dl and
 * *impl; returns 0, or PROTO_EINVAL with one sentence in what (len bytes).
 * *dl may be set on failure too: unload it. */
int plugin_load(const char* path, void** dl, const taskfarm_kernel_t** impl,
                char* what, size_t len);

/* The job's --arg list split at '=' into args, the strings copied into
 * copy; returns their number. */
int plugin_args(const proto_job_t* job, taskfarm_arg_t* args,
                char (*copy)[PROTO_ARG_BYTES]);

/* dlclose, safe on NULL. */
void plugin_unload(void* dl);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_WORKER_PLUGIN_H_ */
