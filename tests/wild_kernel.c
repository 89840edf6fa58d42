/* Kernels that abuse what the farm hands them, to test that the farm does
 * not trust what comes back from a kernel's process:
 * - WILD_LINES declares result lines that each print a 255-byte option
 *   fifteen times (about 3.8 KB a line): the console must cut them, not
 *   write past its buffer.
 * - WILD_SCRIBBLE's init finds the farm's description of the job behind
 *   its arguments (it knows the layout: it includes jobs/jobs.h) and
 *   writes impossible counts into it, as any kernel could by accident. */
#include <stddef.h>

#include "jobs/jobs.h"
#include "jobs/taskfarm_kernel.h"

static int compute(void* state, uint64_t begin, uint64_t end,
                   const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)state, (void)err, (void)errlen;
  for (uint64_t i = begin; i < end; i++) out->add_int(out->ctx, 1);
  return 0;
}

#ifdef WILD_SCRIBBLE
static int scribble(void** state, uint64_t n, const taskfarm_arg_t* args,
                int nargs, char* err, size_t errlen) {
  (void)state, (void)n, (void)err, (void)errlen;
  if (nargs < 1) return 0;
  jobs_task_t* task =
      (jobs_task_t*)(void*)((char*)(uintptr_t)args[0].key -
                            offsetof(jobs_task_t, value));
  task->nvalues = 100000;
  task->spec.nlines = 5000;
  return 0;
}
#define INIT scribble
#else
#define INIT NULL
#endif

#define W "{opt:word}"
#define LINE W W W W W W W W W W W W W W W
static const char* const kLines[] = {"A = " LINE, "B = " LINE, "C = " LINE,
                                     "D = " LINE, "E = " LINE, "F = " LINE,
                                     "G = " LINE, "H = " LINE, NULL};

static const taskfarm_option_t kOptions[] = {
    {"word", TASKFARM_OPT_TEXT, "TEXT", "what the lines repeat", "w", 0, 0,
     NULL},
    {NULL}};

static const taskfarm_kernel_t kWild = {
    .abi = TASKFARM_KERNEL_ABI,
    .name = "wild",
    .version = 1,
    .result = TASKFARM_RESULT_INT,
    .init = INIT,
    .compute = compute,
    .options = kOptions,
    .lines = kLines,
};

const taskfarm_kernel_t* taskfarm_kernel(void) { return &kWild; }
