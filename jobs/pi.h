/* The pi job's grain sums (jobs/pi.c, jobs/pi_grain.c), for the tests and
 * the benchmarks: the deterministic sum of the pi terms [begin, end) of
 * one grain, begin even: pairs 4/(4k+1) - 4/(4k+3) = 8/(x*x - 1) with
 * x = 4k + 2; four consecutive pairs (a quad) summed over one division,
 * quad q in lane q % 16; pairs after the last full round of 16 quads one
 * by one, pair p in lane p % 16; the lanes combined in a fixed tree and
 * multiplied by 8; a lone last term added last. Identical bits on every
 * path; pi_grain uses base_isa()'s. */
#ifndef TASKFARM_JOBS_PI_H_
#define TASKFARM_JOBS_PI_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  /* pi chunks are made of grains of this many terms; a grain's sum is
   * computed in one fixed order, so results do not depend on chunking. */
  PI_GRAIN = 1024,
  /* Terms below this index are added one pair at a time into the exact
   * accumulator: they carry nearly all of pi's value, so summing them
   * without any rounding keeps the result within 2 ulp of S_n. */
  PI_EXACT_TERMS = 32768,
  /* Lanes of a grain. Part of the result's definition: never change it. */
  PI_LANES = 16,
};

double pi_grain(uint64_t begin, uint64_t end);
double pi_grain_sse2(uint64_t begin, uint64_t end);
double pi_grain_avx2(uint64_t begin, uint64_t end);
double pi_grain_avx512(uint64_t begin, uint64_t end);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_JOBS_PI_H_ */
