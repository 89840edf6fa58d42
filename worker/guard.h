/* A worker rank's guard: a parent process that outlives the MPI process
 * it starts, so that a rank that dies (a signal, a crash in a kernel) ends
 * with a plain exit status the launcher tolerates, and the master hears
 * of the death at once, by a datagram, instead of from silence. */
#ifndef TASKFARM_WORKER_GUARD_H_
#define TASKFARM_WORKER_GUARD_H_

#include "base/launch.h"
#include "proto/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Makes a worker rank survive its own death by a signal. hydra ends the
 * whole job when a rank dies by a signal (SIGKILL, SIGSEGV) but tolerates,
 * under -disable-auto-cleanup, a rank that exits with a status. So when this
 * process is a worker rank under a launcher (launch: hydra or Slurm, rank
 * not 0), it forks: the child re-executes taskfarm with argv as the real MPI
 * process (with a parent-death SIGKILL, so it never outlives its guard),
 * and this parent ignores SIGUSR1, SIGINT and SIGTERM, waits, and exits
 * with a plain status (128 + signal when the child was killed). A failed
 * fork ends the rank with status 1 and a sentence. Returns 0 at once in the
 * child, in rank 0 and without a launcher; the parent never returns. Call
 * before MPI_Init. */
int worker_guard(char** argv, const base_launch_t* launch);

/* In the guarded MPI process: the pipe to its guard, or -1 (no guard). */
int worker_guard_fd(void);

/* Tells the guard at fd where the master takes death reports (a WELCOME's
 * token, port and addresses). Returns 0, or -1 with errno set. */
int worker_guard_tell(int fd, const proto_msg_t* welcome);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_WORKER_GUARD_H_ */
