/* A worker rank: greets the master, then receives chunks, computes them with
 * the kernels and returns exact partial results until told to stop. It keeps
 * the next chunk queued while computing the current one, so the master's
 * polling latency never becomes idle time, and it checks for cancellation
 * between slices of a chunk. */
#ifndef TASKFARM_WORKER_WORKER_H_
#define TASKFARM_WORKER_WORKER_H_

#include <mpi.h>

#include "cli/job.h"
#include "proto/proto.h"
#include "kernel/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The exit status of a worker that left because its master went silent
 * (dead, frozen or cut off) for --master-timeout. */
enum { WORKER_EXIT_MASTER_GONE = 3 };

/* Runs the worker side of job on comm (rank 0 is the master) until the
 * master sends STOP (or REFUSE); a run job's kernel runs in a process of
 * its own, started with argv (kernel/sandbox.h). Then it says BYE, waits for
 * the master's FIN and answers it (proto.h), so worker_finalize() comes next,
 * or worker_leave() when the FIN said so (*leave set to 1). Returns 0
 * (PROTO_EVERSION when refused), or a negative proto_error_t after
 * printing one line on stderr (an MPI failure). */
int worker_run(const cli_job_t* job, MPI_Comm comm, char** argv,
               int* leave);

/* Ends a worker rank whose FIN said PROTO_FIN_LEAVE: output flushed, exit
 * status 0, no MPI_Finalize (Slurm keeps each task's status). Never
 * returns. */
void worker_leave(void);

/* Computes chunk [begin, end) of job in one go into *result (RESULT fields
 * filled: range, sums, busy time). This is what the master calls when it has
 * no worker. Returns 0 or a negative proto_error_t. */
int worker_compute(kernel_t* kernel, uint64_t begin, uint64_t end,
                   proto_msg_t* result);

/* Bounds start-up: MPI_Init and the communicator set-up wait for every
 * rank, so a dead host or a frozen master would hang this rank for good.
 * Arms the watchdog (base/watchdog.h) for job->master_timeout seconds: a
 * worker then exits with status 3, rank 0 with status 1, each with a
 * sentence. worker_run() re-arms it for the run; the master disarms it.
 * Call before MPI_Init. */
void worker_arm_startup_watchdog(const cli_job_t* job, int rank);

/* Ends a worker rank whose worker_run() returned 0 or PROTO_EVERSION (it
 * was told STOP or REFUSE, said BYE and answered the master's FIN): frees
 * *comm and calls MPI_Finalize, which returns once the master finalizes
 * too. The watchdog worker_run() armed at BYE ends the process with
 * status 3 should that not happen within --master-timeout. The caller then
 * exits with status 0: the job's status is the master's. */
void worker_finalize(MPI_Comm* comm);

/* Ends a worker rank that could not say BYE (an MPI error): its output
 * flushed, it waits for the master to end the job (MPI_Abort from rank 0
 * kills every rank), and leaves with `status` on its own after
 * --master-timeout. Never returns. */
void worker_await_end(const cli_job_t* job, int status);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_WORKER_WORKER_H_ */
