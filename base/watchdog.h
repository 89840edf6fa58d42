/* A watchdog outside every MPI call: a thread that ends the process with a
 * status and a sentence on stderr once a deadline passes. MPI_Init,
 * MPI_Finalize and MPICH's progress engine can block for good (a dead host
 * in a PMI read, a peer that never finalizes); a check in the main loop
 * cannot see that, this thread can. The deadline is moved with
 * base_watchdog_set(); 0 disarms it. */
#ifndef TASKFARM_BASE_WATCHDOG_H_
#define TASKFARM_BASE_WATCHDOG_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Arms (or moves) the deadline: at base_now_ns() >= deadline_ns the
 * process writes "taskfarm: <message>\n" to stderr and _exits with status.
 * Starts the thread on first use. Returns 0, or -1 when no thread could be
 * started (the caller is then unguarded; nothing else changes). message is
 * copied (at most 255 bytes). */
int base_watchdog_arm(uint64_t deadline_ns, int status, const char* message);

/* Moves an armed deadline only (cheap: one atomic store; no-op when
 * disarmed). */
void base_watchdog_push(uint64_t deadline_ns);

/* Disarms it. */
void base_watchdog_disarm(void);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_BASE_WATCHDOG_H_ */
