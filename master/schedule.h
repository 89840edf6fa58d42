/* How big the next chunk is. The self-scheduling farm uses one size for the
 * whole run: the user's --chunk, or one chosen from n and the worker count so
 * that each worker gets many chunks (slow workers simply take fewer) while a
 * chunk stays short enough to re-issue cheaply. Pure logic. */
#ifndef TASKFARM_MASTER_SCHEDULE_H_
#define TASKFARM_MASTER_SCHEDULE_H_

#include <stdint.h>

#include "proto/job.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  MASTER_CHUNKS_PER_WORKER = 64, /* automatic chunking aims at this many */
};

/* The chunk size for job with `workers` workers (0: the master alone):
 * job->chunk when set, else n / (64 * workers) rounded up to the job's
 * alignment and kept within [alignment, the job's cap]. Never 0. */
uint64_t master_chunk_size(const proto_job_t* job, int workers);

/* The alignment chunk boundaries must respect: PROTO_PI_GRAIN for pi, 1
 * otherwise. */
uint64_t master_chunk_align(const proto_job_t* job);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_SCHEDULE_H_ */
