/* The farm of farm.h. Each peer's state changes only in set_state(), which
 * also keeps the per-state counts; each order enters through add_order() and
 * leaves through drop_order(), which keep f->inflight and the idle list and
 * close the attempt in the chunk table. A send that fails marks the peer
 * broken; it is dropped from the farm by settle() at the end of the call
 * that noticed, so no loop ever sees a peer vanish under it. */
#include "master/farm.h"

#include <signal.h>

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/error.h"

/* Weight of the newest speed sample in a worker's smoothed speed. */
static const double kSpeedAlpha = 0.3;
/* Speculate only when the copy is predicted to finish this much sooner. */
static const double kSpeculateGain = 0.8;

enum {
  IDLE_LOOK = 16,  /* idle workers compared when a re-issue needs a taker */
  IDLE_FEEDS = 64, /* most idle workers fed in one go */
};

static void logf_(farm_t* f, farm_log_level_t level, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_(farm_t* f, farm_log_level_t level, const char* fmt, ...) {
  if (f->io.log == NULL) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  f->io.log(f->io.ctx, level, line);
}

static farm_peer_t* peer_of(farm_t* f, int rank) {
  assert(rank >= 1 && rank <= f->nworkers);
  return &f->peer[rank - 1];
}

/* ---- trace events ---------------------------------------------------- */

static uint64_t since_start(const farm_t* f, uint64_t t) {
  return t > f->t0_ns ? t - f->t0_ns : 0;
}

static void instant(farm_t* f, int rank, master_event_kind_t kind,
                    uint64_t chunk, uint64_t attempt, uint64_t now) {
  if (f->io.event == NULL) return;
  uint64_t t = since_start(f, now);
  master_event_t e = {kind, rank, chunk, attempt, 0, 0, t, t};
  if (chunk < f->table.count) {
    e.begin = f->table.chunk[chunk].begin;
    e.end = f->table.chunk[chunk].end;
  }
  f->io.event(f->io.ctx, &e);
}

/* The end of rank's attempt on chunk id: a slice from `start` to now. */
static void slice(farm_t* f, int rank, size_t id, uint64_t attempt,
                  master_event_kind_t kind, uint64_t start, uint64_t now) {
  if (f->io.event == NULL) return;
  const master_chunk_t* c = &f->table.chunk[id];
  master_event_t e = {kind,
                      rank,
                      id,
                      attempt,
                      c->begin,
                      c->end,
                      since_start(f, start),
                      since_start(f, now)};
  f->io.event(f->io.ctx, &e);
}

/* ---- peers: state, idle list, orders ---------------------------------- */

static int feedable(const farm_peer_t* p) {
  return p->state == FARM_ACTIVE && !p->suspect && !p->broken;
}

/* Keeps p on the idle list exactly while it is active, not suspect and
 * holds no order. */
static void refresh_idle(farm_t* f, farm_peer_t* p) {
  int want = feedable(p) && p->norders == 0;
  if (want == p->idle) return;
  if (want) {
    p->idle_prev = NULL;
    p->idle_next = f->idle_head;
    if (f->idle_head) f->idle_head->idle_prev = p;
    f->idle_head = p;
  } else {
    if (p->idle_prev)
      p->idle_prev->idle_next = p->idle_next;
    else
      f->idle_head = p->idle_next;
    if (p->idle_next) p->idle_next->idle_prev = p->idle_prev;
    p->idle_prev = p->idle_next = NULL;
  }
  p->idle = want;
}

static void set_suspect(farm_t* f, farm_peer_t* p, int suspect) {
  p->suspect = suspect;
  refresh_idle(f, p);
}

/* The counts a peer in state s adds to: alive (ACTIVE), takers (may take
 * work now or soon: WAITING or ACTIVE), lost (LOST or GONE). */
static void count_state(farm_t* f, farm_state_t s, int sign) {
  f->alive += sign * (s == FARM_ACTIVE);
  f->takers += sign * (s == FARM_ACTIVE || s == FARM_WAITING);
  f->lost += sign * (s == FARM_LOST || s == FARM_GONE);
}

/* The only place a peer's state changes. */
static void set_state(farm_t* f, farm_peer_t* p, farm_state_t next,
                      uint64_t now) {
  farm_state_t prev = p->state;
  if (prev == next) return;
  /* GONE is final; a REFUSED rank can only turn out GONE. */
  assert(prev != FARM_GONE);
  assert(prev != FARM_REFUSED || next == FARM_GONE);
  count_state(f, prev, -1);
  count_state(f, next, +1);
  if (next == FARM_LOST || next == FARM_GONE) {
    p->losses++;
    instant(f, p->rank, MASTER_EV_LOST, 0, 0, now);
  }
  if (prev == FARM_LOST && next == FARM_ACTIVE) {
    p->readmits++;
    instant(f, p->rank, MASTER_EV_BACK, 0, 0, now);
  }
  if (f->sched.alive != NULL)
    master_sched_set_alive(&f->sched, p->rank - 1,
                           next == FARM_ACTIVE || next == FARM_WAITING);
  p->state = next;
  refresh_idle(f, p);
}

/* The index of p's order for (chunk, attempt), or -1. */
static int find_order(const farm_peer_t* p, uint64_t chunk, uint64_t attempt) {
  for (int i = 0; i < p->norders; i++)
    if (p->order[i].chunk == chunk && p->order[i].attempt == attempt) return i;
  return -1;
}

static void add_order(farm_t* f, farm_peer_t* p, size_t id, uint64_t attempt,
                      uint64_t now) {
  assert(p->norders < FARM_QUEUE_DEPTH);
  if (p->norders == 0) {
    p->head_start_ns = now;
    p->head_done = 0;
  }
  p->order[p->norders++] = (farm_order_t){id, attempt, now, 0};
  f->inflight++;
  refresh_idle(f, p);
}

/* Removes p's order i and closes its attempt in the chunk table (a chunk
 * left with no attempt and no result goes back in line). The trace gets a
 * slice of kind, from when the computation began (busy_ns before now) or
 * the order became the head, to now. */
static void drop_order(farm_t* f, farm_peer_t* p, int i,
                       master_event_kind_t kind, uint64_t busy_ns,
                       uint64_t now) {
  farm_order_t o = p->order[i];
  uint64_t start = now;
  if (busy_ns > 0)
    start = busy_ns < since_start(f, now) ? now - busy_ns : f->t0_ns;
  else if (i == 0)
    start = p->head_start_ns;
  slice(f, p->rank, o.chunk, o.attempt, kind, start, now);
  memmove(&p->order[i], &p->order[i + 1],
          (size_t)(p->norders - i - 1) * sizeof(farm_order_t));
  p->norders--;
  f->inflight--;
  assert(f->inflight >= 0);
  if (i == 0) {
    p->head_start_ns = now;
    p->head_done = 0;
  }
  if (master_table_abandon(&f->table, o.chunk) < 0) farm_fail(f, PROTO_ENOMEM);
  refresh_idle(f, p);
}

/* Every order p holds is given up; its chunks go back in line. */
static void abandon_all(farm_t* f, farm_peer_t* p, uint64_t now) {
  while (p->norders > 0) drop_order(f, p, 0, MASTER_EV_ABANDONED, 0, now);
}

/* The static schedules: the next chunk p owns that is still waiting. */
static int next_owned(farm_peer_t* p, const master_table_t* t, size_t* id) {
  while (p->owned_pos < p->owned_count) {
    size_t c = p->owned[p->owned_pos++];
    if (t->chunk[c].state == MASTER_CHUNK_PENDING && !t->chunk[c].queued) {
      *id = c;
      return 1;
    }
  }
  return 0;
}

/* The static schedules: chunks p owns and has not started go in line for
 * the others (p failed, was refused or is lost). */
static void give_away_owned(farm_t* f, farm_peer_t* p) {
  size_t id;
  while (next_owned(p, &f->table, &id))
    if (master_table_requeue(&f->table, id) < 0) farm_fail(f, PROTO_ENOMEM);
}

/* ---- sending ---------------------------------------------------------- */

static void mark_broken(farm_t* f, farm_peer_t* p, int rc);

/* Sends msg to p. 0 when it went out; otherwise p is suspect (backed up)
 * or broken (settle() drops it), and the caller gives it nothing more. */
static int send_to(farm_t* f, farm_peer_t* p, const proto_msg_t* msg,
                   uint64_t now) {
  if (p->state == FARM_GONE) return PROTO_EMPI;
  int rc = f->io.send(f->io.ctx, p->rank, msg);
  if (rc == 0) {
    p->last_sent_ns = now;
    return 0;
  }
  if (rc == FARM_SEND_BUSY) {
    set_suspect(f, p, 1);
    return rc;
  }
  mark_broken(f, p, rc);
  return rc;
}

/* ---- the run's end ---------------------------------------------------- */

void farm_fail(farm_t* f, int rc) {
  assert(rc < 0);
  if (f->rc == 0) f->rc = rc;
  f->done = 1;
}

int farm_finished(const farm_t* f) { return master_table_finished(&f->table); }

static void check_finished(farm_t* f, uint64_t now) {
  if (f->done) return;
  if (f->job->kind == PROTO_JOB_HELLO) {
    /* Done when no rank is still expected to greet (lost ones are not). */
    if (f->takers == f->alive) f->done = 1;
    return;
  }
  if (farm_finished(f)) {
    f->done = 1;
    return;
  }
  if (f->stop_signal &&
      ((f->inflight == 0 && !f->solo_busy) || now >= f->stop_deadline_ns))
    f->done = 1;
}

/* ---- dispatch --------------------------------------------------------- */

/* Predicted ns until p finishes its order i, or 0 if unknown. */
static double remaining_ns(const farm_t* f, const farm_peer_t* p, int i) {
  if (p->speed <= 0) return 0;
  double left = 0;
  for (int k = 0; k <= i; k++) {
    const master_chunk_t* c = &f->table.chunk[p->order[k].chunk];
    double size = (double)(c->end - c->begin);
    left += k == 0 ? size - (double)p->head_done : size;
  }
  return left / p->speed;
}

/* How many orders a worker holds: two hide the master's reaction time
 * behind the next chunk; chunks far shorter than a message round trip need
 * more in flight. */
static int queue_depth(const farm_t* f) {
  if (f->min_chunk_ns == 0 || f->min_chunk_ns > 1000000) return 2;
  return f->min_chunk_ns > 100000 ? 4 : FARM_QUEUE_DEPTH;
}

/* The chunk p gets next: a re-issued one first, then what the schedule
 * gives p. 1 and *id, 0 when none, or a negative code. */
static int pick_chunk(farm_t* f, farm_peer_t* p, size_t* id) {
  if (master_table_pop_requeued(&f->table, id)) return 1;
  if (f->is_static) return next_owned(p, &f->table, id);
  if (f->table.next_begin >= f->table.n) return 0;
  uint64_t size =
      master_sched_next(&f->sched, p->rank - 1, f->table.next_begin);
  return master_table_cut(&f->table, size, id);
}

/* Sends p an order for chunk id. */
static void issue(farm_t* f, farm_peer_t* p, size_t id, uint64_t now) {
  uint32_t attempt = master_table_issue(&f->table, id, p->rank);
  const master_chunk_t* c = &f->table.chunk[id];
  proto_msg_t work = {.kind = PROTO_TAG_WORK,
                      .chunk = id,
                      .attempt = attempt,
                      .begin = c->begin,
                      .end = c->end,
                      .scale = f->scale};
  add_order(f, p, id, attempt, now);
  /* An order that did not go out is withdrawn at once: held but never
   * received, it would leave the worker idle and silent until it is lost. */
  if (send_to(f, p, &work, now) != 0)
    drop_order(f, p, p->norders - 1, MASTER_EV_ABANDONED, 0, now);
}

static void speculate(farm_t* f, farm_peer_t* p, uint64_t now);

/* Gives p orders until it holds queue_depth() or nothing is left to issue;
 * an idle worker with nothing left may get a copy of a straggler's chunk. */
static void feed(farm_t* f, farm_peer_t* p, uint64_t now) {
  if (f->stop_signal || f->done) return;
  int depth = queue_depth(f);
  while (feedable(p) && p->norders < depth) {
    /* Prefetch hides the master's reaction time; a worker that already
     * holds long orders would only hoard work another could start sooner
     * (and the size-by-remaining schedules would hand it two shares). */
    if (p->norders > 0 && remaining_ns(f, p, p->norders - 1) > FARM_LEAD_NS)
      return;
    size_t id;
    int got = pick_chunk(f, p, &id);
    if (got < 0) {
      farm_fail(f, got);
      return;
    }
    if (got == 0) {
      if (p->norders == 0 && f->speculate) speculate(f, p, now);
      return;
    }
    issue(f, p, id, now);
  }
}

/* Chunks waiting for re-issue go to the fastest of the first IDLE_LOOK idle
 * workers, a bounded number at a time. */
static void feed_idle(farm_t* f, uint64_t now) {
  for (int n = 0; n < IDLE_FEEDS && f->table.rq_count > 0 && f->idle_head;
       n++) {
    farm_peer_t* best = f->idle_head;
    farm_peer_t* q = best->idle_next;
    for (int k = 1; q != NULL && k < IDLE_LOOK; k++, q = q->idle_next)
      if (q->speed > best->speed) best = q;
    feed(f, best, now);
    if (best->idle) return; /* nothing it could take after all */
  }
}

/* Remembers that order i of p is predicted to finish at `finish`: the
 * FARM_CANDIDATES latest finishers are kept for speculation. */
static void note_candidate(farm_t* f, farm_peer_t* p, int i, uint64_t finish) {
  const farm_order_t* o = &p->order[i];
  farm_candidate_t* slot = NULL;
  for (int k = 0; k < FARM_CANDIDATES; k++) {
    farm_candidate_t* c = &f->cand[k];
    if (c->peer == p && c->chunk == o->chunk && c->attempt == o->attempt) {
      c->finish_ns = finish;
      return;
    }
    if (slot == NULL || c->peer == NULL ||
        (slot->peer != NULL && c->finish_ns < slot->finish_ns))
      slot = c;
  }
  if (slot->peer != NULL && slot->finish_ns >= finish) return;
  *slot = (farm_candidate_t){p, o->chunk, o->attempt, finish};
}

/* Backup tasks at the end of the run (as MapReduce and LATE do): give idle p
 * a copy of the outstanding chunk predicted to finish last, when p is
 * predicted to finish it clearly sooner. The first result counts. */
static void speculate(farm_t* f, farm_peer_t* p, uint64_t now) {
  if (p->speed <= 0) return;
  farm_peer_t* best = NULL;
  size_t best_chunk = 0;
  double best_left = 0;
  for (int k = 0; k < FARM_CANDIDATES; k++) {
    farm_candidate_t* c = &f->cand[k];
    if (c->peer == NULL || c->peer == p) continue;
    int i = find_order(c->peer, c->chunk, c->attempt);
    const master_chunk_t* ch = &f->table.chunk[c->chunk];
    if (i < 0 || c->peer->order[i].timed_out ||
        ch->state == MASTER_CHUNK_DONE || ch->live > 1) {
      c->peer = NULL; /* finished, copied or given up since */
      continue;
    }
    double left = remaining_ns(f, c->peer, i);
    if (left > best_left) {
      best = c->peer;
      best_chunk = c->chunk;
      best_left = left;
    }
  }
  if (best == NULL) return;
  const master_chunk_t* c = &f->table.chunk[best_chunk];
  double mine = (double)(c->end - c->begin) / p->speed;
  if (mine >= kSpeculateGain * best_left) return;
  f->speculative++;
  instant(f, p->rank, MASTER_EV_SPECULATE, best_chunk, c->attempts + 1, now);
  issue(f, p, best_chunk, now);
}

/* ---- faults ------------------------------------------------------------ */

static void reject(farm_t* f, farm_peer_t* p, const char* what, int tag,
                   size_t len) {
  p->rejected++;
  if (p->rejected > FARM_LOG_LIMIT) return;
  /* A message larger than the receive buffer is cut off: its size is not
   * known, only that it is too large. */
  char size[48];
  if (len > PROTO_MAX_BYTES)
    snprintf(size, sizeof(size), "more than %d bytes", PROTO_MAX_BYTES);
  else
    snprintf(size, sizeof(size), "%zu bytes", len);
  logf_(f, FARM_LOG_WARN, "dropped a message from rank %d (tag %d, %s): %s%s",
        p->rank, tag, size, what,
        p->rejected == FARM_LOG_LIMIT ? " (further ones not shown)" : "");
}

/* p's orders missed their deadline, or p fell silent: every order it holds
 * goes back in line for the others (its attempts stay open, so a late
 * result still counts if it is first). */
static void time_out(farm_t* f, farm_peer_t* p, const char* why, int say,
                     uint64_t now) {
  int any = 0;
  for (int k = 0; k < p->norders; k++) {
    farm_order_t* o = &p->order[k];
    if (o->timed_out) continue;
    o->timed_out = 1;
    any = 1;
    master_chunk_t* c = &f->table.chunk[o->chunk];
    if (c->fault_ns == 0) c->fault_ns = p->last_heard_ns;
    if (c->state != MASTER_CHUNK_DONE) {
      f->reissues++;
      p->reissued++;
      instant(f, p->rank, MASTER_EV_REISSUE, o->chunk, o->attempt, now);
    }
    if (master_table_requeue(&f->table, o->chunk) < 0)
      farm_fail(f, PROTO_ENOMEM);
  }
  if (!any) return;
  instant(f, p->rank, MASTER_EV_TIMEOUT, p->order[0].chunk, p->order[0].attempt,
          now);
  p->timeouts++;
  p->strikes++;
  set_suspect(f, p, 1);
  if (say)
    logf_(f, FARM_LOG_INFO, "rank %d timed out (%s); re-issuing its %d chunk%s",
          p->rank, why, p->norders, p->norders == 1 ? "" : "s");
}

/* p takes no work until it speaks again (LOST) or ever (GONE): what it
 * held goes to the others. */
static void lose(farm_t* f, farm_peer_t* p, farm_state_t as, const char* why,
                 uint64_t now) {
  int held = p->norders;
  time_out(f, p, why, as != FARM_GONE, now);
  abandon_all(f, p, now);
  give_away_owned(f, p);
  set_state(f, p, as, now);
  logf_(f, as == FARM_GONE ? FARM_LOG_WARN : FARM_LOG_INFO,
        "rank %d (%s pid %llu) is lost%s: %s; %d chunk%s re-issued", p->rank,
        p->host[0] ? p->host : "?", (unsigned long long)p->pid,
        as == FARM_GONE ? " for good" : "", why, held, held == 1 ? "" : "s");
}

/* p never gets work: another version or job, or it broke the protocol. */
static void refuse(farm_t* f, farm_peer_t* p, int code, uint64_t now) {
  abandon_all(f, p, now);
  give_away_owned(f, p);
  set_state(f, p, FARM_REFUSED, now);
  proto_msg_t refuse = {.kind = PROTO_TAG_REFUSE, .code = code};
  send_to(f, p, &refuse, now);
}

static void retire(farm_t* f, farm_peer_t* p, uint64_t now) {
  abandon_all(f, p, now);
  give_away_owned(f, p);
  set_state(f, p, FARM_RETIRED, now);
  proto_msg_t stop = {.kind = PROTO_TAG_STOP};
  send_to(f, p, &stop, now);
}

/* A send to p failed: it gets nothing more now, and settle() drops it. */
static void mark_broken(farm_t* f, farm_peer_t* p, int rc) {
  if (p->state == FARM_GONE || p->broken) return;
  p->broken = rc;
  set_suspect(f, p, 1);
  f->broken_any = 1;
}

/* Drops broken peers from the farm. Called at the end of every entry point,
 * when no loop holds a pointer into a peer's orders. Links break rarely:
 * the peers are scanned only when one did since the last settle(). */
static void settle(farm_t* f, uint64_t now) {
  while (f->broken_any) {
    f->broken_any = 0;
    for (int i = 0; i < f->nworkers; i++) {
      farm_peer_t* p = &f->peer[i];
      if (!p->broken || p->state == FARM_GONE) continue;
      lose(f, p, FARM_GONE, "its link failed (the MPI error is above)", now);
    }
  }
}

/* ---- messages ---------------------------------------------------------- */

/* Folds a speed sample (indices per ns) into p's smoothed speed. */
static void learn_speed(farm_t* f, farm_peer_t* p, double indices, double ns) {
  if (!(ns > 0) || !(indices > 0)) return;
  double sample = indices / ns;
  if (p->speed <= 0) {
    f->speed_known++;
  } else {
    f->speed_sum -= p->speed;
    sample = (1 - kSpeedAlpha) * p->speed + kSpeedAlpha * sample;
  }
  p->speed = sample;
  f->speed_sum += p->speed;
}

/* A chunk that had a fault is done: how long since the fault. */
static void note_recovery(farm_t* f, size_t id, uint64_t now) {
  const master_chunk_t* c = &f->table.chunk[id];
  if (c->fault_ns == 0) return;
  double s = (double)(now > c->fault_ns ? now - c->fault_ns : 0) / 1e9;
  f->recoveries++;
  f->recovery_sum_s += s;
  if (s > f->recovery_max_s) f->recovery_max_s = s;
}

/* A chunk is done: every other holder of it drops it. */
static void cancel_copies(farm_t* f, size_t id, int winner,
                          uint64_t win_attempt, uint64_t now) {
  /* feed() below may cut new chunks and so move the table: the chunk is
   * held by its id, never by a pointer across it. Its attempts cannot
   * change meanwhile (it is done). */
  uint64_t attempts = f->table.chunk[id].attempts;
  uint64_t first =
      attempts > MASTER_MAX_ATTEMPTS ? attempts - MASTER_MAX_ATTEMPTS + 1 : 1;
  for (uint64_t a = first; a <= attempts; a++) {
    int r = master_table_holder(&f->table, id, a);
    if ((r == winner && a == win_attempt) || r < 1 || r > f->nworkers) continue;
    farm_peer_t* q = peer_of(f, r);
    int i = find_order(q, id, a);
    if (i < 0) continue;
    uint64_t done = i == 0 ? q->head_done : 0;
    instant(f, r, MASTER_EV_CANCEL, id, a, now);
    drop_order(f, q, i, MASTER_EV_CANCELLED, 0, now);
    q->cancels++;
    f->wasted_iters += done;
    proto_msg_t cancel = {.kind = PROTO_TAG_CANCEL, .chunk = id, .attempt = a};
    if (send_to(f, q, &cancel, now) == 0) feed(f, q, now);
  }
}

/* Adds an accepted partial to the result and the journal. */
static void accept(farm_t* f, size_t id, int rank, uint64_t attempt,
                   const proto_msg_t* msg, uint64_t now) {
  proto_exact_merge(&f->fsum, &msg->fsum);
  f->isum += msg->isum;
  if (f->io.record != NULL) {
    const master_chunk_t* c = &f->table.chunk[id];
    master_record_t r = {.begin = c->begin,
                         .end = c->end,
                         .rank = rank,
                         .attempt = (uint32_t)attempt,
                         .isum = msg->isum,
                         .fsum = msg->fsum};
    int rc = f->io.record(f->io.ctx, &r);
    if (rc < 0) farm_fail(f, rc);
  }
  note_recovery(f, id, now);
  cancel_copies(f, id, rank, attempt, now);
}

static void on_result(farm_t* f, farm_peer_t* p, const proto_msg_t* msg,
                      uint64_t now) {
  int held = find_order(p, msg->chunk, msg->attempt);
  master_verdict_t v = master_table_complete(
      &f->table, p->rank, msg->chunk, msg->attempt, msg->begin, msg->end);
  if (held >= 0)
    drop_order(f, p, held,
               v == MASTER_ACCEPT      ? MASTER_EV_ACCEPTED
               : v == MASTER_DUPLICATE ? MASTER_EV_DUPLICATE
                                       : MASTER_EV_ABANDONED,
               msg->busy_ns > 0 ? msg->busy_ns : 1, now);
  if (v == MASTER_INVALID) {
    /* A range that does not match an order it holds is a lie: the order is
     * given up above, and the chunk goes to someone else. */
    reject(f, p, "RESULT for a chunk, attempt or range it was not given",
           PROTO_TAG_RESULT, proto_size(PROTO_TAG_RESULT));
    feed_idle(f, now);
    feed(f, p, now);
    return;
  }
  if (held < 0)
    slice(f, p->rank, (size_t)msg->chunk, msg->attempt,
          v == MASTER_DUPLICATE ? MASTER_EV_DUPLICATE : MASTER_EV_ACCEPTED,
          msg->busy_ns < since_start(f, now) ? now - msg->busy_ns : f->t0_ns,
          now);
  uint64_t size = msg->end - msg->begin;
  learn_speed(f, p, (double)size, (double)msg->busy_ns);
  master_sched_learn(&f->sched, p->rank - 1, size, (double)msg->busy_ns / 1e9);
  p->strikes = 0;
  p->fails = 0;
  if (v == MASTER_DUPLICATE) {
    p->duplicates++;
    f->wasted_iters += size;
  } else {
    p->chunks++;
    p->iters += size;
    p->busy_ns += msg->busy_ns;
    p->finish_ns = now;
    if (f->min_chunk_ns == 0 || msg->busy_ns < f->min_chunk_ns)
      f->min_chunk_ns = msg->busy_ns;
    accept(f, (size_t)msg->chunk, p->rank, msg->attempt, msg, now);
  }
  feed(f, p, now);
}

static void on_progress(farm_t* f, farm_peer_t* p, const proto_msg_t* msg) {
  if (p->norders == 0 || p->order[0].chunk != msg->chunk ||
      p->order[0].attempt != msg->attempt)
    return; /* a cancelled or stale order: the heartbeat still counted */
  const master_chunk_t* c = &f->table.chunk[p->order[0].chunk];
  if (msg->done > c->end - c->begin) {
    reject(f, p, "PROGRESS past the end of its chunk", PROTO_TAG_PROGRESS,
           proto_size(PROTO_TAG_PROGRESS));
    return;
  }
  if (msg->done > p->head_done) {
    /* The busy time of the new indices, in proportion (in doubles: the
     * product of two 64-bit counts can overflow). */
    double part = (double)(msg->done - p->head_done) / (double)msg->done;
    learn_speed(f, p, (double)(msg->done - p->head_done),
                (double)msg->busy_ns * part);
    p->head_done = msg->done;
  }
}

static void on_fail(farm_t* f, farm_peer_t* p, const proto_msg_t* msg,
                    uint64_t now) {
  int i = find_order(p, msg->chunk, msg->attempt);
  if (i < 0) {
    reject(f, p, "FAIL for a chunk it does not hold", PROTO_TAG_FAIL,
           proto_size(PROTO_TAG_FAIL));
    return;
  }
  drop_order(f, p, i, MASTER_EV_ABANDONED, 0, now);
  /* A full order queue is the worker's back-pressure, not a failure. */
  if (msg->code != PROTO_EQUEUE && ++p->fails >= FARM_FAIL_LIMIT) {
    logf_(f, FARM_LOG_WARN,
          "rank %d on %s cannot compute chunks (%s); it gets no more work",
          p->rank, p->host[0] ? p->host : "?", proto_strerror((int)msg->code));
    retire(f, p, now);
  }
  /* Another worker picks the chunk up. */
  feed_idle(f, now);
  feed(f, p, now);
}

static void on_hello(farm_t* f, farm_peer_t* p, const proto_msg_t* msg,
                     uint64_t now) {
  if (p->greeted) {
    reject(f, p, "second HELLO", PROTO_TAG_HELLO, proto_size(PROTO_TAG_HELLO));
    return;
  }
  p->pid = msg->pid;
  memcpy(p->host, msg->host, sizeof(p->host));
  p->host[sizeof(p->host) - 1] = '\0';
  if (msg->fingerprint != f->fingerprint) {
    logf_(f, FARM_LOG_WARN,
          "rank %d on %s was started with another job or arguments; it gets "
          "no work",
          p->rank, p->host[0] ? p->host : "?");
    refuse(f, p, PROTO_EJOB, now);
    return;
  }
  p->greeted = 1;
  p->last_heard_ns = now;
  if (p->state == FARM_LOST)
    logf_(f, FARM_LOG_INFO, "rank %d greeted late; it takes work", p->rank);
  set_state(f, p, FARM_ACTIVE, now);
  if (f->job->kind == PROTO_JOB_HELLO) {
    retire(f, p, now);
    return;
  }
  feed(f, p, now);
}

void farm_message(farm_t* f, int rank, const proto_msg_t* msg, uint64_t now) {
  farm_peer_t* p = peer_of(f, rank);
  f->msgs++;
  /* BYE answers STOP or REFUSE (the link stops receiving from that rank);
   * from a rank told neither it is one more message it should not send. */
  if (msg->kind == PROTO_TAG_BYE &&
      (p->state == FARM_RETIRED || p->state == FARM_REFUSED))
    goto out;
  if (p->state == FARM_REFUSED || p->state == FARM_GONE) {
    reject(f, p, "message from a refused or lost-for-good rank", (int)msg->kind,
           proto_size(msg->kind));
    goto out;
  }
  if (msg->kind == PROTO_TAG_HELLO) {
    on_hello(f, p, msg, now);
    goto out;
  }
  /* Until its HELLO is checked a rank is nobody: what it says is dropped,
   * and it does not count as alive. */
  if (!p->greeted) {
    reject(f, p, "message before its HELLO", (int)msg->kind,
           proto_size(msg->kind));
    goto out;
  }
  p->last_heard_ns = now;
  int was_idle = feedable(p) ? 0 : 1;
  if (p->suspect && !p->broken) set_suspect(f, p, 0);
  if (p->state == FARM_LOST) {
    logf_(f, FARM_LOG_INFO, "rank %d is back; it takes work again", p->rank);
    p->strikes = 0;
    set_state(f, p, FARM_ACTIVE, now);
  }
  /* It may take work again: it gets some now, whatever it said. */
  if (was_idle && feedable(p)) feed(f, p, now);
  switch (msg->kind) {
    case PROTO_TAG_RESULT:
      on_result(f, p, msg, now);
      break;
    case PROTO_TAG_FAIL:
      on_fail(f, p, msg, now);
      break;
    case PROTO_TAG_PROGRESS:
      on_progress(f, p, msg);
      break;
    default:
      reject(f, p, "message kind a worker never sends", (int)msg->kind,
             proto_size(msg->kind));
  }
out:
  settle(f, now);
  check_finished(f, now);
}

void farm_bad_message(farm_t* f, int rank, int rc, int tag, size_t len,
                      uint32_t version, uint64_t now) {
  farm_peer_t* p = peer_of(f, rank);
  f->msgs++;
  if (rc == PROTO_EVERSION && p->state != FARM_REFUSED &&
      p->state != FARM_GONE) {
    logf_(f, FARM_LOG_WARN,
          "rank %d speaks protocol version %u, this master %d: it gets no "
          "work (run one build on every rank)",
          p->rank, version, PROTO_VERSION);
    p->rejected++;
    refuse(f, p, PROTO_EVERSION, now);
  } else {
    reject(f, p, proto_strerror(rc), tag, len);
  }
  settle(f, now);
  check_finished(f, now);
}

void farm_link_error(farm_t* f, int rank, const char* what, uint64_t now) {
  farm_peer_t* p = peer_of(f, rank);
  if (p->state != FARM_GONE) lose(f, p, FARM_GONE, what, now);
  settle(f, now);
  feed_idle(f, now);
  check_finished(f, now);
}

/* ---- time -------------------------------------------------------------- */

/* The expected compute time of p's head order, in ns: from p's speed, else
 * the mean speed of the others; 0 when nobody has measured anything yet. */
static double expected_head_ns(const farm_t* f, const farm_peer_t* p) {
  const master_chunk_t* c = &f->table.chunk[p->order[0].chunk];
  double speed = p->speed;
  if (speed <= 0 && f->speed_known > 0) speed = f->speed_sum / f->speed_known;
  return speed > 0 ? (double)(c->end - c->begin) / speed : 0;
}

/* Deadlines, silence and pings of one peer. */
static void check_peer(farm_t* f, farm_peer_t* p, uint64_t now) {
  const proto_job_t* job = f->job;
  if (p->state == FARM_WAITING) {
    if (now - f->t0_ns > f->hello_wait_ns)
      lose(f, p, FARM_LOST, "it never said HELLO", now);
    return;
  }
  if (p->state != FARM_ACTIVE) return;
  double silent = (double)(now - p->last_heard_ns);
  if (p->suspect && silent > job->lost_after * 1e9) {
    lose(f, p, FARM_LOST, "silent since its deadline passed", now);
    return;
  }
  /* Every worker, busy or idle, hears from the master at least every
   * FARM_PING_NS: a worker that hears nothing for --master-timeout leaves. */
  if (now - p->last_sent_ns >= FARM_PING_NS) {
    proto_msg_t ping = {.kind = PROTO_TAG_PING};
    if (send_to(f, p, &ping, now) < 0) return;
  }
  /* An idle worker that may take work again (its suspicion cleared, or
   * it came back) gets it here at the latest; a busy one gets the orders
   * held back by FARM_LEAD_NS. */
  feed(f, p, now);
  if (p->norders == 0) return;
  if (silent > job->lost_after * 1e9) {
    lose(f, p, FARM_LOST, "silent while holding work", now);
    return;
  }
  for (int k = 0; f->speculate && k < p->norders; k++)
    if (!p->order[k].timed_out)
      note_candidate(f, p, k, now + (uint64_t)remaining_ns(f, p, k));
  if (p->order[0].timed_out) return;
  double since = (double)(now - p->head_start_ns);
  /* Heartbeats make silence the sign of a frozen or dead worker; a fixed
   * --timeout or an overrun of the expected time catches the rest. */
  int late = 0;
  const char* why = NULL;
  double floor_ns = job->timeout_floor * 1e9;
  if (silent > floor_ns) {
    late = 1;
    why = "silent";
  } else if (job->timeout > 0) {
    late = since > job->timeout * 1e9;
    why = "fixed deadline passed";
  } else {
    double expected = expected_head_ns(f, p);
    late = expected > 0 && since > job->timeout_factor * expected + floor_ns;
    why = "deadline passed";
  }
  if (!late) return;
  time_out(f, p, why, 1, now);
  if (p->strikes >= FARM_STRIKE_LIMIT)
    lose(f, p, FARM_LOST, "missed deadlines repeatedly", now);
}

/* Once a run without --journal has lasted FARM_JOURNAL_HINT_S on several
 * hosts, one warning says what a dead host would cost. */
static void hint_journal(farm_t* f, uint64_t now) {
  if (f->warned_hosts || now - f->t0_ns < FARM_JOURNAL_HINT_S * 1000000000ull)
    return;
  f->warned_hosts = 1;
  if (f->job->journal[0] != '\0' || !f->self_host[0] ||
      f->job->kind == PROTO_JOB_HELLO)
    return;
  int hosts = farm_host_count(f);
  if (hosts < 2) return;
  logf_(f, FARM_LOG_WARN,
        "this run has taken %d s on %d hosts without --journal: if a host "
        "dies, mpiexec ends the whole job and every finished chunk is lost; "
        "long runs should give --journal FILE and run under tools/supervise, "
        "which resumes on the hosts that still answer",
        FARM_JOURNAL_HINT_S, hosts);
}

void farm_tick(farm_t* f, uint64_t now) {
  if (f->done || f->nworkers == 0) goto out;
  hint_journal(f, now);
  /* A bounded slice of the workers per tick, every one within
   * FARM_SCAN_NS: the cost per tick does not grow with the farm. */
  uint64_t dt = now > f->scanned_ns ? now - f->scanned_ns : 0;
  uint64_t visits =
      ((uint64_t)f->nworkers * dt + FARM_SCAN_NS - 1) / FARM_SCAN_NS;
  if (visits < FARM_SCAN_MIN) visits = FARM_SCAN_MIN;
  if (visits > (uint64_t)f->nworkers) visits = (uint64_t)f->nworkers;
  f->scanned_ns = now;
  for (uint64_t k = 0; k < visits && !f->done; k++) {
    check_peer(f, &f->peer[f->scan_pos], now);
    f->scan_pos = (f->scan_pos + 1) % (size_t)f->nworkers;
  }
  /* Chunks taken from lost or late workers go to the fastest free ones. */
  feed_idle(f, now);
out:
  settle(f, now);
  check_finished(f, now);
}

void farm_stop(farm_t* f, int signum, uint64_t now) {
  if (f->stop_signal) return;
  f->stop_signal = signum;
  uint64_t grace_ms =
      signum == SIGINT ? FARM_STOP_GRACE_INT_MS : FARM_STOP_GRACE_MS;
  f->stop_deadline_ns = now + grace_ms * 1000000u;
  /* Orders not yet started are withdrawn; the ones being computed may
   * still finish and count. */
  for (int i = 0; i < f->nworkers; i++) {
    farm_peer_t* p = &f->peer[i];
    while (p->norders > 1) {
      farm_order_t o = p->order[p->norders - 1];
      drop_order(f, p, p->norders - 1, MASTER_EV_CANCELLED, 0, now);
      proto_msg_t cancel = {
          .kind = PROTO_TAG_CANCEL, .chunk = o.chunk, .attempt = o.attempt};
      if (p->state == FARM_ACTIVE) send_to(f, p, &cancel, now);
    }
  }
  settle(f, now);
  check_finished(f, now);
}

void farm_release(farm_t* f, uint64_t now) {
  for (int i = 0; i < f->nworkers; i++) {
    farm_peer_t* p = &f->peer[i];
    if (p->state == FARM_ACTIVE || p->state == FARM_WAITING ||
        p->state == FARM_LOST)
      retire(f, p, now);
  }
  settle(f, now);
}

/* ---- the master computing alone ---------------------------------------- */

int farm_solo_wanted(const farm_t* f) {
  return !f->done && !f->stop_signal && !f->solo_busy && f->takers == 0 &&
         !farm_finished(f);
}

int farm_solo_take(farm_t* f, farm_solo_t* s) {
  size_t id;
  int got = master_table_pop_requeued(&f->table, &id);
  /* Chunks cut up front (static schedules) and never issued. */
  while (!got && f->solo_scan < f->table.count) {
    const master_chunk_t* c = &f->table.chunk[f->solo_scan];
    if (c->state == MASTER_CHUNK_PENDING && c->attempts == 0 && !c->queued) {
      id = f->solo_scan;
      got = 1;
    }
    f->solo_scan++;
  }
  if (!got) got = master_table_cut(&f->table, f->chunk_size, &id);
  if (got <= 0) return got;
  const master_chunk_t* c = &f->table.chunk[id];
  s->chunk = id;
  s->attempt = master_table_issue(&f->table, id, 0);
  s->begin = c->begin;
  s->end = c->end;
  f->solo_busy = 1;
  return 1;
}

void farm_solo_done(farm_t* f, const farm_solo_t* s, const proto_msg_t* result,
                    uint64_t now) {
  assert(f->solo_busy);
  f->solo_busy = 0;
  master_verdict_t v = master_table_complete(&f->table, 0, s->chunk, s->attempt,
                                             s->begin, s->end);
  assert(v != MASTER_INVALID);
  if (master_table_abandon(&f->table, s->chunk) < 0) farm_fail(f, PROTO_ENOMEM);
  if (v == MASTER_ACCEPT) {
    f->master_iters += s->end - s->begin;
    accept(f, s->chunk, 0, s->attempt, result, now);
  } else {
    f->wasted_iters += s->end - s->begin;
  }
  settle(f, now);
  check_finished(f, now);
}

void farm_solo_drop(farm_t* f, const farm_solo_t* s, uint64_t now) {
  assert(f->solo_busy);
  f->solo_busy = 0;
  if (master_table_abandon(&f->table, s->chunk) < 0) farm_fail(f, PROTO_ENOMEM);
  check_finished(f, now);
}

void farm_solo_failed(farm_t* f, const farm_solo_t* s, int rc) {
  assert(f->solo_busy);
  f->solo_busy = 0;
  if (master_table_abandon(&f->table, s->chunk) < 0) rc = PROTO_ENOMEM;
  farm_fail(f, rc);
}

/* ---- set-up ------------------------------------------------------------ */

/* The static schedules cut every chunk now and give each worker its list. */
static int assign_static(farm_t* f) {
  for (uint64_t cut = 0; f->table.next_begin < f->table.n; cut++) {
    uint64_t begin = f->table.next_begin;
    uint64_t size = master_sched_next(&f->sched, 0, begin);
    farm_peer_t* p = &f->peer[master_sched_owner(&f->sched, begin, cut)];
    size_t id;
    int rc = master_table_cut(&f->table, size, &id);
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

/* Takes a journal's chunks as done before this run. */
static int resume(farm_t* f, const master_done_t* done) {
  if (done == NULL || done->count == 0) return 0;
  int rc = master_table_preload(&f->table, done->range, done->count);
  if (rc < 0) return rc;
  proto_exact_merge(&f->fsum, &done->fsum);
  f->isum += done->isum;
  f->resumed_iters += done->iters;
  return 0;
}

int farm_init(farm_t* f, const proto_job_t* job, int workers,
              const farm_io_t* io, const master_done_t* done, uint64_t now) {
  memset(f, 0, sizeof(*f));
  f->job = job;
  f->io = *io;
  f->nworkers = workers;
  f->t0_ns = f->scanned_ns = now;
  f->hello_wait_ns = (uint64_t)FARM_HELLO_WAIT_S * 1000000000u;
  f->fingerprint = proto_job_fingerprint(job);
  f->speculate = proto_job_speculates(job);
  f->chunk_size = master_chunk_size(job, workers);
  f->min_chunk = master_min_chunk(job, workers);
  proto_exact_init(&f->fsum);
  int rc =
      master_table_init(&f->table, job->kind == PROTO_JOB_HELLO ? 0 : job->n,
                        master_chunk_align(job));
  if (rc < 0) return rc;
  rc = resume(f, done);
  if (rc < 0 || workers == 0) goto out;
  f->peer = calloc((size_t)workers, sizeof(*f->peer));
  if (f->peer == NULL) {
    rc = PROTO_ENOMEM;
    goto out;
  }
  for (int i = 0; i < workers; i++) {
    f->peer[i].rank = i + 1;
    f->peer[i].last_heard_ns = f->peer[i].last_sent_ns = now;
  }
  f->takers = workers; /* every peer starts WAITING */
  if (job->schedule == PROTO_SCHED_WF && job->nweights != workers) {
    rc = PROTO_EINVAL;
    goto out;
  }
  rc = master_sched_init(&f->sched, job->schedule, f->table.n, workers,
                         f->table.align, f->chunk_size, f->min_chunk, 0,
                         job->nweights > 0 ? job->weight : NULL);
  if (rc < 0) goto out;
  f->is_static = master_sched_is_static(&f->sched);
  if (f->is_static) rc = assign_static(f);
out:
  if (rc < 0) farm_close(f);
  return rc;
}

void farm_close(farm_t* f) {
  for (int i = 0; f->peer != NULL && i < f->nworkers; i++)
    free(f->peer[i].owned);
  free(f->peer);
  f->peer = NULL;
  master_sched_close(&f->sched);
  master_table_close(&f->table);
}

/* ---- statistics -------------------------------------------------------- */

const char* farm_state_name(farm_state_t s) {
  switch (s) {
    case FARM_WAITING:
      return "waiting";
    case FARM_ACTIVE:
      return "active";
    case FARM_REFUSED:
      return "refused";
    case FARM_RETIRED:
      return "retired";
    case FARM_LOST:
      return "lost";
    case FARM_GONE:
      return "gone";
  }
  return "?";
}

static double seconds(uint64_t ns) { return (double)ns / 1e9; }

double farm_recovery_mean_s(const farm_t* f) {
  return f->recoveries ? f->recovery_sum_s / (double)f->recoveries : 0;
}

void farm_snapshot(const farm_t* f, uint64_t now, master_rank_stats_t* rank,
                   master_run_stats_t* st) {
  for (int i = 0; i < f->nworkers; i++) {
    const farm_peer_t* p = &f->peer[i];
    master_rank_stats_t* r = &rank[i];
    memset(r, 0, sizeof(*r));
    r->rank = p->rank;
    memcpy(r->host, p->host, sizeof(r->host));
    r->pid = p->pid;
    r->chunks = p->chunks;
    r->iters = p->iters;
    r->busy_s = seconds(p->busy_ns);
    r->finish_s =
        p->finish_ns > f->t0_ns ? seconds(p->finish_ns - f->t0_ns) : 0;
    r->timeouts = p->timeouts;
    r->reissued = p->reissued;
    r->duplicates = p->duplicates;
    r->cancels = p->cancels;
    r->rejected = p->rejected;
    r->lost = p->losses > p->readmits;
    r->state = farm_state_name(p->state);
    r->speed = p->speed * 1e9;
    master_sched_learned(&f->sched, i, &r->learned);
  }
  memset(st, 0, sizeof(*st));
  st->job = f->job;
  st->workers = f->nworkers;
  st->chunks = f->table.count;
  st->chunk_size = f->chunk_size;
  st->min_chunk = f->min_chunk;
  st->wall_s = seconds(now - f->t0_ns);
  st->messages = f->msgs;
  st->reissues = f->reissues;
  st->speculative = f->speculative;
  st->wasted_iters = f->wasted_iters;
  st->master_iters = f->master_iters;
  st->resumed_iters = f->resumed_iters;
  st->recovery_max_s = f->recovery_max_s;
  st->recovery_mean_s = farm_recovery_mean_s(f);
  st->stopped = f->stop_signal != 0;
  st->rank = rank;
}

void farm_set_self_host(farm_t* f, const char* self) {
  snprintf(f->self_host, sizeof(f->self_host), "%s", self);
}

int farm_host_count(const farm_t* f) {
  int hosts = 1;
  for (int i = 0; i < f->nworkers; i++) {
    const char* h = f->peer[i].host;
    if (!f->peer[i].greeted || strcmp(h, f->self_host) == 0) continue;
    int seen = 0;
    for (int j = 0; j < i && !seen; j++)
      seen = f->peer[j].greeted && strcmp(f->peer[j].host, h) == 0;
    hosts += !seen;
  }
  return hosts;
}
