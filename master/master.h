/* The master rank: hands chunks to workers on demand, checks and combines
 * their results exactly once, and prints the result. farm.h decides,
 * link.h speaks MPI, event_loop.h runs libuv, console.h talks to the user,
 * journal.h keeps the work, solo.h computes when no worker can (in a
 * child process: the master never runs a kernel itself). */
#ifndef TASKFARM_MASTER_MASTER_H_
#define TASKFARM_MASTER_MASTER_H_

#include <mpi.h>
#include <stdint.h>

#include "master/ending.h"
#include "cli/job.h"
#include "base/launch.h"
#include "proto/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct master_options_s master_options_t;
struct master_options_s {
  int argc;               /* the command line, for the resume command and the */
  char** argv;            /* master's own computing (master/solo.h) */
  base_launch_t launch;  /* how the run was started, ditto */
  uint64_t scale;         /* sent with every chunk (the kernel's work
                             per 1000 ns, measured here); 0 = none */
  int stopped_by;         /* out: the signal that stopped the run, or 0 */
  master_ending_t ending; /* out: how the job ends */
};

/* Runs the master side of job on comm (this rank is 0). Prints the result on
 * stdout (and to job->output), a summary on stderr unless job->quiet.
 * SIGINT and SIGTERM stop it cleanly: no new work, in-flight chunks
 * collected for up to 3 s after SIGTERM (dropped at once after SIGINT), the
 * journal flushed, the resume command printed; it then returns PROTO_ESTOPPED
 * with opts->stopped_by set. A second signal ends the job at once (exit 128 +
 * signal), journal flushed. Returns 0 when the result is complete, or a
 * negative proto_error_t after printing why (PROTO_EJOURNAL: the --journal file
 * cannot be used). */
int master_run(const cli_job_t* job, MPI_Comm comm, master_options_t* opts);

/* Ends the MPI job from the master once its output is written, with
 * `status` as the job's exit status under mpiexec and srun alike:
 * - MASTER_END_FINALIZE (every worker said BYE and is in MPI_Finalize): frees
 *   *comm and calls MPI_Finalize too, under a watchdog that ends the process
 *   with `status` should a rank have died since; then it returns, and the
 *   caller exits with status.
 * - MASTER_END_LEAVE (Slurm, where finalizing cannot be trusted; every
 *   worker that said BYE has left without finalizing, every other one is
 *   known dead): flushes and exits with status. Slurm takes each task's
 *   status, so srun exits with it and records the job truthfully.
 * - MASTER_END_ABORT (anything else: a worker lost, frozen or of another
 *   build under hydra, or not known dead under Slurm): pauses until mpiexec
 *   has read the last output (at most 0.1 s), silences MPI_Abort's own
 *   message and aborts with `status`: hydra exits with it, Slurm records
 *   the step as killed (exit 137).
 * Never returns but after MPI_Finalize. */
void master_end_job(MPI_Comm* comm, int status, master_ending_t ending);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_MASTER_H_ */
