/* Chunk sizing for the self-scheduling farm (schedule.h). The caps keep one
 * chunk at roughly a tenth of a second on a current core, so a re-issue never
 * repeats much work. */
#include "master/schedule.h"

uint64_t master_chunk_align(const proto_job_t* job) {
  return job->kind == PROTO_JOB_PI ? PROTO_PI_GRAIN : 1;
}

static uint64_t chunk_cap(const proto_job_t* job) {
  switch (job->kind) {
    case PROTO_JOB_PI: return (uint64_t)1 << 28;
    case PROTO_JOB_DOT: return (uint64_t)1 << 27;
    default: return (uint64_t)1 << 20;
  }
}

uint64_t master_chunk_size(const proto_job_t* job, int workers) {
  uint64_t align = master_chunk_align(job);
  if (job->chunk > 0) return job->chunk;
  uint64_t w = workers > 0 ? (uint64_t)workers : 1;
  uint64_t size = job->n / (MASTER_CHUNKS_PER_WORKER * w);
  if (size > chunk_cap(job)) size = chunk_cap(job);
  size = (size + align - 1) / align * align;
  return size < align ? align : size;
}
