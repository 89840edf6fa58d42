/* The parent's side of kernel/sandbox.h. The child is started with fork
 * and an immediate exec, which is safe after MPI_Init: nothing of MPI runs
 * in between. Its death is read from the socket (it closes) and from
 * waitpid; every process started here is reaped here. */
#include "kernel/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "proto/error.h"
#include "kernel/sandbox_frame.h"

void sandbox_init(sandbox_t* sb, char** argv, const jobs_task_t* task,
                  uint64_t n) {
  memset(sb, 0, sizeof(*sb));
  sb->fd = -1;
  sb->argv = argv;
  sb->task = task;
  sb->n = n;
}

/* The child's first frame: what it computes. */
static int send_setup(sandbox_t* sb) {
  static setup_t s; /* large; one parent thread */
  memset(&s, 0, sizeof(s));
  s.kind = FRAME_SETUP;
  s.variant = sb->task->entry->variant;
  snprintf(s.command, sizeof(s.command), "%s", sb->task->entry->command);
  s.n = sb->n;
  s.task = *sb->task;
  s.task.entry = NULL;
  for (;;) {
    ssize_t n = send(sb->fd, &s, sizeof(s), MSG_NOSIGNAL);
    if (n == (ssize_t)sizeof(s)) return 0;
    if (n < 0 && errno == EINTR) continue;
    return PROTO_EIO;
  }
}

int sandbox_start(sandbox_t* sb, char* what, size_t len) {
  if (sb->pid > 0) return 0;
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return proto_fail(what, len, PROTO_EIO,
                      "cannot make a socket for the kernel's process: %s",
                      strerror(errno));
  /* The child's environment is made here: after a fork in a process with
   * threads (MPI's, libuv's) only async-signal-safe calls are allowed,
   * and setenv allocates. */
  char var[64];
  snprintf(var, sizeof(var), "%s=%d", SANDBOX_ENV, pair[1]);
  size_t count = 0;
  while (environ[count] != NULL) count++;
  char** envp = malloc((count + 2) * sizeof(*envp));
  if (envp == NULL) {
    close(pair[0]);
    close(pair[1]);
    return proto_fail(what, len, PROTO_ENOMEM,
                      "out of memory starting the kernel's process");
  }
  size_t k = 0;
  for (size_t i = 0; i < count; i++)
    if (strncmp(environ[i], SANDBOX_ENV "=", sizeof(SANDBOX_ENV)) != 0)
      envp[k++] = environ[i];
  envp[k++] = var;
  envp[k] = NULL;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    /* Only async-signal-safe calls until the exec. The child's end loses
     * its close-on-exec flag; the parent's end closes with the exec. */
#if defined(__linux__)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
#endif
    int flags = fcntl(pair[1], F_GETFD);
    if (flags < 0 || fcntl(pair[1], F_SETFD, flags & ~FD_CLOEXEC) < 0)
      _exit(127);
    execve("/proc/self/exe", sb->argv, envp);
    _exit(127);
  }
  int saved = errno;
  free(envp);
  if (pid < 0) {
    close(pair[0]);
    close(pair[1]);
    return proto_fail(what, len, PROTO_EIO,
                      "cannot start the kernel's process: %s",
                      strerror(saved));
  }
  close(pair[1]);
  sb->pid = pid;
  sb->fd = pair[0];
  sb->busy = 0;
  sb->spawns++;
  /* A child that died before it read this is seen by sandbox_wait. */
  send_setup(sb);
  return 0;
}

static int send_frame(sandbox_t* sb, const frame_t* f) {
  for (;;) {
    ssize_t n = send(sb->fd, f, sizeof(*f), MSG_NOSIGNAL);
    if (n == (ssize_t)sizeof(*f)) return 0;
    if (n < 0 && errno == EINTR) continue;
    return PROTO_EIO;
  }
}

int sandbox_compute(sandbox_t* sb, uint64_t begin, uint64_t end,
                    uint64_t scale, char* what, size_t len) {
  int rc = sandbox_start(sb, what, len);
  if (rc < 0) return rc;
  frame_t f;
  memset(&f, 0, sizeof(f));
  f.kind = FRAME_COMPUTE;
  f.begin = begin;
  f.end = end;
  f.scale = scale;
  /* A child that died before it read this is seen by sandbox_wait. */
  send_frame(sb, &f);
  sb->busy = 1;
  return 0;
}

int sandbox_cancel(sandbox_t* sb) {
  if (sb->fd < 0) return PROTO_EINVAL;
  frame_t f;
  memset(&f, 0, sizeof(f));
  f.kind = FRAME_CANCEL;
  return send_frame(sb, &f);
}

/* Reaps the child whose socket closed: how it ended into *ev. */
static void reap(sandbox_t* sb, sandbox_event_t* ev) {
  int status = 0;
  pid_t got;
  /* The socket closes as the process exits; its status follows at once.
   * A child that closed the socket and lives on is killed. */
  for (int tries = 0;; tries++) {
    got = waitpid(sb->pid, &status, tries < 1000 ? WNOHANG : 0);
    if (got == sb->pid || (got < 0 && errno != EINTR)) break;
    if (tries == 1000) kill(sb->pid, SIGKILL);
    struct timespec pause = {0, 1000000};
    if (got == 0) nanosleep(&pause, NULL);
  }
  ev->kind = SANDBOX_EV_DIED;
  if (got == sb->pid && WIFSIGNALED(status)) {
    ev->rc = PROTO_EKILLED;
    ev->detail = WTERMSIG(status);
  } else {
    ev->rc = PROTO_EEXITED;
    ev->detail = got == sb->pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  close(sb->fd);
  sb->fd = -1;
  sb->pid = 0;
  sb->busy = 0;
}

int sandbox_wait(sandbox_t* sb, int timeout_ms, sandbox_event_t* ev) {
  memset(ev, 0, sizeof(*ev));
  if (sb->fd < 0) return PROTO_EINVAL;
  struct pollfd p = {sb->fd, POLLIN, 0};
  int n = poll(&p, 1, timeout_ms);
  if (n < 0 && errno != EINTR) return PROTO_EIO;
  if (n <= 0) return 0;
  static frame_t f; /* large; one parent thread */
  ssize_t got;
  do {
    got = recv(sb->fd, &f, sizeof(f), MSG_DONTWAIT);
  } while (got < 0 && errno == EINTR);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
  if (got != (ssize_t)sizeof(f)) {
    reap(sb, ev);
    return 1;
  }
  switch (f.kind) {
    case FRAME_PROGRESS:
      ev->kind = SANDBOX_EV_PROGRESS;
      ev->done = f.done;
      return 1;
    case FRAME_RESULT:
      ev->kind = SANDBOX_EV_RESULT;
      ev->rc = f.rc;
      ev->result.kind = PROTO_TAG_RESULT;
      ev->result.busy_ns = f.busy_ns;
      ev->result.isum = f.isum;
      ev->result.fsum = f.fsum;
      f.what[sizeof(f.what) - 1] = '\0';
      memcpy(ev->what, f.what, sizeof(ev->what));
      sb->busy = 0;
      return 1;
    case FRAME_CANCELLED:
      ev->kind = SANDBOX_EV_CANCELLED;
      sb->busy = 0;
      return 1;
    default:
      /* A frame the child never sends: it is not what it should be. */
      sandbox_kill(sb);
      ev->kind = SANDBOX_EV_DIED;
      ev->rc = PROTO_EKILLED;
      ev->detail = SIGKILL;
      return 1;
  }
}

void sandbox_kill(sandbox_t* sb) {
  if (sb->pid > 0) {
    kill(sb->pid, SIGKILL);
    while (waitpid(sb->pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  if (sb->fd >= 0) close(sb->fd);
  sb->fd = -1;
  sb->pid = 0;
  sb->busy = 0;
}

void sandbox_close(sandbox_t* sb) { sandbox_kill(sb); }
