/* The farm: every decision the master makes, as a pure state machine. It
 * holds the workers (peers) and the orders each holds, the chunk table and
 * the schedule, and decides who gets which chunk, when a deadline passed,
 * when a rank is lost, re-admitted or refused, when to speculate and cancel,
 * which results to check by a second computation and who was wrong when two
 * disagree, when a chunk is poison, when the master must compute alone and
 * when the run is over. It has no MPI, no libuv, no clock, no randomness of
 * its own and no printing: time comes in as a number, messages come in
 * decoded, the random key comes with the config, and what the farm wants
 * done (send a message, append a journal record, log a line, record a trace
 * event) goes out through the callbacks of farm_io_t. The binary and the
 * simulator (tests/sim.cc) drive the same object.
 *
 * Invariants (farm_check() verifies every one of them):
 * - a chunk is DONE at most once at a time, and only by a result from a
 *   rank that greeted with this job's fingerprint and held that very order;
 *   the result of a rank refused for lying is withdrawn and its chunks
 *   reopened, so no index counts a refused rank's partial;
 * - every open chunk that is not poisoned is held by some peer or by the
 *   master, queued for re-issue, owned by a static schedule's peer, or not
 *   yet cut, so a run whose workers or master can compute always ends;
 * - the orders the peers hold add up to f->inflight, and each chunk's open
 *   attempts to the orders held for it;
 * - the per-state counts (alive, takers, lost) match the peers' states, and
 *   the idle list holds exactly the feedable peers without orders;
 * - the chunks still to be checked (WANTED, ISSUED or DISPUTED) number
 *   f->checks_open, and each WANTED or DISPUTED one is queued.
 * Per message the work is O(1) in the number of workers, except when a
 * rank is refused (its chunks are found in one pass over the table);
 * farm_tick() visits a bounded slice of the workers. */
#ifndef TASKFARM_MASTER_FARM_H_
#define TASKFARM_MASTER_FARM_H_

#include <stddef.h>
#include <stdint.h>

#include "master/journal.h"
#include "master/report.h"
#include "master/schedule.h"
#include "cli/job.h"
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
  FARM_VOTES_MAX = 6,    /* computations of one disputed chunk at most */
  FARM_WHY_MAX = 160,    /* bytes of the reason a rank was refused */
};

/* Times the farm works with, in ns (all have defaults, see farm_init). */
enum {
  FARM_PING_NS = (int)(PROTO_PING_S * 1e9), /* every worker hears from us
                                               this often */
  FARM_HELLO_WAIT_S = 30,     /* a rank that never greets is lost */
  FARM_JOURNAL_HINT_S = 60,   /* a run on several hosts without --journal
                                 is warned after this long */
  FARM_LEAD_NS = 40000000,    /* predicted work a worker may hoard */
  FARM_SCAN_NS = 100000000,   /* every worker is checked this often */
  FARM_SCAN_MIN = 64,         /* ... and at least this many per tick */
  FARM_STOP_GRACE_MS = 3000,  /* after SIGTERM, in-flight chunks may
                                 finish this long */
  FARM_STOP_GRACE_INT_MS = 0, /* ... after SIGINT: none. A user's second
                                 Ctrl-C makes hydra kill the job, so the
                                 stop must be over in well under 50 ms */
};

/* How a stop treats the chunks being computed. */
typedef enum {
  FARM_STOP_NONE = 0,  /* not stopping */
  FARM_STOP_DRAIN = 1, /* they may finish for FARM_STOP_GRACE_MS */
  FARM_STOP_NOW = 2,   /* they are dropped at once */
} farm_stop_t;

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

/* A chunk the master computes itself (no worker can). */
typedef struct farm_solo_s farm_solo_t;
struct farm_solo_s {
  size_t chunk;
  uint64_t attempt;
  uint64_t begin;
  uint64_t end;
};

/* What the caller gives farm_open besides the job. */
typedef struct farm_config_s farm_config_t;
struct farm_config_s {
  uint64_t scale;      /* sent with every WORK (proto_msg_t.scale); 0 = none */
  const char* host;    /* the master's host name; NULL or "" = unknown */
  uint64_t key[2];     /* secret and random for each run: the digests' key
                          and the seed of the verification picks, so no
                          worker can tell which of its results are checked */
  uint16_t death_port; /* where guards report deaths (UDP); 0 = nowhere */
  uint32_t death_addr[4]; /* ... at these IPv4 addresses (network order) */
};

/* The farm; its fields are farm.c's (master/farm_private.h, for farm.c
 * and its tests). */
typedef struct farm_s farm_t;

/* Makes a farm for job with `workers` worker ranks (1..workers), starting
 * at now, into *out. done (NULL: none) holds what a journal recorded, taken
 * as done before this run: its ranges are never cut again and its sums are
 * added. The static schedules cut and assign every chunk here. io and
 * config are copied; job must outlive the farm. Returns 0, PROTO_EINVAL or
 * PROTO_ENOMEM (*out is then NULL). */
int farm_open(farm_t** out, const cli_job_t* job, int workers,
              const farm_io_t* io, const master_done_t* done,
              const farm_config_t* config, uint64_t now);

/* Frees f and what it holds; farm_close(NULL) is harmless. */
void farm_close(farm_t* f);

/* 1 once the run is over (finished, stopped or failed). */
int farm_done(const farm_t* f);

/* The run's outcome once over: 0 or a negative code. */
int farm_rc(const farm_t* f);

/* How the run was asked to stop (FARM_STOP_NONE: it was not). */
farm_stop_t farm_stopping(const farm_t* f);

/* The shortest compute time of a chunk reported so far (0: none yet). */
uint64_t farm_min_chunk_ns(const farm_t* f);

/* Worker ranks of the farm (1..farm_workers). */
int farm_workers(const farm_t* f);

/* What the farm knows of a worker's process. */
typedef struct farm_peer_info_s farm_peer_info_t;
struct farm_peer_info_s {
  uint64_t pid;              /* from its HELLO; 0 before */
  char host[PROTO_HOST_MAX]; /* from its HELLO; "" before */
  int died;                  /* its guard reported its death */
};

/* Fills *info for worker rank (1..farm_workers). */
void farm_peer_info(const farm_t* f, int rank, farm_peer_info_t* info);

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

/* A datagram from a worker's guard says its process died. Believed only
 * with the token WELCOME gave that rank and the pid its HELLO said: the
 * rank is then gone for good, what it held goes to the others at once, and
 * it counts as known gone for how the job ends (p->died). */
void farm_death_report(farm_t* f, const proto_death_t* d, uint64_t now);

/* Deadlines, silences, pings, re-issues and speculation; call every few ms.
 * Visits at least FARM_SCAN_MIN workers and every worker once per
 * FARM_SCAN_NS. */
void farm_tick(farm_t* f, uint64_t now);

/* The run is asked to stop: no new work, orders not yet started are
 * withdrawn, the ones being computed may finish for FARM_STOP_GRACE_MS
 * (FARM_STOP_DRAIN, what SIGTERM asks) or FARM_STOP_GRACE_INT_MS
 * (FARM_STOP_NOW, SIGINT); after that they are dropped and computed again on
 * resume. */
void farm_stop(farm_t* f, farm_stop_t how, uint64_t now);

/* Ends the run with rc (a negative code) at once. */
void farm_fail(farm_t* f, int rc);

/* Sends STOP to every rank that may still wait for work (the run is over). */
void farm_release(farm_t* f, uint64_t now);

/* 1 when the master must compute and has not a chunk in hand: no worker
 * can take work, or a check or vote waits that only the master can do
 * (every worker that could computed that chunk already). May drop queue
 * entries that wait for nothing any more. */
int farm_solo_wanted(farm_t* f);

/* The next chunk for the master to compute: 1 and *s, 0 when none is left
 * to compute, or a negative code. */
int farm_solo_take(farm_t* f, farm_solo_t* s);

/* The master computed s: result's isum/fsum/busy_ns hold its partial. */
void farm_solo_done(farm_t* f, const farm_solo_t* s, const proto_msg_t* result,
                    uint64_t now);

/* The master gives s up unfinished (the run is stopping): it goes back in
 * line, for a resumed run. */
void farm_solo_drop(farm_t* f, const farm_solo_t* s, uint64_t now);

/* The master could not compute s (rc < 0, detail as in a FAIL): a death
 * of its kernel's process (proto_error_is_death) costs the chunk, which
 * counts toward --poison-after; anything else fails the run with rc. */
void farm_solo_failed(farm_t* f, const farm_solo_t* s, int rc, int64_t detail,
                      uint64_t now);

/* 1 when every index has been accepted and every check is over. */
int farm_finished(const farm_t* f);

/* The run's result: the journal's, the master's own and every rank's
 * accepted partials that were not withdrawn, summed exactly. */
void farm_result(const farm_t* f, proto_exact_t* fsum, unsigned __int128* isum);

/* The poisoned chunk i (0 <= i < f->poisoned), described in one sentence
 * into out ("chunk 7 [700, 800) killed 2 ranks: rank 1 (...), ..."). Returns
 * 0, or -1 when there is no such chunk. */
int farm_describe_poison(const farm_t* f, uint64_t i, char* out, size_t len);

/* Checks every invariant of the top of this file. Returns 0, or -1 with
 * the first one that does not hold described in why (len bytes). Costs
 * O(chunks + workers): for the simulator and the tests, after every call. */
int farm_check(const farm_t* f, char* why, size_t len);

/* The statistics so far: the run's into *st, the workers' into rank[]
 * (nworkers entries). st->rank points at rank. */
void farm_snapshot(const farm_t* f, uint64_t now, master_rank_stats_t* rank,
                   master_run_stats_t* st);

/* Mean seconds from a fault to its chunk done, over the chunks that had
 * one; 0 when none had. */
double farm_recovery_mean_s(const farm_t* f);

/* Distinct hosts of the run: the master's (farm_set_self_host) and those
 * the workers that greeted named in their HELLO. */
int farm_host_count(const farm_t* f);

/* The name of a peer state ("active"), static. */
const char* farm_state_name(farm_state_t s);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_FARM_H_ */
