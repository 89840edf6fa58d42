/* The loop job's iterations (jobs/loop.c): what iteration i costs, the
 * CPU work that costs it, and the hash whose exact sum checks that every
 * iteration was done once. Everything about iteration i is a function of
 * (seed, i) alone, so any schedule, rank count or fault gives the same
 * checksum, and the same command asks for the same work every time. */
#ifndef TASKFARM_JOBS_LOOP_H_
#define TASKFARM_JOBS_LOOP_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The cost profiles (--cost): how long iteration i takes, drawn
 * deterministically from --seed and i. */
typedef enum {
  LOOP_COST_CONSTANT = 0,
  LOOP_COST_UNIFORM,     /* mean +- spread, flat */
  LOOP_COST_NORMAL,      /* mean, standard deviation spread (cut at 0) */
  LOOP_COST_EXPONENTIAL, /* mean */
  LOOP_COST_GAMMA,       /* mean, shape k = (mean / spread)^2 */
  LOOP_COST_INCREASING,  /* linear from mean - spread to mean + spread */
  LOOP_COST_DECREASING,  /* linear from mean + spread to mean - spread */
  LOOP_COST_BIMODAL,     /* mean - spread or mean + spread, half each */
  LOOP_COST_COUNT,
} loop_cost_t;

/* A run's profile: its options and n. */
typedef struct loop_profile_s loop_profile_t;
struct loop_profile_s {
  loop_cost_t cost;
  double mean_ns;
  double spread_ns;
  uint64_t seed;
  uint64_t n;
};

/* The name of a cost profile ("exponential"), static; NULL when out of
 * range. */
const char* loop_cost_name(loop_cost_t cost);

/* The hash of iteration i: splitmix64's finaliser of seed and i. */
uint64_t loop_hash(uint64_t seed, uint64_t i);

/* What iteration i costs in ns under profile p, >= 0. Uses libm: the last
 * bits of a cost may differ between machines, the checksum never does. */
double loop_cost_ns(const loop_profile_t* p, uint64_t i);

/* Burns `units` steps of a dependent integer chain (multiply and add):
 * real CPU work that no compiler can remove or vectorise. */
void loop_spin(uint64_t units);

/* How many spin units this core does per 1000 ns: the fastest of a few
 * timed runs of about a millisecond (so a CPU quota, which throttles over
 * 100 ms periods, does not enter it). */
uint64_t loop_calibrate(void);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_JOBS_LOOP_H_ */
