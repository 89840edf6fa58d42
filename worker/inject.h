/* Faults injected into a worker rank, for tests and experiments only
 * (--inject, honoured with TASKFARM_FAULTS=1; cli/job.h has the kinds).
 * Each fault fires once, when its moment comes (after so many chunks or
 * seconds of work): the rank exits, aborts, freezes, slows down, follows
 * a speed timeline or corrupts a fraction of its partial results. No MPI
 * here. */
#ifndef TASKFARM_WORKER_INJECT_H_
#define TASKFARM_WORKER_INJECT_H_

#include <stdint.h>

#include "cli/job.h"
#include "proto/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { WORKER_SPOILED_MAX = 64 };

typedef struct worker_inject_s worker_inject_t;
struct worker_inject_s {
  const cli_job_t* job;
  int rank;
  uint64_t start_ns;          /* when the worker started */
  double slow_factor;         /* a slowdown that fired; 1 = none */
  const cli_fault_t* speed;   /* a speed timeline that fired, or NULL */
  const cli_fault_t* corrupt; /* a corruption that fired, or NULL */
  uint64_t random;            /* xorshift64 state */
  uint64_t corrupted;         /* partials corrupted ... */
  uint64_t corrupted_copies;  /* ... of them for an attempt past the first
                                 (most likely a check's copy) */
  uint32_t fired;             /* bit f: the job's fault f has fired */
  /* The chunks of the first WORKER_SPOILED_MAX partials corrupted, in the
   * order they were sent; a copy (attempt past the first) is marked. */
  uint64_t spoiled[WORKER_SPOILED_MAX];
  uint8_t spoiled_copy[WORKER_SPOILED_MAX];
};

/* Rank's faults of job, none fired yet; start_ns is the worker's start. */
void worker_inject_init(worker_inject_t* in, const cli_job_t* job, int rank,
                        uint64_t start_ns);

/* Fires the faults whose moment has come, with chunks_done results sent.
 * An exit, abort or freeze happens here; the others change what the
 * calls below do. */
void worker_inject_fire(worker_inject_t* in, uint64_t chunks_done);

/* A slowdown: idles for (factor - 1) times a slice's slice_ns. */
void worker_inject_pace(const worker_inject_t* in, uint64_t slice_ns);

/* A corruption: with its probability, flips one bit of res's partial (in
 * normalised digits, so the master cannot tell by looking). */
void worker_inject_corrupt(worker_inject_t* in, proto_msg_t* res);

/* One line on stderr of what a corruption did, out of chunks_done
 * partials sent (refused: the master refused the rank), and a second one
 * naming the chunks it spoiled in the order they were sent (a copy marked
 * "+"), so that which of them the master caught can be told. */
void worker_inject_report(const worker_inject_t* in, uint64_t chunks_done,
                          int refused);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_WORKER_INJECT_H_ */
