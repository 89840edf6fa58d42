/* The end of a job on the master's side: master/end.c. */
#ifndef TASKFARM_MASTER_END_H_
#define TASKFARM_MASTER_END_H_

#include <stdint.h>

#include "master/ending.h"
#include "master/farm.h"
#include "master/link.h"
#include "proto/launch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The run is over: releases every worker that may still wait for work,
 * waits up to bound ns for each to say BYE (ranks whose guard reported
 * their death are not waited for), and names those that did not. */
void master_farewell(master_link_t* link, farm_t* farm,
                     const proto_launch_t* launch, uint64_t bound);

/* Chooses how the job ends (master/ending.h) for the run's outcome rc, on
 * this host, and tells the workers with FIN; a worker that does not answer
 * FIN within bound ns makes it MPI_Abort. Returns the ending, for
 * master_end_job. */
master_ending_t master_settle_ending(master_link_t* link, const farm_t* farm,
                                     const proto_launch_t* launch,
                                     const char* host, int rc, uint64_t bound);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_END_H_ */
