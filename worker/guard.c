/* The guard of guard.h. */
#include "worker/guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#include <unistd.h>

#include "base/log.h"
#include "worker/worker.h"

#define GUARD_FD_ENV "TASKFARM_GUARD_FD"

/* What a worker tells its guard (from WELCOME): where and how to report
 * its death. Written whole (less than PIPE_BUF bytes: atomic). */
typedef struct guard_note_s guard_note_t;
struct guard_note_s {
  uint64_t token;
  uint64_t port;
  uint32_t addr[4];
};

int worker_guard_fd(void) {
  const char* env = getenv(GUARD_FD_ENV);
  int fd = env != NULL ? atoi(env) : -1;
  if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) fd = -1;
  return fd;
}

int worker_guard_tell(int fd, const proto_msg_t* welcome) {
  guard_note_t note = {welcome->token, welcome->port, {0}};
  memcpy(note.addr, welcome->addr, sizeof(note.addr));
  if (write(fd, &note, sizeof(note)) == (ssize_t)sizeof(note)) return 0;
  if (errno == 0) errno = EIO;
  return -1;
}

/* The guard's report of its MPI process's death: one datagram to each
 * address the master gave in WELCOME (read from the pipe fd), at once. */
static void report_death(int fd, int rank, pid_t pid, int status) {
  guard_note_t note, last = {0, 0, {0}};
  int have = 0;
  while (fd >= 0 && read(fd, &note, sizeof(note)) == (ssize_t)sizeof(note)) {
    last = note;
    have = 1;
  }
  if (!have || last.port == 0) return;
  proto_death_t d = {.token = last.token,
                     .rank = rank,
                     .pid = (uint64_t)pid,
                     .signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                     .status = WIFEXITED(status) ? WEXITSTATUS(status) : 0};
  uint8_t buf[PROTO_DEATH_BYTES];
  proto_death_encode(&d, buf);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  for (int k = 0; k < 4 && last.addr[k] != 0; k++) {
    struct sockaddr_in to;
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)last.port);
    to.sin_addr.s_addr = last.addr[k];
    sendto(s, buf, sizeof(buf), 0, (const struct sockaddr*)&to, sizeof(to));
  }
  close(s);
}

int worker_guard(char** argv, const base_launch_t* launch) {
  if (launch->kind == BASE_LAUNCH_NONE ||
      launch->kind == BASE_LAUNCH_SLURM_NOPMI || launch->rank == 0 ||
      getenv("TASKFARM_GUARDED"))
    return 0;
  char rank[16];
  snprintf(rank, sizeof(rank), "%d", launch->rank);
  /* hydra signals the process it started with SIGUSR1 when another rank
   * fails; the guard must survive that to report its child's fate. */
  signal(SIGUSR1, SIG_IGN);
  /* SIGINT and SIGTERM (hydra passes a Ctrl-C on to every rank) are the
   * master's to handle: it stops the run cleanly and ends every rank. The
   * worker, which inherits these settings, keeps computing until then. */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  /* The MPI process tells its guard, through this pipe, where the master
   * takes death reports (WELCOME). */
  int note[2] = {-1, -1};
  if (pipe(note) == 0) {
    fcntl(note[0], F_SETFD, FD_CLOEXEC);
    fcntl(note[0], F_SETFL, O_NONBLOCK);
  }
  pid_t guard = getpid();
  pid_t child = fork();
  if (child < 0) {
    base_log(BASE_LOG_WARN,
             "rank %s: cannot fork its MPI process from its guard: %s", rank,
             strerror(errno));
    _exit(EXIT_FAILURE);
  }
  if (child == 0) {
#if defined(__linux__)
    /* The MPI process must not outlive its guard: an orphan would hold the
     * launcher's PMI socket (mpiexec would never exit). The guard may have
     * died before the request took effect: then leave now. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != guard) _exit(WORKER_EXIT_MASTER_GONE);
#endif
    setenv("TASKFARM_GUARDED", "1", 1);
    if (note[1] >= 0) {
      char fd[16];
      snprintf(fd, sizeof(fd), "%d", note[1]);
      setenv(GUARD_FD_ENV, fd, 1);
    }
    execv("/proc/self/exe", argv);
    base_log(BASE_LOG_WARN, "rank %s: cannot re-execute itself: %s", rank,
             strerror(errno));
    _exit(127);
  }
  if (note[1] >= 0) close(note[1]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno == EINTR) continue;
    base_log(BASE_LOG_WARN, "rank %s: lost track of its MPI process: %s", rank,
             strerror(errno));
    _exit(1);
  }
  if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0))
    report_death(note[0], launch->rank, child, status);
  if (WIFSIGNALED(status)) {
    base_log(BASE_LOG_WARN, "rank %s (pid %d) died by signal %d", rank,
             (int)child, WTERMSIG(status));
    /* Slurm makes the step's status the highest of its tasks': a worker's
     * death, which costs the farm nothing, must not become the job's
     * status (the master's is). hydra takes the master's MPI_Abort status
     * and tolerates this one (-disable-auto-cleanup). */
    _exit(launch->kind == BASE_LAUNCH_SLURM ? 0 : 128 + WTERMSIG(status));
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}
