/* worker/loop.h. */
#include "worker/loop.h"

#include <math.h>

#include "base/clock.h"

static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t loop_hash(uint64_t seed, uint64_t i) {
  return mix(seed * 0x9e3779b97f4a7c15ull + i + 1);
}

/* The k-th uniform number in [0, 1) of iteration i (53 bits). */
static double uniform(uint64_t seed, uint64_t i, uint64_t k) {
  uint64_t z = mix(mix(seed ^ 0x6a09e667f3bcc909ull) +
                   i * 0x9e3779b97f4a7c15ull + k * 0xd1b54a32d192ed03ull);
  return (double)(z >> 11) * 0x1p-53;
}

/* A standard normal number from uniforms k and k + 1 (Box-Muller). */
static double normal(uint64_t seed, uint64_t i, uint64_t k) {
  double u1 = 1.0 - uniform(seed, i, k); /* (0, 1] */
  double u2 = uniform(seed, i, k + 1);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.141592653589793 * u2);
}

/* Gamma(shape, 1) by Marsaglia and Tsang (2000), "A simple method for
 * generating gamma variables", ACM TOMS 26(3); shape < 1 by the boost
 * gamma(shape + 1) * u^(1/shape). The uniforms of iteration i are drawn in
 * order, so the value is a function of (seed, i). */
static double gamma_unit(double shape, uint64_t seed, uint64_t i) {
  uint64_t k = 0;
  double boost = 1.0;
  if (shape < 1.0) {
    boost = pow(uniform(seed, i, k++), 1.0 / shape);
    shape += 1.0;
  }
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (int tries = 0; tries < 1000; tries++) {
    double x = normal(seed, i, k);
    k += 2;
    double v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = uniform(seed, i, k++);
    if (u < 1.0 - 0.0331 * x * x * x * x ||
        log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
      return boost * d * v;
  }
  return boost * d; /* never reached in practice: the mean */
}

double loop_cost_ns(const proto_job_t* job, uint64_t i) {
  double mean = job->cost_mean_ns, spread = job->cost_spread_ns;
  uint64_t seed = job->seed;
  double t = mean;
  switch (job->cost) {
    case PROTO_COST_CONSTANT:
      break;
    case PROTO_COST_UNIFORM:
      t = mean + spread * (2.0 * uniform(seed, i, 0) - 1.0);
      break;
    case PROTO_COST_NORMAL:
      t = mean + spread * normal(seed, i, 0);
      break;
    case PROTO_COST_EXPONENTIAL:
      t = -mean * log(1.0 - uniform(seed, i, 0));
      break;
    case PROTO_COST_GAMMA: {
      double shape = (mean / spread) * (mean / spread);
      t = gamma_unit(shape, seed, i) * (mean / shape);
      break;
    }
    case PROTO_COST_INCREASING:
    case PROTO_COST_DECREASING: {
      double f = job->n > 1 ? (double)i / (double)(job->n - 1) : 0.5;
      if (job->cost == PROTO_COST_DECREASING) f = 1.0 - f;
      t = mean - spread + 2.0 * spread * f;
      break;
    }
    case PROTO_COST_BIMODAL:
      t = uniform(seed, i, 0) < 0.5 ? mean - spread : mean + spread;
      break;
    case PROTO_COST_COUNT:
      break;
  }
  return t > 0 ? t : 0;
}

void loop_spin(uint64_t units) {
  uint64_t x = units;
  for (uint64_t u = 0; u < units; u++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    __asm__ volatile("" : "+r"(x)); /* one dependent step at a time */
  }
}

uint64_t loop_calibrate(void) {
  const uint64_t units = 1 << 20;
  uint64_t best = UINT64_MAX;
  for (int run = 0; run < 7; run++) {
    uint64_t t0 = base_now_ns();
    loop_spin(units);
    uint64_t dt = base_now_ns() - t0;
    if (dt > 0 && dt < best) best = dt;
  }
  if (best == UINT64_MAX) best = 1;
  uint64_t scale = units * 1000 / best;
  return scale > 0 ? scale : 1;
}
