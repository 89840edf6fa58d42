/* loop: synthetic iterations of a chosen cost profile (jobs/loop.h), for
 * experiments on schedules. Iteration i burns its cost in CPU work scaled
 * to the master's core (out->scale, from calibrate), so every rank does the
 * same work for it and a slower rank takes longer, as on a real uneven
 * cluster; its hash goes into an exact integer sum, the checksum. */
#include "jobs/loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "jobs/jobs.h"
#include "jobs/taskfarm_kernel.h"

static const char* const kCostName[] = {
    [LOOP_COST_CONSTANT] = "constant",
    [LOOP_COST_UNIFORM] = "uniform",
    [LOOP_COST_NORMAL] = "normal",
    [LOOP_COST_EXPONENTIAL] = "exponential",
    [LOOP_COST_GAMMA] = "gamma",
    [LOOP_COST_INCREASING] = "increasing",
    [LOOP_COST_DECREASING] = "decreasing",
    [LOOP_COST_BIMODAL] = "bimodal",
    NULL,
};

const char* loop_cost_name(loop_cost_t cost) {
  return (unsigned)cost < LOOP_COST_COUNT ? kCostName[cost] : NULL;
}

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

double loop_cost_ns(const loop_profile_t* p, uint64_t i) {
  double mean = p->mean_ns, spread = p->spread_ns;
  uint64_t seed = p->seed;
  double t = mean;
  switch (p->cost) {
    case LOOP_COST_CONSTANT:
      break;
    case LOOP_COST_UNIFORM:
      t = mean + spread * (2.0 * uniform(seed, i, 0) - 1.0);
      break;
    case LOOP_COST_NORMAL:
      t = mean + spread * normal(seed, i, 0);
      break;
    case LOOP_COST_EXPONENTIAL:
      t = -mean * log(1.0 - uniform(seed, i, 0));
      break;
    case LOOP_COST_GAMMA: {
      double shape = (mean / spread) * (mean / spread);
      t = gamma_unit(shape, seed, i) * (mean / shape);
      break;
    }
    case LOOP_COST_INCREASING:
    case LOOP_COST_DECREASING: {
      double f = p->n > 1 ? (double)i / (double)(p->n - 1) : 0.5;
      if (p->cost == LOOP_COST_DECREASING) f = 1.0 - f;
      t = mean - spread + 2.0 * spread * f;
      break;
    }
    case LOOP_COST_BIMODAL:
      t = uniform(seed, i, 0) < 0.5 ? mean - spread : mean + spread;
      break;
    case LOOP_COST_COUNT:
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

static uint64_t loop_calibrate_once(void);

/* The profile from the options; 0, or -1 with a sentence in err. */
static int profile_of(const taskfarm_arg_t* args, int nargs, uint64_t n,
                      loop_profile_t* p, char* err, size_t errlen) {
  memset(p, 0, sizeof(*p));
  const char* cost = taskfarm_arg_text(args, nargs, "cost", "constant");
  while (p->cost < LOOP_COST_COUNT && strcmp(kCostName[p->cost], cost) != 0)
    p->cost++;
  p->mean_ns = taskfarm_arg_real(args, nargs, "mean", 1000);
  p->spread_ns = taskfarm_arg_real(args, nargs, "spread", p->mean_ns / 2);
  p->seed = taskfarm_arg_count(args, nargs, "seed", 1);
  p->n = n;
  loop_cost_t c = p->cost;
  if ((c == LOOP_COST_UNIFORM || c == LOOP_COST_INCREASING ||
       c == LOOP_COST_DECREASING || c == LOOP_COST_BIMODAL) &&
      p->spread_ns > p->mean_ns) {
    snprintf(err, errlen,
             "--cost %s needs --spread (%g) at most --mean (%g): a cost "
             "cannot be negative",
             cost, p->spread_ns, p->mean_ns);
    return -1;
  }
  if (c == LOOP_COST_GAMMA && !(p->spread_ns > 0)) {
    snprintf(err, errlen,
             "--cost gamma needs --spread > 0 (its standard deviation)");
    return -1;
  }
  return 0;
}

static int init(void** state, uint64_t n, const taskfarm_arg_t* args,
                int nargs, char* err, size_t errlen) {
  loop_profile_t* p = malloc(sizeof(*p));
  if (p == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (profile_of(args, nargs, n, p, err, errlen) < 0) {
    free(p);
    return -1;
  }
  *state = p;
  return 0;
}

/* Iteration i: its cost's worth of CPU work, and its hash into the sum. */
static int compute(void* state, uint64_t begin, uint64_t end,
                   const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)err, (void)errlen;
  const loop_profile_t* p = state;
  uint64_t scale = out->scale > 0 ? out->scale : loop_calibrate_once();
  unsigned __int128 sum = 0;
  /* A long iteration is spun in pieces of about 10 ms, the farm told in
   * between that this rank is alive. */
  const uint64_t piece = scale * 10000;
  for (uint64_t i = begin; i < end; i++) {
    uint64_t units = (uint64_t)(loop_cost_ns(p, i) * (double)scale / 1000.0);
    for (; units > piece; units -= piece) {
      loop_spin(piece);
      out->keep_alive(out->ctx);
    }
    loop_spin(units);
    sum += loop_hash(p->seed, i);
  }
  out->add_uint128(out->ctx, (uint64_t)(sum >> 64), (uint64_t)sum);
  return 0;
}

/* A scale for a process the master gave none (a test, a baseline). */
static uint64_t loop_calibrate_once(void) {
  static uint64_t scale;
  if (scale == 0) scale = loop_calibrate();
  return scale;
}

static void close_loop(void* state) { free(state); }

static const taskfarm_option_t kOptions[] = {
    {"cost", TASKFARM_OPT_CHOICE, "PROFILE", "how iteration costs vary",
     "constant", 0, 0, kCostName},
    {"mean", TASKFARM_OPT_REAL, "NS", "mean cost of an iteration, ns", "1000",
     1, 1e9, NULL},
    {"spread", TASKFARM_OPT_REAL, "NS",
     "half-width, standard deviation or offset of the cost, ns (default "
     "mean / 2)",
     NULL, 0, 1e9, NULL},
    {"seed", TASKFARM_OPT_COUNT, "S", "seed of the costs and the hashes", "1",
     0, 1.8446744073709552e19, NULL},
    {NULL}};
static const char* const kLines[] = {"Checksum = {uint}", "Iterations = {n}",
                                     NULL};

static const taskfarm_kernel_t kLoop = {
    .abi = TASKFARM_KERNEL_ABI,
    .name = "loop",
    .version = 2,
    .result = TASKFARM_RESULT_INT,
    .align = 1,
    .n_max = (uint64_t)1 << 60,
    .init = init,
    .compute = compute,
    .close = close_loop,
    .help =
        "Synthetic iterations whose costs follow a profile, for\n"
        "experiments on schedules. Iteration i costs a time drawn from\n"
        "(--seed, i) alone, burnt as CPU work scaled to the master's core;\n"
        "the checksum is the exact sum of the iterations' hashes.\n",
    .options = kOptions,
    .lines = kLines,
    .n_what = "iterations",
    .calibrate = loop_calibrate,
};

JOBS_REGISTER(loop, "loop", "synthetic iterations of a chosen cost profile",
              &kLoop, 0, 0);
