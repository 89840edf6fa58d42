/* hello: the smiling processes. Every rank prints a greeting; the master
 * counts the ranks that greeted. Nothing to compute: n is 0. */
#include <stdio.h>
#include <unistd.h>

#include "jobs/jobs.h"
#include "jobs/taskfarm_kernel.h"

/* Every rank's line: a smiley, its rank, the world size and its host. */
static void greet(int rank, int size, FILE* out) {
  static const char* const smileys[] = {":-)",   ";-)", ":-D", "(^_^)",
                                        "(^o^)", ":o)", "=)",  "(:"};
  char host[256] = "unknown";
  gethostname(host, sizeof(host) - 1);
  fprintf(out, "%s rank %d of %d on %s\n", smileys[rank % 8], rank, size,
          host);
  fflush(out);
}

static int size(const taskfarm_arg_t* args, int nargs, uint64_t* n, char* err,
                size_t errlen) {
  (void)args, (void)nargs, (void)err, (void)errlen;
  *n = 0;
  return 0;
}

static int compute(void* state, uint64_t begin, uint64_t end,
                   const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)state, (void)begin, (void)end, (void)out, (void)err, (void)errlen;
  return 0;
}

static const taskfarm_option_t kNone[] = {{NULL}};
static const char* const kLines[] = {"{ranks} ranks said hello", NULL};

static const taskfarm_kernel_t kHello = {
    .abi = TASKFARM_KERNEL_ABI,
    .name = "hello",
    .version = 1,
    .result = 0,
    .compute = compute,
    .help = "Every rank prints a smiley, its rank, the world size and its\n"
            "host; the master prints how many ranks said hello.\n",
    .options = kNone,
    .lines = kLines,
    .n_what = "ranks",
    .size = size,
};

static const jobs_entry_t jobs_entry_hello = {
    "hello", "every rank greets: the smiling processes",
    &kHello, JOBS_RANGELESS, 0, greet, NULL};
JOBS_ADD(hello);
