/* A worker rank: greets the master, then receives chunks, computes them with
 * the kernels and returns exact partial results until told to stop. It keeps
 * the next chunk queued while computing the current one, so the master's
 * polling latency never becomes idle time, and it checks for cancellation
 * between slices of a chunk. */
#ifndef TASKFARM_WORKER_WORKER_H_
#define TASKFARM_WORKER_WORKER_H_

#include <mpi.h>

#include "proto/job.h"
#include "proto/proto.h"
#include "worker/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs the worker side of job on comm (rank 0 is the master) until the
 * master sends STOP. Returns 0, or a negative proto_error_t after printing
 * one line on stderr (refused by the master, MPI failure). */
int worker_run(const proto_job_t* job, MPI_Comm comm);

/* Computes chunk [begin, end) of job in one go into *result (RESULT fields
 * filled: range, sums, busy time). This is what the master calls when it has
 * no worker. Returns 0 or a negative proto_error_t. */
int worker_compute(kernel_t* kernel, uint64_t begin, uint64_t end,
                   proto_msg_t* result);

/* Makes a worker rank survive its own death by a signal. hydra ends the
 * whole job when a rank dies by a signal (SIGKILL, SIGSEGV) but tolerates,
 * under -disable-auto-cleanup, a rank that exits with a status. So when this
 * process is a worker rank under mpiexec (PMI_RANK set and not 0), it forks:
 * the child re-executes taskfarm with argv as the real MPI process, and this
 * parent ignores SIGUSR1, waits, and exits with a plain status (128 + signal
 * when the child was killed). Returns 0 at once in the child, in rank 0 and
 * outside mpiexec; the parent never returns. Call before MPI_Init. */
int worker_guard(char** argv);

/* Bounds a worker's start-up: MPI_Init and the communicator set-up are
 * collective, so a master frozen or dead during them would hang the worker
 * forever. Arms an alarm for job->master_timeout seconds that ends this
 * process with status 3 and a message; worker_run() disarms it once its own
 * loop (which watches the master's silence itself) begins. No-op for rank 0
 * and outside mpiexec. Call before MPI_Init. */
void worker_arm_startup_watchdog(const proto_job_t* job);

/* Prints rank's smiley line for the hello job (rank, size, host). */
void worker_say_hello(int rank, int size);

/* Ends a worker rank once worker_run() has returned: its output flushed,
 * it waits for the master to end the job (MPI_Abort from rank 0 kills every
 * rank), and leaves with `status` on its own after --master-timeout. It does
 * not call MPI_Finalize: over UCX's TCP transport that fails once any peer
 * has died, and it can hang even when none has. Never returns. */
void worker_await_end(const proto_job_t* job, int status);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_WORKER_WORKER_H_ */
