/* kernel/products.h. */
#include "kernel/products.h"

#include <math.h>
#include <string.h>

#include "base/isa.h"

/* Products at least this large (and finite) split exactly as p + e with
 * e = fma(a, b, -p): e's bits then lie above the subnormal range. Smaller
 * ones (and overflowing ones) take the scaled split. */
static const double kSafeMin = 0x1p-968;

int kernel_dot_fast(const double* a, const double* b, size_t count,
                    double* out) {
  switch (base_isa()) {
    case BASE_ISA_AVX512:
      return kernel_dot_fast_avx512(a, b, count, out);
    case BASE_ISA_AVX2:
      return kernel_dot_fast_avx2(a, b, count, out);
    default:
      return kernel_dot_fast_sse2(a, b, count, out);
  }
}

/* Adds sum a[i]*b[i] exactly, one element at a time into the accumulator:
 * the always-correct path. Consecutive elements go to four separate digit
 * arrays, folded in at the end, so consecutive adds do not wait on each
 * other. */
static void block_exact(const double* a, const double* b, size_t count,
                        proto_exact_t* fsum) {
  int64_t part[4][PROTO_EXACT_DIGITS];
  memset(part, 0, sizeof(part));
  for (size_t i = 0; i < count; i++) {
    double p = a[i] * b[i];
    int64_t* d = part[i % 4];
    if (isfinite(p) && fabs(p) >= kSafeMin) {
      /* a*b = p + e exactly, e = fma(a, b, -p) representable: nothing near
       * the ends of the double range. */
      proto_exact_add_digits(d, p);
      double e = fma(a[i], b[i], -p);
      if (e != 0) proto_exact_add_digits(d, e);
    } else if (isfinite(a[i]) && isfinite(b[i])) {
      /* A product that overflows, underflows or is subnormal: split it
       * exactly after scaling both factors. */
      proto_exact_add_product_digits(d, a[i], b[i]);
    } else {
      proto_exact_add(fsum, p); /* an infinity or NaN, as IEEE says */
    }
  }
  for (int j = 0; j < PROTO_EXACT_DIGITS; j++)
    fsum->digit[j] += part[0][j] + part[1][j] + part[2][j] + part[3][j];
  proto_exact_add_done(fsum, (uint32_t)count);
}

/* The fast path: the lanes' expansions, added exactly here, then the
 * block's tail. 0 when the block needs the exact path. */
static int block_fast(const double* a, const double* b, size_t count,
                      proto_exact_t* fsum) {
  double lanes[KERNEL_DOT_FAST_OUT];
  if (!kernel_dot_fast(a, b, count, lanes)) return 0;
  for (int l = 0; l < KERNEL_DOT_FAST_OUT; l++) proto_exact_add(fsum, lanes[l]);
  size_t full = count / KERNEL_DOT_LANES * KERNEL_DOT_LANES;
  block_exact(a + full, b + full, count - full, fsum);
  return 1;
}

void kernel_products_add(proto_exact_t* fsum, const double* a,
                         const double* b, size_t count,
                         kernel_products_t* paths) {
  for (size_t at = 0; at < count; at += KERNEL_PRODUCTS_BLOCK) {
    size_t len = count - at < KERNEL_PRODUCTS_BLOCK ? count - at
                                                    : KERNEL_PRODUCTS_BLOCK;
    if (block_fast(a + at, b + at, len, fsum)) {
      if (paths != NULL) paths->fast++;
    } else {
      block_exact(a + at, b + at, len, fsum);
      if (paths != NULL) paths->exact++;
    }
  }
}
