/* How a job ends, decided as a pure function of what the master knows when
 * the farm is over (docs/fault-tolerance.md, "Ending", has the table this
 * decides and the measurements behind each row):
 * - MPI_Finalize on every rank, where it is known to return: every worker
 *   said BYE, one host, shared memory among the transports, and under
 *   hydra a status of 0 (hydra reports 0 after a finalize whatever rank 0
 *   returned);
 * - every rank leaving without it, under Slurm only (Slurm keeps each
 *   task's status), when every worker that did not say BYE is known gone;
 * - MPI_Abort otherwise: a rank that may be frozen cannot be left behind.
 * No MPI, no environment, no clock: the caller passes the facts in. */
#ifndef TASKFARM_MASTER_ENDING_H_
#define TASKFARM_MASTER_ENDING_H_

#include <stddef.h>

#include "proto/launch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the job ends (master_end_job). */
typedef enum {
  MASTER_END_ABORT = 0,    /* MPI_Abort with the status */
  MASTER_END_FINALIZE = 1, /* every rank in MPI_Finalize */
  MASTER_END_LEAVE = 2,    /* every live rank exits, no MPI_Finalize (Slurm) */
} master_ending_t;

typedef struct master_ending_facts_s master_ending_facts_t;
struct master_ending_facts_s {
  proto_launcher_t launcher; /* who started the ranks */
  const char* ucx_tls;       /* UCX_TLS as the ranks see it (NULL: unset) */
  int hosts;                 /* distinct hosts the ranks ran on */
  const int* missing;        /* the workers that did not say BYE ... */
  int nmissing;              /* ... and how many */
  int status;                /* the job's exit status */
  /* 1 when rank is known gone: its guard reported its death, or its
   * process ran on the master's host and exists no more. */
  int (*gone)(void* ctx, int rank);
  void* ctx; /* passed to gone */
};

/* The ending for facts; why (len bytes) gets a sentence for the log when
 * the choice needs explaining, else "". */
master_ending_t master_choose_ending(const master_ending_facts_t* facts,
                                     char* why, size_t len);

/* 1 when UCX_TLS (NULL or "": unset, UCX's default) includes a
 * shared-memory transport, over which MPI_Finalize returns. */
int master_ucx_shared_memory(const char* ucx_tls);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_ENDING_H_ */
