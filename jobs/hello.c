/* hello: the smiling processes. Every rank prints a greeting; the master
 * counts the ranks that greeted. Nothing to compute: n is 0. */
#include "jobs/jobs.h"
#include "jobs/taskfarm_kernel.h"

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

JOBS_REGISTER(hello, "hello", "every rank greets: the smiling processes",
              &kHello, JOBS_GREETS, 0);
