/* A user's kernel from a shared object (run --kernel): loaded with dlopen
 * and its descriptor copied, a version 1 one into the version 2 layout
 * with every newer field zero. No MPI. Only ever called in a process that
 * may die of the kernel (kernel/probe.h, kernel/sandbox.h). */
#ifndef TASKFARM_KERNEL_PLUGIN_H_
#define TASKFARM_KERNEL_PLUGIN_H_

#include <stddef.h>

#include "jobs/taskfarm_kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loads the object at path (a bare name is taken as ./name, never searched
 * for) and copies its descriptor into *d: the taskfarm_kernel symbol, an
 * interface version this taskfarm loads, a name, a compute function and a
 * result of one kind or both. Sets *dl; returns 0, or PROTO_EFILE (path
 * is no readable regular file: never handed to dlopen, which would wait
 * on a FIFO) or PROTO_EINVAL, with one sentence in what (len bytes). *dl
 * may be set on failure too: unload it. */
int plugin_load(const char* path, void** dl, taskfarm_kernel_t* d,
                char* what, size_t len);

/* dlclose, safe on NULL. */
void plugin_unload(void* dl);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_KERNEL_PLUGIN_H_ */
