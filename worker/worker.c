/* The worker's receive-compute-reply loop. One MPI_Irecv from the master is
 * always posted; it is tested between slices of the current chunk, so orders,
 * cancellations and STOP are seen within a slice's time (about a millisecond)
 * without a thread. Orders queue up in a small ring, in arrival order. While
 * it has nothing to compute the worker polls, yielding the core, for 100 us,
 * then with a growing sleep, leaving the core to ranks that have work. */
#include "worker/worker.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/error.h"

enum {
  QUEUE_MAX = 8,        /* orders a worker can hold; the master sends <= 2 */
  IDLE_YIELD_NS = 100000, /* poll with sched_yield this long when idle */
  IDLE_SLEEP_MIN_US = 10,
  IDLE_SLEEP_MAX_US = 1000,
};

typedef struct order_s {
  uint64_t chunk;
  uint64_t attempt;
  uint64_t begin;
  uint64_t end;
  int cancelled;
} order_t;

typedef struct worker_s {
  const proto_job_t* job;
  MPI_Comm comm;
  int rank;
  kernel_t kernel;
  int kernel_rc;           /* kernel_init's result: chunks FAIL with it */
  MPI_Request req;         /* the posted receive from the master */
  uint8_t rbuf[PROTO_MAX_BYTES];
  order_t queue[QUEUE_MAX];
  int head, count;
  int stopping;            /* STOP or REFUSE seen */
  int refused;
} worker_t;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Iterations per slice: a slice takes around a millisecond. */
static uint64_t slice_size(const proto_job_t* job) {
  switch (job->kind) {
    case PROTO_JOB_PI: return (uint64_t)1 << 22;
    case PROTO_JOB_DOT: return (uint64_t)1 << 20;
    default: return (uint64_t)1 << 16;
  }
}

int worker_compute(kernel_t* kernel, uint64_t begin, uint64_t end,
                   proto_msg_t* result) {
  memset(result, 0, sizeof(*result));
  result->kind = PROTO_TAG_RESULT;
  result->begin = begin;
  result->end = end;
  proto_exact_init(&result->fsum);
  uint64_t t0 = now_ns();
  int rc = kernel_add(kernel, begin, end, &result->fsum, &result->isum);
  result->busy_ns = now_ns() - t0;
  return rc;
}

static int post_receive(worker_t* w) {
  int rc = MPI_Irecv(w->rbuf, PROTO_MAX_BYTES, MPI_BYTE, 0, MPI_ANY_TAG,
                     w->comm, &w->req);
  return rc == MPI_SUCCESS ? 0 : PROTO_EMPI;
}

static int send_msg(worker_t* w, const proto_msg_t* msg) {
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(msg, buf);
  int rc = MPI_Send(buf, (int)len, MPI_BYTE, 0, (int)msg->kind, w->comm);
  return rc == MPI_SUCCESS ? 0 : PROTO_EMPI;
}

static void handle(worker_t* w, const proto_msg_t* m) {
  switch (m->kind) {
    case PROTO_TAG_WORK:
      if (w->count == QUEUE_MAX) {
        fprintf(stderr, "taskfarm: worker %d: order queue full, chunk %llu "
                        "ignored\n", w->rank, (unsigned long long)m->chunk);
        return;
      }
      w->queue[(w->head + w->count++) % QUEUE_MAX] = (order_t){
          m->chunk, m->attempt, m->begin, m->end, 0};
      return;
    case PROTO_TAG_CANCEL:
      for (int i = 0; i < w->count; i++) {
        order_t* o = &w->queue[(w->head + i) % QUEUE_MAX];
        if (o->chunk == m->chunk && o->attempt == m->attempt) o->cancelled = 1;
      }
      return;
    case PROTO_TAG_STOP:
      w->stopping = 1;
      return;
    case PROTO_TAG_REFUSE:
      fprintf(stderr,
              "taskfarm: worker %d refused by the master: %s (this worker "
              "speaks protocol version %d)\n",
              w->rank, proto_strerror((int)m->code), PROTO_VERSION);
      w->stopping = 1;
      w->refused = 1;
      return;
    default:
      return;
  }
}

/* Handles every message that has arrived. Returns 0 or PROTO_EMPI. */
static int drain(worker_t* w) {
  for (;;) {
    int done = 0;
    MPI_Status st;
    if (MPI_Test(&w->req, &done, &st) != MPI_SUCCESS) return PROTO_EMPI;
    if (!done) return 0;
    int len = 0;
    MPI_Get_count(&st, MPI_BYTE, &len);
    proto_msg_t m;
    int rc = proto_decode(w->rbuf, (size_t)len, st.MPI_TAG, &m);
    if (rc == PROTO_EVERSION) {
      fprintf(stderr,
              "taskfarm: worker %d: the master speaks protocol version %u, "
              "this worker %d: run one build on every rank\n",
              w->rank, m.version, PROTO_VERSION);
      w->stopping = w->refused = 1;
    } else if (rc < 0) {
      fprintf(stderr, "taskfarm: worker %d: dropped a malformed %s from the "
                      "master: %s\n", w->rank, proto_tag_name(st.MPI_TAG),
              proto_strerror(rc));
    } else {
      handle(w, &m);
    }
    if (w->stopping) return 0;
    rc = post_receive(w);
    if (rc < 0) return rc;
  }
}

/* Computes the order at the head of the queue slice by slice, then reports
 * it unless it was cancelled meanwhile. */
static int run_order(worker_t* w) {
  order_t o = w->queue[w->head];
  proto_msg_t res;
  memset(&res, 0, sizeof(res));
  res.kind = PROTO_TAG_RESULT;
  res.chunk = o.chunk;
  res.attempt = o.attempt;
  res.begin = o.begin;
  res.end = o.end;
  proto_exact_init(&res.fsum);
  int rc = w->kernel_rc;
  uint64_t slice = slice_size(w->job);
  uint64_t t0 = now_ns();
  for (uint64_t at = o.begin; rc == 0 && at < o.end; at += slice) {
    uint64_t stop = o.end - at < slice ? o.end : at + slice;
    rc = kernel_add(&w->kernel, at, stop, &res.fsum, &res.isum);
    if (rc < 0) break;
    rc = drain(w);
    if (rc < 0) return rc;
    if (w->stopping || w->queue[w->head].cancelled) break;
  }
  res.busy_ns = now_ns() - t0;
  int cancelled = w->stopping || w->queue[w->head].cancelled;
  w->head = (w->head + 1) % QUEUE_MAX;
  w->count--;
  if (cancelled) return 0;
  if (rc < 0) {
    proto_msg_t fail = {.kind = PROTO_TAG_FAIL, .chunk = o.chunk,
                        .attempt = o.attempt, .code = rc};
    return send_msg(w, &fail);
  }
  return send_msg(w, &res);
}

void worker_say_hello(int rank, int size) {
  static const char* const smileys[] = {":-)", ";-)", ":-D", "(^_^)",
                                        "(^o^)", ":o)", "=)", "(:"};
  char host[PROTO_HOST_MAX] = "unknown";
  gethostname(host, sizeof(host) - 1);
  printf("%s rank %d of %d on %s\n", smileys[rank % 8], rank, size, host);
  fflush(stdout);
}

int worker_run(const proto_job_t* job, MPI_Comm comm) {
  worker_t w;
  memset(&w, 0, sizeof(w));
  w.job = job;
  w.comm = comm;
  MPI_Comm_rank(comm, &w.rank);
  w.kernel_rc = kernel_init(&w.kernel, job);

  int rc = post_receive(&w);
  if (rc < 0) goto out_close_kernel;
  proto_msg_t hello = {.kind = PROTO_TAG_HELLO,
                       .fingerprint = proto_job_fingerprint(job),
                       .pid = (uint64_t)getpid(),
                       .cpus = (uint64_t)sysconf(_SC_NPROCESSORS_ONLN)};
  gethostname(hello.host, sizeof(hello.host) - 1);
  rc = send_msg(&w, &hello);
  if (rc < 0) goto out_cancel_receive;

  unsigned sleep_us = IDLE_SLEEP_MIN_US;
  uint64_t idle_since = 0;
  while (rc == 0) {
    rc = drain(&w);
    if (rc < 0 || w.stopping) break;
    if (w.count > 0) {
      rc = run_order(&w);
      sleep_us = IDLE_SLEEP_MIN_US;
      idle_since = 0;
      continue;
    }
    /* The master's answer to the last result is usually microseconds away:
     * poll, yielding the core, for a short while before sleeping. */
    uint64_t t = now_ns();
    if (idle_since == 0) idle_since = t;
    if (t - idle_since < IDLE_YIELD_NS) {
      sched_yield();
      continue;
    }
    struct timespec pause = {0, (long)sleep_us * 1000};
    nanosleep(&pause, NULL);
    if (sleep_us < IDLE_SLEEP_MAX_US) sleep_us *= 2;
  }
  if (rc < 0)
    fprintf(stderr, "taskfarm: worker %d: %s\n", w.rank, proto_strerror(rc));

out_cancel_receive:
  if (!w.stopping) {
    MPI_Cancel(&w.req);
    MPI_Wait(&w.req, MPI_STATUS_IGNORE);
  }
out_close_kernel:
  kernel_close(&w.kernel);
  if (rc == 0 && w.refused) rc = PROTO_EVERSION;
  return rc;
}
