/* The loop job's iterations: what iteration i costs, the CPU work that
 * costs it, and the hash whose exact sum checks that every iteration was
 * done once. Everything about iteration i is a function of (seed, i) alone,
 * so any schedule, rank count or fault gives the same checksum, and the
 * same command asks for the same work every time. Pure computation. */
#ifndef TASKFARM_WORKER_LOOP_H_
#define TASKFARM_WORKER_LOOP_H_

#include <stdint.h>

#include "proto/job.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The hash of iteration i: splitmix64's finaliser of seed and i. */
uint64_t loop_hash(uint64_t seed, uint64_t i);

/* What iteration i costs in ns under job's profile (--cost, --mean,
 * --spread, --seed), >= 0. Uses libm: the last bits of a cost may differ
 * between machines, the checksum never does. */
double loop_cost_ns(const proto_job_t* job, uint64_t i);

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

#endif /* TASKFARM_WORKER_LOOP_H_ */
