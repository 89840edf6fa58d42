/* worker/plugin.h. */
#include "worker/plugin.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "proto/error.h"

int plugin_load(const char* given, void** dl, const taskfarm_kernel_t** impl,
                char* what, size_t len) {
  const char* path = given;
  /* A bare name would be searched for in the library path: a path is
   * always what the user named. */
  char local[PROTO_PATH_MAX + 2];
  if (strchr(path, '/') == NULL) {
    snprintf(local, sizeof(local), "./%s", path);
    path = local;
  }
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
             "worker/taskfarm_kernel.h, not static)",
             given, TASKFARM_KERNEL_SYMBOL);
    return PROTO_EINVAL;
  }
  const taskfarm_kernel_t* d = fn();
  if (d == NULL) {
    snprintf(what, len, "--kernel '%s': %s() returned NULL", given,
             TASKFARM_KERNEL_SYMBOL);
    return PROTO_EINVAL;
  }
  if (d->abi != TASKFARM_KERNEL_ABI) {
    snprintf(what, len,
             "--kernel '%s' was built for kernel interface version %u; this "
             "taskfarm has version %d (rebuild it against this "
             "worker/taskfarm_kernel.h)",
             given, d->abi, TASKFARM_KERNEL_ABI);
    return PROTO_EINVAL;
  }
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
  *impl = d;
  return 0;
}

int plugin_args(const proto_job_t* job, taskfarm_arg_t* args,
                char (*copy)[PROTO_ARG_BYTES]) {
  for (int i = 0; i < job->nargs; i++) {
    memcpy(copy[i], job->arg[i], PROTO_ARG_BYTES);
    char* eq = strchr(copy[i], '=');
    if (eq != NULL) *eq = '\0';
    args[i].key = copy[i];
    args[i].value = eq != NULL ? eq + 1 : "";
  }
  return job->nargs;
}

void plugin_unload(void* dl) {
  if (dl != NULL) dlclose(dl);
}
