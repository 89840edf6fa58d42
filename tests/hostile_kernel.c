/* A kernel that misbehaves from index `from` on (--arg from=K; default
 * n / 2), as --arg do= says: segv (a segmentation fault), abort, exit (a
 * plain exit(0)), hang (loops for ever without keep_alive), noise (adds a
 * value that depends on the time: not deterministic), initcrash (crashes
 * in its init), none. Below `from` it adds 1 and 1/(i+1) per index. Built
 * with -DHOSTILE_FIXED it ignores do= (the kernel after the fix: same name
 * and version, so it resumes the journal of the broken one). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/taskfarm_kernel.h"

typedef struct hostile_s {
  char what[16];
  uint64_t from;
} hostile_t;

static int hostile_init(void** state, uint64_t n, const taskfarm_arg_t* args,
                        int nargs, char* err, size_t errlen) {
  hostile_t* h = calloc(1, sizeof(*h));
  if (h == NULL) return 1;
  snprintf(h->what, sizeof(h->what), "none");
  h->from = n / 2;
  for (int i = 0; i < nargs; i++) {
    if (strcmp(args[i].key, "do") == 0)
      snprintf(h->what, sizeof(h->what), "%s", args[i].value);
    else if (strcmp(args[i].key, "from") == 0)
      h->from = strtoull(args[i].value, NULL, 10);
    else {
      snprintf(err, errlen, "unknown argument '%s'", args[i].key);
      free(h);
      return 1;
    }
  }
#ifdef HOSTILE_FIXED
  snprintf(h->what, sizeof(h->what), "none");
#endif
  if (strcmp(h->what, "initcrash") == 0) raise(SIGSEGV);
  *state = h;
  return 0;
}

static int hostile_compute(void* state, uint64_t begin, uint64_t end,
                           const taskfarm_out_t* out, char* err,
                           size_t errlen) {
  (void)err, (void)errlen;
  const hostile_t* h = state;
  for (uint64_t i = begin; i < end; i++) {
    if (i >= h->from) {
      if (strcmp(h->what, "segv") == 0) raise(SIGSEGV);
      if (strcmp(h->what, "abort") == 0) abort();
      if (strcmp(h->what, "exit") == 0) exit(0);
      if (strcmp(h->what, "hang") == 0)
        for (volatile int spin = 1; spin;) {
        }
      if (strcmp(h->what, "noise") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        out->add_double(out->ctx, (double)ts.tv_nsec * 1e-30);
      }
    }
    out->add_int(out->ctx, 1);
    out->add_double(out->ctx, 1.0 / (double)(i + 1));
  }
  return 0;
}

static void hostile_close(void* state) { free(state); }

static const taskfarm_kernel_t kHostile = {
    .abi = TASKFARM_KERNEL_ABI,
    .name = "hostile",
    .version = 1,
    .result = TASKFARM_RESULT_FLOAT | TASKFARM_RESULT_INT,
    .init = hostile_init,
    .compute = hostile_compute,
    .close = hostile_close,
};

const taskfarm_kernel_t* taskfarm_kernel(void) { return &kHostile; }
