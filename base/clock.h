/* The one clock every rank measures with: CLOCK_MONOTONIC in nanoseconds
 * (read in user space, about 20 ns). The farm itself takes time as a number;
 * this is for the code around it. */
#ifndef TASKFARM_BASE_CLOCK_H_
#define TASKFARM_BASE_CLOCK_H_

#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Nanoseconds on the monotonic clock. */
static inline uint64_t base_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_BASE_CLOCK_H_ */
