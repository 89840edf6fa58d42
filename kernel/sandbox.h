/* The kernel's process: a computation that may crash, exit, hang or
 * corrupt memory runs in a child process of its own, never in the process
 * that speaks MPI for its rank (and never in the master's). The child is
 * this very binary started again (fork and exec of /proc/self/exe with the
 * rank's own arguments and TASKFARM_SANDBOX in its environment), so it
 * parses the same job and loads the same kernel; it dies with its parent.
 * Parent and child talk over a SOCK_SEQPACKET socket pair in fixed frames:
 * the parent asks for a range, the child computes it in slices, says how
 * far it got at most every SANDBOX_NOTE_NS and when the kernel calls
 * keep_alive, and answers with the exact partial result. A child that dies
 * is seen at once (the socket closes) with its signal or exit status; one
 * that stops showing life is the caller's to kill (sandbox_kill).
 * No MPI here; the parent side never blocks. */
#ifndef TASKFARM_KERNEL_SANDBOX_H_
#define TASKFARM_KERNEL_SANDBOX_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jobs/jobs.h"
#include "proto/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SANDBOX_ENV "TASKFARM_SANDBOX" /* names the child's socket fd */

enum {
  SANDBOX_NOTE_NS = 10000000, /* the child reports progress this often */
  SANDBOX_WHAT = 1280, /* bytes of a failure's sentence (kernel_t.what) */
};

/* What the parent hears. */
typedef enum {
  SANDBOX_EV_NONE = 0,   /* nothing yet */
  SANDBOX_EV_PROGRESS,   /* alive: done indices of the range so far */
  SANDBOX_EV_RESULT,     /* the range is computed: result, or rc < 0 and
                            what (the kernel failed it) */
  SANDBOX_EV_CANCELLED,  /* it stopped the range as asked */
  SANDBOX_EV_DIED,       /* the process is gone: rc PROTO_EKILLED (detail:
                            the signal) or PROTO_EEXITED (detail: the exit
                            status); a kernel that could not be loaded is
                            a RESULT with rc < 0 instead */
} sandbox_ev_t;

typedef struct sandbox_event_s sandbox_event_t;
struct sandbox_event_s {
  sandbox_ev_t kind;
  uint64_t done;           /* PROGRESS: indices done */
  int rc;                  /* RESULT, DIED: see sandbox_ev_t */
  int64_t detail;          /* DIED: the signal or exit status */
  proto_msg_t result;      /* RESULT: busy_ns, isum and fsum filled */
  char what[SANDBOX_WHAT]; /* RESULT with rc < 0: why */
};

typedef struct sandbox_s sandbox_t;
struct sandbox_s {
  pid_t pid;      /* the child; 0 when none runs */
  int fd;         /* the parent's end of the socket pair; -1 when none */
  int busy;       /* a range was asked for and not answered */
  char** argv;    /* the arguments the child is started with */
  const jobs_task_t* task; /* what it computes; not owned */
  uint64_t n;
  uint64_t spawns; /* children started so far */
};

/* Sets sb up to start children with argv that compute task over [0, n)
 * (argv and task kept, not copied). */
void sandbox_init(sandbox_t* sb, char** argv, const jobs_task_t* task,
                  uint64_t n);

/* Starts the child if none runs. Returns 0, or a negative proto_error_t
 * with a sentence in what (len bytes). */
int sandbox_start(sandbox_t* sb, char* what, size_t len);

/* Asks the child (started if need be) to compute [begin, end); scale is
 * the kernel's work units per 1000 ns (0: none). Returns 0 or a
 * negative proto_error_t with a sentence in what. */
int sandbox_compute(sandbox_t* sb, uint64_t begin, uint64_t end,
                    uint64_t scale, char* what, size_t len);

/* Asks the child to give up the range it computes; it answers CANCELLED
 * (or the RESULT it had finished) after its current slice. */
int sandbox_cancel(sandbox_t* sb);

/* Waits up to timeout_ms (0: not at all) for one event into *ev. Returns
 * 1 with an event, 0 without one, or a negative proto_error_t when there
 * is no child to hear from. */
int sandbox_wait(sandbox_t* sb, int timeout_ms, sandbox_event_t* ev);

/* Kills the child (SIGKILL) and reaps it; a later compute starts a new
 * one. Safe when none runs. */
void sandbox_kill(sandbox_t* sb);

/* Kills the child if one runs and releases what sb holds. */
void sandbox_close(sandbox_t* sb);

/* The child's side, called by main() first thing when SANDBOX_ENV is set:
 * reads the job's computation from the socket, loads its kernel and
 * serves the parent until the socket closes. Never returns. */
void sandbox_main(void);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_KERNEL_SANDBOX_H_ */
