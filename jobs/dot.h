/* The dot job's sums (jobs/dot.c, jobs/dot_gen.c), for the tests and the
 * benchmarks: sum_{i=begin}^{end-1} (i + 1) * (n - i), exactly, modulo
 * 2^128, the dot product of a = [1..n] and b = [n..1] over [begin, end).
 * One path of 128-bit scalar multiplies, one of AVX2 with 22-bit halves;
 * dot_gen picks by base_isa(). The results are integers, equal on every
 * path. */
#ifndef TASKFARM_JOBS_DOT_H_
#define TASKFARM_JOBS_DOT_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* n(n+1)(n+2)/6 < 2^128 up to n = 1.26e13; 1.2e13 is the documented
 * limit. */
#define DOT_N_MAX ((uint64_t)12 * 1000 * 1000 * 1000 * 1000)

unsigned __int128 dot_gen(uint64_t n, uint64_t begin, uint64_t end);
unsigned __int128 dot_gen_scalar(uint64_t n, uint64_t begin, uint64_t end);
unsigned __int128 dot_gen_avx2(uint64_t n, uint64_t begin, uint64_t end);

/* The closed form n(n+1)(n+2)/6, exact. */
unsigned __int128 dot_closed_form(uint64_t n);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_JOBS_DOT_H_ */
