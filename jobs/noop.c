/* noop: chunks that compute nothing, so that a run measures the farm's own
 * cost per chunk (messages, decisions, bookkeeping). */
#include "jobs/jobs.h"
#include "jobs/taskfarm_kernel.h"

static int compute(void* state, uint64_t begin, uint64_t end,
                   const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)state, (void)begin, (void)end, (void)out, (void)err, (void)errlen;
  return 0;
}

static const taskfarm_option_t kNone[] = {{NULL}};
static const char* const kLines[] = {"Chunks = {chunks}", NULL};

static const taskfarm_kernel_t kNoop = {
    .abi = TASKFARM_KERNEL_ABI,
    .name = "noop",
    .version = 2,
    .result = 0, /* adds nothing: the run's result is its chunk count */
    .align = 1,
    .n_max = (uint64_t)1 << 60,
    .compute = compute,
    .help = "Chunks that compute nothing: what the farm itself costs per\n"
            "chunk. Use a small --chunk to measure it.\n",
    .options = kNone,
    .lines = kLines,
    .n_what = "iterations",
    .slice = (uint64_t)1 << 16,
};

JOBS_REGISTER(noop, "noop", "empty chunks: the farm's own cost per chunk",
              &kNoop, 0, 0);
