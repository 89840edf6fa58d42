/* The master computing itself: when no worker can take work (a run on one
 * rank, every worker lost), or when a check or a disputed result needs a
 * computation no worker can give (every one that could computed that chunk
 * already). The computation never runs in the master's process: a kernel
 * that crashes, exits or hangs must cost a chunk, never the run. It runs in
 * a child process (kernel/sandbox.h), which this module drives without
 * ever blocking: the loop calls master_solo_step() often, and it starts a
 * chunk the farm hands out, reads what the child says, and kills a child
 * silent for longer than --timeout-floor. A death is the farm's to count
 * against the chunk (farm_solo_failed). */
#ifndef TASKFARM_MASTER_SOLO_H_
#define TASKFARM_MASTER_SOLO_H_

#include <stdint.h>

#include "master/farm.h"
#include "kernel/sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct master_solo_s master_solo_t;
struct master_solo_s {
  farm_t* farm;       /* the farm it computes for; not owned */
  sandbox_t sandbox;  /* the kernel's process */
  uint64_t scale;     /* the kernel's work units per 1000 ns, or 0 */
  uint64_t frozen_ns; /* a child silent this long is killed */
  int on;             /* a chunk is out */
  farm_solo_t chunk;  /* that chunk */
  uint64_t life_ns;   /* when the child last showed life */
  uint64_t chunks;    /* chunks the master computed */
};

/* Sets s up to compute job's chunks for f, starting children with argv
 * (the master's own command line; the child is sent the job's
 * computation). */
void master_solo_init(master_solo_t* s, farm_t* f, const cli_job_t* job,
                      char** argv, uint64_t scale, double frozen_s);

/* Does what is due now, without blocking: hands the child the chunk the
 * farm wants computed, passes on what the child said (a result, a failure,
 * a death), kills a child silent past the limit, and drops the chunk when
 * the run is stopping. Returns 1 while a chunk is out (the caller should
 * call again soon), else 0. */
int master_solo_step(master_solo_t* s, uint64_t now);

/* Kills the child if one runs. */
void master_solo_close(master_solo_t* s);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_SOLO_H_ */
