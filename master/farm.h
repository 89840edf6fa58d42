/* The farm: every decision the master makes, as a pure state machine. It
 * holds the workers (peers) and the orders each holds, the chunk table and
 * the schedule, and decides who gets which chunk, when a deadline passed,
 * when a rank is lost, re-admitted or refused, when to speculate and cancel,
 * when the master must compute alone and when the run is over. It has no
 * MPI, no libuv, no clock and no printing: time comes in as a number,
 * messages come in decoded, and what the farm wants done (send a message,
 * append a journal record, log a line, record a trace event) goes out
 * through the callbacks of farm_io_t. The binary and the simulator
 * (tests/sim.cc) drive the same object.
 *
 * Invariants (asserted): a chunk is accepted at most once, and only from a
 * rank that greeted with this job's fingerprint and holds that very order;
 * every open chunk is held by some peer, queued for re-issue, or not yet cut,
 * so a run whose workers or master can compute always ends; the orders the
 * peers hold add up to f->inflight. Per message the work is O(1) in the
 * number of workers; farm_tick() visits a bounded slice of the workers. */
#ifndef TASKFARM_MASTER_FARM_H_
#define TASKFARM_MASTER_FARM_H_

#include <stddef.h>
#include <stdint.h>

#include "master/chunks.h"
#include "master/journal.h"
#include "master/report.h"
#include "master/schedule.h"
#include "proto/job.h"
#include "proto/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  FARM_QUEUE_DEPTH = 8,  /* most orders a worker holds */
  FARM_LOG_LIMIT = 10,   /* rejected-message lines logged per worker */
  FARM_FAIL_LIMIT = 3,   /* consecutive FAILs before a worker gets no work */
  FARM_STRIKE_LIMIT = 3, /* consecutive timeouts before a worker is lost */
  FARM_CANDIDATES = 8,   /* stragglers remembered for speculation */
  FARM_SEND_BUSY = 1,    /* send(): the peer's sends are backed up */
};

/* Times the farm works with, in ns (all have defaults, see farm_init). */
enum {
  FARM_PING_NS = (int)(PROTO_PING_S * 1e9), /* every worker hears from us
                                               this often */
  FARM_HELLO_WAIT_S = 30,    /* a rank that never greets is lost */
  FARM_JOURNAL_HINT_S = 60,  /* a run on several hosts without --journal
                                is warned after this long */
  FARM_LEAD_NS = 40000000,   /* predicted work a worker may hoard */
  FARM_SCAN_NS = 100000000,  /* every worker is checked this often */
  FARM_SCAN_MIN = 64,        /* ... and at least this many per tick */
  FARM_STOP_GRACE_MS = 3000, /* after SIGTERM, in-flight chunks may
                                finish this long */
  FARM_STOP_GRACE_INT_MS = 0, /* ... after SIGINT: none. A user's second
                                 Ctrl-C makes hydra kill the job, so the
                                 stop must be over in well under 50 ms */
};

typedef enum {
  FARM_LOG_INFO = 0, /* progress of the run: hidden by --quiet */
  FARM_LOG_WARN = 1, /* something the user must hear of */
} farm_log_level_t;

/* What the farm asks of the world around it. Every callback but event may
 * be called from any farm_* call. */
typedef struct farm_io_s farm_io_t;
struct farm_io_s {
  void* ctx; /* passed to every callback */
  /* Sends msg to worker rank without waiting. Returns 0 when it went out,
   * FARM_SEND_BUSY when that rank's sends are backed up (it gets no new
   * work until it speaks), or a negative code when the link to it is broken
   * (the farm loses the rank for good). */
  int (*send)(void* ctx, int rank, const proto_msg_t* msg);
  /* An accepted chunk, for the journal; NULL when there is none. Returns 0
   * or a negative code (the run fails with it). */
  int (*record)(void* ctx, const master_record_t* r);
  /* One line of text for the user, without "taskfarm: " or newline. */
  void (*log)(void* ctx, farm_log_level_t level, const char* line);
  /* A trace event; NULL when nobody traces. */
  void (*event)(void* ctx, const master_event_t* e);
};

typedef enum {
  FARM_WAITING = 0, /* no HELLO yet */
  FARM_ACTIVE,      /* greeted with this job, takes work */
  FARM_REFUSED,     /* another version or job, or lied: never gets work */
  FARM_RETIRED,     /* sent STOP: failed repeatedly, or the run is over */
  FARM_LOST,        /* silent or late: no work until it speaks again */
  FARM_GONE,        /* its link is broken: never heard from again */
} farm_state_t;

typedef struct farm_order_s farm_order_t;
struct farm_order_s {
  size_t chunk;       /* chunk table id */
  uint64_t attempt;   /* attempt number given to this worker */
  uint64_t issued_ns; /* when the order was sent */
  int timed_out;      /* its deadline passed and the chunk was requeued */
};

typedef struct farm_peer_s farm_peer_t;
struct farm_peer_s {
  int rank;
  farm_state_t state;
  int greeted;                          /* its HELLO was checked and accepted */
  farm_order_t order[FARM_QUEUE_DEPTH]; /* outstanding, oldest first */
  int norders;
  int fails;                 /* consecutive FAIL messages */
  int strikes;               /* consecutive timeouts */
  int suspect;               /* timed out or backed up: no new work */
  uint64_t pid;              /* from HELLO */
  char host[PROTO_HOST_MAX]; /* from HELLO */
  double speed;              /* indices per ns, smoothed; 0 = unknown */
  uint64_t head_start_ns;    /* when order[0] became the one it works on */
  uint64_t head_done;        /* indices of order[0] done (PROGRESS) */
  uint64_t last_heard_ns;    /* when its last message arrived */
  uint64_t last_sent_ns;     /* when we last sent it anything */
  uint64_t chunks;           /* results accepted */
  uint64_t iters;            /* indices in accepted results */
  uint64_t busy_ns;          /* compute time reported with them */
  uint64_t duplicates;       /* results for chunks already done */
  uint64_t rejected;         /* malformed, forged or misplaced messages */
  uint64_t timeouts;         /* deadlines it missed */
  uint64_t reissued;         /* its chunks put back in line for others */
  uint64_t cancels;          /* orders cancelled because done elsewhere */
  uint64_t losses;           /* times it was declared lost */
  uint64_t readmits;         /* times it came back after being lost */
  uint64_t finish_ns;        /* when its last accepted result arrived */
  size_t* owned;             /* static schedules: its chunks, in order */
  size_t owned_count;
  size_t owned_cap;
  size_t owned_pos;       /* first one not yet looked at */
  farm_peer_t* idle_prev; /* the idle list (active, no orders) */
  farm_peer_t* idle_next;
  int idle;   /* on the idle list */
  int broken; /* a send to it failed with this code */
};

/* A chunk the master computes itself (no worker can). */
typedef struct farm_solo_s farm_solo_t;
struct farm_solo_s {
  size_t chunk;
  uint64_t attempt;
  uint64_t begin;
  uint64_t end;
};

typedef struct farm_candidate_s farm_candidate_t;
struct farm_candidate_s {
  farm_peer_t* peer; /* NULL: empty */
  size_t chunk;
  uint64_t attempt;
  uint64_t finish_ns; /* predicted, when last looked at */
};

typedef struct farm_s farm_t;
struct farm_s {
  const proto_job_t* job;
  farm_io_t io;
  int nworkers;
  farm_peer_t* peer; /* peer[i] is rank i + 1 */
  master_table_t table;
  master_sched_t sched;
  int is_static; /* every chunk was cut and assigned up front */
  int speculate; /* backup copies at the end */
  uint64_t fingerprint;
  uint64_t scale; /* sent with every WORK (proto_msg_t.scale); 0 = none */
  uint64_t chunk_size;
  uint64_t min_chunk;
  uint64_t t0_ns;         /* the run's start */
  uint64_t hello_wait_ns; /* a rank silent this long from the start is lost */
  proto_exact_t fsum;     /* float result, exact */
  unsigned __int128 isum; /* integer result, exact */
  int done;               /* the run is over (finished, stopped or failed) */
  int rc;                 /* the run's outcome: 0 or a negative code */
  int stop_signal;        /* the signal that asked for a stop; 0 = none */
  uint64_t stop_deadline_ns;
  int takers;             /* peers WAITING or ACTIVE */
  int alive;              /* peers ACTIVE */
  int lost;               /* peers LOST or GONE */
  int inflight;           /* orders held by all peers */
  double speed_sum;       /* sum of the known speeds */
  int speed_known;        /* peers with a known speed */
  farm_peer_t* idle_head; /* active peers with no orders, newest first */
  int broken_any;         /* some peer is broken and not yet dropped */
  size_t scan_pos;        /* farm_tick's cursor */
  uint64_t scanned_ns;    /* when farm_tick last ran */
  farm_candidate_t cand[FARM_CANDIDATES]; /* latest predicted finishes */
  int solo_busy;                          /* the master computes a chunk now */
  size_t solo_scan;      /* chunks before this were looked at for it */
  uint64_t min_chunk_ns; /* shortest compute time reported so far */
  uint64_t msgs;         /* messages received */
  uint64_t reissues;     /* chunks put back in line after a fault */
  uint64_t master_iters; /* indices the master computed itself */
  uint64_t speculative;  /* copies of stragglers' chunks issued */
  uint64_t wasted_iters; /* indices computed more than once */
  uint64_t recoveries;   /* faulted chunks finished by someone */
  double recovery_max_s;
  double recovery_sum_s;
  uint64_t resumed_iters; /* done before this run, from a journal */
  char self_host[PROTO_HOST_MAX]; /* the master's host (farm_set_self_host) */
  int warned_hosts;               /* the no-journal warning was given */
};

/* Sets up f for job with `workers` worker ranks (1..workers), starting at
 * now. done (NULL: none) holds what a journal recorded, taken as done before
 * this run: its ranges are never cut again and its sums are added. The static
 * schedules cut and assign every chunk here. io is copied. Returns 0,
 * PROTO_EINVAL or PROTO_ENOMEM (f is then closed). */
int farm_init(farm_t* f, const proto_job_t* job, int workers,
              const farm_io_t* io, const master_done_t* done, uint64_t now);

/* Frees what f holds; safe on a zeroed or closed farm. */
void farm_close(farm_t* f);

/* A decoded message from worker rank arrived at now. */
void farm_message(farm_t* f, int rank, const proto_msg_t* msg, uint64_t now);

/* A message from rank could not be decoded: rc is proto_decode's code
 * (PROTO_EVERSION with the sender's version, PROTO_EMSGSIZE, PROTO_EBADMSG),
 * tag and len as received. Another version refuses the rank; the rest is
 * dropped and counted. */
void farm_bad_message(farm_t* f, int rank, int rc, int tag, size_t len,
                      uint32_t version, uint64_t now);

/* The link to rank failed (an MPI call about it returned an error): the
 * rank is gone for good and what it held goes to the others. what names
 * the call and MPI's error text, for the log. */
void farm_link_error(farm_t* f, int rank, const char* what, uint64_t now);

/* Deadlines, silences, pings, re-issues and speculation; call every few ms.
 * Visits at least FARM_SCAN_MIN workers and every worker once per
 * FARM_SCAN_NS. */
void farm_tick(farm_t* f, uint64_t now);

/* A signal asks the run to stop: no new work, orders not yet started are
 * withdrawn, the ones being computed may finish for FARM_STOP_GRACE_MS
 * (SIGTERM) or FARM_STOP_GRACE_INT_MS (SIGINT); after that they are dropped
 * and computed again on resume. */
void farm_stop(farm_t* f, int signum, uint64_t now);

/* Ends the run with rc (a negative code) at once. */
void farm_fail(farm_t* f, int rc);

/* Sends STOP to every rank that may still wait for work (the run is over). */
void farm_release(farm_t* f, uint64_t now);

/* 1 when the master must compute (no worker can take work) and has not a
 * chunk in hand. */
int farm_solo_wanted(const farm_t* f);

/* The next chunk for the master to compute: 1 and *s, 0 when none is left
 * to compute, or a negative code. */
int farm_solo_take(farm_t* f, farm_solo_t* s);

/* The master computed s: result's isum/fsum/busy_ns hold its partial. */
void farm_solo_done(farm_t* f, const farm_solo_t* s, const proto_msg_t* result,
                    uint64_t now);

/* The master gives s up unfinished (the run is stopping): it goes back in
 * line, for a resumed run. */
void farm_solo_drop(farm_t* f, const farm_solo_t* s, uint64_t now);

/* The master could not compute s (rc < 0): the run fails with rc. */
void farm_solo_failed(farm_t* f, const farm_solo_t* s, int rc);

/* 1 when every index has been accepted. */
int farm_finished(const farm_t* f);

/* The statistics so far: the run's into *st, the workers' into rank[]
 * (nworkers entries). st->rank points at rank. */
void farm_snapshot(const farm_t* f, uint64_t now, master_rank_stats_t* rank,
                   master_run_stats_t* st);

/* Mean seconds from a fault to its chunk done, over the chunks that had
 * one; 0 when none had. */
double farm_recovery_mean_s(const farm_t* f);

/* The master's host name. A run on several hosts without --journal gets
 * one warning after FARM_JOURNAL_HINT_S: hydra ends the whole job when any
 * host's processes all die, and only a journal keeps the finished work. */
void farm_set_self_host(farm_t* f, const char* self);

/* Distinct hosts of the run: the master's (farm_set_self_host) and those
 * the workers that greeted named in their HELLO. */
int farm_host_count(const farm_t* f);

/* The name of a peer state ("active"), static. */
const char* farm_state_name(farm_state_t s);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_FARM_H_ */
