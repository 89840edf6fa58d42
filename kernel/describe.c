/* kernel/describe.h. */
#include "kernel/describe.h"

#include <stdio.h>
#include <string.h>

#include "jobs/options.h"
#include "kernel/inputs.h"
#include "kernel/kernel.h"
#include "proto/error.h"

const char* kernel_dash(const jobs_task_t* task) {
  return task->entry != NULL && (task->entry->flags & JOBS_LOADS) ? "--arg "
                                                                  : "--";
}

/* The values as given, rebound to d's declaration. */
static int bind(jobs_task_t* task, const taskfarm_kernel_t* d, char* err,
                size_t errlen) {
  static char keys[JOBS_VALUES_MAX][JOBS_KEY_MAX];
  static char texts[JOBS_VALUES_MAX][JOBS_VALUE_MAX];
  const char* kp[JOBS_VALUES_MAX];
  const char* tp[JOBS_VALUES_MAX];
  int count = task->nvalues;
  for (int i = 0; i < count; i++) {
    memcpy(keys[i], task->value[i].key, JOBS_KEY_MAX);
    memcpy(texts[i], task->value[i].value, JOBS_VALUE_MAX);
    kp[i] = keys[i];
    tp[i] = texts[i];
  }
  return jobs_bind(d, kp, tp, count, kernel_dash(task), task, err, errlen);
}

static int size_of(jobs_task_t* task, const taskfarm_kernel_t* d, int n_given,
                   uint64_t* n, char* err, size_t errlen) {
  const jobs_spec_t* spec = &task->spec;
  const char* job = task->entry->command;
  if (n_given && (spec->hooks & JOBS_HOOK_SIZE))
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "%s takes no --n: its options give n, the number of %s",
                      job, spec->n_what);
  if (!n_given && !(spec->hooks & JOBS_HOOK_SIZE))
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "%s needs --n N, the number of %s (e.g. --n 1e9)", job,
                      spec->n_what);
  if (spec->hooks & JOBS_HOOK_SIZE) {
    taskfarm_arg_t args[JOBS_VALUES_MAX];
    int nargs = jobs_args(task, args);
    char why[512] = "";
    *n = 0;
    if (d->size(args, nargs, n, why, sizeof(why)) != 0)
      return proto_fail(err, errlen, PROTO_EINVAL, "%s",
                        why[0] ? why : "the kernel cannot tell its n");
    if (*n == 0 && !(task->entry->flags & JOBS_RANGELESS))
      return proto_fail(err, errlen, PROTO_EINVAL,
                        "%s has no %s to compute: its options give n = 0", job,
                        spec->n_what);
  }
  if (*n > spec->n_max)
    return proto_fail(err, errlen, PROTO_ERANGE,
                      "--n %llu is beyond the supported maximum %llu of %s",
                      (unsigned long long)*n, (unsigned long long)spec->n_max,
                      spec->name);
  return 0;
}

static int inputs(jobs_task_t* task, char* err, size_t errlen) {
  task->ninputs = 0;
  for (int i = 0; i < task->nvalues; i++) {
    const jobs_value_t* v = &task->value[i];
    if (v->type != TASKFARM_OPT_INPUT || !v->set) continue;
    if (task->ninputs == JOBS_INPUTS_MAX)
      return proto_fail(err, errlen, PROTO_EINVAL,
                        "a job reads at most %d input files", JOBS_INPUTS_MAX);
    char opt[JOBS_KEY_MAX + 8];
    snprintf(opt, sizeof(opt), "%s%s", kernel_dash(task), v->key);
    int rc = kernel_input_identity(v->value, opt,
                                   &task->input[task->ninputs++], err, errlen);
    if (rc < 0) return rc;
  }
  return 0;
}

static void reference(jobs_task_t* task, const taskfarm_kernel_t* d,
                      uint64_t n) {
  task->has_reference = 0;
  if (!(task->spec.hooks & JOBS_HOOK_REFERENCE)) return;
  taskfarm_arg_t args[JOBS_VALUES_MAX];
  int nargs = jobs_args(task, args);
  taskfarm_reference_t ref = {0, NULL, NULL};
  if (d->reference(n, args, nargs, &ref) != 0) return;
  task->has_reference = 1;
  task->reference = ref.value;
  snprintf(task->reference_text, sizeof(task->reference_text), "%s",
           ref.text != NULL ? ref.text : "");
  snprintf(task->reference_what, sizeof(task->reference_what), "%s",
           ref.what != NULL ? ref.what : "");
}

int kernel_describe(jobs_task_t* task, const taskfarm_kernel_t* d,
                    int n_given, uint64_t* n, char* err, size_t errlen) {
  char why[256];
  if (jobs_spec_of(d, &task->spec, why, sizeof(why)) < 0) {
    if (task->entry->flags & JOBS_LOADS)
      return proto_fail(err, errlen, PROTO_EINVAL, "--kernel '%s' %s",
                        task->kernel_path, why);
    return proto_fail(err, errlen, PROTO_EINVAL, "job %s %s",
                      task->entry->command, why);
  }
  int rc = bind(task, d, err, errlen);
  if (rc == 0) rc = inputs(task, err, errlen);
  if (rc == 0) rc = size_of(task, d, n_given, n, err, errlen);
  if (rc < 0) return rc;
  reference(task, d, *n);
  /* Its init and close, tried once: a kernel that refuses its options
   * says so now, once, rather than on every rank at its first chunk. */
  static kernel_t k; /* what[] is large */
  rc = kernel_init(&k, task, *n);
  if (rc < 0) {
    size_t len = strnlen(k.what, errlen - 1);
    memcpy(err, k.what, len);
    err[len] = '\0';
  }
  kernel_close(&k);
  return rc < 0 ? PROTO_EINVAL : 0;
}
