/* The file dot product's fast path, compiled once per x86-64 level
 * (kernel/BUILD builds this file with -march=x86-64, x86-64-v3 and
 * x86-64-v4, each under its own name, DOT_FAST_NAME). products.c picks one at
 * run time; the tests call each by name on the same inputs and demand the
 * same bits.
 *
 * Per lane, the products go into a two-level error-free expansion (TwoSum)
 * and their FMA error terms into another. Nothing is rounded away as long
 * as every last-level residue is zero, no product is below the safe range
 * and nothing overflows; then the 32 lane values are written to out (lane l
 * at out[4l .. 4l+3]: p0, p1, e0, e1) and 1 is returned, else 0. Every
 * operation is one IEEE add, subtract, multiply or fma (exactly rounded:
 * one instruction with FMA hardware, glibc's exact software fma without),
 * no contraction (.bazelrc), no reassociation: the same bits on every
 * path. The loop has no branches, so it vectorises. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifndef DOT_FAST_NAME
#define DOT_FAST_NAME kernel_dot_fast_generic
#endif

enum { LANES = 8 };

/* Products at least this large (and finite) split exactly as p + e with
 * e = fma(a, b, -p) (products.c, the same bound). */
static const double kSafeMin = 0x1p-968;

/* Knuth's TwoSum: *hi + return value == hi + x exactly (no overflow). */
static inline double two_sum(double* hi, double x) {
  double s = *hi + x;
  double bb = s - *hi;
  double r = (*hi - (s - bb)) + (x - bb);
  *hi = s;
  return r;
}

int DOT_FAST_NAME(const double* a, const double* b, size_t count,
                  double out[4 * LANES]) {
  double p0[LANES] = {0}, p1[LANES] = {0};
  double e0[LANES] = {0}, e1[LANES] = {0};
  double lost[LANES] = {0};
  size_t full = count / LANES * LANES;
  for (size_t i = 0; i < full; i += LANES) {
    for (int l = 0; l < LANES; l++) {
      double p = a[i + l] * b[i + l];
      double e = fma(a[i + l], b[i + l], -p);
      double rp = two_sum(&p1[l], two_sum(&p0[l], p));
      double re = two_sum(&e1[l], two_sum(&e0[l], e));
      /* A nonzero product below the safe range may have lost bits in p or
       * e: the block then takes the exact path. */
      double tiny = fabs(p) < kSafeMin && a[i + l] != 0 && b[i + l] != 0;
      lost[l] += fabs(rp) + fabs(re) + tiny;
    }
  }
  for (int l = 0; l < LANES; l++)
    if (lost[l] != 0 || !isfinite(p0[l] + p1[l] + e0[l] + e1[l])) return 0;
  for (int l = 0; l < LANES; l++) {
    out[4 * l] = p0[l];
    out[4 * l + 1] = p1[l];
    out[4 * l + 2] = e0[l];
    out[4 * l + 3] = e1[l];
  }
  return 1;
}
