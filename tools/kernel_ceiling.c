/* tools/kernel_ceiling [N]: single-threaded terms per second of the pi
 * grain kernel on the path this CPU uses, of the same loop with its
 * division replaced by a multiply (the ceiling: what the loop's other work
 * allows), and of the generated dot product's kernel against the same loop
 * with its multiplies replaced by adds. Each is timed over N
 * terms (default 4e9) after a warm-up, best of three. tools/bench prints the
 * ratios. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/isa.h"
#include "jobs/dot.h"
#include "jobs/options.h"
#include "jobs/pi.h"

double pi_ceiling_sse2(uint64_t begin, uint64_t end);
double pi_ceiling_avx2(uint64_t begin, uint64_t end);
double pi_ceiling_avx512(uint64_t begin, uint64_t end);
unsigned __int128 dot_gen_ceiling(uint64_t n, uint64_t begin,
                                         uint64_t end);

static double now_s(void) { return (double)base_now_ns() / 1e9; }

static volatile double sink;

/* Best terms/s of three runs of fn over [2^20, 2^20 + n) in grains. */
static double rate(double (*fn)(uint64_t, uint64_t), uint64_t n) {
  double best = 0;
  for (int rep = 0; rep < 4; rep++) {
    double t0 = now_s(), s = 0;
    for (uint64_t g = 1u << 20; g < (1u << 20) + n; g += PI_GRAIN)
      s += fn(g, g + PI_GRAIN);
    double t = now_s() - t0;
    sink = s;
    if (rep > 0 && n / t > best) best = n / t; /* rep 0 warms up */
  }
  return best;
}

static double dot_rate(unsigned __int128 (*fn)(uint64_t, uint64_t, uint64_t),
                       uint64_t n) {
  double best = 0;
  for (int rep = 0; rep < 4; rep++) {
    double t0 = now_s();
    unsigned __int128 s = fn(n, 0, n);
    double t = now_s() - t0;
    sink = (double)s;
    if (rep > 0 && n / t > best) best = n / t;
  }
  return best;
}

int main(int argc, char** argv) {
  uint64_t n = 4000000000ull;
  if (argc > 1 && jobs_parse_count(argv[1], (uint64_t)1 << 46, &n) < 0) {
    fprintf(stderr, "usage: tools/kernel_ceiling [N]\n");
    return 2;
  }
  n = n / PI_GRAIN * PI_GRAIN;
  base_isa_t path = base_isa();
  double (*ceiling)(uint64_t, uint64_t) =
      path == BASE_ISA_AVX512 ? pi_ceiling_avx512
      : path == BASE_ISA_AVX2 ? pi_ceiling_avx2
                               : pi_ceiling_sse2;
  double k = rate(pi_grain, n), c = rate(ceiling, n);
  printf("pi path %s: kernel %.3g terms/s, ceiling %.3g terms/s\n",
         base_isa_name(path), k, c);
  if (path >= BASE_ISA_AVX2)
    printf("dot --n path avx2: kernel %.3g terms/s, ceiling %.3g terms/s\n",
           dot_rate(dot_gen, n / 4),
           dot_rate(dot_gen_ceiling, n / 4));
  else
    printf("dot --n path scalar: kernel %.3g terms/s\n",
           dot_rate(dot_gen, n / 4));
  return 0;
}
