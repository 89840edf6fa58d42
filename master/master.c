/* The master's event loop and bookkeeping. One MPI_Irecv per worker is
 * always posted; a libuv timer tests them while traffic is quiet (every 1 ms,
 * backing off to a bound set by the shortest chunk), and a libuv idle handle
 * tests them continuously only while messages keep arriving, so the master
 * neither blocks nor spins idly. Every message
 * is decoded and checked against the sender's outstanding orders and the
 * chunk table before it can touch the result; a chunk's result is added at
 * most once. Each worker holds up to QUEUE_DEPTH orders, so it always has
 * its next chunk while it computes the current one. */
#include "master/master.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "master/chunks.h"
#include "master/schedule.h"
#include "proto/error.h"

enum {
  END_PAUSE_NS = 500000000, /* let mpiexec forward output before the abort */
  QUEUE_DEPTH = 2,      /* orders outstanding per worker */
  POLL_MIN_MS = 1,      /* timer period right after a message */
  POLL_MAX_MS = 16,     /* longest timer period while traffic is quiet */
  HOT_NS = 50000,       /* keep polling continuously this long after a msg */
  LOG_LIMIT = 10,       /* malformed-message lines printed per worker */
  FAIL_LIMIT = 3,       /* consecutive FAILs before a worker gets no work */
};

typedef enum {
  WORKER_WAITING = 0, /* no HELLO yet */
  WORKER_ACTIVE,      /* greeted, takes work */
  WORKER_REFUSED,     /* wrong version or job: never gets work */
  WORKER_RETIRED,     /* sent STOP: failed repeatedly or run over */
} worker_state_t;

typedef struct slot_s {
  size_t chunk;       /* chunk table id */
  uint64_t attempt;   /* attempt number given to this worker */
  uint64_t issued_ns; /* when the order was sent */
} slot_t;

typedef struct peer_s {
  int rank;
  worker_state_t state;
  uint8_t buf[PROTO_MAX_BYTES]; /* receive buffer of the posted MPI_Irecv */
  slot_t slot[QUEUE_DEPTH];     /* outstanding orders, oldest first */
  int nslots;
  int fails;                    /* consecutive FAIL messages */
  uint64_t pid;                 /* from HELLO */
  char host[PROTO_HOST_MAX];    /* from HELLO */
  uint64_t chunks;              /* results accepted */
  uint64_t iters;               /* indices in accepted results */
  uint64_t busy_ns;             /* compute time reported with results */
  uint64_t duplicates;          /* results for chunks already done */
  uint64_t rejected;            /* malformed or invalid messages */
} peer_t;

typedef struct master_s {
  const proto_job_t* job;
  const master_options_t* opts;
  MPI_Comm comm;
  int nworkers;
  peer_t* peer;              /* peer[i] is rank i + 1 */
  MPI_Request* req;          /* req[i]: posted receive from rank i + 1 */
  int* index;                /* MPI_Testsome scratch */
  MPI_Status* status;        /* MPI_Testsome scratch */
  master_table_t table;
  uint64_t chunk_size;
  proto_exact_t fsum;        /* float result, exact */
  unsigned __int128 isum;    /* integer result, exact */
  uv_loop_t loop;
  uv_timer_t timer;
  uv_idle_t idle;
  int idle_on;
  uint64_t poll_ms;          /* current timer period */
  uint64_t min_chunk_ns;     /* shortest compute time reported so far */
  uint64_t last_msg_ns;
  uint64_t t0_ns;
  double cpu0;               /* master CPU seconds used before the run */
  int greeted;               /* HELLOs answered */
  int done;                  /* the loop should end */
  int rc;                    /* the run's outcome */
  uint64_t msgs;             /* messages received */
  uint64_t polls;            /* MPI_Testsome calls */
} master_t;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

char* master_u128_str(unsigned __int128 v, char* buf) {
  char tmp[40];
  int len = 0;
  do {
    tmp[len++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v != 0);
  for (int i = 0; i < len; i++) buf[i] = tmp[len - 1 - i];
  buf[len] = '\0';
  return buf;
}

void master_end_job(MPI_Comm comm, int status) {
  fflush(stdout);
  fflush(stderr);
  /* hydra interrupts sleeps with SIGUSR1: sleep until the clock says so. */
  uint64_t until = now_ns() + END_PAUSE_NS;
  for (uint64_t t = now_ns(); t < until; t = now_ns()) {
    struct timespec left = {0, (long)(until - t)};
    nanosleep(&left, NULL);
  }
  int devnull = open("/dev/null", O_WRONLY);
  if (devnull >= 0) dup2(devnull, STDERR_FILENO);
  /* MPICH 4.0.2 spins in MPI_Abort on a duplicated communicator; on
   * MPI_COMM_WORLD it ends the job at once. comm is a duplicate of it. */
  (void)comm;
  MPI_Abort(MPI_COMM_WORLD, status);
  _exit(status);
}

/* The only place a worker's state changes. */
static void set_state(peer_t* p, worker_state_t next) { p->state = next; }

static int send_msg(master_t* m, int rank, const proto_msg_t* msg) {
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(msg, buf);
  if (MPI_Send(buf, (int)len, MPI_BYTE, rank, (int)msg->kind, m->comm) !=
      MPI_SUCCESS)
    return PROTO_EMPI;
  return 0;
}

static void fail_run(master_t* m, int rc) {
  if (m->rc == 0) m->rc = rc;
  m->done = 1;
}

static void reject(master_t* m, peer_t* p, const char* what, int tag,
                   int len) {
  p->rejected++;
  if (m->job->quiet || p->rejected > LOG_LIMIT) return;
  fprintf(stderr,
          "taskfarm: dropped a message from rank %d (tag %d, %d bytes): %s%s\n",
          p->rank, tag, len, what,
          p->rejected == LOG_LIMIT ? " (further ones not shown)" : "");
}

/* Gives p orders until it holds QUEUE_DEPTH or nothing is left to issue. */
static void feed(master_t* m, peer_t* p) {
  while (p->state == WORKER_ACTIVE && p->nslots < QUEUE_DEPTH) {
    size_t id;
    int got = master_table_next(&m->table, m->chunk_size, &id);
    if (got < 0) {
      fail_run(m, got);
      return;
    }
    if (got == 0) return;
    int attempt = master_table_issue(&m->table, id, p->rank);
    if (attempt < 0) {
      fprintf(stderr, "taskfarm: chunk %zu failed %d times; giving up\n", id,
              MASTER_MAX_ATTEMPTS);
      fail_run(m, attempt);
      return;
    }
    const master_chunk_t* c = &m->table.chunk[id];
    proto_msg_t work = {.kind = PROTO_TAG_WORK, .chunk = id,
                        .attempt = (uint64_t)attempt, .begin = c->begin,
                        .end = c->end};
    p->slot[p->nslots++] = (slot_t){id, (uint64_t)attempt, now_ns()};
    int rc = send_msg(m, p->rank, &work);
    if (rc < 0) {
      fail_run(m, rc);
      return;
    }
  }
}

/* Removes p's outstanding order for (chunk, attempt); 1 if it was there. */
static int take_slot(peer_t* p, uint64_t chunk, uint64_t attempt) {
  for (int i = 0; i < p->nslots; i++) {
    if (p->slot[i].chunk != chunk || p->slot[i].attempt != attempt) continue;
    memmove(&p->slot[i], &p->slot[i + 1],
            (size_t)(p->nslots - i - 1) * sizeof(slot_t));
    p->nslots--;
    return 1;
  }
  return 0;
}

static void retire(master_t* m, peer_t* p) {
  proto_msg_t stop = {.kind = PROTO_TAG_STOP};
  set_state(p, WORKER_RETIRED);
  if (send_msg(m, p->rank, &stop) < 0) fail_run(m, PROTO_EMPI);
}

static void check_finished(master_t* m) {
  if (m->job->kind == PROTO_JOB_HELLO) {
    if (m->greeted == m->nworkers) m->done = 1;
    return;
  }
  if (master_table_finished(&m->table)) {
    m->done = 1;
    return;
  }
  for (int i = 0; i < m->nworkers; i++)
    if (m->peer[i].state == WORKER_ACTIVE ||
        m->peer[i].state == WORKER_WAITING)
      return;
  /* No worker can take work: the master finishes the rest after the loop. */
  m->done = 1;
}

static void on_hello(master_t* m, peer_t* p, const proto_msg_t* msg) {
  if (p->state != WORKER_WAITING) {
    reject(m, p, "second HELLO", PROTO_TAG_HELLO, 0);
    return;
  }
  p->pid = msg->pid;
  memcpy(p->host, msg->host, sizeof(p->host));
  if (msg->fingerprint != proto_job_fingerprint(m->job)) {
    proto_msg_t refuse = {.kind = PROTO_TAG_REFUSE, .code = PROTO_EJOB};
    fprintf(stderr,
            "taskfarm: rank %d on %s was started with another job or "
            "arguments; it gets no work\n",
            p->rank, p->host);
    set_state(p, WORKER_REFUSED);
    if (send_msg(m, p->rank, &refuse) < 0) fail_run(m, PROTO_EMPI);
    m->greeted++;
    return;
  }
  m->greeted++;
  set_state(p, WORKER_ACTIVE);
  if (m->job->kind == PROTO_JOB_HELLO) {
    retire(m, p);
    return;
  }
  feed(m, p);
}

static void on_result(master_t* m, peer_t* p, const proto_msg_t* msg) {
  int held = take_slot(p, msg->chunk, msg->attempt);
  master_verdict_t v = master_table_complete(&m->table, p->rank, msg->chunk,
                                             msg->attempt, msg->begin,
                                             msg->end);
  if (v == MASTER_INVALID) {
    reject(m, p, "RESULT for a chunk, attempt or range it was not given",
           PROTO_TAG_RESULT, (int)proto_size(PROTO_TAG_RESULT));
  } else if (v == MASTER_DUPLICATE) {
    p->duplicates++;
  } else {
    proto_exact_merge(&m->fsum, &msg->fsum);
    m->isum += msg->isum;
    p->chunks++;
    p->iters += msg->end - msg->begin;
    p->busy_ns += msg->busy_ns;
    p->fails = 0;
    if (m->min_chunk_ns == 0 || msg->busy_ns < m->min_chunk_ns)
      m->min_chunk_ns = msg->busy_ns;
  }
  (void)held;
  feed(m, p);
}

static void on_fail(master_t* m, peer_t* p, const proto_msg_t* msg) {
  if (!take_slot(p, msg->chunk, msg->attempt)) {
    reject(m, p, "FAIL for a chunk it does not hold", PROTO_TAG_FAIL,
           (int)proto_size(PROTO_TAG_FAIL));
    return;
  }
  int rc = master_table_abandon(&m->table, (size_t)msg->chunk);
  if (rc < 0) {
    fail_run(m, rc);
    return;
  }
  if (++p->fails >= FAIL_LIMIT) {
    fprintf(stderr,
            "taskfarm: rank %d on %s cannot compute chunks (%s); it gets no "
            "more work\n",
            p->rank, p->host, proto_strerror((int)msg->code));
    while (p->nslots > 0) {
      master_table_abandon(&m->table, p->slot[0].chunk);
      take_slot(p, p->slot[0].chunk, p->slot[0].attempt);
    }
    retire(m, p);
  }
  /* Another worker picks the chunk up when it next asks. */
  for (int i = 0; i < m->nworkers; i++) feed(m, &m->peer[i]);
  feed(m, p);
}

static void on_message(master_t* m, peer_t* p, const MPI_Status* st) {
  int len = 0;
  MPI_Get_count(st, MPI_BYTE, &len);
  proto_msg_t msg;
  int rc = proto_decode(p->buf, (size_t)len, st->MPI_TAG, &msg);
  if (rc == PROTO_EVERSION) {
    fprintf(stderr,
            "taskfarm: rank %d speaks protocol version %u, this master %d: "
            "it gets no work (run one build on every rank)\n",
            p->rank, msg.version, PROTO_VERSION);
    if (p->state == WORKER_WAITING) m->greeted++;
    proto_msg_t refuse = {.kind = PROTO_TAG_REFUSE, .code = PROTO_EVERSION};
    set_state(p, WORKER_REFUSED);
    if (send_msg(m, p->rank, &refuse) < 0) fail_run(m, PROTO_EMPI);
    return;
  }
  if (rc < 0) {
    reject(m, p, proto_strerror(rc), st->MPI_TAG, len);
    return;
  }
  if (p->state == WORKER_REFUSED) {
    reject(m, p, "message from a refused rank", st->MPI_TAG, len);
    return;
  }
  switch (msg.kind) {
    case PROTO_TAG_HELLO: on_hello(m, p, &msg); break;
    case PROTO_TAG_RESULT: on_result(m, p, &msg); break;
    case PROTO_TAG_FAIL: on_fail(m, p, &msg); break;
    default: reject(m, p, "message kind a worker never sends", st->MPI_TAG,
                    len);
  }
}

/* Tests every posted receive once; returns how many messages it handled. */
static int poll_once(master_t* m) {
  int count = 0;
  m->polls++;
  if (MPI_Testsome(m->nworkers, m->req, &count, m->index, m->status) !=
      MPI_SUCCESS) {
    fail_run(m, PROTO_EMPI);
    return 0;
  }
  if (count == MPI_UNDEFINED) return 0;
  for (int k = 0; k < count; k++) {
    int i = m->index[k];
    m->msgs++;
    on_message(m, &m->peer[i], &m->status[k]);
    if (MPI_Irecv(m->peer[i].buf, PROTO_MAX_BYTES, MPI_BYTE, i + 1,
                  MPI_ANY_TAG, m->comm, &m->req[i]) != MPI_SUCCESS)
      fail_run(m, PROTO_EMPI);
  }
  check_finished(m);
  return count;
}

static void stop_if_done(master_t* m) {
  if (!m->done) return;
  uv_timer_stop(&m->timer);
  uv_idle_stop(&m->idle);
  uv_stop(&m->loop);
}

static void idle_cb(uv_idle_t* handle) {
  master_t* m = handle->data;
  if (poll_once(m) > 0) {
    m->last_msg_ns = now_ns();
  } else if (now_ns() - m->last_msg_ns > HOT_NS) {
    /* Traffic went quiet: let the timer take over and free the core. */
    uv_idle_stop(&m->idle);
    m->idle_on = 0;
  }
  stop_if_done(m);
}

/* The quiet-traffic period: doubled after every empty poll, but never above
 * a quarter of the shortest chunk seen, so a worker's prefetched chunk always
 * outlasts the master's reaction time. */
static uint64_t next_period(const master_t* m, int got_messages) {
  if (got_messages) return POLL_MIN_MS;
  uint64_t cap = m->min_chunk_ns / 4000000u;
  if (cap > POLL_MAX_MS) cap = POLL_MAX_MS;
  if (cap < POLL_MIN_MS) cap = POLL_MIN_MS;
  uint64_t next = m->poll_ms * 2;
  return next < cap ? next : cap;
}

static void timer_cb(uv_timer_t* handle) {
  master_t* m = handle->data;
  int got = poll_once(m) > 0;
  if (got) {
    m->last_msg_ns = now_ns();
    if (!m->idle_on) {
      uv_idle_start(&m->idle, idle_cb);
      m->idle_on = 1;
    }
  }
  m->poll_ms = next_period(m, got);
  if (!m->done) uv_timer_start(&m->timer, timer_cb, m->poll_ms, 0);
  stop_if_done(m);
}

/* Computes every chunk still open with the master's own kernel: the run
 * without workers, or the rest when no worker can take work. */
static int compute_rest(master_t* m) {
  if (m->opts == NULL || m->opts->compute == NULL) return PROTO_EINVAL;
  for (;;) {
    size_t id;
    int got = master_table_next(&m->table, m->chunk_size, &id);
    if (got < 0) return got;
    if (got == 0) break;
    int attempt = master_table_issue(&m->table, id, 0);
    if (attempt < 0) return attempt;
    const master_chunk_t* c = &m->table.chunk[id];
    proto_msg_t res;
    int rc = m->opts->compute(m->opts->compute_ctx, c->begin, c->end, &res);
    if (rc < 0) return rc;
    if (master_table_complete(&m->table, 0, id, (uint64_t)attempt, c->begin,
                              c->end) == MASTER_ACCEPT) {
      proto_exact_merge(&m->fsum, &res.fsum);
      m->isum += res.isum;
    }
  }
  /* Chunks still issued to a worker that stopped answering are not waited
   * for here; the fault-tolerance layer re-issues them. */
  return master_table_finished(&m->table) ? 0 : PROTO_ECANCELED;
}

static int run_loop(master_t* m) {
  int rc = 0;
  for (int i = 0; i < m->nworkers; i++) {
    m->peer[i].rank = i + 1;
    if (MPI_Irecv(m->peer[i].buf, PROTO_MAX_BYTES, MPI_BYTE, i + 1,
                  MPI_ANY_TAG, m->comm, &m->req[i]) != MPI_SUCCESS)
      return PROTO_EMPI;
  }
  if (uv_loop_init(&m->loop) != 0) return PROTO_EUV;
  uv_timer_init(&m->loop, &m->timer);
  uv_idle_init(&m->loop, &m->idle);
  m->timer.data = m->idle.data = m;
  m->poll_ms = POLL_MIN_MS;
  if (uv_timer_start(&m->timer, timer_cb, m->poll_ms, 0) != 0) {
    rc = PROTO_EUV;
    goto out_close_loop;
  }
  uv_run(&m->loop, UV_RUN_DEFAULT);

  /* Release every worker that may still be waiting, including those whose
   * HELLO had not arrived when the last chunk finished, then the receives. */
  for (int i = 0; i < m->nworkers; i++)
    if (m->peer[i].state == WORKER_ACTIVE ||
        m->peer[i].state == WORKER_WAITING)
      retire(m, &m->peer[i]);
  for (int i = 0; i < m->nworkers; i++) {
    MPI_Cancel(&m->req[i]);
    MPI_Wait(&m->req[i], MPI_STATUS_IGNORE);
  }
out_close_loop:
  uv_close((uv_handle_t*)&m->timer, NULL);
  uv_close((uv_handle_t*)&m->idle, NULL);
  uv_run(&m->loop, UV_RUN_DEFAULT);
  uv_loop_close(&m->loop);
  return rc;
}

static double seconds(uint64_t ns) { return (double)ns / 1e9; }

/* CPU seconds (user + system) this process has used. */
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Writes the result lines to stdout and, when asked, to job->output. */
static int print_result(master_t* m, double wall) {
  const proto_job_t* job = m->job;
  char text[512];
  int len = 0;
  if (job->kind == PROTO_JOB_PI) {
    double pi = proto_exact_to_double(&m->fsum);
    len = snprintf(text, sizeof(text),
                   "PI is approximately %.16f, Error is %.16f\n"
                   "PI bits = %a\n"
                   "Time = %.6f sec\n",
                   pi, pi > 3.141592653589793 ? pi - 3.141592653589793
                                              : 3.141592653589793 - pi,
                   pi, wall);
  } else if (job->kind == PROTO_JOB_DOT) {
    char digits[48];
    len = snprintf(text, sizeof(text), "Dot product is %s\nTime = %.6f sec\n",
                   master_u128_str(m->isum, digits), wall);
  } else if (job->kind == PROTO_JOB_DOTF) {
    len = snprintf(text, sizeof(text),
                   "Dot product is %.17g\nDot bits = %a\nElements = %llu\n"
                   "Time = %.6f sec\n",
                   proto_exact_to_double(&m->fsum),
                   proto_exact_to_double(&m->fsum),
                   (unsigned long long)job->n, wall);
  } else {
    len = snprintf(text, sizeof(text), "%d ranks said hello\n",
                   m->nworkers + 1);
  }
  fputs(text, stdout);
  fflush(stdout);
  if (job->output[0] == '\0') return 0;
  FILE* f = fopen(job->output, "w");
  if (f == NULL || fwrite(text, 1, (size_t)len, f) != (size_t)len ||
      fclose(f) != 0) {
    fprintf(stderr, "taskfarm: cannot write --output file '%s'\n",
            job->output);
    return PROTO_EIO;
  }
  return 0;
}

static void print_summary(const master_t* m, double wall) {
  if (m->job->quiet || m->job->kind == PROTO_JOB_HELLO) return;
  double cpu = cpu_seconds() - m->cpu0;
  fprintf(stderr,
          "taskfarm: %s n=%llu, %zu chunks of %llu, %d workers, %.3f s; "
          "master CPU %.3f s (%.1f%% of a core), %llu messages\n",
          proto_job_name(m->job->kind), (unsigned long long)m->job->n,
          m->table.count, (unsigned long long)m->chunk_size, m->nworkers,
          wall, cpu, wall > 0 ? 100.0 * cpu / wall : 0.0,
          (unsigned long long)m->msgs);
  for (int i = 0; i < m->nworkers; i++) {
    const peer_t* p = &m->peer[i];
    double busy = seconds(p->busy_ns);
    fprintf(stderr,
            "taskfarm:   rank %d (%s pid %llu): %llu chunks, %llu iterations, "
            "busy %.3f s, %.3g it/s, %llu duplicates, %llu rejected\n",
            p->rank, p->host[0] ? p->host : "?", (unsigned long long)p->pid,
            (unsigned long long)p->chunks, (unsigned long long)p->iters, busy,
            busy > 0 ? (double)p->iters / busy : 0.0,
            (unsigned long long)p->duplicates,
            (unsigned long long)p->rejected);
  }
}

int master_run(const proto_job_t* job, MPI_Comm comm,
               const master_options_t* opts) {
  master_t m;
  memset(&m, 0, sizeof(m));
  m.job = job;
  m.opts = opts;
  m.comm = comm;
  m.t0_ns = now_ns();
  m.cpu0 = cpu_seconds();
  int size = 1;
  MPI_Comm_size(comm, &size);
  m.nworkers = size - 1;
  proto_exact_init(&m.fsum);
  m.chunk_size = master_chunk_size(job, m.nworkers);
  int rc = master_table_init(&m.table, job->kind == PROTO_JOB_HELLO ? 0 : job->n,
                             master_chunk_align(job));
  if (rc < 0) return rc;
  if (m.nworkers > 0) {
    m.peer = calloc((size_t)m.nworkers, sizeof(*m.peer));
    m.req = calloc((size_t)m.nworkers, sizeof(*m.req));
    m.index = calloc((size_t)m.nworkers, sizeof(*m.index));
    m.status = calloc((size_t)m.nworkers, sizeof(*m.status));
    if (!m.peer || !m.req || !m.index || !m.status) {
      rc = PROTO_ENOMEM;
      goto out_free;
    }
    rc = run_loop(&m);
    if (rc == 0) rc = m.rc;
  }
  if (rc == 0 && job->kind != PROTO_JOB_HELLO &&
      !master_table_finished(&m.table))
    rc = compute_rest(&m);
  if (rc < 0) {
    fprintf(stderr, "taskfarm: run failed: %s\n", proto_strerror(rc));
    goto out_free;
  }
  double wall = seconds(now_ns() - m.t0_ns);
  rc = print_result(&m, wall);
  print_summary(&m, wall);
out_free:
  free(m.peer);
  free(m.req);
  free(m.index);
  free(m.status);
  master_table_close(&m.table);
  return rc;
}
