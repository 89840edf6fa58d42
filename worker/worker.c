/* The worker's receive-compute-reply loop. One MPI_Irecv from the master is
 * always posted; it is tested between slices of the current chunk, so orders,
 * cancellations and STOP are seen within a slice's time (about a millisecond)
 * without a thread. Orders queue up in a small ring, in arrival order. While
 * it has nothing to compute the worker polls, yielding the core, for 100 us,
 * then with a growing sleep, leaving the core to ranks that have work. */
#include "worker/worker.h"

#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/watchdog.h"
#include "kernel/sandbox.h"
#include "proto/error.h"
#include "worker/guard.h"
#include "worker/inject.h"
#include "worker/orders.h"

enum {
  IDLE_YIELD_NS = 100000, /* poll with sched_yield this long when idle */
  HEARTBEAT_NS = (int)(PROTO_BEAT_S * 1e9), /* PROGRESS at most this often
                                               while computing */
  IDLE_BEAT_NS = 1000000000,                /* ... and this often while idle */
  WATCHDOG_SLACK_NS = 1000000000, /* the watchdog backs check_master up */
  IDLE_SLEEP_MIN_US = 10,
  IDLE_SLEEP_MAX_US = 1000,
};

typedef struct worker_s {
  const cli_job_t* job;
  MPI_Comm comm;
  int rank;
  kernel_t kernel;
  int kernel_rc;        /* kernel_init's result: chunks FAIL with it */
  int told_failure;     /* a failing chunk was reported on stderr */
  uint64_t slice;       /* the slice kernel_next_slice chose, or 0 */
  int computing;        /* cur is being computed */
  worker_order_t cur;   /* the order being computed */
  uint64_t cur_t0;      /* when its computing began */
  uint64_t cur_beat_ns; /* when its last PROGRESS went out */
  uint64_t cur_done;    /* its indices done by the last slice's end */
  MPI_Request req;      /* the posted receive from the master */
  uint8_t rbuf[PROTO_MAX_BYTES];
  worker_orders_t orders;
  int stopping; /* STOP or REFUSE seen */
  int refused;
  uint64_t start_ns;       /* when the worker started */
  uint64_t last_master_ns; /* when the master was last heard */
  uint64_t chunks_done;    /* results sent */
  worker_inject_t inject;  /* --inject's faults for this rank */
  int sandboxed;           /* the kernel runs in a process of its own */
  sandbox_t sandbox;       /* ... this one */
  int guard_fd;            /* where WELCOME goes for the guard; -1 */
} worker_t;

int worker_compute(kernel_t* kernel, uint64_t begin, uint64_t end,
                   proto_msg_t* result) {
  memset(result, 0, sizeof(*result));
  result->kind = PROTO_TAG_RESULT;
  result->begin = begin;
  result->end = end;
  proto_exact_init(&result->fsum);
  uint64_t t0 = base_now_ns();
  int rc = kernel_add(kernel, begin, end, &result->fsum, &result->isum);
  result->busy_ns = base_now_ns() - t0;
  return rc;
}

static int post_receive(worker_t* w) {
  int rc = MPI_Irecv(w->rbuf, PROTO_MAX_BYTES, MPI_BYTE, 0, MPI_ANY_TAG,
                     w->comm, &w->req);
  return rc == MPI_SUCCESS ? 0 : PROTO_EMPI;
}

static void check_master(const worker_t* w);

static uint64_t master_timeout_ns(const cli_job_t* job) {
  return (uint64_t)(job->master_timeout * 1e9);
}

/* Sends msg to the master. A frozen master stops draining its queue, and a
 * blocking send would then hang the worker for good: the send is
 * non-blocking and waited for while watching the master's silence. */
static int send_msg(worker_t* w, const proto_msg_t* msg) {
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(msg, buf, sizeof(buf));
  assert(len > 0);
  MPI_Request req;
  if (MPI_Isend(buf, (int)len, MPI_BYTE, 0, (int)msg->kind, w->comm, &req) !=
      MPI_SUCCESS)
    return PROTO_EMPI;
  for (int spins = 0;; spins++) {
    int done = 0;
    if (MPI_Test(&req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
      return PROTO_EMPI;
    if (done) return 0;
    if (spins > 1000) {
      check_master(w);
      struct timespec pause = {0, 100000};
      nanosleep(&pause, NULL);
    }
  }
}

static int handle(worker_t* w, const proto_msg_t* m) {
  switch (m->kind) {
    case PROTO_TAG_WORK: {
      if (m->scale != 0) w->kernel.scale = m->scale;
      worker_order_t o = {m->chunk, m->attempt, m->begin, m->end, 0};
      if (worker_orders_push(&w->orders, &o) == 0) return 0;
      /* Never drop an order in silence: the master re-issues it now
       * instead of waiting for a deadline. */
      base_log(BASE_LOG_INFO,
               "worker %d: order queue full, chunk %llu "
               "handed back",
               w->rank, (unsigned long long)m->chunk);
      proto_msg_t fail = {.kind = PROTO_TAG_FAIL,
                          .chunk = m->chunk,
                          .attempt = m->attempt,
                          .code = PROTO_EQUEUE};
      return send_msg(w, &fail);
    }
    case PROTO_TAG_CANCEL:
      worker_orders_cancel(&w->orders, m->chunk, m->attempt);
      return 0;
    case PROTO_TAG_STOP:
      w->stopping = 1;
      return 0;
    case PROTO_TAG_WELCOME: {
      if (w->guard_fd < 0 || m->port == 0) return 0;
      /* A guard that is gone cannot be told: deadlines find the death. */
      if (worker_guard_tell(w->guard_fd, m) < 0)
        base_log(BASE_LOG_INFO, "worker %d: cannot tell its guard: %s", w->rank,
                 strerror(errno));
      return 0;
    }
    case PROTO_TAG_REFUSE:
      base_log(BASE_LOG_WARN,
               "worker %d refused by the master: %s (this worker speaks "
               "protocol version %d)",
               w->rank, proto_strerror((int)m->code), PROTO_VERSION);
      w->stopping = 1;
      w->refused = 1;
      return 0;
    default: /* PING, and kinds a master never sends */
      return 0;
  }
}

/* Handles every message that has arrived. Returns 0 or PROTO_EMPI. */
static int drain(worker_t* w) {
  /* After STOP or REFUSE the receive is not posted again. */
  while (!w->stopping) {
    int done = 0;
    MPI_Status st;
    if (MPI_Test(&w->req, &done, &st) != MPI_SUCCESS) return PROTO_EMPI;
    if (!done) return 0;
    int len = 0;
    MPI_Get_count(&st, MPI_BYTE, &len);
    w->last_master_ns = base_now_ns();
    base_watchdog_push(w->last_master_ns + master_timeout_ns(w->job) +
                       WATCHDOG_SLACK_NS);
    proto_msg_t m;
    int rc = proto_decode(w->rbuf, (size_t)len, st.MPI_TAG, &m);
    if (rc == PROTO_EVERSION) {
      base_log(BASE_LOG_WARN,
               "worker %d: the master speaks protocol version %u, this "
               "worker %d: run one build on every rank",
               w->rank, m.version, PROTO_VERSION);
      w->stopping = w->refused = 1;
    } else if (rc < 0) {
      base_log(BASE_LOG_WARN,
               "worker %d: dropped a malformed %s (tag %d, %d bytes) from "
               "the master: %s",
               w->rank, proto_tag_name(st.MPI_TAG), st.MPI_TAG, len,
               proto_strerror(rc));
    } else {
      rc = handle(w, &m);
      if (rc < 0) return rc;
    }
    if (w->stopping) return 0;
    rc = post_receive(w);
    if (rc < 0) return rc;
  }
  return 0;
}

/* A worker whose master has gone silent (dead, frozen, cut off) would wait
 * forever: it leaves on its own instead. */
static void check_master(const worker_t* w) {
  double silent = (double)(base_now_ns() - w->last_master_ns) / 1e9;
  if (silent < w->job->master_timeout) return;
  base_log(BASE_LOG_WARN,
           "worker %d: nothing from the master for %.0f s; exiting", w->rank,
           silent);
  _exit(WORKER_EXIT_MASTER_GONE);
}

/* A PROGRESS for the order being computed when one is due, so the master
 * knows the rank is alive and how far it got. Called between slices, and
 * from inside a long one through the kernel's out->keep_alive. */
static int beat_if_due(worker_t* w) {
  uint64_t t = base_now_ns();
  if (!w->computing || t - w->cur_beat_ns < HEARTBEAT_NS) return 0;
  w->cur_beat_ns = t;
  proto_msg_t progress = {.kind = PROTO_TAG_PROGRESS,
                          .chunk = w->cur.chunk,
                          .attempt = w->cur.attempt,
                          .done = w->cur_done,
                          .busy_ns = t - w->cur_t0};
  int rc = send_msg(w, &progress);
  if (rc == 0) check_master(w);
  return rc;
}

/* out->keep_alive: a send that fails is left to the slice's end to find. */
static void keep_alive(void* arg) { (void)beat_if_due(arg); }

/* Starts computing order o: it becomes the current one, and res an empty
 * RESULT for it. */
static void begin_order(worker_t* w, const worker_order_t* o,
                        proto_msg_t* res) {
  memset(res, 0, sizeof(*res));
  res->kind = PROTO_TAG_RESULT;
  res->chunk = o->chunk;
  res->attempt = o->attempt;
  res->begin = o->begin;
  res->end = o->end;
  proto_exact_init(&res->fsum);
  w->cur = *o;
  w->cur_t0 = w->cur_beat_ns = base_now_ns();
  w->cur_done = 0;
  w->computing = 1;
}

static int run_order_sandboxed(worker_t* w);

/* Computes the order at the head of the queue slice by slice, then reports
 * it unless it was cancelled meanwhile. */
static int run_order(worker_t* w) {
  if (w->sandboxed) return run_order_sandboxed(w);
  worker_order_t o = *worker_orders_head(&w->orders);
  proto_msg_t res;
  begin_order(w, &o, &res);
  int rc = w->kernel_rc;
  const jobs_spec_t* spec = &w->job->task.spec;
  uint64_t slice = w->slice ? w->slice : kernel_first_slice(spec);
  uint64_t t0 = w->cur_t0;
  for (uint64_t at = o.begin, stop; rc == 0 && at < o.end; at = stop) {
    stop = o.end - at < slice ? o.end : at + slice;
    if (w->job->nfaults > 0) worker_inject_fire(&w->inject, w->chunks_done);
    uint64_t s0 = base_now_ns();
    rc = kernel_add(&w->kernel, at, stop, &res.fsum, &res.isum);
    if (stop - at == slice)
      slice = w->slice = kernel_next_slice(spec, slice, base_now_ns() - s0);
    if (rc < 0) {
      if (!w->told_failure++)
        base_log(BASE_LOG_WARN, "worker %d: chunk [%llu, %llu) fails: %s",
                 w->rank, (unsigned long long)o.begin,
                 (unsigned long long)o.end,
                 w->kernel.what[0] ? w->kernel.what : proto_strerror(rc));
      break;
    }
    worker_inject_pace(&w->inject, base_now_ns() - s0);
    w->cur_done = stop - o.begin;
    rc = drain(w);
    if (rc == 0 && (w->stopping || worker_orders_head(&w->orders)->cancelled))
      break;
    if (rc == 0 && stop < o.end) rc = beat_if_due(w);
    if (rc < 0) {
      w->computing = 0;
      return rc;
    }
  }
  w->computing = 0;
  res.busy_ns = base_now_ns() - t0;
  int cancelled = w->stopping || worker_orders_head(&w->orders)->cancelled;
  worker_orders_pop(&w->orders);
  if (cancelled) return 0;
  w->chunks_done++;
  if (rc < 0) {
    proto_msg_t fail = {.kind = PROTO_TAG_FAIL,
                        .chunk = o.chunk,
                        .attempt = o.attempt,
                        .code = rc};
    return send_msg(w, &fail);
  }
  if (w->inject.corrupt != NULL) {
    proto_exact_normalize(&res.fsum);
    worker_inject_corrupt(&w->inject, &res);
  }
  return send_msg(w, &res);
}

/* A kernel that shows no sign of life for this long is taken for frozen:
 * the master's own limit on a silent rank. */
static uint64_t frozen_ns(const worker_t* w) {
  return (uint64_t)(w->job->timeout_floor * 1e9);
}

/* Has the sandbox compute order o into res and waits for it, answering
 * the master and reporting progress meanwhile. Returns 0 (*cancelled set
 * when the order was called off), or a negative proto_error_t: the
 * kernel's failure, or its death or silence with *detail (the signal, the
 * exit status, the milliseconds of silence). */
static int await_sandbox(worker_t* w, const worker_order_t* o, proto_msg_t* res,
                         int64_t* detail, int* cancelled) {
  static char what[SANDBOX_WHAT];
  int rc = sandbox_compute(&w->sandbox, o->begin, o->end, w->kernel.scale, what,
                           sizeof(what));
  uint64_t life = w->cur_t0, cancel_at = 0;
  static sandbox_event_t ev;
  while (rc == 0) {
    if (w->job->nfaults > 0) worker_inject_fire(&w->inject, w->chunks_done);
    int got = sandbox_wait(&w->sandbox, 1, &ev);
    uint64_t now = base_now_ns();
    if (got < 0) {
      rc = PROTO_EEXITED;
      *detail = -1;
      break;
    }
    if (got > 0 && ev.kind == SANDBOX_EV_PROGRESS) {
      w->cur_done = ev.done;
      life = now;
    } else if (got > 0 && ev.kind == SANDBOX_EV_RESULT) {
      if (ev.rc < 0) {
        rc = PROTO_EKERNEL;
        snprintf(w->kernel.what, sizeof(w->kernel.what), "%s", ev.what);
      }
      res->isum = ev.result.isum;
      res->fsum = ev.result.fsum;
      break;
    } else if (got > 0 && ev.kind == SANDBOX_EV_CANCELLED) {
      *cancelled = 1;
      break;
    } else if (got > 0 && ev.kind == SANDBOX_EV_DIED) {
      rc = ev.rc;
      *detail = ev.detail;
      break;
    }
    rc = drain(w);
    if (rc < 0) break;
    if ((w->stopping || worker_orders_head(&w->orders)->cancelled) &&
        cancel_at == 0) {
      sandbox_cancel(&w->sandbox);
      cancel_at = now;
    }
    if (cancel_at != 0 && now - cancel_at > frozen_ns(w)) {
      sandbox_kill(&w->sandbox);
      *cancelled = 1;
      break;
    }
    rc = beat_if_due(w);
    if (rc == 0 && cancel_at == 0 && now - life > frozen_ns(w)) {
      sandbox_kill(&w->sandbox);
      rc = PROTO_EFROZE;
      *detail = (int64_t)((now - life) / 1000000);
    }
  }
  return rc;
}

/* Reports to the master that order o failed with rc (the kernel's
 * error, or its death with detail), with a line on stderr. */
static int report_failure(worker_t* w, const worker_order_t* o, int rc,
                          int64_t detail) {
  if (proto_error_is_death(rc)) {
    char how[192];
    if (rc == PROTO_EKILLED)
      snprintf(how, sizeof(how), "died by signal %lld (%s)", (long long)detail,
               strsignal((int)detail));
    else if (rc == PROTO_EEXITED)
      snprintf(how, sizeof(how), "exited with status %lld", (long long)detail);
    else
      snprintf(how, sizeof(how),
               "showed no progress for %.1f s and was killed (a compute "
               "that spends long on one index calls out->keep_alive)",
               (double)detail / 1e3);
    base_log(BASE_LOG_WARN, "worker %d: chunk [%llu, %llu): its kernel %s",
             w->rank, (unsigned long long)o->begin, (unsigned long long)o->end,
             how);
  } else if (!w->told_failure++) {
    base_log(BASE_LOG_WARN, "worker %d: chunk [%llu, %llu) fails: %s", w->rank,
             (unsigned long long)o->begin, (unsigned long long)o->end,
             w->kernel.what[0] ? w->kernel.what : proto_strerror(rc));
  }
  proto_msg_t fail = {.kind = PROTO_TAG_FAIL,
                      .chunk = o->chunk,
                      .attempt = o->attempt,
                      .code = rc,
                      .detail = detail};
  return send_msg(w, &fail);
}

/* run_order for a kernel in its own process (kernel/sandbox.h): this
 * process stays with MPI, answers the master and reports progress while
 * the child computes; the child's death, or its silence past the limit
 * (it is then killed), fails the chunk with what happened, so the master
 * can count it against the chunk (--poison-after). */
static int run_order_sandboxed(worker_t* w) {
  worker_order_t o = *worker_orders_head(&w->orders);
  proto_msg_t res;
  begin_order(w, &o, &res);
  uint64_t t0 = w->cur_t0;
  int64_t detail = 0;
  int cancelled = 0;
  int rc = await_sandbox(w, &o, &res, &detail, &cancelled);
  w->computing = 0;
  if (rc == PROTO_EMPI) return rc;
  cancelled |= w->stopping || worker_orders_head(&w->orders)->cancelled;
  worker_orders_pop(&w->orders);
  if (cancelled) return 0;
  w->chunks_done++;
  if (rc < 0) return report_failure(w, &o, rc, detail);
  res.busy_ns = base_now_ns() - t0;
  worker_inject_corrupt(&w->inject, &res);
  return send_msg(w, &res);
}

/* After BYE: drops whatever the master still sends until FIN, then
 * answers FIN, this worker's last word before MPI_Finalize. A master that
 * ends the job with MPI_Abort instead ends this process meanwhile. */
static int await_fin(worker_t* w, int* leave) {
  proto_msg_t msg;
  for (;;) {
    int rc = post_receive(w);
    if (rc < 0) return rc;
    MPI_Status st;
    for (int done = 0; !done;) {
      if (MPI_Test(&w->req, &done, &st) != MPI_SUCCESS) return PROTO_EMPI;
      if (!done) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
      }
    }
    int len = 0;
    MPI_Get_count(&st, MPI_BYTE, &len);
    if (st.MPI_TAG == PROTO_TAG_FIN &&
        proto_decode(w->rbuf, (size_t)len, st.MPI_TAG, &msg) == 0)
      break;
  }
  *leave = msg.code == PROTO_FIN_LEAVE;
  proto_msg_t fin = {.kind = PROTO_TAG_FIN, .code = msg.code};
  return send_msg(w, &fin);
}

/* Serves the master until STOP or REFUSE (or an MPI failure): computes
 * the orders queued, and while there are none says it is alive now and
 * then and polls for the next, yielding the core, then sleeping. */
static int serve(worker_t* w) {
  unsigned sleep_us = IDLE_SLEEP_MIN_US;
  uint64_t idle_since = 0, idle_beat = base_now_ns();
  int rc = 0;
  while (rc == 0) {
    rc = drain(w);
    if (rc < 0 || w->stopping) break;
    check_master(w);
    if (w->orders.count > 0) {
      rc = run_order(w);
      sleep_us = IDLE_SLEEP_MIN_US;
      idle_since = 0;
      idle_beat = base_now_ns();
      continue;
    }
    if (base_now_ns() - idle_beat >= IDLE_BEAT_NS) {
      /* Alive and idle: a master that lost this worker takes it back. */
      proto_msg_t beat = {.kind = PROTO_TAG_PROGRESS};
      rc = send_msg(w, &beat);
      idle_beat = base_now_ns();
      if (rc < 0) break;
    }
    /* The master's answer to the last result is usually microseconds away:
     * poll, yielding the core, for a short while before sleeping. */
    uint64_t t = base_now_ns();
    if (idle_since == 0) idle_since = t;
    if (t - idle_since < IDLE_YIELD_NS) {
      sched_yield();
      continue;
    }
    struct timespec pause = {0, (long)sleep_us * 1000};
    nanosleep(&pause, NULL);
    if (sleep_us < IDLE_SLEEP_MAX_US) sleep_us *= 2;
  }
  return rc;
}

/* After STOP: nothing is in flight any more, so says BYE, waits for FIN
 * and answers it (proto.h). One deadline bounds that and the caller's
 * MPI_Finalize. */
static int say_bye(worker_t* w, int* leave) {
  char what[160];
  snprintf(what, sizeof(what),
           "worker %d: no FIN from the master, or MPI_Finalize did not "
           "return, within %.0f s (--master-timeout); exiting",
           w->rank, w->job->master_timeout);
  base_watchdog_arm(base_now_ns() + master_timeout_ns(w->job),
                    WORKER_EXIT_MASTER_GONE, what);
  proto_msg_t bye = {.kind = PROTO_TAG_BYE};
  int rc = send_msg(w, &bye);
  return rc == 0 ? await_fin(w, leave) : rc;
}

int worker_run(const cli_job_t* job, MPI_Comm comm, char** argv, int* leave) {
  worker_t w;
  memset(&w, 0, sizeof(w));
  *leave = 0;
  w.job = job;
  w.comm = comm;
  w.start_ns = w.last_master_ns = base_now_ns();
  w.guard_fd = worker_guard_fd();
  MPI_Comm_rank(comm, &w.rank);
  worker_inject_init(&w.inject, job, w.rank, w.start_ns);
  /* Start-up is over. check_master() watches the master's silence between
   * MPI calls; the watchdog also inside them (a PMI read, a stuck send). */
  char what[160];
  snprintf(what, sizeof(what),
           "worker %d: nothing from the master for %.0f s (blocked in MPI); "
           "exiting",
           w.rank, job->master_timeout);
  base_watchdog_arm(w.start_ns + master_timeout_ns(job) + WATCHDOG_SLACK_NS,
                    WORKER_EXIT_MASTER_GONE, what);
  /* A user's kernel is foreign code: it runs in a process of its own. */
  w.sandboxed = (job->task.entry->flags & JOBS_LOADS) != 0;
  sandbox_init(&w.sandbox, argv, &job->task, job->n);
  if (!w.sandboxed) w.kernel_rc = kernel_init(&w.kernel, &job->task, job->n);
  w.kernel.beat = keep_alive;
  w.kernel.beat_arg = &w;
  if (w.kernel_rc < 0)
    base_log(BASE_LOG_WARN, "worker %d: %s; every chunk it is given fails",
             w.rank,
             w.kernel.what[0] ? w.kernel.what : proto_strerror(w.kernel_rc));

  int rc = post_receive(&w);
  if (rc < 0) goto out_close_kernel;
  proto_msg_t hello = {.kind = PROTO_TAG_HELLO,
                       .fingerprint = cli_job_fingerprint(job),
                       .pid = (uint64_t)getpid(),
                       .cpus = (uint64_t)sysconf(_SC_NPROCESSORS_ONLN)};
  gethostname(hello.host, sizeof(hello.host) - 1);
  rc = send_msg(&w, &hello);
  if (rc < 0) goto out_cancel_receive;

  rc = serve(&w);
  if (rc == 0 && w.stopping) rc = say_bye(&w, leave);
  if (rc < 0)
    base_log(BASE_LOG_WARN, "worker %d: %s", w.rank, proto_strerror(rc));
  worker_inject_report(&w.inject, w.chunks_done, w.refused);

out_cancel_receive:
  if (!w.stopping) {
    MPI_Cancel(&w.req);
    MPI_Wait(&w.req, MPI_STATUS_IGNORE);
  }
out_close_kernel:
  sandbox_close(&w.sandbox);
  kernel_close(&w.kernel);
  if (rc == 0 && w.refused) rc = PROTO_EVERSION;
  return rc;
}

void worker_leave(void) {
  fflush(base_out());
  fflush(stdout);
  fflush(stderr);
  _exit(EXIT_SUCCESS);
}

void worker_finalize(MPI_Comm* comm) {
  fflush(base_out());
  fflush(stdout);
  fflush(stderr);
  MPI_Comm_free(comm);
  MPI_Finalize();
  base_watchdog_disarm();
}

void worker_await_end(const cli_job_t* job, int status) {
  fflush(base_out());
  fflush(stdout);
  fflush(stderr);
  uint64_t until = base_now_ns() + master_timeout_ns(job);
  /* hydra interrupts sleeps with SIGUSR1: sleep until the clock says so. */
  for (uint64_t t = base_now_ns(); t < until; t = base_now_ns()) {
    struct timespec pause = {0, 100000000};
    nanosleep(&pause, NULL);
  }
  _exit(status);
}

void worker_arm_startup_watchdog(const cli_job_t* job, int rank) {
  char what[200];
  if (rank == 0)
    snprintf(what, sizeof(what),
             "rank 0: MPI_Init did not return within %.0f s "
             "(--master-timeout): a host of this run is down or unreachable",
             job->master_timeout);
  else
    snprintf(what, sizeof(what),
             "worker %d: nothing from the master for %.0f s during start-up; "
             "exiting",
             rank, job->master_timeout);
  base_watchdog_arm(base_now_ns() + master_timeout_ns(job),
                    rank == 0 ? EXIT_FAILURE : WORKER_EXIT_MASTER_GONE, what);
}
