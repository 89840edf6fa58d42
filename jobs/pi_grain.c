/* The pi grain sum, compiled once per x86-64 level (jobs/BUILD builds
 * this file three times with -march=x86-64, x86-64-v3 and x86-64-v4, each
 * under its own name, PI_GRAIN_NAME). pi.c picks one at run time; the
 * tests call each by name and demand the same bits.
 *
 * The definition (pi.h): pair k of the series is 8/(x*x - 1), x = 4k+2.
 * Four consecutive pairs form a quad, summed with one division:
 *   1/p0 + 1/p1 + 1/p2 + 1/p3 = ((p0+p1)(p2 p3) + (p2+p3)(p0 p1)) / (p0 p1 p2
 * p3) with p_j = x_j*x_j - 1 (the factor 8 is applied once at the end: a power
 * of two, exact). Quad q of the grain goes to lane q % 16; pairs left over
 * after the last full round of 16 quads go to lane p % 16 one by one; the
 * lanes are then added in a fixed halving tree. Every operation is one IEEE
 * add, multiply, subtract or divide on independent lanes, with no FMA
 * contraction (.bazelrc) and no reassociation, so the vector width the
 * compiler picks cannot change a bit. x < 2^53 keeps x exact; p0 p1 p2 p3 <
 * (2^52)^8 = 2^416 stays finite for every n the farm accepts (n <= 2^50). */
#include <stdint.h>

#ifndef PI_GRAIN_NAME
#define PI_GRAIN_NAME pi_grain_generic
#endif

/* tools/bench's ceiling builds this loop once more with the division
 * replaced by a multiply (PI_GRAIN_OP=*): what the loop's other work allows
 * on the same machine. The kernel itself always divides. */
#ifndef PI_GRAIN_OP
#define PI_GRAIN_OP /
#endif

enum { LANES = 16, QUAD = 4, ROUND = LANES * QUAD };

double PI_GRAIN_NAME(uint64_t begin, uint64_t end);

double PI_GRAIN_NAME(uint64_t begin, uint64_t end) {
  uint64_t pairs = (end - begin) / 2, k0 = begin / 2;
  uint64_t rounds = pairs / ROUND;
  double acc[LANES], x[LANES];
  for (int l = 0; l < LANES; l++) {
    acc[l] = 0;
    x[l] = 4.0 * (double)(k0 + QUAD * (uint64_t)l) + 2.0;
  }
  for (uint64_t s = 0; s < rounds; s++) {
    for (int l = 0; l < LANES; l++) {
      double x0 = x[l], x1 = x0 + 4.0, x2 = x0 + 8.0, x3 = x0 + 12.0;
      double p0 = x0 * x0 - 1.0, p1 = x1 * x1 - 1.0;
      double p2 = x2 * x2 - 1.0, p3 = x3 * x3 - 1.0;
      double lo = p0 * p1, hi = p2 * p3;
      acc[l] += ((p0 + p1) * hi + (p2 + p3) * lo) PI_GRAIN_OP(lo * hi);
      x[l] = x0 + 4.0 * ROUND;
    }
  }
  for (uint64_t p = rounds * ROUND; p < pairs; p++) {
    double xp = 4.0 * (double)(k0 + p) + 2.0;
    acc[p % LANES] += 1.0 / (xp * xp - 1.0);
  }
  for (int width = LANES / 2; width >= 1; width /= 2)
    for (int l = 0; l < width; l++) acc[l] = acc[l] + acc[l + width];
  double sum = 8.0 * acc[0];
  if ((end - begin) % 2) sum += 4.0 / (2.0 * (double)(end - 1) + 1.0);
  return sum;
}
