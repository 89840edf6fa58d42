/* The generated dot product's AVX2 path (dot.h: dot_gen_avx2), in a file
 * of its own so that tools/bench can build its ceiling from the same
 * source (jobs/BUILD). */
#include <immintrin.h>
#include <stdint.h>

#include "jobs/dot.h"

#ifndef DOT_GEN_NAME
#define DOT_GEN_NAME dot_gen_avx2
#endif

/* The AVX2 path: x = i + 1 and y = n - i are below 2^44 (n <= 1.2e13), so
 * with 22-bit halves x = xh 2^22 + xl, y = yh 2^22 + yl every partial
 * product xh yh, xh yl, xl yh, xl yl is below 2^44 and one vpmuludq (32 x
 * 32 -> 64 bits) away. Four lanes sum them in 64 bits over at most
 * DOT_BLOCK terms (below 2^61), then the block's sums are combined in 128
 * bits: hh 2^44 + mid 2^22 + ll. Integer arithmetic throughout, so the sum
 * is exactly the scalar path's. */
enum { DOT_SPLIT = 22, DOT_BLOCK = 1 << 16 };

/* tools/bench's ceiling builds this loop once more with its multiplies
 * replaced by adds (DOT_GEN_CEILING): what the loop's other work allows. */
#ifdef DOT_GEN_CEILING
#define MUL(a, b) _mm256_add_epi64(a, b)
#else
#define MUL(a, b) _mm256_mul_epu32(a, b)
#endif

__attribute__((target("avx2"))) static unsigned __int128 lanes_sum(__m256i v) {
  uint64_t a[4];
  _mm256_storeu_si256((__m256i*)a, v);
  return (unsigned __int128)a[0] + a[1] + a[2] + a[3];
}

__attribute__((target("avx2"))) unsigned __int128 DOT_GEN_NAME(
    uint64_t n, uint64_t begin, uint64_t end) {
  if (n >= (uint64_t)1 << (2 * DOT_SPLIT))
    return dot_gen_scalar(n, begin, end);
  unsigned __int128 total = 0;
  const __m256i mask = _mm256_set1_epi64x((1ll << DOT_SPLIT) - 1);
  const __m256i step = _mm256_set1_epi64x(4);
  const __m256i n1 = _mm256_set1_epi64x((long long)(n + 1)); /* x + y */
  uint64_t i = begin;
  while (end - i >= 4) {
    uint64_t len = (end - i) / 4 * 4;
    if (len > DOT_BLOCK) len = DOT_BLOCK;
    __m256i x = _mm256_set_epi64x((long long)(i + 4), (long long)(i + 3),
                                  (long long)(i + 2), (long long)(i + 1));
    __m256i hh = _mm256_setzero_si256(), mid = hh, ll = hh;
    for (uint64_t j = 0; j < len; j += 4) {
      __m256i y = _mm256_sub_epi64(n1, x);
      __m256i xh = _mm256_srli_epi64(x, DOT_SPLIT);
      __m256i xl = _mm256_and_si256(x, mask);
      __m256i yh = _mm256_srli_epi64(y, DOT_SPLIT);
      __m256i yl = _mm256_and_si256(y, mask);
      hh = _mm256_add_epi64(hh, MUL(xh, yh));
      mid = _mm256_add_epi64(mid, MUL(xh, yl));
      mid = _mm256_add_epi64(mid, MUL(xl, yh));
      ll = _mm256_add_epi64(ll, MUL(xl, yl));
      x = _mm256_add_epi64(x, step);
    }
    total += (lanes_sum(hh) << (2 * DOT_SPLIT)) +
             (lanes_sum(mid) << DOT_SPLIT) + lanes_sum(ll);
    i += len;
  }
  return total + dot_gen_scalar(n, i, end);
}
