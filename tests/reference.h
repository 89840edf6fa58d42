// Independent references for the tests, in 113-bit quad precision: the
// Leibniz partial sum S_n summed directly (small n) or from the digamma
// closed form S_n = pi + (-1)^(n+1) (psi((2n+3)/4) - psi((2n+1)/4)), and the
// distance between two doubles in units in the last place.
#ifndef TASKFARM_TESTS_REFERENCE_H_
#define TASKFARM_TESTS_REFERENCE_H_

#include <cmath>
#include <cstdint>

namespace ref {

typedef __float128 quad;

inline quad Pi() { return 3.14159265358979323846264338327950288Q; }

// S_n by summing every term in quad precision, largest index first.
inline quad LeibnizDirect(uint64_t n) {
  quad s = 0;
  for (uint64_t i = n; i-- > 0;) {
    quad t = (quad)4 / (quad)(2 * i + 1);
    s += (i % 2) ? -t : t;
  }
  return s;
}

// log(1 + u) for small u > 0: 2 atanh(u / (2 + u)) as a series.
inline quad Log1p(quad u) {
  quad t = u / (2 + u), t2 = t * t, term = t, sum = 0;
  for (int k = 1; k < 200; k += 2) {
    sum += term / k;
    term *= t2;
    if (term < 1e-40Q * sum) break;
  }
  return 2 * sum;
}

// psi(x + 1/2) - psi(x), for x >= 1/4.
inline quad DigammaHalfStep(quad x) {
  quad shift = 0;
  // psi(y + 1) = psi(y) + 1/y moves x to where the asymptotic series is
  // accurate to far beyond quad precision.
  while (x < 2000) {
    shift -= 1 / (x + 0.5Q) - 1 / x;
    x += 1;
  }
  static const quad b2k[] = {1.0Q / 6,  -1.0Q / 30,     1.0Q / 42, -1.0Q / 30,
                             5.0Q / 66, -691.0Q / 2730, 7.0Q / 6};
  quad d = Log1p(1 / (2 * x)) - 1 / (2 * (x + 0.5Q)) + 1 / (2 * x);
  quad xa = 1 / ((x + 0.5Q) * (x + 0.5Q)), xb = 1 / (x * x);
  quad pa = xa, pb = xb;
  for (int k = 1; k <= 7; k++) {
    d -= b2k[k - 1] / (2 * k) * (pa - pb);
    pa *= xa;
    pb *= xb;
  }
  return d + shift;
}

inline quad LeibnizClosed(uint64_t n) {
  quad d = DigammaHalfStep(((quad)2 * n + 1) / 4);
  return (n % 2) ? Pi() + d : Pi() - d;
}

// |x - r| in units of the last place of r rounded to double.
inline double UlpDistance(double x, quad r) {
  double rd = (double)r;
  int e;
  std::frexp(rd, &e);
  quad ulp = (quad)std::ldexp(1.0, e - 53);
  quad diff = (quad)x - r;
  if (diff < 0) diff = -diff;
  return (double)(diff / ulp);
}

// The seed's dot product of [1..n] and [n..1]: n(n+1)(n+2)/6, dividing
// before multiplying out so 128 bits suffice up to the documented limit.
inline unsigned __int128 DotClosed(uint64_t n) {
  unsigned __int128 a = n, b = (unsigned __int128)n + 1,
                    c = (unsigned __int128)n + 2;
  if (a % 2 == 0)
    a /= 2;
  else
    b /= 2;
  if (a % 3 == 0)
    a /= 3;
  else if (b % 3 == 0)
    b /= 3;
  else
    c /= 3;
  return a * b * c;
}

}  // namespace ref

#endif  // TASKFARM_TESTS_REFERENCE_H_
