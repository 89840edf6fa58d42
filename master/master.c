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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "master/chunks.h"
#include "master/journal.h"
#include "master/live.h"
#include "master/report.h"
#include "master/schedule.h"
#include "master/status.h"
#include "proto/error.h"

enum {
  END_PAUSE_NS = 500000000, /* let mpiexec forward output before the abort */
  QUEUE_DEPTH = 8,          /* most orders outstanding per worker */
  POLL_MIN_MS = 1,          /* timer period right after a message */
  POLL_MAX_MS = 16,         /* longest timer period while traffic is quiet */
  HOT_NS = 50000,       /* keep polling continuously this long after a msg */
  HOT_ROUNDS = 256,     /* most MPI polls per idle callback */
  HOT_EMPTY = 16,       /* ... ending after this many empty ones in a row */
  LOG_LIMIT = 10,       /* malformed-message lines printed per worker */
  FAIL_LIMIT = 3,       /* consecutive FAILs before a worker gets no work */
  STRIKE_LIMIT = 3,     /* consecutive timeouts before a worker is lost */
  PING_NS = 1000000000, /* every worker hears from the master this often */
  HELLO_WAIT_S = 30,    /* a rank that never greets is lost after this */
  SENDS_MAX = 8,        /* sends in flight per worker before it is suspect */
  LEAD_NS = 40000000,   /* a worker with this much predicted work queued gets
                           its next order later, from the timer */
  SYNC_NS = 1000000000, /* the journal is made durable this often */
  JOURNAL_WRITE_BYTES = 1 << 16, /* queued records are written at this */
  STOP_GRACE_NS = 3000000000u,   /* after a signal, in-flight chunks may
                                    finish this long */
  RATE_SAMPLES = 24,             /* progress samples kept for the rate */
};

/* Weight of the newest speed sample in a worker's smoothed speed. */
static const double kSpeedAlpha = 0.3;
/* Speculate only when the copy is predicted to finish this much sooner. */
static const double kSpeculateGain = 0.8;

typedef enum {
  WORKER_WAITING = 0, /* no HELLO yet */
  WORKER_ACTIVE,      /* greeted, takes work */
  WORKER_REFUSED,     /* wrong version or job: never gets work */
  WORKER_RETIRED,     /* sent STOP: failed repeatedly or run over */
  WORKER_LOST,        /* silent or missing deadlines: no work until it speaks */
} worker_state_t;

typedef struct slot_s {
  size_t chunk;       /* chunk table id */
  uint64_t attempt;   /* attempt number given to this worker */
  uint64_t issued_ns; /* when the order was sent */
  int timed_out;      /* its deadline passed and the chunk was requeued */
} slot_t;

typedef struct peer_s {
  int rank;
  worker_state_t state;
  uint8_t buf[PROTO_MAX_BYTES];    /* receive buffer of the posted MPI_Irecv */
  MPI_Request send_req[SENDS_MAX]; /* sends in flight (MPI_Isend) */
  uint8_t send_buf[SENDS_MAX][8 * 5]; /* their buffers (WORK is largest) */
  slot_t slot[QUEUE_DEPTH];           /* outstanding orders, oldest first */
  int nslots;
  int fails;                 /* consecutive FAIL messages */
  uint64_t pid;              /* from HELLO */
  char host[PROTO_HOST_MAX]; /* from HELLO */
  uint64_t chunks;           /* results accepted */
  uint64_t iters;            /* indices in accepted results */
  uint64_t busy_ns;          /* compute time reported with results */
  uint64_t duplicates;       /* results for chunks already done */
  uint64_t rejected;         /* malformed or invalid messages */
  uint64_t last_heard_ns;    /* when its last message arrived */
  double speed;              /* indices per ns, smoothed; 0 = unknown */
  uint64_t head_start_ns;    /* when slot[0] became the order it works on */
  uint64_t head_done;        /* indices of slot[0] done (PROGRESS) */
  uint64_t last_sent_ns;     /* when the master last sent it anything */
  int strikes;               /* consecutive timeouts */
  int suspect;               /* timed out and silent since: no new work */
  uint64_t timeouts;         /* deadlines it missed */
  uint64_t reissued;         /* its chunks put back in line for others */
  uint64_t cancels;          /* orders cancelled because done elsewhere */
  uint64_t losses;           /* times it was declared lost */
  uint64_t readmits;         /* times it came back after being lost */
  uint64_t finish_ns;        /* when its last accepted result arrived */
  size_t* owned;             /* static schedules: its chunks, in order */
  size_t owned_count;
  size_t owned_cap;
  size_t owned_pos; /* first one not yet looked at */
} peer_t;

typedef struct master_s {
  const proto_job_t* job;
  master_options_t* opts;
  MPI_Comm comm;
  int nworkers;
  peer_t* peer;       /* peer[i] is rank i + 1 */
  MPI_Request* req;   /* req[i]: posted receive from rank i + 1 */
  int* index;         /* MPI_Testsome scratch */
  int* order;         /* workers by speed, scratch */
  MPI_Status* status; /* MPI_Testsome scratch */
  master_table_t table;
  master_sched_t sched; /* sizes (and owners) of the chunks */
  int is_static;        /* every chunk was cut and assigned up front */
  int speculate;        /* --speculate, resolved for the schedule */
  master_log_t log;     /* events for --trace */
  uint64_t chunk_size;
  uint64_t min_chunk;
  proto_exact_t fsum;     /* float result, exact */
  unsigned __int128 isum; /* integer result, exact */
  uv_loop_t loop;
  uv_timer_t timer;
  uv_idle_t idle;
  int idle_on;
  uv_idle_t solo; /* the master computes chunks itself */
  int solo_on;
  size_t solo_scan;      /* chunks before this were looked at by it */
  uint64_t poll_ms;      /* current timer period */
  uint64_t min_chunk_ns; /* shortest compute time reported so far */
  uint64_t last_msg_ns;
  uint64_t t0_ns;
  double cpu0;              /* master CPU seconds used before the run */
  int greeted;              /* HELLOs answered */
  int done;                 /* the loop should end */
  int rc;                   /* the run's outcome */
  uint64_t msgs;            /* messages received */
  uint64_t polls;           /* MPI_Testsome calls */
  uint64_t reissues;        /* chunks put back in line after a fault */
  uint64_t master_iters;    /* indices the master computed itself */
  uint64_t speculative;     /* copies of stragglers' chunks issued */
  uint64_t wasted_iters;    /* indices computed more than once */
  uint64_t recoveries;      /* faulted chunks finished by someone */
  double recovery_max_s;    /* longest time from a fault to its chunk done */
  double recovery_sum_s;    /* total of those times */
  master_journal_t journal; /* --journal */
  int journaling;
  uint64_t synced_ns;     /* when the journal's last sync started */
  uv_fs_t sync_req;       /* fdatasync on libuv's thread pool */
  int sync_busy;          /* sync_req is in flight */
  uint64_t resumed_iters; /* done before this run, from the journal */
  uv_signal_t sigint;
  uv_signal_t sigterm;
  int stop_signal;               /* the first SIGINT/SIGTERM; 0 = none */
  uint64_t stop_deadline_ns;     /* in-flight chunks are abandoned after this */
  uv_timer_t live_timer;         /* progress line and rate samples */
  int progress;                  /* 1: draw the progress line */
  int progress_tty;              /* redraw it in place (stderr is a terminal) */
  int progress_drawn;            /* a line is on the terminal */
  uint64_t progress_last_ns;     /* when it was last printed (not a terminal) */
  uint64_t rate_t[RATE_SAMPLES]; /* sample times */
  uint64_t rate_done[RATE_SAMPLES]; /* iterations done at those times */
  int rate_count;
  status_server_t http;      /* --status-port */
  master_rank_stats_t* snap; /* scratch for snapshots, one per worker */
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

/* A point event of rank's track in the trace. */
static void log_instant(master_t* m, int rank, master_event_kind_t kind,
                        uint64_t chunk, uint64_t attempt) {
  if (!m->log.on) return;
  uint64_t t = now_ns() - m->t0_ns;
  master_event_t e = {kind, rank, chunk, attempt, 0, 0, t, t};
  if (chunk < m->table.count) {
    e.begin = m->table.chunk[chunk].begin;
    e.end = m->table.chunk[chunk].end;
  }
  master_log_add(&m->log, &e);
}

/* The end of p's attempt on chunk id: a slice of its track. Its start is
 * when the result says the computation began (busy_ns before now), else when
 * the attempt became the head of p's queue; one still queued behind another
 * never started and is drawn as a sliver. Call while the order is still
 * in p's slots (drop_slot does). */
static void log_attempt(master_t* m, const peer_t* p, size_t id,
                        uint64_t attempt, master_event_kind_t kind,
                        uint64_t busy_ns) {
  if (!m->log.on) return;
  uint64_t now = now_ns(), start = now;
  if (busy_ns > 0) {
    start = busy_ns < now - m->t0_ns ? now - busy_ns : m->t0_ns;
  } else if (p->nslots > 0 && p->slot[0].chunk == id &&
             p->slot[0].attempt == attempt) {
    start = p->head_start_ns;
  }
  const master_chunk_t* c = &m->table.chunk[id];
  master_event_t e = {
      kind,          p->rank, id, attempt, c->begin, c->end, start - m->t0_ns,
      now - m->t0_ns};
  master_log_add(&m->log, &e);
}

/* The only place a worker's state changes. */
static void set_state(master_t* m, peer_t* p, worker_state_t next) {
  if (next == WORKER_LOST) {
    p->losses++;
    log_instant(m, p->rank, MASTER_EV_LOST, 0, 0);
  }
  if (p->state == WORKER_LOST && next == WORKER_ACTIVE) {
    p->readmits++;
    log_instant(m, p->rank, MASTER_EV_BACK, 0, 0);
  }
  if (m->nworkers > 0 && m->sched.alive != NULL)
    master_sched_set_alive(&m->sched, p->rank - 1,
                           next == WORKER_ACTIVE || next == WORKER_WAITING);
  p->state = next;
}

/* Sends msg to worker `rank` without ever waiting: a frozen worker stops
 * draining its queue, and a blocking send would freeze the master with it.
 * Each worker has SENDS_MAX slots for sends in flight; when all are still
 * pending the message is not sent and the worker becomes a suspect (it gets
 * no new work; its deadlines take care of the rest). */
static int send_msg(master_t* m, int rank, const proto_msg_t* msg) {
  peer_t* p = &m->peer[rank - 1];
  int free_slot = -1;
  for (int i = 0; i < SENDS_MAX && free_slot < 0; i++) {
    if (p->send_req[i] != MPI_REQUEST_NULL) {
      int done = 0;
      if (MPI_Test(&p->send_req[i], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return PROTO_EMPI;
    }
    if (p->send_req[i] == MPI_REQUEST_NULL) free_slot = i;
  }
  if (free_slot < 0) {
    p->suspect = 1;
    return 0;
  }
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(msg, buf);
  if (len > sizeof(p->send_buf[0])) return PROTO_EINVAL;
  memcpy(p->send_buf[free_slot], buf, len);
  if (MPI_Isend(p->send_buf[free_slot], (int)len, MPI_BYTE, rank,
                (int)msg->kind, m->comm,
                &p->send_req[free_slot]) != MPI_SUCCESS)
    return PROTO_EMPI;
  p->last_sent_ns = now_ns();
  return 0;
}

static void fail_run(master_t* m, int rc) {
  if (m->rc == 0) m->rc = rc;
  m->done = 1;
}

static void reject(master_t* m, peer_t* p, const char* what, int tag, int len) {
  p->rejected++;
  if (m->job->quiet || p->rejected > LOG_LIMIT) return;
  fprintf(stderr,
          "taskfarm: dropped a message from rank %d (tag %d, %d bytes): %s%s\n",
          p->rank, tag, len, what,
          p->rejected == LOG_LIMIT ? " (further ones not shown)" : "");
}

static void speculate(master_t* m, peer_t* p);
static double remaining_ns(const master_t* m, const peer_t* p, int i);

/* Sends p an order for chunk id; 0 or a negative code (the run fails). */
static int issue(master_t* m, peer_t* p, size_t id) {
  int attempt = master_table_issue(&m->table, id, p->rank);
  if (attempt < 0) {
    fprintf(stderr, "taskfarm: chunk %zu failed %d times; giving up\n", id,
            MASTER_MAX_ATTEMPTS);
    return attempt;
  }
  const master_chunk_t* c = &m->table.chunk[id];
  proto_msg_t work = {.kind = PROTO_TAG_WORK,
                      .chunk = id,
                      .attempt = (uint64_t)attempt,
                      .begin = c->begin,
                      .end = c->end};
  uint64_t now = now_ns();
  if (p->nslots == 0) {
    p->head_start_ns = now;
    p->head_done = 0;
  }
  p->slot[p->nslots++] = (slot_t){id, (uint64_t)attempt, now, 0};
  return send_msg(m, p->rank, &work);
}

/* How many orders a worker holds: two hide the master's reaction time
 * behind the next chunk; chunks far shorter than a message round trip need
 * more in flight. */
static int queue_depth(const master_t* m) {
  if (m->min_chunk_ns == 0 || m->min_chunk_ns > 1000000) return 2;
  return m->min_chunk_ns > 100000 ? 4 : QUEUE_DEPTH;
}

/* The static schedules: p's next own chunk that is still waiting. */
static int next_owned(peer_t* p, const master_table_t* t, size_t* id) {
  while (p->owned_pos < p->owned_count) {
    size_t c = p->owned[p->owned_pos++];
    if (t->chunk[c].state == MASTER_CHUNK_PENDING && !t->chunk[c].queued) {
      *id = c;
      return 1;
    }
  }
  return 0;
}

/* The chunk p gets next: a re-issued one first, then what the schedule
 * gives p. 1 and *id, 0 when none, or a negative code. */
static int pick_chunk(master_t* m, peer_t* p, size_t* id) {
  if (master_table_pop_requeued(&m->table, id)) return 1;
  if (m->is_static) return next_owned(p, &m->table, id);
  if (m->table.next_begin >= m->table.n) return 0;
  uint64_t size =
      master_sched_next(&m->sched, p->rank - 1, m->table.next_begin);
  return master_table_cut(&m->table, size, id);
}

/* Gives p orders until it holds queue_depth() or nothing is left to issue;
 * an idle worker with nothing left may get a copy of a straggler's chunk. */
static void feed(master_t* m, peer_t* p) {
  if (m->stop_signal) return; /* stopping: no new work */
  int depth = queue_depth(m);
  while (p->state == WORKER_ACTIVE && !p->suspect && p->nslots < depth) {
    /* Prefetch hides the master's reaction time; a worker that already
     * holds long orders would only hoard work another could start sooner
     * (and the size-by-remaining schedules would hand it two shares). */
    if (p->nslots > 0 && remaining_ns(m, p, p->nslots - 1) > LEAD_NS) return;
    size_t id;
    int got = pick_chunk(m, p, &id);
    if (got < 0) {
      fail_run(m, got);
      return;
    }
    if (got == 0) {
      if (p->nslots == 0 && m->speculate) speculate(m, p);
      return;
    }
    int rc = issue(m, p, id);
    if (rc < 0) {
      fail_run(m, rc);
      return;
    }
  }
}

/* Predicted ns until p finishes its order in slot i, or 0 if unknown. */
static double remaining_ns(const master_t* m, const peer_t* p, int i) {
  if (p->speed <= 0) return 0;
  double left = 0;
  for (int k = 0; k <= i; k++) {
    const master_chunk_t* c = &m->table.chunk[p->slot[k].chunk];
    double size = (double)(c->end - c->begin);
    left += k == 0 ? size - (double)p->head_done : size;
  }
  return left / p->speed;
}

/* Backup tasks at the end of the run (as MapReduce and LATE do): give idle p
 * a copy of the outstanding chunk predicted to finish last, when p is
 * predicted to finish it clearly sooner. The first result counts. */
static void speculate(master_t* m, peer_t* p) {
  if (p->speed <= 0) return;
  peer_t* best = NULL;
  int best_slot = 0;
  double best_left = 0;
  for (int i = 0; i < m->nworkers; i++) {
    peer_t* q = &m->peer[i];
    if (q == p) continue;
    for (int k = 0; k < q->nslots; k++) {
      const master_chunk_t* c = &m->table.chunk[q->slot[k].chunk];
      if (c->state == MASTER_CHUNK_DONE || c->live > 1 || q->slot[k].timed_out)
        continue;
      double left = remaining_ns(m, q, k);
      if (left > best_left) {
        best = q;
        best_slot = k;
        best_left = left;
      }
    }
  }
  if (best == NULL) return;
  size_t id = best->slot[best_slot].chunk;
  const master_chunk_t* c = &m->table.chunk[id];
  double mine = (double)(c->end - c->begin) / p->speed;
  if (mine >= kSpeculateGain * best_left) return;
  m->speculative++;
  log_instant(m, p->rank, MASTER_EV_SPECULATE, id, c->attempts + 1);
  int rc = issue(m, p, id);
  if (rc < 0) fail_run(m, rc);
}

/* The index of p's outstanding order for (chunk, attempt), or -1. */
static int find_slot(const peer_t* p, uint64_t chunk, uint64_t attempt) {
  for (int i = 0; i < p->nslots; i++)
    if (p->slot[i].chunk == chunk && p->slot[i].attempt == attempt) return i;
  return -1;
}

/* Removes p's order in slot i; the next one becomes the head. */
static void remove_slot(peer_t* p, int i) {
  memmove(&p->slot[i], &p->slot[i + 1],
          (size_t)(p->nslots - i - 1) * sizeof(slot_t));
  p->nslots--;
  if (i == 0) {
    p->head_start_ns = now_ns();
    p->head_done = 0;
  }
}

/* Removes p's outstanding order for (chunk, attempt); 1 if it was there. */
static int take_slot(peer_t* p, uint64_t chunk, uint64_t attempt) {
  int i = find_slot(p, chunk, attempt);
  if (i < 0) return 0;
  remove_slot(p, i);
  return 1;
}

/* Closes p's order in slot i without a result (cancelled, abandoned): a
 * slice of kind on p's track, then the order is gone. Returns its chunk. */
static size_t drop_slot(master_t* m, peer_t* p, int i,
                        master_event_kind_t kind) {
  slot_t s = p->slot[i];
  log_attempt(m, p, s.chunk, s.attempt, kind, 0);
  remove_slot(p, i);
  return s.chunk;
}

/* Every order p holds is given up; its chunks go back in line. */
static void abandon_all(master_t* m, peer_t* p) {
  while (p->nslots > 0)
    if (master_table_abandon(&m->table,
                             drop_slot(m, p, 0, MASTER_EV_ABANDONED)) < 0)
      fail_run(m, PROTO_ENOMEM);
}

/* The static schedules: chunks p owns and has not started go in line for
 * the others (p failed or is lost). */
static void give_away_owned(master_t* m, peer_t* p) {
  size_t id;
  while (next_owned(p, &m->table, &id))
    if (master_table_requeue(&m->table, id) < 0) fail_run(m, PROTO_ENOMEM);
}

static void retire(master_t* m, peer_t* p) {
  proto_msg_t stop = {.kind = PROTO_TAG_STOP};
  set_state(m, p, WORKER_RETIRED);
  if (send_msg(m, p->rank, &stop) < 0) fail_run(m, PROTO_EMPI);
}

static void start_solo(master_t* m);

/* Workers that take work now or may soon (not yet greeted). */
static int takers(const master_t* m) {
  int n = 0;
  for (int i = 0; i < m->nworkers; i++)
    n +=
        m->peer[i].state == WORKER_ACTIVE || m->peer[i].state == WORKER_WAITING;
  return n;
}

static void check_finished(master_t* m) {
  if (m->job->kind == PROTO_JOB_HELLO) {
    /* Done when no rank is still expected to greet (lost ones are not). */
    for (int i = 0; i < m->nworkers; i++)
      if (m->peer[i].state == WORKER_WAITING) return;
    m->done = 1;
    return;
  }
  if (master_table_finished(&m->table)) {
    m->done = 1;
    return;
  }
  if (m->stop_signal) {
    /* Stopping: done once nothing is in flight, or at the deadline. */
    int held = 0;
    for (int i = 0; i < m->nworkers; i++)
      if (m->peer[i].state == WORKER_ACTIVE) held += m->peer[i].nslots;
    if (held == 0 || now_ns() >= m->stop_deadline_ns) m->done = 1;
    return;
  }
  if (takers(m) > 0) return;
  /* No worker can take work: the master computes the rest itself, between
   * polls, so a worker that comes back still gets work. */
  start_solo(m);
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
    set_state(m, p, WORKER_REFUSED);
    if (send_msg(m, p->rank, &refuse) < 0) fail_run(m, PROTO_EMPI);
    m->greeted++;
    return;
  }
  m->greeted++;
  set_state(m, p, WORKER_ACTIVE);
  if (m->job->kind == PROTO_JOB_HELLO) {
    retire(m, p);
    return;
  }
  feed(m, p);
}

/* Folds a speed sample (indices per ns) into p's smoothed speed. */
static void learn_speed(peer_t* p, uint64_t indices, uint64_t ns) {
  if (ns == 0 || indices == 0) return;
  double sample = (double)indices / (double)ns;
  p->speed = p->speed <= 0
                 ? sample
                 : (1 - kSpeedAlpha) * p->speed + kSpeedAlpha * sample;
}

/* Appends the accepted chunk id to the journal (written within SYNC_NS). */
static void journal_chunk(master_t* m, size_t id, int rank, uint64_t attempt,
                          unsigned __int128 isum, const proto_exact_t* fsum) {
  if (!m->journaling) return;
  const master_chunk_t* c = &m->table.chunk[id];
  master_record_t r = {.begin = c->begin,
                       .end = c->end,
                       .rank = rank,
                       .attempt = (uint32_t)attempt,
                       .isum = isum,
                       .fsum = *fsum};
  if (master_journal_append(&m->journal, &r) < 0) fail_run(m, PROTO_ENOMEM);
}

/* A chunk that had a fault is done: how long since the fault. */
static void note_recovery(master_t* m, size_t id) {
  const master_chunk_t* c = &m->table.chunk[id];
  if (c->fault_ns == 0) return;
  double s = (double)(now_ns() - c->fault_ns) / 1e9;
  m->recoveries++;
  m->recovery_sum_s += s;
  if (s > m->recovery_max_s) m->recovery_max_s = s;
}

/* A chunk is done: the other ranks still holding it drop it. */
static void cancel_copies(master_t* m, size_t id, int winner) {
  const master_chunk_t* c = &m->table.chunk[id];
  for (uint32_t k = 0; k < c->attempts; k++) {
    int r = c->rank_of[k];
    if (r == winner || r < 1 || r > m->nworkers) continue;
    peer_t* q = &m->peer[r - 1];
    int i = find_slot(q, id, k + 1);
    if (i < 0) continue;
    uint64_t done = i == 0 ? q->head_done : 0;
    log_instant(m, r, MASTER_EV_CANCEL, id, k + 1);
    drop_slot(m, q, i, MASTER_EV_CANCELLED);
    q->cancels++;
    m->wasted_iters += done;
    proto_msg_t cancel = {
        .kind = PROTO_TAG_CANCEL, .chunk = id, .attempt = k + 1};
    if (send_msg(m, r, &cancel) < 0) fail_run(m, PROTO_EMPI);
    feed(m, q);
  }
}

static void on_result(master_t* m, peer_t* p, const proto_msg_t* msg) {
  take_slot(p, msg->chunk, msg->attempt);
  master_verdict_t v = master_table_complete(
      &m->table, p->rank, msg->chunk, msg->attempt, msg->begin, msg->end);
  if (v == MASTER_INVALID) {
    reject(m, p, "RESULT for a chunk, attempt or range it was not given",
           PROTO_TAG_RESULT, (int)proto_size(PROTO_TAG_RESULT));
    return;
  }
  learn_speed(p, msg->end - msg->begin, msg->busy_ns);
  master_sched_learn(&m->sched, p->rank - 1, msg->end - msg->begin,
                     (double)msg->busy_ns / 1e9);
  p->strikes = 0;
  p->fails = 0;
  log_attempt(m, p, (size_t)msg->chunk, msg->attempt,
              v == MASTER_DUPLICATE ? MASTER_EV_DUPLICATE : MASTER_EV_ACCEPTED,
              msg->busy_ns > 0 ? msg->busy_ns : 1);
  if (v == MASTER_DUPLICATE) {
    p->duplicates++;
    m->wasted_iters += msg->end - msg->begin;
  } else {
    proto_exact_merge(&m->fsum, &msg->fsum);
    m->isum += msg->isum;
    journal_chunk(m, (size_t)msg->chunk, p->rank, msg->attempt, msg->isum,
                  &msg->fsum);
    p->chunks++;
    p->iters += msg->end - msg->begin;
    p->busy_ns += msg->busy_ns;
    p->finish_ns = now_ns();
    if (m->min_chunk_ns == 0 || msg->busy_ns < m->min_chunk_ns)
      m->min_chunk_ns = msg->busy_ns;
    note_recovery(m, (size_t)msg->chunk);
    cancel_copies(m, (size_t)msg->chunk, p->rank);
  }
  feed(m, p);
}

static void on_progress(master_t* m, peer_t* p, const proto_msg_t* msg) {
  (void)m;
  if (p->nslots == 0 || p->slot[0].chunk != msg->chunk ||
      p->slot[0].attempt != msg->attempt)
    return; /* a cancelled or stale order: the heartbeat still counted */
  if (msg->done > p->head_done) {
    learn_speed(p, msg->done - p->head_done,
                msg->busy_ns > 0
                    ? msg->busy_ns * (msg->done - p->head_done) / msg->done
                    : 0);
    p->head_done = msg->done;
  }
}

static void on_fail(master_t* m, peer_t* p, const proto_msg_t* msg) {
  int i = find_slot(p, msg->chunk, msg->attempt);
  if (i < 0) {
    reject(m, p, "FAIL for a chunk it does not hold", PROTO_TAG_FAIL,
           (int)proto_size(PROTO_TAG_FAIL));
    return;
  }
  int rc =
      master_table_abandon(&m->table, drop_slot(m, p, i, MASTER_EV_ABANDONED));
  if (rc < 0) {
    fail_run(m, rc);
    return;
  }
  if (++p->fails >= FAIL_LIMIT) {
    fprintf(stderr,
            "taskfarm: rank %d on %s cannot compute chunks (%s); it gets no "
            "more work\n",
            p->rank, p->host, proto_strerror((int)msg->code));
    abandon_all(m, p);
    give_away_owned(m, p);
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
    set_state(m, p, WORKER_REFUSED);
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
  p->last_heard_ns = now_ns();
  p->suspect = 0;
  if (p->state == WORKER_LOST) {
    if (!m->job->quiet)
      fprintf(stderr, "taskfarm: rank %d is back; it takes work again\n",
              p->rank);
    set_state(m, p, WORKER_ACTIVE);
    p->strikes = 0;
  }
  switch (msg.kind) {
    case PROTO_TAG_HELLO:
      on_hello(m, p, &msg);
      break;
    case PROTO_TAG_RESULT:
      on_result(m, p, &msg);
      break;
    case PROTO_TAG_FAIL:
      on_fail(m, p, &msg);
      break;
    case PROTO_TAG_PROGRESS:
      on_progress(m, p, &msg);
      break;
    default:
      reject(m, p, "message kind a worker never sends", st->MPI_TAG, len);
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
    if (MPI_Irecv(m->peer[i].buf, PROTO_MAX_BYTES, MPI_BYTE, i + 1, MPI_ANY_TAG,
                  m->comm, &m->req[i]) != MPI_SUCCESS)
      fail_run(m, PROTO_EMPI);
  }
  check_finished(m);
  return count;
}

static void stop_if_done(master_t* m) {
  if (!m->done) return;
  uv_timer_stop(&m->timer);
  uv_idle_stop(&m->idle);
  uv_idle_stop(&m->solo);
  uv_stop(&m->loop);
}

static void idle_cb(uv_idle_t* handle) {
  master_t* m = handle->data;
  /* Each loop iteration costs an epoll_wait system call: while traffic is
   * hot, poll MPI several times per iteration, until it goes quiet. */
  int got = 0;
  for (int round = 0, empty = 0;
       round < HOT_ROUNDS && empty < HOT_EMPTY && !m->done; round++) {
    int n = poll_once(m);
    got += n;
    empty = n > 0 ? 0 : empty + 1;
  }
  if (got > 0) {
    m->last_msg_ns = now_ns();
  } else if (now_ns() - m->last_msg_ns > HOT_NS) {
    /* Traffic went quiet: let the timer take over and free the core. */
    uv_idle_stop(&m->idle);
    m->idle_on = 0;
  }
  stop_if_done(m);
}

/* p's order in slot 0 missed its deadline, or p fell silent: every order it
 * holds goes back in line for the others (its attempts stay open, so a late
 * result still counts if it is first). */
static void time_out(master_t* m, peer_t* p, const char* why) {
  int any = 0;
  for (int k = 0; k < p->nslots; k++) {
    slot_t* s = &p->slot[k];
    if (s->timed_out) continue;
    s->timed_out = 1;
    any = 1;
    master_chunk_t* c = &m->table.chunk[s->chunk];
    if (c->fault_ns == 0) c->fault_ns = p->last_heard_ns;
    if (c->state != MASTER_CHUNK_DONE) {
      m->reissues++;
      p->reissued++;
      log_instant(m, p->rank, MASTER_EV_REISSUE, s->chunk, s->attempt);
    }
    if (master_table_requeue(&m->table, s->chunk) < 0)
      fail_run(m, PROTO_ENOMEM);
  }
  if (!any) return;
  log_instant(m, p->rank, MASTER_EV_TIMEOUT, p->slot[0].chunk,
              p->slot[0].attempt);
  p->timeouts++;
  p->strikes++;
  p->suspect = 1;
  if (!m->job->quiet)
    fprintf(stderr,
            "taskfarm: rank %d timed out (%s); re-issuing its %d "
            "chunk%s\n",
            p->rank, why, p->nslots, p->nslots == 1 ? "" : "s");
}

/* p is lost: it gets no more work until it speaks again; what it held goes
 * to the others. */
static void lose(master_t* m, peer_t* p, const char* why) {
  time_out(m, p, why);
  abandon_all(m, p);
  give_away_owned(m, p);
  set_state(m, p, WORKER_LOST);
  if (!m->job->quiet)
    fprintf(stderr, "taskfarm: rank %d (%s pid %llu) is lost: %s\n", p->rank,
            p->host[0] ? p->host : "?", (unsigned long long)p->pid, why);
}

/* The expected compute time of slot 0 of p, in ns: from p's speed, else the
 * mean speed of the others; 0 when nobody has measured anything yet. */
static double expected_head_ns(const master_t* m, const peer_t* p) {
  const master_chunk_t* c = &m->table.chunk[p->slot[0].chunk];
  double speed = p->speed, sum = 0;
  int known = 0;
  for (int i = 0; speed <= 0 && i < m->nworkers; i++)
    if (m->peer[i].speed > 0) {
      sum += m->peer[i].speed;
      known++;
    }
  if (speed <= 0 && known > 0) speed = sum / known;
  return speed > 0 ? (double)(c->end - c->begin) / speed : 0;
}

/* Fills m->order with worker indices, fastest measured speed first (an
 * insertion sort: it runs only while chunks wait to be re-issued). */
static void order_by_speed(master_t* m) {
  for (int i = 0; i < m->nworkers; i++) {
    int k = i;
    while (k > 0 && m->peer[m->order[k - 1]].speed < m->peer[i].speed) {
      m->order[k] = m->order[k - 1];
      k--;
    }
    m->order[k] = i;
  }
}

/* Deadlines, silences and pings: called from the timer. */
static void check_workers(master_t* m) {
  const proto_job_t* job = m->job;
  uint64_t now = now_ns();
  double floor_ns = job->timeout_floor * 1e9;
  for (int i = 0; i < m->nworkers && !m->done; i++) {
    peer_t* p = &m->peer[i];
    if (p->state == WORKER_WAITING &&
        (double)(now - m->t0_ns) > HELLO_WAIT_S * 1e9) {
      lose(m, p, "it never said HELLO");
      continue;
    }
    if (p->state != WORKER_ACTIVE) continue;
    double silent = (double)(now - p->last_heard_ns);
    if (p->suspect && silent > job->lost_after * 1e9) {
      lose(m, p, "silent since its deadline passed");
      continue;
    }
    /* Every worker, busy or idle, hears from the master at least every
     * PING_NS: a worker that hears nothing for --master-timeout leaves. */
    if (now - p->last_sent_ns >= PING_NS) {
      proto_msg_t ping = {.kind = PROTO_TAG_PING};
      if (send_msg(m, p->rank, &ping) < 0) fail_run(m, PROTO_EMPI);
    }
    if (p->nslots == 0) {
      if (m->speculate) feed(m, p);
      continue;
    }
    if (p->nslots < QUEUE_DEPTH) feed(m, p); /* orders held back by LEAD_NS */
    if (silent > job->lost_after * 1e9) {
      lose(m, p, "silent while holding work");
      continue;
    }
    if (p->slot[0].timed_out) continue;
    double since = (double)(now - p->head_start_ns);
    /* Heartbeats make silence the sign of a frozen or dead worker; a fixed
     * --timeout or an overrun of the expected time catches the rest. */
    int late = 0;
    const char* why = NULL;
    if (silent > floor_ns) {
      late = 1;
      why = "silent";
    } else if (job->timeout > 0) {
      late = since > job->timeout * 1e9;
      why = "fixed deadline passed";
    } else {
      double expected = expected_head_ns(m, p);
      late = expected > 0 && since > job->timeout_factor * expected + floor_ns;
      why = "deadline passed";
    }
    if (!late) continue;
    time_out(m, p, why);
    if (p->strikes >= STRIKE_LIMIT) lose(m, p, "missed deadlines repeatedly");
  }
  /* Chunks taken from lost or late workers go to the fastest free ones. */
  if (m->table.rq_count > 0) {
    order_by_speed(m);
    for (int i = 0; i < m->nworkers; i++) feed(m, &m->peer[m->order[i]]);
  }
  check_finished(m);
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

static void on_synced(uv_fs_t* req) {
  master_t* m = req->data;
  if (req->result < 0) {
    fprintf(stderr, "taskfarm: cannot sync journal '%s': %s\n", m->job->journal,
            uv_strerror((int)req->result));
    fail_run(m, PROTO_EIO);
  }
  uv_fs_req_cleanup(req);
  m->sync_busy = 0;
}

/* Writes queued records in batches and starts an fdatasync every SYNC_NS
 * on the thread pool, so a slow disk never stalls the loop. */
static void journal_tick(master_t* m) {
  uint64_t now = now_ns();
  int due = now - m->synced_ns >= SYNC_NS;
  if (m->journal.len >= JOURNAL_WRITE_BYTES || (due && m->journal.len > 0))
    if (master_journal_flush(&m->journal, 0) < 0) fail_run(m, PROTO_EIO);
  if (!due || m->sync_busy || m->journal.unsynced == 0) return;
  m->sync_req.data = m;
  if (uv_fs_fdatasync(&m->loop, &m->sync_req, m->journal.fd, on_synced) == 0) {
    m->sync_busy = 1;
    m->journal.unsynced = 0; /* the sync in flight covers them */
  }
  m->synced_ns = now;
}

static void timer_cb(uv_timer_t* handle) {
  master_t* m = handle->data;
  if (m->journaling) journal_tick(m);
  int got = poll_once(m) > 0;
  if (got) {
    m->last_msg_ns = now_ns();
    if (!m->idle_on) {
      uv_idle_start(&m->idle, idle_cb);
      m->idle_on = 1;
    }
  }
  if (!m->done) check_workers(m);
  m->poll_ms = next_period(m, got);
  if (!m->done) uv_timer_start(&m->timer, timer_cb, m->poll_ms, 0);
  stop_if_done(m);
}

/* Computes one open chunk with the master's own kernel: a re-issued one,
 * else one cut up front and never issued, else a new cut. Returns 1, 0 when
 * nothing is left to compute, or a negative code. */
static int compute_one(master_t* m) {
  size_t id;
  int got = master_table_pop_requeued(&m->table, &id);
  while (!got && m->solo_scan < m->table.count) {
    const master_chunk_t* c = &m->table.chunk[m->solo_scan];
    if (c->state == MASTER_CHUNK_PENDING && c->attempts == 0) {
      id = m->solo_scan;
      got = 1;
    }
    m->solo_scan++;
  }
  if (!got) got = master_table_cut(&m->table, m->chunk_size, &id);
  if (got <= 0) return got;
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
    journal_chunk(m, id, 0, (uint64_t)attempt, res.isum, &res.fsum);
    m->master_iters += c->end - c->begin;
    note_recovery(m, id);
    cancel_copies(m, id, 0);
  }
  return 1;
}

static void solo_cb(uv_idle_t* handle) {
  master_t* m = handle->data;
  if (m->journaling) journal_tick(m);
  int rc = m->stop_signal ? 0 : compute_one(m);
  if (rc < 0) fail_run(m, rc);
  if (rc <= 0) {
    uv_idle_stop(&m->solo);
    m->solo_on = 0;
    /* Open chunks that no one holds and none to compute cannot happen; do
     * not spin if it ever does. */
    if (rc == 0 && takers(m) == 0 && !m->stop_signal &&
        !master_table_finished(&m->table))
      fail_run(m, PROTO_ECANCELED);
    check_finished(m);
  }
  stop_if_done(m);
}

static void start_solo(master_t* m) {
  if (m->solo_on || m->stop_signal) return;
  if (m->opts == NULL || m->opts->compute == NULL) {
    fail_run(m, PROTO_EINVAL);
    return;
  }
  uv_idle_start(&m->solo, solo_cb);
  m->solo_on = 1;
}

static double seconds(uint64_t ns) { return (double)ns / 1e9; }

/* CPU seconds (user + system) this process has used. */
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static const char* state_name(worker_state_t s) {
  switch (s) {
    case WORKER_WAITING:
      return "waiting";
    case WORKER_ACTIVE:
      return "active";
    case WORKER_REFUSED:
      return "refused";
    case WORKER_RETIRED:
      return "retired";
    case WORKER_LOST:
      return "lost";
  }
  return "?";
}

/* The run's statistics so far into *st, the workers' into rank[]. */
static void snapshot(const master_t* m, master_rank_stats_t* rank,
                     master_run_stats_t* st) {
  for (int i = 0; i < m->nworkers; i++) {
    const peer_t* p = &m->peer[i];
    master_rank_stats_t* r = &rank[i];
    memset(r, 0, sizeof(*r));
    r->rank = p->rank;
    memcpy(r->host, p->host, sizeof(r->host));
    r->pid = p->pid;
    r->chunks = p->chunks;
    r->iters = p->iters;
    r->busy_s = seconds(p->busy_ns);
    r->finish_s =
        p->finish_ns > m->t0_ns ? seconds(p->finish_ns - m->t0_ns) : 0;
    r->timeouts = p->timeouts;
    r->reissued = p->reissued;
    r->duplicates = p->duplicates;
    r->cancels = p->cancels;
    r->rejected = p->rejected;
    r->lost = p->losses > p->readmits;
    r->state = state_name(p->state);
    r->speed = p->speed * 1e9;
  }
  memset(st, 0, sizeof(*st));
  st->job = m->job;
  st->workers = m->nworkers;
  st->chunks = m->table.count;
  st->chunk_size = m->chunk_size;
  st->min_chunk = m->min_chunk;
  st->wall_s = seconds(now_ns() - m->t0_ns);
  st->master_cpu_s = cpu_seconds() - m->cpu0;
  st->messages = m->msgs;
  st->reissues = m->reissues;
  st->speculative = m->speculative;
  st->wasted_iters = m->wasted_iters;
  st->master_iters = m->master_iters;
  st->resumed_iters = m->resumed_iters;
  st->recovery_max_s = m->recovery_max_s;
  st->recovery_mean_s =
      m->recoveries ? m->recovery_sum_s / (double)m->recoveries : 0;
  st->stopped = m->stop_signal != 0;
  st->rank = rank;
}

/* The live figures: done, rate over the kept samples, ETA. */
static void live_figures(const master_t* m, master_live_t* live) {
  memset(live, 0, sizeof(*live));
  uint64_t now = now_ns();
  live->done_iters = m->table.done_iters;
  live->elapsed_s = seconds(now - m->t0_ns);
  for (int i = 0; i < m->nworkers; i++) {
    live->inflight += (uint64_t)m->peer[i].nslots;
    if (m->peer[i].state == WORKER_ACTIVE) live->alive++;
    if (m->peer[i].state == WORKER_LOST) live->lost++;
  }
  live->eta_s = -1;
  if (m->rate_count > 1) {
    int oldest =
        m->rate_count < RATE_SAMPLES ? 0 : m->rate_count % RATE_SAMPLES;
    int newest = (m->rate_count - 1) % RATE_SAMPLES;
    double dt = seconds(m->rate_t[newest] - m->rate_t[oldest]);
    if (dt > 0)
      live->rate = (double)(m->rate_done[newest] - m->rate_done[oldest]) / dt;
  }
  if (live->rate > 0)
    live->eta_s = (double)(m->table.n - live->done_iters) / live->rate;
  live->stopping = m->stop_signal != 0;
  live->journal = m->journaling ? m->job->journal : NULL;
  live->journal_records = m->journal.appended;
}

static int render_status(void* ctx, const char* path, status_buf_t* body,
                         const char** type) {
  master_t* m = ctx;
  master_run_stats_t st;
  master_live_t live;
  snapshot(m, m->snap, &st);
  live_figures(m, &live);
  if (strcmp(path, "/status") == 0) {
    master_render_status(&st, &live, body);
    *type = "application/json";
    return 200;
  }
  if (strcmp(path, "/metrics") == 0) {
    master_render_metrics(&st, &live, body);
    *type = "text/plain; version=0.0.4";
    return 200;
  }
  return 404;
}

/* Clears the progress line from the terminal. */
static void progress_clear(master_t* m) {
  if (m->progress_drawn && m->progress_tty) fputs("\r\033[K", stderr);
  m->progress_drawn = 0;
}

static void live_cb(uv_timer_t* handle) {
  master_t* m = handle->data;
  uint64_t now = now_ns();
  int k = m->rate_count++ % RATE_SAMPLES;
  m->rate_t[k] = now;
  m->rate_done[k] = m->table.done_iters;
  if (!m->progress) return;
  /* A terminal gets the line redrawn in place; a file a line a second. */
  if (!m->progress_tty && now - m->progress_last_ns < 1000000000u) return;
  master_run_stats_t st;
  master_live_t live;
  snapshot(m, m->snap, &st);
  live_figures(m, &live);
  char line[256];
  master_progress_line(&st, &live, line, sizeof(line));
  fprintf(stderr, m->progress_tty ? "\r%s\033[K" : "taskfarm: %s\n", line);
  fflush(stderr);
  m->progress_drawn = 1;
  m->progress_last_ns = now;
}

static const char* signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

/* What a stop prints: where the run is and how to go on. */
static void print_stop(const master_t* m) {
  const proto_job_t* job = m->job;
  double pct =
      job->n ? 100.0 * (double)m->table.done_iters / (double)job->n : 100.0;
  fprintf(stderr,
          "taskfarm: stopped by %s: %llu of %llu iterations done (%.1f%%)\n",
          signal_name(m->stop_signal), (unsigned long long)m->table.done_iters,
          (unsigned long long)job->n, pct);
  if (!m->journaling) {
    fprintf(stderr,
            "taskfarm: no --journal: this work cannot be resumed; "
            "run with --journal FILE to make a run resumable\n");
    return;
  }
  fprintf(stderr, "taskfarm: all of it is in journal '%s'; resume with:\n ",
          job->journal);
  int size = m->nworkers + 1;
  if (size > 1)
    fprintf(stderr, " mpiexec.mpich -disable-auto-cleanup -n %d", size);
  int has_resume = 0;
  for (int i = 0; m->opts && i < m->opts->argc; i++) {
    const char* a = m->opts->argv[i];
    has_resume |= strcmp(a, "--resume") == 0;
    char exe[PROTO_PATH_MAX];
    if (i == 0 && strchr(a, '/') == NULL) { /* found through PATH */
      ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
      if (len > 0) {
        exe[len] = '\0';
        a = exe;
      }
    }
    int plain = a[0] != '\0';
    for (const char* c = a; *c; c++)
      if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
            (*c >= '0' && *c <= '9') || strchr("-_./=,:+@%", *c)))
        plain = 0;
    if (plain) {
      fprintf(stderr, " %s", a);
    } else {
      fputs(" '", stderr);
      for (const char* c = a; *c; c++)
        fputs(*c == '\'' ? "'\\''" : (char[]){*c, 0}, stderr);
      fputs("'", stderr);
    }
  }
  fprintf(stderr, "%s\n", has_resume ? "" : " --resume");
}

static void on_signal(uv_signal_t* handle, int signum) {
  master_t* m = handle->data;
  if (m->stop_signal) {
    /* The second one: end now. Every record written so far is whole. */
    progress_clear(m);
    master_journal_close(&m->journal);
    fprintf(stderr, "taskfarm: second signal: ending at once\n");
    print_stop(m);
    master_end_job(m->comm, 128 + signum);
  }
  m->stop_signal = signum;
  m->stop_deadline_ns = now_ns() + STOP_GRACE_NS;
  progress_clear(m);
  fprintf(stderr,
          "taskfarm: %s: handing out no more work; waiting up to %.0f s for "
          "the chunks in flight (a second signal ends at once)\n",
          signal_name(signum), STOP_GRACE_NS / 1e9);
  /* Orders not yet started are withdrawn; the ones being computed may
   * still finish and count. */
  for (int i = 0; i < m->nworkers; i++) {
    peer_t* p = &m->peer[i];
    while (p->nslots > 1) {
      slot_t s = p->slot[p->nslots - 1];
      proto_msg_t cancel = {
          .kind = PROTO_TAG_CANCEL, .chunk = s.chunk, .attempt = s.attempt};
      drop_slot(m, p, p->nslots - 1, MASTER_EV_CANCELLED);
      if (master_table_abandon(&m->table, s.chunk) < 0)
        fail_run(m, PROTO_ENOMEM);
      if (p->state == WORKER_ACTIVE && send_msg(m, p->rank, &cancel) < 0)
        fail_run(m, PROTO_EMPI);
    }
  }
  check_finished(m);
  stop_if_done(m);
}

static int run_loop(master_t* m) {
  int rc = 0;
  for (int i = 0; i < m->nworkers; i++) {
    m->peer[i].rank = i + 1;
    for (int k = 0; k < SENDS_MAX; k++)
      m->peer[i].send_req[k] = MPI_REQUEST_NULL;
    if (MPI_Irecv(m->peer[i].buf, PROTO_MAX_BYTES, MPI_BYTE, i + 1, MPI_ANY_TAG,
                  m->comm, &m->req[i]) != MPI_SUCCESS)
      return PROTO_EMPI;
  }
  if (uv_loop_init(&m->loop) != 0) return PROTO_EUV;
  uv_timer_init(&m->loop, &m->timer);
  uv_idle_init(&m->loop, &m->idle);
  uv_idle_init(&m->loop, &m->solo);
  m->timer.data = m->idle.data = m->solo.data = m;
  m->poll_ms = POLL_MIN_MS;
  uv_signal_init(&m->loop, &m->sigint);
  uv_signal_init(&m->loop, &m->sigterm);
  uv_timer_init(&m->loop, &m->live_timer);
  m->sigint.data = m->sigterm.data = m->live_timer.data = m;
  uv_signal_start(&m->sigint, on_signal, SIGINT);
  uv_signal_start(&m->sigterm, on_signal, SIGTERM);
  uv_timer_start(&m->live_timer, live_cb, 250, 250);
  uv_unref((uv_handle_t*)&m->live_timer);
  uv_unref((uv_handle_t*)&m->sigint);
  uv_unref((uv_handle_t*)&m->sigterm);
  if (m->job->status_port > 0) {
    int urc = status_start(&m->http, &m->loop, m->job->status_bind,
                           m->job->status_port, render_status, m);
    if (urc != 0) {
      fprintf(stderr, "taskfarm: cannot serve --status-port on %s:%d: %s\n",
              m->job->status_bind, m->job->status_port, uv_strerror(urc));
      rc = PROTO_EUV;
      goto out_close_loop;
    }
    if (!m->job->quiet)
      fprintf(stderr, "taskfarm: status at http://%s:%d/status and /metrics\n",
              m->job->status_bind, m->job->status_port);
  }
  if (uv_timer_start(&m->timer, timer_cb, m->poll_ms, 0) != 0) {
    rc = PROTO_EUV;
    goto out_close_loop;
  }
  uv_run(&m->loop, UV_RUN_DEFAULT);
  progress_clear(m);

  /* Release every worker that may still be waiting, including those whose
   * HELLO had not arrived when the last chunk finished, then the receives. */
  for (int i = 0; i < m->nworkers; i++)
    if (m->peer[i].state == WORKER_ACTIVE ||
        m->peer[i].state == WORKER_WAITING || m->peer[i].state == WORKER_LOST)
      retire(m, &m->peer[i]);
  for (int i = 0; i < m->nworkers; i++) {
    MPI_Cancel(&m->req[i]);
    MPI_Wait(&m->req[i], MPI_STATUS_IGNORE);
  }
out_close_loop:
  status_stop(&m->http);
  uv_close((uv_handle_t*)&m->timer, NULL);
  uv_close((uv_handle_t*)&m->idle, NULL);
  uv_close((uv_handle_t*)&m->solo, NULL);
  uv_close((uv_handle_t*)&m->live_timer, NULL);
  uv_close((uv_handle_t*)&m->sigint, NULL);
  uv_close((uv_handle_t*)&m->sigterm, NULL);
  uv_run(&m->loop, UV_RUN_DEFAULT);
  uv_loop_close(&m->loop);
  return rc;
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
                   pi,
                   pi > 3.141592653589793 ? pi - 3.141592653589793
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
                   proto_exact_to_double(&m->fsum), (unsigned long long)job->n,
                   wall);
  } else if (job->kind == PROTO_JOB_NOOP) {
    len = snprintf(text, sizeof(text), "Chunks = %zu\nTime = %.6f sec\n",
                   m->table.count, wall);
  } else {
    len =
        snprintf(text, sizeof(text), "%d ranks said hello\n", m->nworkers + 1);
  }
  fputs(text, stdout);
  fflush(stdout);
  if (job->output[0] == '\0') return 0;
  FILE* f = fopen(job->output, "w");
  if (f == NULL || fwrite(text, 1, (size_t)len, f) != (size_t)len ||
      fclose(f) != 0) {
    fprintf(stderr, "taskfarm: cannot write --output file '%s'\n", job->output);
    return PROTO_EIO;
  }
  return 0;
}

static void print_summary(const master_t* m, double wall) {
  if (m->job->quiet || m->job->kind == PROTO_JOB_HELLO) return;
  double cpu = cpu_seconds() - m->cpu0;
  fprintf(stderr,
          "taskfarm: %s n=%llu, schedule %s, %zu chunks, %d workers, %.3f s; "
          "master CPU %.3f s (%.1f%% of a core), %llu messages\n",
          proto_job_name(m->job->kind), (unsigned long long)m->job->n,
          proto_sched_name(m->job->schedule), m->table.count, m->nworkers, wall,
          cpu, wall > 0 ? 100.0 * cpu / wall : 0.0,
          (unsigned long long)m->msgs);
  fprintf(stderr,
          "taskfarm: faults: %llu chunks re-issued, %llu speculative copies, "
          "%llu iterations computed twice; recovery %.3f s max, %.3f s mean "
          "over %llu chunks\n",
          (unsigned long long)m->reissues, (unsigned long long)m->speculative,
          (unsigned long long)m->wasted_iters, m->recovery_max_s,
          m->recoveries ? m->recovery_sum_s / (double)m->recoveries : 0.0,
          (unsigned long long)m->recoveries);
  int lost = 0;
  for (int i = 0; i < m->nworkers; i++) {
    const peer_t* p = &m->peer[i];
    double busy = seconds(p->busy_ns);
    int is_lost = p->losses > p->readmits;
    lost += is_lost;
    fprintf(stderr,
            "taskfarm:   rank %d (%s pid %llu): %llu chunks, %llu iterations, "
            "busy %.3f s, %.3g it/s, %llu timeouts, %llu re-issued, "
            "%llu duplicates, %llu cancelled, %llu rejected%s%s\n",
            p->rank, p->host[0] ? p->host : "?", (unsigned long long)p->pid,
            (unsigned long long)p->chunks, (unsigned long long)p->iters, busy,
            busy > 0 ? (double)p->iters / busy : 0.0,
            (unsigned long long)p->timeouts, (unsigned long long)p->reissued,
            (unsigned long long)p->duplicates, (unsigned long long)p->cancels,
            (unsigned long long)p->rejected, is_lost ? ", LOST" : "",
            p->readmits ? ", came back" : "");
  }
  if (m->master_iters > 0)
    fprintf(stderr, "taskfarm:   rank 0 (the master itself): %llu iterations\n",
            (unsigned long long)m->master_iters);
  if (lost > 0) fprintf(stderr, "taskfarm: lost ranks: %d\n", lost);
}

/* Sets up the job's schedule for the workers; the static ones cut every
 * chunk now and give each worker its list. */
static int setup_schedule(master_t* m) {
  const proto_job_t* job = m->job;
  m->speculate = proto_job_speculates(job);
  if (job->schedule == PROTO_SCHED_WF && job->nweights != m->nworkers) {
    fprintf(stderr,
            "taskfarm: --weights has %d values but the run has %d workers\n",
            job->nweights, m->nworkers);
    return PROTO_EINVAL;
  }
  int rc = master_sched_init(&m->sched, job->schedule, m->table.n, m->nworkers,
                             m->table.align, m->chunk_size, m->min_chunk, 0,
                             job->nweights > 0 ? job->weight : NULL);
  if (rc < 0) return rc;
  m->is_static = master_sched_is_static(&m->sched);
  if (!m->is_static) return 0;
  for (uint64_t cut = 0; m->table.next_begin < m->table.n; cut++) {
    uint64_t begin = m->table.next_begin;
    uint64_t size = master_sched_next(&m->sched, 0, begin);
    peer_t* p = &m->peer[master_sched_owner(&m->sched, begin, cut)];
    size_t id;
    rc = master_table_cut(&m->table, size, &id);
    if (rc < 0) return rc;
    if (p->owned_count == p->owned_cap) {
      size_t cap = p->owned_cap ? 2 * p->owned_cap : 16;
      size_t* grown = realloc(p->owned, cap * sizeof(*grown));
      if (grown == NULL) return PROTO_ENOMEM;
      p->owned = grown;
      p->owned_cap = cap;
    }
    p->owned[p->owned_count++] = id;
  }
  return 0;
}

/* The --report and --trace files. */
static int write_outputs(master_t* m, double wall) {
  const proto_job_t* job = m->job;
  if (job->report[0] == '\0' && job->trace[0] == '\0') return 0;
  char value[64] = "", bits[64] = "", reference[64] = "";
  master_run_stats_t st;
  snapshot(m, m->snap, &st);
  st.wall_s = wall;
  st.result = value;
  if (job->kind == PROTO_JOB_PI || job->kind == PROTO_JOB_DOTF) {
    st.value = proto_exact_to_double(&m->fsum);
    snprintf(value, sizeof(value), "%.17g", st.value);
    snprintf(bits, sizeof(bits), "%a", st.value);
    st.bits = bits;
  }
  if (job->kind == PROTO_JOB_PI) {
    st.has_reference = 1;
    st.reference = 3.141592653589793;
    snprintf(reference, sizeof(reference), "%.17g", st.reference);
    st.reference_kind = "pi, the limit of S_n";
  } else if (job->kind == PROTO_JOB_DOT) {
    unsigned __int128 n = job->n;
    unsigned __int128 ref = n * (n + 1) / 2 * (n + 2) / 3;
    master_u128_str(m->isum, value);
    master_u128_str(ref, reference);
    st.value = (double)m->isum;
    st.reference = (double)ref;
    st.has_reference = 1;
    st.reference_kind = "closed form n(n+1)(n+2)/6";
  } else if (job->kind == PROTO_JOB_NOOP) {
    snprintf(value, sizeof(value), "%zu chunks", m->table.count);
  }
  st.reference_text = reference;
  int rc = 0;
  const char* paths[2] = {job->report, job->trace};
  for (int k = 0; k < 2 && rc == 0; k++) {
    if (paths[k][0] == '\0') continue;
    FILE* f = fopen(paths[k], "w");
    int wrc = f == NULL ? PROTO_EIO
              : k == 0  ? master_write_report(f, &st)
                        : master_write_trace(f, &st, &m->log);
    if (f != NULL && fclose(f) != 0) wrc = PROTO_EIO;
    if (wrc < 0) {
      fprintf(stderr, "taskfarm: cannot write %s file '%s'\n",
              k == 0 ? "--report" : "--trace", paths[k]);
      rc = wrc;
    }
  }
  return rc;
}

/* Whether the user watches a terminal: our stderr, or under mpiexec (which
 * hands rank 0 a pipe) the stderr of the launcher that forwards it, found
 * among the first few ancestors. */
static int stderr_is_terminal(void) {
  if (isatty(STDERR_FILENO)) return 1;
  long pid = (long)getppid();
  for (int depth = 0; depth < 4 && pid > 1; depth++) {
    char path[64], target[64];
    snprintf(path, sizeof(path), "/proc/%ld/fd/2", pid);
    ssize_t len = readlink(path, target, sizeof(target) - 1);
    if (len > 0) {
      target[len] = '\0';
      if (strncmp(target, "/dev/pts/", 9) == 0 ||
          strncmp(target, "/dev/tty", 8) == 0)
        return 1;
    }
    /* The parent's parent: field 4 of /proc/PID/stat, after "(comm)". */
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE* f = fopen(path, "r");
    if (f == NULL) break;
    char buf[512];
    size_t got = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[got] = '\0';
    char* close_paren = strrchr(buf, ')');
    if (close_paren == NULL || sscanf(close_paren + 1, " %*c %ld", &pid) != 1)
      break;
  }
  return 0;
}

/* Opens --journal; on --resume, takes the chunks it holds as done. */
static int open_journal(master_t* m) {
  const proto_job_t* job = m->job;
  if (job->journal[0] == '\0' || job->kind == PROTO_JOB_HELLO) return 0;
  master_journal_load_t load;
  char err[PROTO_PATH_MAX + 256];
  int rc = master_journal_open(&m->journal, job->journal, job, job->resume,
                               &load, err, sizeof(err));
  if (rc < 0) {
    fprintf(stderr, "taskfarm: %s\n", err);
    return rc;
  }
  m->journaling = 1;
  m->synced_ns = now_ns();
  uint64_t* ranges = malloc((2 * load.count + 1) * sizeof(*ranges));
  if (ranges == NULL) rc = PROTO_ENOMEM;
  for (size_t i = 0; rc == 0 && i < load.count; i++) {
    ranges[2 * i] = load.rec[i].begin;
    ranges[2 * i + 1] = load.rec[i].end;
    proto_exact_merge(&m->fsum, &load.rec[i].fsum);
    m->isum += load.rec[i].isum;
  }
  if (rc == 0) rc = master_table_preload(&m->table, ranges, load.count);
  free(ranges);
  m->resumed_iters = load.iters;
  if (rc == 0 && load.existed && !job->quiet) {
    fprintf(stderr,
            "taskfarm: resuming from journal '%s': %zu chunks, %llu of %llu "
            "iterations (%.1f%%) already done\n",
            job->journal, load.count, (unsigned long long)load.iters,
            (unsigned long long)job->n,
            job->n ? 100.0 * (double)load.iters / (double)job->n : 100.0);
  }
  if (rc == 0 && load.skipped > 0)
    fprintf(stderr,
            "taskfarm: journal '%s': %llu damaged or overlapping record%s "
            "left out; %s computed again\n",
            job->journal, (unsigned long long)load.skipped,
            load.skipped == 1 ? "" : "s",
            load.skipped == 1 ? "its chunk is" : "their chunks are");
  if (rc == 0 && load.torn_bytes > 0)
    fprintf(stderr,
            "taskfarm: journal '%s': cut off %llu bytes of a torn or damaged "
            "last record (a write cut short); that chunk is computed again\n",
            job->journal, (unsigned long long)load.torn_bytes);
  master_journal_free_load(&load);
  return rc;
}

int master_run(const proto_job_t* job, MPI_Comm comm, master_options_t* opts) {
  master_t m;
  memset(&m, 0, sizeof(m));
  m.job = job;
  m.opts = opts;
  m.journal.fd = -1;
  m.comm = comm;
  m.t0_ns = now_ns();
  m.cpu0 = cpu_seconds();
  int size = 1;
  MPI_Comm_size(comm, &size);
  m.nworkers = size - 1;
  proto_exact_init(&m.fsum);
  m.chunk_size = master_chunk_size(job, m.nworkers);
  m.min_chunk = master_min_chunk(job, m.nworkers);
  m.log.on = job->trace[0] != '\0';
  int terminal = job->progress != 0 && stderr_is_terminal();
  m.progress = !job->quiet && job->kind != PROTO_JOB_HELLO &&
               (job->progress == 1 || (job->progress == -1 && terminal));
  m.progress_tty = m.progress && terminal;
  int rc =
      master_table_init(&m.table, job->kind == PROTO_JOB_HELLO ? 0 : job->n,
                        master_chunk_align(job));
  if (rc < 0) return rc;
  m.snap = calloc((size_t)(m.nworkers > 0 ? m.nworkers : 1), sizeof(*m.snap));
  if (m.snap == NULL) {
    rc = PROTO_ENOMEM;
    goto out_free;
  }
  rc = open_journal(&m);
  if (rc < 0) goto out_free;
  if (m.nworkers > 0) {
    m.peer = calloc((size_t)m.nworkers, sizeof(*m.peer));
    m.req = calloc((size_t)m.nworkers, sizeof(*m.req));
    m.index = calloc((size_t)m.nworkers, sizeof(*m.index));
    m.order = calloc((size_t)m.nworkers, sizeof(*m.order));
    m.status = calloc((size_t)m.nworkers, sizeof(*m.status));
    if (!m.peer || !m.req || !m.index || !m.order || !m.status) {
      rc = PROTO_ENOMEM;
      goto out_free;
    }
    rc = setup_schedule(&m);
  }
  /* Without workers the loop still runs: the master computes on it, and
   * signals, progress and the status server work the same. */
  if (rc == 0) rc = run_loop(&m);
  if (rc == 0) rc = m.rc;
  if (rc == 0 && job->kind != PROTO_JOB_HELLO && !m.stop_signal &&
      !master_table_finished(&m.table))
    rc = PROTO_ECANCELED;
  int jrc = master_journal_close(&m.journal);
  if (rc == 0) rc = jrc;
  if (rc == PROTO_ESTOPPED || (rc == 0 && m.stop_signal)) {
    print_stop(&m);
    write_outputs(&m, seconds(now_ns() - m.t0_ns));
    if (opts) opts->stopped_by = m.stop_signal;
    rc = PROTO_ESTOPPED;
    goto out_free;
  }
  if (rc < 0) {
    if (rc != PROTO_EJOURNAL)
      fprintf(stderr, "taskfarm: run failed: %s\n", proto_strerror(rc));
    goto out_free;
  }
  double wall = seconds(now_ns() - m.t0_ns);
  rc = print_result(&m, wall);
  print_summary(&m, wall);
  int orc = write_outputs(&m, wall);
  if (rc == 0) rc = orc;
out_free:
  for (int i = 0; m.peer != NULL && i < m.nworkers; i++) free(m.peer[i].owned);
  master_journal_close(&m.journal);
  master_sched_close(&m.sched);
  master_log_close(&m.log);
  free(m.snap);
  free(m.peer);
  free(m.req);
  free(m.index);
  free(m.order);
  free(m.status);
  master_table_close(&m.table);
  return rc;
}
