/* pi: the Leibniz series S_n = sum_{k<n} 4 (-1)^k / (2k + 1), summed in
 * grains of PI_GRAIN terms with one fixed order each (jobs/pi.h), so the
 * bits do not depend on how the range was cut. Every operation is an IEEE
 * add, multiply, subtract or divide on independent lanes with FMA
 * contraction off (.bazelrc): every x86-64 level gives the same bits. */
#include <stdint.h>
#include <stdlib.h>

#include "base/isa.h"
#include "jobs/jobs.h"
#include "jobs/pi.h"
#include "jobs/taskfarm_kernel.h"

double pi_grain(uint64_t begin, uint64_t end) {
  switch (base_isa()) {
    case BASE_ISA_AVX512:
      return pi_grain_avx512(begin, end);
    case BASE_ISA_AVX2:
      return pi_grain_avx2(begin, end);
    default:
      return pi_grain_sse2(begin, end);
  }
}

static double pair_term(double x) { return 8.0 / (x * x - 1.0); }

static int compute(void* state, uint64_t begin, uint64_t end,
                   const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)err, (void)errlen;
  uint64_t n = (uint64_t)(uintptr_t)state;
  for (uint64_t g = begin; g < end; g += PI_GRAIN) {
    uint64_t ge = g + PI_GRAIN < n ? g + PI_GRAIN : n;
    if (g >= PI_EXACT_TERMS) {
      out->add_double(out->ctx, pi_grain(g, ge));
      continue;
    }
    /* Low terms: every pair rounded once, then summed exactly. */
    for (uint64_t i = g; i + 1 < ge; i += 2)
      out->add_double(out->ctx, pair_term(2.0 * (double)i + 2.0));
    if ((ge - g) % 2)
      out->add_double(out->ctx, 4.0 / (2.0 * (double)(ge - 1) + 1.0));
  }
  return 0;
}

static int reference(uint64_t n, const taskfarm_arg_t* args, int nargs,
                     taskfarm_reference_t* ref) {
  (void)n, (void)args, (void)nargs;
  ref->value = 3.141592653589793;
  ref->text = "3.1415926535897931";
  ref->what = "pi, the limit of S_n";
  return 0;
}

static const taskfarm_option_t kNone[] = {{NULL}};
static const char* const kLines[] = {
    "PI is approximately {float:.16f}, Error is {error:.16f}",
    "PI bits = {bits}", NULL};

static const taskfarm_kernel_t kPi = {
    .abi = TASKFARM_KERNEL_ABI,
    .name = "pi",
    .version = 2, /* 2: quads of pairs summed over one division */
    .result = TASKFARM_RESULT_FLOAT,
    .align = PI_GRAIN,
    .n_max = (uint64_t)1 << 50, /* the term index stays exact in a double */
    .init = jobs_init_n,
    .compute = compute,
    .help =
        "The Leibniz series S_n = sum over k < n of 4 (-1)^k / (2k + 1),\n"
        "which tends to pi. The sum is exact until it is rounded once at\n"
        "the end: the same bits for any chunking, schedule or rank count.\n",
    .options = kNone,
    .lines = kLines,
    .n_what = "terms",
    .reference = reference,
    .slice = (uint64_t)1 << 22,
    .chunk_max = (uint64_t)1 << 28,
};

JOBS_REGISTER(pi, "pi", "the Leibniz series for pi, to --n terms", &kPi, 0, 0);
