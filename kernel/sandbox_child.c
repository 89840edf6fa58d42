/* The child's side of kernel/sandbox.h: the kernel, loaded in a process
 * of its own, computing what its parent asks for in slices. Between slices
 * it reports progress (at most every SANDBOX_NOTE_NS) and looks for a
 * cancellation; a kernel's keep_alive inside a long slice reports too. It
 * ignores the signals a launcher sends a job (its parent decides when it
 * ends: the socket closes, or SIGKILL), and dies with its parent. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "kernel/kernel.h"
#include "kernel/sandbox.h"
#include "kernel/sandbox_frame.h"
#include "proto/error.h"

typedef struct child_s {
  int fd;
  setup_t setup; /* the job's computation, from the parent */
  kernel_t kernel;
  int kernel_rc;        /* kernel_init's result */
  uint64_t done;        /* indices of the current range done */
  uint64_t noted_ns;    /* when progress was last reported */
  frame_t out;          /* the frame being filled */
} child_t;

static void send_frame(child_t* c, const frame_t* f) {
  for (;;) {
    ssize_t n = send(c->fd, f, sizeof(*f), MSG_NOSIGNAL);
    if (n == (ssize_t)sizeof(*f)) return;
    if (n < 0 && errno == EINTR) continue;
    _exit(0); /* the parent is gone */
  }
}

static void note(child_t* c, int force) {
  uint64_t now = base_now_ns();
  if (!force && now - c->noted_ns < SANDBOX_NOTE_NS) return;
  c->noted_ns = now;
  frame_t f;
  memset(&f, 0, sizeof(f));
  f.kind = FRAME_PROGRESS;
  f.done = c->done;
  send_frame(c, &f);
}

/* out->keep_alive from inside a slice. */
static void alive(void* arg) { note(arg, 0); }

/* 1 when the parent asked to give the range up. */
static int cancelled(child_t* c) {
  frame_t f;
  for (;;) {
    ssize_t n = recv(c->fd, &f, sizeof(f), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (n <= 0) _exit(0); /* the parent is gone */
    if (f.kind == FRAME_CANCEL) return 1;
  }
}

static void compute(child_t* c, const frame_t* ask) {
  frame_t* res = &c->out;
  memset(res, 0, sizeof(*res));
  res->kind = FRAME_RESULT;
  proto_exact_init(&res->fsum);
  if (c->kernel_rc < 0) {
    res->rc = c->kernel_rc;
    snprintf(res->what, sizeof(res->what), "%s",
             c->kernel.what[0] ? c->kernel.what
                               : proto_strerror(c->kernel_rc));
    send_frame(c, res);
    return;
  }
  if (ask->scale != 0) c->kernel.scale = ask->scale;
  const jobs_spec_t* spec = &c->setup.task.spec;
  uint64_t slice = kernel_first_slice(spec);
  uint64_t t0 = base_now_ns();
  c->done = 0;
  c->noted_ns = t0;
  for (uint64_t at = ask->begin, stop; at < ask->end; at = stop) {
    stop = ask->end - at <= slice ? ask->end : at + slice;
    uint64_t s0 = base_now_ns();
    int rc = kernel_add(&c->kernel, at, stop, &res->fsum, &res->isum);
    if (rc < 0) {
      res->rc = rc;
      snprintf(res->what, sizeof(res->what), "%s",
               c->kernel.what[0] ? c->kernel.what : proto_strerror(rc));
      break;
    }
    if (stop - at == slice)
      slice = kernel_next_slice(spec, slice, base_now_ns() - s0);
    c->done = stop - ask->begin;
    if (cancelled(c)) {
      frame_t f;
      memset(&f, 0, sizeof(f));
      f.kind = FRAME_CANCELLED;
      send_frame(c, &f);
      return;
    }
    if (stop < ask->end) note(c, 0);
  }
  res->busy_ns = base_now_ns() - t0;
  proto_exact_normalize(&res->fsum);
  send_frame(c, res);
}

/* The entry of the parent's job, by command and variant. */
static const jobs_entry_t* entry_of(const setup_t* s) {
  size_t count;
  const jobs_entry_t* const* t = jobs_table(&count);
  for (size_t i = 0; i < count; i++)
    if (strncmp(t[i]->command, s->command, sizeof(s->command)) == 0 &&
        t[i]->variant == s->variant)
      return t[i];
  return NULL;
}

/* Reads the first frame and makes the kernel ready. */
static void set_up(child_t* c) {
  ssize_t n;
  do {
    n = recv(c->fd, &c->setup, sizeof(c->setup), 0);
  } while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof(c->setup) || c->setup.kind != FRAME_SETUP)
    _exit(0); /* the parent is gone, or not a parent */
  c->setup.task.entry = entry_of(&c->setup);
  if (c->setup.task.entry == NULL) {
    c->kernel_rc = PROTO_EINVAL;
    snprintf(c->kernel.what, sizeof(c->kernel.what),
             "the kernel's process has no job '%.31s'", c->setup.command);
    return;
  }
  c->kernel_rc = kernel_init(&c->kernel, &c->setup.task, c->setup.n);
}

void sandbox_main(void) {
  static child_t c; /* large */
  const char* fd = getenv(SANDBOX_ENV);
  c.fd = fd != NULL ? atoi(fd) : -1;
  unsetenv(SANDBOX_ENV);
  if (c.fd < 0 || fcntl(c.fd, F_SETFD, FD_CLOEXEC) < 0) _exit(127);
  /* The parent ends this process; a Ctrl-C the launcher passes on to the
   * job is the master's to handle. */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGUSR1, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  /* A kernel's crash is reported by its parent, from its signal: not by
   * the handlers MPI's libraries install when they load (they print a
   * backtrace on stdout). */
  kernel_default_crash_signals();
  set_up(&c);
  c.kernel.beat = alive;
  c.kernel.beat_arg = &c;
  static frame_t ask;
  for (;;) {
    ssize_t n = recv(c.fd, &ask, sizeof(ask), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n != (ssize_t)sizeof(ask)) break; /* closed: the parent is done */
    if (ask.kind == FRAME_COMPUTE) compute(&c, &ask);
  }
  if (c.kernel_rc == 0) kernel_close(&c.kernel);
  _exit(0);
}
