/* The farm of farm.h. Each peer's state changes only in set_state(), which
 * also keeps the per-state counts; each order enters through add_order() and
 * leaves through drop_order(), which keep f->inflight and the idle list and
 * close the attempt in the chunk table. A chunk's check changes only in
 * set_check(), which keeps f->checks_open. A send that fails marks the peer
 * broken; it is dropped from the farm by settle() at the end of the call
 * that noticed, so no loop ever sees a peer vanish under it. A pointer into
 * the chunk table never lives across a call that may cut chunks (feed,
 * issue): the table may move. */
#include "master/farm.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "master/digest.h"
#include "master/farm_private.h"
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

static const char* host_of(const farm_peer_t* p) {
  return p->host[0] ? p->host : "?";
}

/* ---- randomness: xoshiro256** (Blackman and Vigna), seeded from the key */

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_random(farm_t* f) {
  uint64_t* r = f->rng;
  uint64_t out = rotl(r[1] * 5, 7) * 9, t = r[1] << 17;
  r[2] ^= r[0];
  r[3] ^= r[1];
  r[1] ^= r[2];
  r[0] ^= r[3];
  r[2] ^= t;
  r[3] = rotl(r[3], 45);
  return out;
}

/* 1 with probability p. */
static int chance(farm_t* f, double p) {
  if (p >= 1) return 1;
  if (p <= 0) return 0;
  return (double)(next_random(f) >> 11) * 0x1p-53 < p;
}

static void seed_random(farm_t* f) {
  uint64_t x = f->key[0] ^ rotl(f->key[1], 32) ^ 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 4; i++) { /* splitmix64 */
    x += 0x9e3779b97f4a7c15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    f->rng[i] = z ^ (z >> 31);
  }
}

/* ---- rings of chunk ids ------------------------------------------------- */

static int ring_push(farm_ring_t* q, size_t id) {
  if (q->count == q->cap) {
    size_t cap = q->cap ? 2 * q->cap : 16;
    size_t* grown = malloc(cap * sizeof(*grown));
    if (grown == NULL) return PROTO_ENOMEM;
    for (size_t i = 0; i < q->count; i++)
      grown[i] = q->id[(q->head + i) % q->cap];
    free(q->id);
    q->id = grown;
    q->cap = cap;
    q->head = 0;
  }
  q->id[(q->head + q->count++) % q->cap] = id;
  return 0;
}

/* The k-th entry from the head. */
static size_t ring_at(const farm_ring_t* q, size_t k) {
  assert(k < q->count);
  return q->id[(q->head + k) % q->cap];
}

/* Removes the k-th entry from the head (k small: the entries before it
 * move up one place). */
static void ring_remove(farm_ring_t* q, size_t k) {
  assert(k < q->count);
  for (size_t i = k; i > 0; i--)
    q->id[(q->head + i) % q->cap] = q->id[(q->head + i - 1) % q->cap];
  q->head = (q->head + 1) % q->cap;
  q->count--;
}

static void ring_free(farm_ring_t* q) {
  free(q->id);
  memset(q, 0, sizeof(*q));
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

static void close_attempt(farm_t* f, size_t id);

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
  close_attempt(f, o.chunk);
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
    if (t->chunk[c].state == MASTER_CHUNK_PENDING && !t->chunk[c].queued &&
        !t->chunk[c].poisoned) {
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

int farm_finished(const farm_t* f) {
  return master_table_finished(&f->table) && f->checks_open == 0;
}

static void check_finished(farm_t* f, uint64_t now) {
  if (f->done) return;
  if (!cli_job_has_range(f->job)) {
    /* Done when no rank is still expected to greet (lost ones are not). */
    if (f->takers == f->alive) f->done = 1;
    return;
  }
  if (farm_finished(f)) {
    f->done = 1;
    return;
  }
  /* Everything but the poisoned chunks is done and checked: the run ends
   * with them named (farm_describe_poison). */
  const master_table_t* t = &f->table;
  if (f->poisoned > 0 && t->next_begin == t->n && f->checks_open == 0 &&
      t->done_iters + f->poisoned_iters == t->n) {
    farm_fail(f, PROTO_EPOISON);
    return;
  }
  if (f->stop &&
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
static int pick_vote(farm_t* f, const farm_peer_t* p, size_t* id);
static int pick_check(farm_t* f, const farm_peer_t* p, size_t* id);

static int died_of(const farm_death_t* d, int rank);
static int someone_else_could(const farm_t* f, const farm_death_t* d);

/* The ranks a chunk killed get it again only when nobody else can. */
typedef struct {
  farm_t* f;
  int rank;
} avoid_t;

static int killed(void* ctx, size_t id) {
  const avoid_t* a = ctx;
  for (size_t k = 0; k < a->f->ndeaths; k++) {
    const farm_death_t* d = &a->f->death[k];
    if (d->chunk == id)
      return died_of(d, a->rank) && someone_else_could(a->f, d);
  }
  return 0;
}

static int pick_chunk(farm_t* f, farm_peer_t* p, size_t* id) {
  /* A disputed result waits for the vote that decides it; chunks taken
   * back from others come next; then copies that check a result. */
  if (pick_vote(f, p, id)) return 1;
  avoid_t avoid = {f, p->rank};
  if (master_table_take_requeued(&f->table, killed, &avoid, IDLE_LOOK, id))
    return 1;
  if (pick_check(f, p, id)) return 1;
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
  if (f->stop || f->done) return;
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
  for (int n = 0;
       n < IDLE_FEEDS && f->idle_head &&
       (f->table.rq_count > 0 || f->refq.count > 0 || f->checkq.count > 0);
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
        ch->state == MASTER_CHUNK_DONE || ch->live > 1 || ch->poisoned) {
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

/* ---- speeds and recoveries --------------------------------------------- */

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

/* ---- checks: digests, second computations, disputes -------------------- */

static int check_open(int check) {
  return check == MASTER_CHECK_WANTED || check == MASTER_CHECK_ISSUED ||
         check == MASTER_CHECK_DISPUTED;
}

static void record(farm_t* f, size_t id, int rank, uint64_t attempt,
                   const proto_msg_t* msg);

/* Holds chunk id's accepted result back from the journal until its check
 * is over. Without a journal nothing is held. */
static void hold(farm_t* f, size_t id, int rank, uint64_t attempt,
                 const proto_msg_t* msg) {
  if (f->io.record == NULL) return;
  assert(f->table.chunk[id].held == 0);
  if (f->nheld == f->held_cap) {
    size_t cap = f->held_cap ? 2 * f->held_cap : 16;
    farm_held_t* grown = realloc(f->held, cap * sizeof(*grown));
    if (grown == NULL) {
      farm_fail(f, PROTO_ENOMEM);
      return;
    }
    f->held = grown;
    f->held_cap = cap;
  }
  master_record_t* r = malloc(sizeof(*r));
  if (r == NULL) {
    farm_fail(f, PROTO_ENOMEM);
    return;
  }
  const master_chunk_t* c = &f->table.chunk[id];
  *r = (master_record_t){.begin = c->begin,
                         .end = c->end,
                         .rank = rank,
                         .attempt = (uint32_t)attempt,
                         .isum = msg->isum,
                         .fsum = msg->fsum};
  f->held[f->nheld] = (farm_held_t){id, rank, (uint32_t)attempt, r};
  f->table.chunk[id].held = (uint32_t)++f->nheld;
}

/* Ends the hold of chunk id's result: journaled when keep, else dropped. */
static void release(farm_t* f, size_t id, int keep) {
  master_chunk_t* c = &f->table.chunk[id];
  if (c->held == 0) return;
  size_t k = c->held - 1;
  c->held = 0;
  master_record_t* r = f->held[k].record;
  if (keep && f->io.record != NULL) {
    int rc = f->io.record(f->io.ctx, r);
    if (rc < 0) farm_fail(f, rc);
  }
  free(r);
  f->held[k] = f->held[--f->nheld];
  if (k < f->nheld) f->table.chunk[f->held[k].chunk].held = (uint32_t)k + 1;
}

/* The only place a chunk's check changes; a chunk that becomes WANTED is
 * queued for a copy. A result held back from the journal is written when
 * its check passes and dropped when the chunk is withdrawn. */
static void set_check(farm_t* f, size_t id, master_check_t next) {
  master_chunk_t* c = &f->table.chunk[id];
  /* The master's own results are trusted: nobody checks them. */
  assert(next != MASTER_CHECK_WANTED || c->done_by != 0);
  f->checks_open += check_open(next) - check_open(c->check);
  assert(f->checks_open >= 0);
  c->check = (uint8_t)next;
  if (next == MASTER_CHECK_PASSED) release(f, id, 1);
  if (next == MASTER_CHECK_NONE) release(f, id, 0);
  if (next != MASTER_CHECK_PASSED) c->checked_by = -1;
  if (next == MASTER_CHECK_WANTED && ring_push(&f->checkq, id) < 0)
    farm_fail(f, PROTO_ENOMEM);
}

static int is_taker(const farm_t* f, int rank) {
  if (rank < 1 || rank > f->nworkers) return 0;
  farm_state_t s = f->peer[rank - 1].state;
  return s == FARM_ACTIVE || s == FARM_WAITING;
}

static farm_dispute_t* dispute_of(farm_t* f, size_t id) {
  for (size_t k = 0; k < f->ndisputes; k++)
    if (f->dispute[k].chunk == id) return &f->dispute[k];
  return NULL;
}

static int voted(const farm_dispute_t* d, int rank) {
  for (int k = 0; k < d->votes; k++)
    if (d->rank[k] == rank) return 1;
  return 0;
}

static void dispute_close(farm_t* f, farm_dispute_t* d) {
  *d = f->dispute[--f->ndisputes];
}

/* A disputed chunk needs one more computation: queued unless one is out. */
static void want_vote(farm_t* f, size_t id) {
  if (f->table.chunk[id].live > 0) return;
  if (ring_push(&f->refq, id) < 0) farm_fail(f, PROTO_ENOMEM);
}

/* Closes one open attempt of chunk id. A DONE chunk whose check copy or
 * vote went away without a result wants another one. */
static void close_attempt(farm_t* f, size_t id) {
  if (master_table_abandon(&f->table, id) < 0) farm_fail(f, PROTO_ENOMEM);
  const master_chunk_t* c = &f->table.chunk[id];
  if (c->state != MASTER_CHUNK_DONE || c->live > 0) return;
  if (c->check == MASTER_CHECK_ISSUED) set_check(f, id, MASTER_CHECK_WANTED);
  if (c->check == MASTER_CHECK_DISPUTED) want_vote(f, id);
}

/* The next disputed chunk p has not computed: 1 and *id, or 0. Entries
 * that no longer wait for a vote are dropped on the way. */
static int pick_vote(farm_t* f, const farm_peer_t* p, size_t* id) {
  for (size_t k = 0; k < f->refq.count && k < IDLE_LOOK;) {
    size_t c = ring_at(&f->refq, k);
    const farm_dispute_t* d = dispute_of(f, c);
    if (d == NULL || f->table.chunk[c].live > 0) {
      ring_remove(&f->refq, k);
      continue;
    }
    if (!voted(d, p->rank)) {
      ring_remove(&f->refq, k);
      *id = c;
      return 1;
    }
    k++;
  }
  return 0;
}

/* The next chunk wanting a check that p did not compute, on another host
 * than the one that did where there is one: 1 and *id, or 0. */
static int pick_check(farm_t* f, const farm_peer_t* p, size_t* id) {
  size_t best = SIZE_MAX;
  for (size_t k = 0; k < f->checkq.count && k < IDLE_LOOK;) {
    size_t c = ring_at(&f->checkq, k);
    const master_chunk_t* ch = &f->table.chunk[c];
    if (ch->check != MASTER_CHECK_WANTED) {
      ring_remove(&f->checkq, k);
      continue;
    }
    if (ch->done_by != p->rank) {
      const char* other = ch->done_by >= 1 ? f->peer[ch->done_by - 1].host : "";
      if (best == SIZE_MAX) best = k;
      if (strcmp(other, p->host) != 0) {
        best = k;
        break;
      }
    }
    k++;
  }
  if (best == SIZE_MAX) return 0;
  *id = ring_at(&f->checkq, best);
  ring_remove(&f->checkq, best);
  set_check(f, *id, MASTER_CHECK_ISSUED);
  f->checks_issued++;
  return 1;
}

/* A queued check or vote that no worker can take, because every rank that
 * may still take work computed that chunk already: the master computes it.
 * 1 and *id (taken off its queue when take), or 0. Entries that wait for
 * nothing any more are dropped on the way. */
static int pick_for_master(farm_t* f, size_t* id, int take) {
  if (f->takers > FARM_VOTES_MAX) return 0; /* some taker has not voted */
  for (size_t k = 0; k < f->refq.count && k < IDLE_LOOK;) {
    size_t c = ring_at(&f->refq, k);
    farm_dispute_t* d = dispute_of(f, c);
    if (d == NULL || f->table.chunk[c].live > 0) {
      ring_remove(&f->refq, k);
      continue;
    }
    /* Takers that have not computed it go first; then the master, which
     * computes it a second time to confirm its own result. */
    int open = f->takers;
    for (int v = 0; v < d->votes; v++) open -= is_taker(f, d->rank[v]);
    if (open > 0) {
      k++;
      continue;
    }
    if (take) ring_remove(&f->refq, k);
    *id = c;
    return 1;
  }
  for (size_t k = 0; k < f->checkq.count && k < IDLE_LOOK;) {
    size_t c = ring_at(&f->checkq, k);
    const master_chunk_t* ch = &f->table.chunk[c];
    if (ch->check != MASTER_CHECK_WANTED) {
      ring_remove(&f->checkq, k);
      continue;
    }
    if (f->takers - is_taker(f, ch->done_by) > 0) {
      k++;
      continue;
    }
    if (take) {
      ring_remove(&f->checkq, k);
      set_check(f, c, MASTER_CHECK_ISSUED);
      f->checks_issued++;
    }
    *id = c;
    return 1;
  }
  return 0;
}

static void refuse_liar(farm_t* f, farm_peer_t* p, uint64_t now,
                        const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A chunk is done: every other holder of it drops it, but for one copy kept
 * to check the result when keep is set (it then counts as the check). */
static void cancel_copies(farm_t* f, size_t id, int winner,
                          uint64_t win_attempt, int keep, uint64_t now) {
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
    if (keep && r != winner &&
        f->table.chunk[id].check == MASTER_CHECK_WANTED) {
      set_check(f, id, MASTER_CHECK_ISSUED);
      f->checks_issued++;
      continue;
    }
    uint64_t done = i == 0 ? q->head_done : 0;
    instant(f, r, MASTER_EV_CANCEL, id, a, now);
    drop_order(f, q, i, MASTER_EV_CANCELLED, 0, now);
    q->cancels++;
    f->wasted_iters += done;
    proto_msg_t cancel = {.kind = PROTO_TAG_CANCEL, .chunk = id, .attempt = a};
    if (send_to(f, q, &cancel, now) == 0) feed(f, q, now);
  }
}

/* Writes a journal record for chunk id: its accepted partial, or with msg
 * NULL the withdrawal of the one recorded before. */
static void record(farm_t* f, size_t id, int rank, uint64_t attempt,
                   const proto_msg_t* msg) {
  if (f->io.record == NULL) return;
  const master_chunk_t* c = &f->table.chunk[id];
  master_record_t r = {.begin = c->begin,
                       .end = c->end,
                       .rank = rank,
                       .attempt = (uint32_t)attempt,
                       .revoked = msg == NULL};
  if (msg != NULL) {
    r.isum = msg->isum;
    r.fsum = msg->fsum;
  } else {
    proto_exact_init(&r.fsum);
  }
  int rc = f->io.record(f->io.ctx, &r);
  if (rc < 0) farm_fail(f, rc);
}

/* Adds an accepted partial to its rank's sums (p NULL: the master's) and
 * the journal; picks the chunk for a check with probability f->verify. */
static void accept(farm_t* f, size_t id, farm_peer_t* p, uint64_t attempt,
                   const proto_msg_t* msg, uint64_t now) {
  if (p == NULL) {
    proto_exact_merge(&f->fsum, &msg->fsum);
    f->isum += msg->isum;
  } else {
    if (p->fsum == NULL) {
      p->fsum = malloc(sizeof(*p->fsum));
      if (p->fsum == NULL) {
        farm_fail(f, PROTO_ENOMEM);
        return;
      }
      proto_exact_init(p->fsum);
    }
    proto_exact_merge(p->fsum, &msg->fsum);
    p->isum += msg->isum;
  }
  master_chunk_t* c = &f->table.chunk[id];
  c->digest = master_digest(f->key, msg);
  if (c->poisoned) {
    /* A rank computed what killed others: not poison after all. */
    c->poisoned = 0;
    f->poisoned--;
    f->poisoned_iters -= c->end - c->begin;
  }
  int rank = p != NULL ? p->rank : 0;
  note_recovery(f, id, now);
  int keep = p != NULL && chance(f, f->verify);
  if (keep) {
    hold(f, id, rank, attempt, msg);
    set_check(f, id, MASTER_CHECK_WANTED);
  } else {
    record(f, id, rank, attempt, msg);
  }
  cancel_copies(f, id, rank, attempt, keep, now);
}

/* Withdraws everything p delivered: its sums, and every chunk it made DONE
 * goes back in line (the journal records the withdrawal); every check it
 * passed is wanted again, and its votes no longer count. */
static void revoke_past(farm_t* f, farm_peer_t* p, uint64_t now) {
  p->isum = 0;
  if (p->fsum != NULL) proto_exact_init(p->fsum);
  for (size_t id = 0; id < f->table.count; id++) {
    const master_chunk_t* c = &f->table.chunk[id];
    if (c->state != MASTER_CHUNK_DONE) continue;
    if (c->done_by == p->rank) {
      uint64_t size = c->end - c->begin;
      farm_dispute_t* d = dispute_of(f, id);
      if (d != NULL) dispute_close(f, d);
      /* Journaled unless held back for its check. */
      if (c->held == 0) record(f, id, p->rank, 0, NULL);
      set_check(f, id, MASTER_CHECK_NONE);
      if (master_table_reopen(&f->table, id) < 0) farm_fail(f, PROTO_ENOMEM);
      p->revoked++;
      p->chunks--;
      p->iters -= size;
      f->revoked_iters += size;
    } else if (c->check == MASTER_CHECK_PASSED && c->checked_by == p->rank &&
               c->done_by != 0) {
      set_check(f, id, MASTER_CHECK_WANTED);
    }
  }
  for (size_t k = 0; k < f->ndisputes;) {
    farm_dispute_t* d = &f->dispute[k];
    int kept = 0;
    for (int v = 0; v < d->votes; v++)
      if (d->rank[v] != p->rank) {
        d->rank[kept] = d->rank[v];
        d->digest[kept++] = d->digest[v];
      }
    d->votes = kept;
    if (kept >= 2) {
      want_vote(f, d->chunk);
      k++;
      continue;
    }
    /* One result is left, the accepted one: it wants a check afresh,
     * unless it is the master's own. */
    size_t id = d->chunk;
    dispute_close(f, d);
    set_check(f, id,
              f->table.chunk[id].done_by == 0 ? MASTER_CHECK_NONE
                                              : MASTER_CHECK_WANTED);
  }
  feed_idle(f, now);
}

/* p sent what can only be a lie, or computed a result that others
 * contradict: it never gets work again, and nothing it delivered counts. */
static void refuse_liar(farm_t* f, farm_peer_t* p, uint64_t now,
                        const char* fmt, ...) {
  if (p->why[0] != '\0') return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->why, sizeof(p->why), fmt, ap);
  va_end(ap);
  if (p->why[0] == '\0') snprintf(p->why, sizeof(p->why), "it lied");
  f->liars++;
  uint64_t chunks = p->chunks;
  logf_(f, FARM_LOG_WARN,
        "rank %d (%s pid %llu) is refused: %s; the %llu chunk%s it delivered "
        "%s computed again",
        p->rank, host_of(p), (unsigned long long)p->pid, p->why,
        (unsigned long long)chunks, chunks == 1 ? "" : "s",
        chunks == 1 ? "is" : "are");
  if (p->state != FARM_GONE && p->state != FARM_REFUSED)
    refuse(f, p, PROTO_ELIAR, now);
  revoke_past(f, p, now);
}

/* A rank (0: the master) computed chunk id twice with different partials:
 * its core or the kernel is not deterministic. */
static void inconsistent(farm_t* f, size_t id, int rank, uint64_t now) {
  const master_chunk_t* c = &f->table.chunk[id];
  unsigned long long b = c->begin, e = c->end;
  f->inconsistent++;
  if (rank == 0) {
    logf_(f, FARM_LOG_WARN,
          "the master computed chunk %zu [%llu, %llu) twice and got different "
          "partials: the kernel is not deterministic (its result depends on "
          "more than the index range), so no result of it can be verified",
          id, b, e);
    farm_fail(f, PROTO_ENONDET);
    return;
  }
  refuse_liar(f, peer_of(f, rank), now,
              "it computed chunk %zu [%llu, %llu) twice and got different "
              "partials (a faulty core, or a kernel that is not deterministic)",
              id, b, e);
}

static void decide(farm_t* f, farm_dispute_t* d, int agree, int second,
                   uint64_t now);

/* "rank 3", or "the master" for rank 0. */
static const char* voter_name(int rank, char* buf, size_t len) {
  if (rank == 0) return "the master";
  snprintf(buf, len, "rank %d", rank);
  return buf;
}

/* One more computation of disputed chunk id: when two ranks agree, every
 * rank that got something else is refused. */
static void add_vote(farm_t* f, farm_dispute_t* d, int rank, uint64_t digest,
                     uint64_t now) {
  size_t id = d->chunk;
  int agree = -1, second = -1;
  for (int v = 0; v < d->votes; v++) {
    if (d->rank[v] != rank) continue;
    if (d->digest[v] != digest) {
      inconsistent(f, id, rank, now);
      return;
    }
    if (rank != 0) return; /* the same again: nothing learnt */
    /* The master, trusted, confirmed its own result: it decides. */
    agree = second = v;
  }
  if (agree >= 0) {
    decide(f, d, agree, second, now);
    return;
  }
  if (d->votes == FARM_VOTES_MAX) {
    const master_chunk_t* c = &f->table.chunk[id];
    logf_(f, FARM_LOG_WARN,
          "chunk %zu [%llu, %llu) was computed %d times by different ranks "
          "and no two results agree: the kernel is not deterministic",
          id, (unsigned long long)c->begin, (unsigned long long)c->end,
          FARM_VOTES_MAX);
    farm_fail(f, PROTO_ENONDET);
    return;
  }
  d->rank[d->votes] = rank;
  d->digest[d->votes++] = digest;
  for (int v = 0; v < d->votes && agree < 0; v++)
    for (int w = v + 1; w < d->votes; w++)
      if (d->digest[v] == d->digest[w]) {
        agree = v;
        second = w;
        break;
      }
  if (agree < 0) {
    want_vote(f, id);
    return;
  }
  decide(f, d, agree, second, now);
}

/* Votes agree and second of dispute d agree (the same vote twice: the
 * master confirmed its own): their result stands, every rank that got
 * another is refused. */
static void decide(farm_t* f, farm_dispute_t* d, int agree, int second,
                   uint64_t now) {
  size_t id = d->chunk;
  /* The dispute is closed before anyone is refused (a refusal withdraws
   * chunks and votes). */
  farm_dispute_t done = *d;
  char one[24], two[24];
  dispute_close(f, d);
  uint64_t winner = done.digest[agree];
  const master_chunk_t* c = &f->table.chunk[id];
  unsigned long long b = c->begin, e = c->end;
  int accepted_won = c->digest == winner;
  if (accepted_won) {
    int by =
        done.rank[agree] != c->done_by ? done.rank[agree] : done.rank[second];
    /* The master's own result, confirmed by itself, needed no check. */
    set_check(f, id,
              by == c->done_by ? MASTER_CHECK_NONE : MASTER_CHECK_PASSED);
    if (by != c->done_by) f->table.chunk[id].checked_by = by;
  }
  for (int v = 0; v < done.votes && !f->done; v++) {
    if (done.digest[v] == winner) continue;
    if (done.rank[v] == 0) {
      logf_(f, FARM_LOG_WARN,
            "ranks %d and %d agree on chunk %zu [%llu, %llu) and the master "
            "computed something else: the kernel is not deterministic",
            done.rank[agree], done.rank[second], id, b, e);
      farm_fail(f, PROTO_ENONDET);
      return;
    }
    farm_peer_t* q = peer_of(f, done.rank[v]);
    q->mismatches++;
    if (agree == second)
      refuse_liar(f, q, now,
                  "its result for chunk %zu [%llu, %llu) differs from the "
                  "master's, which the master computed twice",
                  id, b, e);
    else
      refuse_liar(f, q, now,
                  "its result for chunk %zu [%llu, %llu) differs from those "
                  "of %s and %s, which agree",
                  id, b, e, voter_name(done.rank[agree], one, sizeof(one)),
                  voter_name(done.rank[second], two, sizeof(two)));
  }
}

/* Another computation of DONE chunk id (by rank; 0: the master) gave a
 * partial with this digest: the same bits confirm the accepted result,
 * other bits start a dispute that further computations decide. */
static void compare(farm_t* f, size_t id, int rank, uint64_t attempt,
                    uint64_t digest, uint64_t now) {
  const master_chunk_t* c = &f->table.chunk[id];
  if (c->done_by == MASTER_DONE_BY_JOURNAL) return;
  farm_dispute_t* d = dispute_of(f, id);
  if (d != NULL) {
    add_vote(f, d, rank, digest, now);
    return;
  }
  if (digest == c->digest) {
    /* The same rank again, or the master's own result: nothing learnt. */
    if (rank == c->done_by || c->done_by == 0) return;
    if (c->check != MASTER_CHECK_ISSUED) f->free_checks++;
    if (c->check == MASTER_CHECK_PASSED) return;
    f->checks_passed++;
    if (c->done_by >= 1) peer_of(f, c->done_by)->checked++;
    if (rank >= 1) peer_of(f, rank)->checks_done++;
    set_check(f, id, MASTER_CHECK_PASSED);
    f->table.chunk[id].checked_by = rank;
    cancel_copies(f, id, rank, attempt, 0, now);
    return;
  }
  f->mismatches++;
  if (rank == c->done_by) {
    inconsistent(f, id, rank, now);
    return;
  }
  if (f->verify <= 0) {
    logf_(f, FARM_LOG_WARN,
          "ranks %d and %d computed different partials for chunk %zu [%llu, "
          "%llu); with --verify off nothing is done about it",
          c->done_by, rank, id, (unsigned long long)c->begin,
          (unsigned long long)c->end);
    return;
  }
  if (f->ndisputes == f->disputes_cap) {
    size_t cap = f->disputes_cap ? 2 * f->disputes_cap : 8;
    farm_dispute_t* grown = realloc(f->dispute, cap * sizeof(*grown));
    if (grown == NULL) {
      farm_fail(f, PROTO_ENOMEM);
      return;
    }
    f->dispute = grown;
    f->disputes_cap = cap;
  }
  logf_(f, FARM_LOG_INFO,
        "ranks %d and %d computed different partials for chunk %zu [%llu, "
        "%llu): another computation decides",
        c->done_by, rank, id, (unsigned long long)c->begin,
        (unsigned long long)c->end);
  d = &f->dispute[f->ndisputes++];
  memset(d, 0, sizeof(*d));
  d->chunk = id;
  d->votes = 1;
  d->rank[0] = c->done_by;
  d->digest[0] = c->digest;
  set_check(f, id, MASTER_CHECK_DISPUTED);
  add_vote(f, d, rank, digest, now);
}

/* ---- poison chunks ------------------------------------------------------ */

static farm_death_t* death_of(farm_t* f, size_t id) {
  for (size_t k = 0; k < f->ndeaths; k++)
    if (f->death[k].chunk == id) return &f->death[k];
  if (f->ndeaths == f->deaths_cap) {
    size_t cap = f->deaths_cap ? 2 * f->deaths_cap : 8;
    farm_death_t* grown = realloc(f->death, cap * sizeof(*grown));
    if (grown == NULL) return NULL;
    f->death = grown;
    f->deaths_cap = cap;
  }
  farm_death_t* d = &f->death[f->ndeaths++];
  memset(d, 0, sizeof(*d));
  d->chunk = id;
  return d;
}

/* "died by signal 11 (Segmentation fault)": what a death code says. */
static void describe_death(int code, int64_t detail, char* out, size_t len) {
  if (code == PROTO_EKILLED)
    snprintf(out, len, "its kernel died by signal %lld (%s)", (long long)detail,
             detail > 0 && detail < 65 ? strsignal((int)detail) : "?");
  else if (code == PROTO_EEXITED)
    snprintf(out, len,
             "its kernel exited with status %lld in the middle of the chunk",
             (long long)detail);
  else
    snprintf(out, len, "its kernel showed no progress for %.1f s",
             (double)detail / 1e3);
}

static int died_of(const farm_death_t* d, int rank) {
  for (int k = 0; k < d->count; k++)
    if (d->rank[k] == rank) return 1;
  return 0;
}

/* 1 when a rank that may take work has not died of d's chunk yet. */
static int someone_else_could(const farm_t* f, const farm_death_t* d) {
  for (int i = 0; i < f->nworkers; i++)
    if (is_taker(f, i + 1) && !died_of(d, i + 1)) return 1;
  return 0;
}

/* The computation of chunk id killed or froze rank (0: the master's
 * kernel process). After --poison-after different ranks (or deaths of the
 * master computing alone) the chunk is never handed out again. */
static void note_death(farm_t* f, size_t id, int rank, int code, int64_t detail,
                       uint64_t now) {
  (void)now;
  f->kernel_deaths++;
  const master_chunk_t* c = &f->table.chunk[id];
  char what[128], who[24];
  describe_death(code, detail, what, sizeof(what));
  unsigned long long b = c->begin, e = c->end;
  if (c->state == MASTER_CHUNK_DONE || c->poisoned) {
    logf_(f, FARM_LOG_WARN, "chunk %zu [%llu, %llu) on %s: %s", id, b, e,
          voter_name(rank, who, sizeof(who)), what);
    return;
  }
  farm_death_t* d = death_of(f, id);
  if (d == NULL) {
    farm_fail(f, PROTO_ENOMEM);
    return;
  }
  /* A rank that dies of it again counts once, unless nobody else who may
   * take work is left to try it (the master alone, or one worker). */
  if (died_of(d, rank) && someone_else_could(f, d)) return;
  if (d->count < CLI_POISON_MAX) {
    d->rank[d->count] = rank;
    d->code[d->count] = code;
    d->detail[d->count++] = detail;
  }
  logf_(f, FARM_LOG_WARN, "chunk %zu [%llu, %llu) on %s: %s (%d of %d)", id, b,
        e, voter_name(rank, who, sizeof(who)), what, d->count,
        f->job->poison_after);
  if (d->count < f->job->poison_after) return;
  master_table_poison(&f->table, id);
  f->poisoned++;
  f->poisoned_iters += e - b;
  logf_(f, FARM_LOG_WARN,
        "chunk %zu [%llu, %llu) is poison: it is not handed out again; the "
        "run finishes the rest and ends with exit 1",
        id, b, e);
}

int farm_describe_poison(const farm_t* f, uint64_t i, char* out, size_t len) {
  for (size_t k = 0; k < f->ndeaths; k++) {
    const farm_death_t* d = &f->death[k];
    const master_chunk_t* c = &f->table.chunk[d->chunk];
    if (!c->poisoned || i-- > 0) continue;
    size_t at = 0;
    base_appendf(out, len, &at,
                 "chunk %zu [%llu, %llu) killed or froze its computation %d "
                 "time%s:",
                 d->chunk, (unsigned long long)c->begin,
                 (unsigned long long)c->end, d->count,
                 d->count == 1 ? "" : "s");
    for (int r = 0; r < d->count; r++) {
      char what[128], who[24];
      describe_death(d->code[r], d->detail[r], what, sizeof(what));
      base_appendf(out, len, &at, "%s %s (%s)", r ? ";" : "",
                   voter_name(d->rank[r], who, sizeof(who)), what);
    }
    return 0;
  }
  return -1;
}

/* ---- messages ---------------------------------------------------------- */

/* 1 when attempt of chunk is one the table issued but no longer remembers
 * the holder of (too many attempts since): it can be judged by nobody. */
static int forgotten(const farm_t* f, uint64_t chunk, uint64_t attempt) {
  if (chunk >= f->table.count) return 0;
  const master_chunk_t* c = &f->table.chunk[chunk];
  return attempt >= 1 && attempt <= c->attempts &&
         c->attempts - attempt >= MASTER_MAX_ATTEMPTS;
}

static void on_result(farm_t* f, farm_peer_t* p, const proto_msg_t* msg,
                      uint64_t now) {
  size_t id = (size_t)msg->chunk;
  int held = find_order(p, msg->chunk, msg->attempt);
  if (forgotten(f, msg->chunk, msg->attempt)) {
    if (held >= 0) drop_order(f, p, held, MASTER_EV_ABANDONED, 0, now);
    reject(f, p, "RESULT for an attempt too old to be checked",
           PROTO_TAG_RESULT, proto_size(PROTO_TAG_RESULT));
    feed_idle(f, now);
    feed(f, p, now);
    return;
  }
  if (master_table_holder(&f->table, msg->chunk, msg->attempt) != p->rank) {
    refuse_liar(f, p, now,
                "it sent a RESULT for chunk %llu attempt %llu, which it was "
                "never given",
                (unsigned long long)msg->chunk,
                (unsigned long long)msg->attempt);
    return;
  }
  const master_chunk_t* c = &f->table.chunk[id];
  if (c->begin != msg->begin || c->end != msg->end) {
    refuse_liar(f, p, now,
                "it sent a RESULT for [%llu, %llu) for its order of chunk %zu "
                "[%llu, %llu)",
                (unsigned long long)msg->begin, (unsigned long long)msg->end,
                id, (unsigned long long)c->begin, (unsigned long long)c->end);
    return;
  }
  master_verdict_t v = master_table_complete(
      &f->table, p->rank, msg->chunk, msg->attempt, msg->begin, msg->end);
  assert(v != MASTER_INVALID);
  uint64_t size = msg->end - msg->begin;
  learn_speed(f, p, (double)size, (double)msg->busy_ns);
  master_sched_learn(&f->sched, p->rank - 1, size, (double)msg->busy_ns / 1e9);
  p->strikes = 0;
  p->fails = 0;
  uint64_t busy = msg->busy_ns > 0 ? msg->busy_ns : 1;
  if (v == MASTER_DUPLICATE) {
    p->duplicates++;
    f->wasted_iters += size;
    /* Compared before the order is closed: a vote still out keeps the
     * dispute from asking for another. The comparison may refuse p, which
     * drops its orders. */
    compare(f, id, p->rank, msg->attempt, master_digest(f->key, msg), now);
    held = find_order(p, msg->chunk, msg->attempt);
    if (held >= 0)
      drop_order(f, p, held, MASTER_EV_DUPLICATE, busy, now);
    else if (p->why[0] == '\0')
      slice(f, p->rank, id, msg->attempt, MASTER_EV_DUPLICATE,
            busy < since_start(f, now) ? now - busy : f->t0_ns, now);
  } else {
    if (held >= 0)
      drop_order(f, p, held, MASTER_EV_ACCEPTED, busy, now);
    else
      slice(f, p->rank, id, msg->attempt, MASTER_EV_ACCEPTED,
            busy < since_start(f, now) ? now - busy : f->t0_ns, now);
    p->chunks++;
    p->iters += size;
    p->busy_ns += msg->busy_ns;
    p->finish_ns = now;
    if (f->min_chunk_ns == 0 || msg->busy_ns < f->min_chunk_ns)
      f->min_chunk_ns = msg->busy_ns;
    accept(f, id, p, msg->attempt, msg, now);
  }
  feed(f, p, now);
}

static void on_progress(farm_t* f, farm_peer_t* p, const proto_msg_t* msg,
                        uint64_t now) {
  if (msg->attempt == 0) return; /* an idle worker's heartbeat */
  if (forgotten(f, msg->chunk, msg->attempt)) return;
  if (master_table_holder(&f->table, msg->chunk, msg->attempt) != p->rank) {
    refuse_liar(f, p, now,
                "it sent PROGRESS for chunk %llu attempt %llu, which it was "
                "never given",
                (unsigned long long)msg->chunk,
                (unsigned long long)msg->attempt);
    return;
  }
  const master_chunk_t* c = &f->table.chunk[msg->chunk];
  if (msg->done > c->end - c->begin) {
    refuse_liar(f, p, now,
                "it sent PROGRESS of %llu indices for chunk %llu, which has "
                "%llu",
                (unsigned long long)msg->done, (unsigned long long)msg->chunk,
                (unsigned long long)(c->end - c->begin));
    return;
  }
  if (p->norders == 0 || p->order[0].chunk != msg->chunk ||
      p->order[0].attempt != msg->attempt)
    return; /* a cancelled or stale order: the heartbeat still counted */
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
    if (!forgotten(f, msg->chunk, msg->attempt) &&
        master_table_holder(&f->table, msg->chunk, msg->attempt) != p->rank) {
      refuse_liar(f, p, now,
                  "it sent FAIL for chunk %llu attempt %llu, which it was "
                  "never given",
                  (unsigned long long)msg->chunk,
                  (unsigned long long)msg->attempt);
      return;
    }
    reject(f, p, "FAIL for a chunk it does not hold", PROTO_TAG_FAIL,
           proto_size(PROTO_TAG_FAIL));
    return;
  }
  size_t id = p->order[i].chunk;
  drop_order(f, p, i, MASTER_EV_ABANDONED, 0, now);
  if (proto_error_is_death((int)msg->code)) {
    /* The chunk's fault, not the rank's: it may take other chunks. */
    note_death(f, id, p->rank, (int)msg->code, msg->detail, now);
  } else if (msg->code != PROTO_EQUEUE && ++p->fails >= FARM_FAIL_LIMIT) {
    /* A full order queue is the worker's back-pressure, not a failure. */
    logf_(f, FARM_LOG_WARN,
          "rank %d on %s cannot compute chunks (%s); it gets no more work",
          p->rank, host_of(p), proto_strerror((int)msg->code));
    retire(f, p, now);
  }
  /* Another worker picks the chunk up. */
  feed_idle(f, now);
  feed(f, p, now);
}

/* The secret a rank's guard proves a death report with: only that rank
 * was told it. */
static uint64_t death_token(const farm_t* f, int rank) {
  uint64_t in[2] = {0x6465617468ull, (uint64_t)rank};
  return master_siphash(f->key, in, sizeof(in));
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
  if (f->death_port != 0) {
    proto_msg_t welcome = {.kind = PROTO_TAG_WELCOME,
                           .token = death_token(f, p->rank),
                           .port = f->death_port};
    memcpy(welcome.addr, f->death_addr, sizeof(welcome.addr));
    if (send_to(f, p, &welcome, now) < 0) return;
  }
  if (!cli_job_has_range(f->job)) {
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
      on_progress(f, p, msg, now);
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

void farm_death_report(farm_t* f, const proto_death_t* d, uint64_t now) {
  if (d->rank < 1 || d->rank > f->nworkers) return;
  farm_peer_t* p = peer_of(f, (int)d->rank);
  if (d->token != death_token(f, p->rank) || !p->greeted || d->pid != p->pid)
    return; /* not this rank's guard, or about another process */
  p->died = 1;
  if (p->state == FARM_GONE) return;
  char why[96];
  if (d->signal > 0)
    snprintf(why, sizeof(why),
             "its process died by signal %lld (%s), its "
             "guard says",
             (long long)d->signal,
             d->signal < 65 ? strsignal((int)d->signal) : "?");
  else
    snprintf(why, sizeof(why),
             "its process exited with status %lld, its guard says",
             (long long)d->status);
  lose(f, p, FARM_GONE, why, now);
  settle(f, now);
  feed_idle(f, now);
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
  const cli_job_t* job = f->job;
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
      !cli_job_has_range(f->job))
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

void farm_stop(farm_t* f, farm_stop_t how, uint64_t now) {
  assert(how == FARM_STOP_DRAIN || how == FARM_STOP_NOW);
  if (f->stop) return;
  f->stop = how;
  uint64_t grace_ms =
      how == FARM_STOP_NOW ? FARM_STOP_GRACE_INT_MS : FARM_STOP_GRACE_MS;
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

int farm_solo_wanted(farm_t* f) {
  if (f->done || f->stop || f->solo_busy || farm_finished(f)) return 0;
  if (f->takers == 0) return 1;
  size_t id;
  return pick_for_master(f, &id, 0);
}

int farm_solo_take(farm_t* f, farm_solo_t* s) {
  size_t id;
  int got = pick_for_master(f, &id, 1);
  if (!got && f->takers > 0) return 0;
  if (!got) got = master_table_pop_requeued(&f->table, &id);
  /* Chunks cut up front (static schedules) and never issued. */
  while (!got && f->solo_scan < f->table.count) {
    const master_chunk_t* c = &f->table.chunk[f->solo_scan];
    if (c->state == MASTER_CHUNK_PENDING && c->attempts == 0 && !c->queued &&
        !c->poisoned) {
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
  f->solo_chunk = id;
  return 1;
}

void farm_solo_done(farm_t* f, const farm_solo_t* s, const proto_msg_t* result,
                    uint64_t now) {
  assert(f->solo_busy && f->solo_chunk == s->chunk);
  f->solo_busy = 0;
  master_verdict_t v = master_table_complete(&f->table, 0, s->chunk, s->attempt,
                                             s->begin, s->end);
  assert(v != MASTER_INVALID);
  if (v == MASTER_ACCEPT) {
    close_attempt(f, s->chunk);
    f->master_iters += s->end - s->begin;
    accept(f, s->chunk, NULL, s->attempt, result, now);
  } else {
    f->wasted_iters += s->end - s->begin;
    compare(f, s->chunk, 0, s->attempt, master_digest(f->key, result), now);
    close_attempt(f, s->chunk);
  }
  settle(f, now);
  check_finished(f, now);
}

void farm_solo_drop(farm_t* f, const farm_solo_t* s, uint64_t now) {
  assert(f->solo_busy && f->solo_chunk == s->chunk);
  f->solo_busy = 0;
  close_attempt(f, s->chunk);
  check_finished(f, now);
}

void farm_solo_failed(farm_t* f, const farm_solo_t* s, int rc, int64_t detail,
                      uint64_t now) {
  assert(f->solo_busy && f->solo_chunk == s->chunk);
  f->solo_busy = 0;
  close_attempt(f, s->chunk);
  if (proto_error_is_death(rc))
    note_death(f, s->chunk, 0, rc, detail, now);
  else
    farm_fail(f, rc);
  check_finished(f, now);
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

int farm_open(farm_t** out, const cli_job_t* job, int workers,
              const farm_io_t* io, const master_done_t* done,
              const farm_config_t* config, uint64_t now) {
  *out = NULL;
  farm_t* f = calloc(1, sizeof(*f));
  if (f == NULL) return PROTO_ENOMEM;
  f->job = job;
  f->io = *io;
  f->scale = config->scale;
  if (config->host != NULL)
    snprintf(f->self_host, sizeof(f->self_host), "%s", config->host);
  f->key[0] = config->key[0];
  f->key[1] = config->key[1];
  f->death_port = config->death_port;
  memcpy(f->death_addr, config->death_addr, sizeof(f->death_addr));
  seed_random(f);
  f->verify = job->verify;
  f->nworkers = workers;
  f->t0_ns = f->scanned_ns = now;
  f->hello_wait_ns = (uint64_t)FARM_HELLO_WAIT_S * 1000000000u;
  f->fingerprint = cli_job_fingerprint(job);
  f->speculate = cli_job_speculates(job);
  f->chunk_size = master_chunk_size(job, workers);
  f->min_chunk = master_min_chunk(job, workers);
  proto_exact_init(&f->fsum);
  int rc =
      master_table_init(&f->table, cli_job_has_range(job) ? job->n : 0,
                        master_chunk_align(job));
  if (rc < 0) goto out;
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
  if (job->schedule == CLI_SCHED_WF && job->nweights != workers) {
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
  if (rc < 0)
    farm_close(f);
  else
    *out = f;
  return rc;
}

void farm_close(farm_t* f) {
  if (f == NULL) return;
  for (int i = 0; f->peer != NULL && i < f->nworkers; i++) {
    free(f->peer[i].owned);
    free(f->peer[i].fsum);
  }
  ring_free(&f->checkq);
  ring_free(&f->refq);
  free(f->dispute);
  free(f->death);
  for (size_t k = 0; k < f->nheld; k++) free(f->held[k].record);
  free(f->held);
  f->held = NULL;
  f->nheld = f->held_cap = 0;
  f->dispute = NULL;
  f->death = NULL;
  f->ndisputes = f->ndeaths = f->disputes_cap = f->deaths_cap = 0;
  free(f->peer);
  f->peer = NULL;
  master_sched_close(&f->sched);
  master_table_close(&f->table);
  free(f);
}

int farm_done(const farm_t* f) { return f->done; }

int farm_rc(const farm_t* f) { return f->rc; }

farm_stop_t farm_stopping(const farm_t* f) { return (farm_stop_t)f->stop; }

uint64_t farm_min_chunk_ns(const farm_t* f) { return f->min_chunk_ns; }

int farm_workers(const farm_t* f) { return f->nworkers; }

void farm_peer_info(const farm_t* f, int rank, farm_peer_info_t* info) {
  assert(rank >= 1 && rank <= f->nworkers);
  const farm_peer_t* p = &f->peer[rank - 1];
  info->pid = p->pid;
  memcpy(info->host, p->host, sizeof(info->host));
  info->died = p->died;
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
    r->came_back = p->readmits > 0;
    r->died = p->died;
    r->state = farm_state_name(p->state);
    r->checked = p->checked;
    r->checks_done = p->checks_done;
    r->revoked = p->revoked;
    memcpy(r->refused_why, p->why, sizeof(r->refused_why));
    r->speed = p->speed * 1e9;
    master_sched_learned(&f->sched, i, &r->learned);
  }
  memset(st, 0, sizeof(*st));
  st->job = f->job;
  st->workers = f->nworkers;
  st->chunks = f->table.count;
  st->n = f->table.n;
  st->done_iters = f->table.done_iters;
  st->inflight = (uint64_t)f->inflight;
  st->alive = f->alive;
  st->lost = f->lost;
  st->recoveries = f->recoveries;
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
  st->stopped = f->stop != FARM_STOP_NONE;
  st->verify = f->verify;
  st->checks_issued = f->checks_issued;
  st->checks_passed = f->checks_passed;
  st->free_checks = f->free_checks;
  st->mismatches = f->mismatches;
  st->liars = f->liars;
  st->inconsistent = f->inconsistent;
  st->kernel_deaths = f->kernel_deaths;
  st->poisoned = f->poisoned;
  st->revoked_iters = f->revoked_iters;
  st->rank = rank;
}

void farm_result(const farm_t* f, proto_exact_t* fsum,
                 unsigned __int128* isum) {
  *fsum = f->fsum;
  *isum = f->isum;
  for (int i = 0; i < f->nworkers; i++) {
    const farm_peer_t* p = &f->peer[i];
    if (p->fsum != NULL) proto_exact_merge(fsum, p->fsum);
    *isum += p->isum;
  }
  proto_exact_normalize(fsum);
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

/* ---- invariants ---------------------------------------------------------- */

/* The invariant that does not hold, into why: farm_check's failure. */
static int broken(char* why, size_t len, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int broken(char* why, size_t len, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, len, fmt, ap);
  va_end(ap);
  return -1;
}

/* farm_check's scratch: counts per chunk, kept from call to call (it runs
 * after every farm call in the simulator; the allocation would dominate). */
static _Thread_local struct {
  uint8_t* bytes;
  size_t cap;
} scratch;

/* What the peers and the queues say of each chunk, gathered before the
 * chunks are checked against it; the arrays live in scratch. */
typedef struct {
  uint32_t* held;  /* orders held for the chunk, by the peers and master */
  uint8_t* queued; /* [3 id]: requeued, [3 id + 1]: to check, [+ 2]: vote */
  uint8_t* owned;  /* owned by a static schedule's peer */
} tally_t;

/* Zeroed tallies for the table's chunks. -1: out of memory. */
static int tally_init(const master_table_t* t, tally_t* tl) {
  /* Per chunk: orders held (4 bytes), in the requeue, check and vote
   * queues (3), owned by a static schedule's peer (1). */
  size_t need = (t->count + 1) * 8;
  if (need > scratch.cap) {
    free(scratch.bytes);
    scratch.bytes = malloc(need);
    scratch.cap = scratch.bytes != NULL ? need : 0;
    if (scratch.bytes == NULL) return -1;
  }
  memset(scratch.bytes, 0, need);
  tl->held = (uint32_t*)scratch.bytes;
  tl->queued = scratch.bytes + 4 * (t->count + 1);
  tl->owned = tl->queued + 3 * (t->count + 1);
  return 0;
}

/* Orders: peer p holds at most FARM_QUEUE_DEPTH, each of a chunk of the
 * table whose attempt the table gives to p (or has forgotten). Counts
 * them into tl->held. */
static int audit_orders(const farm_t* f, const farm_peer_t* p, tally_t* tl,
                        char* why, size_t len) {
  const master_table_t* t = &f->table;
  if (!(p->norders >= 0 && p->norders <= FARM_QUEUE_DEPTH))
    return broken(why, len, "rank %d holds %d orders", p->rank, p->norders);
  for (int k = 0; k < p->norders; k++) {
    const farm_order_t* o = &p->order[k];
    if (!(o->chunk < t->count))
      return broken(why, len, "rank %d holds chunk %zu of %zu", p->rank,
                    o->chunk, t->count);
    int holder = master_table_holder(t, o->chunk, o->attempt);
    if (!(holder == p->rank || forgotten(f, o->chunk, o->attempt)))
      return broken(
          why, len,
          "rank %d holds chunk %zu attempt %llu, which the table gives to "
          "rank %d",
          p->rank, o->chunk, (unsigned long long)o->attempt, holder);
    tl->held[o->chunk]++;
  }
  return 0;
}

/* One peer: its rank, its orders, no orders once refused, gone or retired,
 * on the idle list exactly when feedable without orders, no results
 * counted once refused. Marks the chunks it owns in tl->owned. */
static int audit_peer(const farm_t* f, int i, tally_t* tl, char* why,
                      size_t len) {
  const farm_peer_t* p = &f->peer[i];
  if (!(p->rank == i + 1))
    return broken(why, len, "peer %d has rank %d", i, p->rank);
  if (audit_orders(f, p, tl, why, len) != 0) return -1;
  if (!((p->state != FARM_REFUSED && p->state != FARM_GONE &&
         p->state != FARM_RETIRED) ||
        p->norders == 0))
    return broken(why, len, "rank %d is %s and holds %d orders", p->rank,
                  farm_state_name(p->state), p->norders);
  if (!(p->idle == (feedable(p) && p->norders == 0)))
    return broken(why, len, "rank %d is %son the idle list", p->rank,
                  p->idle ? "" : "not ");
  if (p->why[0] != '\0')
    if (!(p->isum == 0 && p->chunks == 0))
      return broken(why, len,
                    "rank %d was refused (%s) and still has results counted",
                    p->rank, p->why);
  for (size_t k = p->owned_pos; k < p->owned_count; k++)
    tl->owned[p->owned[k]] = 1;
  return 0;
}

/* Peers: each one sound; the per-state counts, f->inflight and
 * f->speed_known match them; the idle list holds every idle peer. */
static int audit_peers(const farm_t* f, tally_t* tl, char* why, size_t len) {
  int alive = 0, takers = 0, lost = 0, inflight = 0, idle = 0, known = 0;
  for (int i = 0; i < f->nworkers; i++) {
    const farm_peer_t* p = &f->peer[i];
    if (audit_peer(f, i, tl, why, len) != 0) return -1;
    alive += p->state == FARM_ACTIVE;
    takers += p->state == FARM_ACTIVE || p->state == FARM_WAITING;
    lost += p->state == FARM_LOST || p->state == FARM_GONE;
    known += p->speed > 0;
    inflight += p->norders;
    idle += p->idle;
  }
  if (!(alive == f->alive && takers == f->takers && lost == f->lost))
    return broken(why, len,
                  "counts alive/takers/lost %d/%d/%d, the peers say %d/%d/%d",
                  f->alive, f->takers, f->lost, alive, takers, lost);
  if (!(inflight == f->inflight))
    return broken(why, len, "inflight %d, the peers hold %d", f->inflight,
                  inflight);
  if (!(known == f->speed_known))
    return broken(why, len, "speed_known %d, %d peers have a speed",
                  f->speed_known, known);
  for (const farm_peer_t* p = f->idle_head; p != NULL; p = p->idle_next) {
    if (!(p->idle))
      return broken(why, len, "rank %d is listed idle without its flag",
                    p->rank);
    idle--;
  }
  if (!(idle == 0))
    return broken(why, len, "the idle list misses %d idle peers", idle);
  return 0;
}

/* Queues: the requeue ring within its capacity, each entry a queued chunk
 * requeued once; check and vote queue entries chunks of the table. Marks
 * them in tl->queued. */
static int audit_queues(const farm_t* f, tally_t* tl, char* why, size_t len) {
  const master_table_t* t = &f->table;
  if (!(t->rq_count <= t->rq_cap))
    return broken(why, len, "requeue ring overflows");
  for (size_t k = 0; k < t->rq_count; k++) {
    uint64_t id = t->requeue[(t->rq_head + k) % t->rq_cap];
    if (!(id < t->count && t->chunk[id].queued))
      return broken(why, len, "requeue entry %llu is not a queued chunk",
                    (unsigned long long)id);
    if (!(!(tl->queued[3 * id] & 1)))
      return broken(why, len, "chunk %llu is requeued twice",
                    (unsigned long long)id);
    tl->queued[3 * id] = 1;
  }
  for (size_t k = 0; k < f->checkq.count; k++) {
    size_t id = ring_at(&f->checkq, k);
    if (!(id < t->count))
      return broken(why, len, "check queue entry %zu of %zu chunks", id,
                    t->count);
    tl->queued[3 * id + 1] = 1;
  }
  for (size_t k = 0; k < f->refq.count; k++) {
    size_t id = ring_at(&f->refq, k);
    if (!(id < t->count))
      return broken(why, len, "vote queue entry %zu of %zu chunks", id,
                    t->count);
    tl->queued[3 * id + 2] = 1;
  }
  return 0;
}

/* Chunk id: begins where the one before ends (at), is not empty, has as
 * many open attempts as orders held for it, its queued flag as the
 * requeue says, and a held-back result that points back at it. */
static int audit_chunk(const farm_t* f, size_t id, uint64_t at,
                       const tally_t* tl, char* why, size_t len) {
  const master_chunk_t* c = &f->table.chunk[id];
  if (!(c->begin == at && c->end > c->begin))
    return broken(why, len,
                  "chunk %zu is [%llu, %llu), the one before ends at %llu", id,
                  (unsigned long long)c->begin, (unsigned long long)c->end,
                  (unsigned long long)at);
  if (!(c->live == tl->held[id]))
    return broken(why, len, "chunk %zu has %u open attempts, %u are held", id,
                  c->live, tl->held[id]);
  if (!(c->queued == (tl->queued[3 * id] & 1)))
    return broken(why, len, "chunk %zu queued flag %d", id, c->queued);
  if (!(c->held == 0 ||
        (c->held <= f->nheld && f->held[c->held - 1].chunk == id)))
    return broken(why, len, "chunk %zu points at held result %u", id, c->held);
  return 0;
}

/* A done chunk: not poisoned, done by a rank that may count, and where its
 * check stands: queued when wanted, argued when disputed, by another rank
 * when passed. */
static int audit_done(const farm_t* f, size_t id, const tally_t* tl, char* why,
                      size_t len) {
  const master_chunk_t* c = &f->table.chunk[id];
  if (!(!c->poisoned))
    return broken(why, len, "chunk %zu is done and poisoned", id);
  int by = c->done_by;
  if (!(by == MASTER_DONE_BY_JOURNAL || by == 0 ||
        (by >= 1 && by <= f->nworkers && f->peer[by - 1].why[0] == 0)))
    return broken(why, len, "chunk %zu is done by %d, who may not count", id,
                  by);
  if (!(c->check != MASTER_CHECK_WANTED || tl->queued[3 * id + 1]))
    return broken(why, len, "chunk %zu wants a check and is not queued", id);
  if (!(c->check != MASTER_CHECK_DISPUTED ||
        (dispute_of((farm_t*)f, id) != NULL &&
         (c->live > 0 || tl->queued[3 * id + 2]))))
    return broken(why, len,
                  "disputed chunk %zu has no dispute, vote out or queued", id);
  if (!(c->check != MASTER_CHECK_PASSED || c->checked_by != c->done_by))
    return broken(why, len, "chunk %zu passed its check by its own rank", id);
  return 0;
}

/* An open chunk: not checked yet and, unless poisoned, somebody will
 * compute it (or the run is ending). */
static int audit_open(const farm_t* f, size_t id, const tally_t* tl, char* why,
                      size_t len) {
  const master_chunk_t* c = &f->table.chunk[id];
  if (!(c->check == MASTER_CHECK_NONE))
    return broken(why, len, "open chunk %zu has check %d", id, c->check);
  if (c->poisoned) return 0;
  if (!(c->live > 0 || c->queued || tl->owned[id] ||
        (f->stop != FARM_STOP_NONE && f->done) || f->rc != 0))
    return broken(
        why, len,
        "open chunk %zu [%llu, %llu) is held by nobody, queued nowhere and "
        "owned by nobody",
        id, (unsigned long long)c->begin, (unsigned long long)c->end);
  return 0;
}

/* Chunks: a partition of [0, next_begin), each one sound, the done,
 * poisoned and checked ones counted as the table and the farm count them. */
static int audit_chunks(const farm_t* f, const tally_t* tl, char* why,
                        size_t len) {
  const master_table_t* t = &f->table;
  uint64_t at = 0, done_iters = 0, poisoned_iters = 0;
  size_t done = 0, poisoned = 0;
  int open = 0;
  for (size_t id = 0; id < t->count; id++) {
    const master_chunk_t* c = &t->chunk[id];
    if (audit_chunk(f, id, at, tl, why, len) != 0) return -1;
    at = c->end;
    open += check_open(c->check);
    if (c->state == MASTER_CHUNK_DONE) {
      if (audit_done(f, id, tl, why, len) != 0) return -1;
      done++;
      done_iters += c->end - c->begin;
      continue;
    }
    if (audit_open(f, id, tl, why, len) != 0) return -1;
    if (c->poisoned) {
      poisoned++;
      poisoned_iters += c->end - c->begin;
    }
  }
  if (!(at == t->next_begin))
    return broken(why, len, "the chunks end at %llu, next_begin is %llu",
                  (unsigned long long)at, (unsigned long long)t->next_begin);
  if (!(done == t->done && done_iters == t->done_iters))
    return broken(
        why, len,
        "%zu chunks of %llu indices are done, the table says %zu of %llu", done,
        (unsigned long long)done_iters, t->done,
        (unsigned long long)t->done_iters);
  if (!(poisoned == f->poisoned && poisoned_iters == f->poisoned_iters))
    return broken(why, len, "%zu chunks are poisoned, the farm says %llu",
                  poisoned, (unsigned long long)f->poisoned);
  if (!(open == f->checks_open))
    return broken(why, len, "%d chunks are being checked, the farm says %d",
                  open, f->checks_open);
  return 0;
}

/* Held results: each one for a done chunk of the table whose check is
 * open and which points back at it. */
static int audit_held(const farm_t* f, char* why, size_t len) {
  const master_table_t* t = &f->table;
  for (size_t k = 0; k < f->nheld; k++) {
    size_t id = f->held[k].chunk;
    if (!(id < t->count && t->chunk[id].held == k + 1 &&
          t->chunk[id].state == MASTER_CHUNK_DONE &&
          check_open(t->chunk[id].check)))
      return broken(
          why, len,
          "result %zu held back for chunk %zu whose check is not open", k, id);
  }
  return 0;
}

/* Disputes: each one over a disputed chunk of the table, with 2 to
 * FARM_VOTES_MAX votes. */
static int audit_disputes(const farm_t* f, char* why, size_t len) {
  const master_table_t* t = &f->table;
  for (size_t k = 0; k < f->ndisputes; k++) {
    const farm_dispute_t* d = &f->dispute[k];
    if (!(d->chunk < t->count &&
          t->chunk[d->chunk].check == MASTER_CHECK_DISPUTED && d->votes >= 2 &&
          d->votes <= FARM_VOTES_MAX))
      return broken(why, len, "dispute %zu over chunk %zu is not open", k,
                    d->chunk);
  }
  return 0;
}

int farm_check(const farm_t* f, char* why, size_t len) {
  tally_t tl;
  if (tally_init(&f->table, &tl) != 0) {
    snprintf(why, len, "out of memory checking the farm");
    return -1;
  }
  if (audit_peers(f, &tl, why, len) != 0) return -1;
  /* The master computing alone holds its chunk as a peer holds an order. */
  if (f->solo_busy) tl.held[f->solo_chunk]++;
  if (audit_queues(f, &tl, why, len) != 0) return -1;
  if (audit_chunks(f, &tl, why, len) != 0) return -1;
  if (audit_held(f, why, len) != 0) return -1;
  return audit_disputes(f, why, len);
}
