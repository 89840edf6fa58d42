/* kernel/plugin.h. */
#include "kernel/plugin.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "jobs/jobs.h"
#include "kernel/inputs.h"
#include "proto/error.h"

/* The descriptor's fields up to close are version 1's. */
static const size_t kAbi1Size =
    offsetof(taskfarm_kernel_t, close) + sizeof(((taskfarm_kernel_t*)0)->close);

int plugin_load(const char* given, void** dl, taskfarm_kernel_t* d,
                char* what, size_t len) {
  *dl = NULL;
  const char* path = given;
  /* A bare name would be searched for in the library path: a path is
   * always what the user named. */
  char local[JOBS_PATH_MAX + 2];
  if (strchr(path, '/') == NULL) {
    snprintf(local, sizeof(local), "./%s", path);
    path = local;
  }
  /* dlopen would wait on a FIFO for ever, and reads a folder's error
   * badly: a regular file, or a sentence. */
  jobs_input_t object;
  int rc = kernel_input_identity(given, "--kernel", &object, what, len);
  if (rc < 0) return rc;
  *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (*dl == NULL) {
    snprintf(what, len, "cannot load --kernel '%s': %s", given, dlerror());
    return PROTO_EINVAL;
  }
  taskfarm_kernel_fn fn;
  void* sym = dlsym(*dl, TASKFARM_KERNEL_SYMBOL);
  memcpy(&fn, &sym, sizeof(fn));
  if (sym == NULL) {
    snprintf(what, len,
             "--kernel '%s' has no function %s (declare it as in "
             "taskfarm_kernel.h, not static)",
             given, TASKFARM_KERNEL_SYMBOL);
    return PROTO_EINVAL;
  }
  const taskfarm_kernel_t* got = fn();
  if (got == NULL) {
    snprintf(what, len, "--kernel '%s': %s() returned NULL", given,
             TASKFARM_KERNEL_SYMBOL);
    return PROTO_EINVAL;
  }
  if (got->abi < TASKFARM_KERNEL_ABI_OLDEST || got->abi > TASKFARM_KERNEL_ABI) {
    snprintf(what, len,
             "--kernel '%s' was built for kernel interface version %u; this "
             "taskfarm loads versions %d to %d (rebuild it against this "
             "taskfarm's taskfarm_kernel.h)",
             given, got->abi, TASKFARM_KERNEL_ABI_OLDEST, TASKFARM_KERNEL_ABI);
    return PROTO_EINVAL;
  }
  /* A version 1 object's descriptor ends at close: read no further. */
  memset(d, 0, sizeof(*d));
  memcpy(d, got, got->abi == 1 ? kAbi1Size : sizeof(*d));
  if (d->compute == NULL || d->name == NULL ||
      (d->result & (TASKFARM_RESULT_FLOAT | TASKFARM_RESULT_INT)) == 0 ||
      (d->result & ~(uint32_t)(TASKFARM_RESULT_FLOAT | TASKFARM_RESULT_INT))) {
    snprintf(what, len,
             "--kernel '%s' has an incomplete descriptor: it needs a name, a "
             "compute function and a result of TASKFARM_RESULT_FLOAT and/or "
             "TASKFARM_RESULT_INT",
             given);
    return PROTO_EINVAL;
  }
  return 0;
}

void plugin_unload(void* dl) {
  if (dl != NULL) dlclose(dl);
}
