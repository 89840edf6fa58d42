/* Kernel objects that run --kernel must refuse up front: BAD_NOSYM exports
 * no taskfarm_kernel, BAD_ABI declares another interface version. */
#include "jobs/taskfarm_kernel.h"

static int compute(void* state, uint64_t begin, uint64_t end,
                   const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)state, (void)err, (void)errlen;
  for (uint64_t i = begin; i < end; i++) out->add_int(out->ctx, 1);
  return 0;
}

static const taskfarm_kernel_t kBad = {
#ifdef BAD_ABI
    .abi = 99, /* a version no taskfarm has had */
#else
    .abi = TASKFARM_KERNEL_ABI,
#endif
    .name = "bad",
    .version = 1,
    .result = TASKFARM_RESULT_INT,
    .compute = compute,
};

#ifdef BAD_NOSYM
const taskfarm_kernel_t* some_other_name(void) { return &kBad; }
#else
const taskfarm_kernel_t* taskfarm_kernel(void) { return &kBad; }
#endif
