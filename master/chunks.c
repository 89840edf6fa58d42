/* The chunk table of chunks.h. Arrays grow by doubling; the requeue is a ring
 * of chunk ids. */
#include "master/chunks.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "proto/error.h"

int master_table_init(master_table_t* t, uint64_t n, uint64_t align) {
  memset(t, 0, sizeof(*t));
  t->n = n;
  t->align = align ? align : 1;
  t->cap = 64;
  t->chunk = malloc(t->cap * sizeof(*t->chunk));
  t->rq_cap = 16;
  t->requeue = malloc(t->rq_cap * sizeof(*t->requeue));
  if (t->chunk == NULL || t->requeue == NULL) {
    master_table_close(t);
    return PROTO_ENOMEM;
  }
  return 0;
}

void master_table_close(master_table_t* t) {
  free(t->chunk);
  free(t->requeue);
  free(t->known);
  t->chunk = NULL;
  t->requeue = NULL;
  t->known = NULL;
  t->nknown = 0;
  t->count = t->cap = t->rq_cap = t->rq_count = 0;
}

static int requeue_push(master_table_t* t, uint64_t id) {
  if (t->chunk[id].queued || t->chunk[id].state == MASTER_CHUNK_DONE ||
      t->chunk[id].poisoned)
    return 0;
  if (t->rq_count == t->rq_cap) {
    size_t cap = t->rq_cap * 2;
    uint64_t* ring = malloc(cap * sizeof(*ring));
    if (ring == NULL) return PROTO_ENOMEM;
    for (size_t i = 0; i < t->rq_count; i++)
      ring[i] = t->requeue[(t->rq_head + i) % t->rq_cap];
    free(t->requeue);
    t->requeue = ring;
    t->rq_cap = cap;
    t->rq_head = 0;
  }
  t->requeue[(t->rq_head + t->rq_count++) % t->rq_cap] = id;
  t->chunk[id].queued = 1;
  return 0;
}

int master_table_requeue(master_table_t* t, size_t id) {
  return requeue_push(t, id);
}

int master_table_pop_requeued(master_table_t* t, size_t* id) {
  while (t->rq_count > 0) {
    uint64_t c = t->requeue[t->rq_head];
    t->rq_head = (t->rq_head + 1) % t->rq_cap;
    t->rq_count--;
    t->chunk[c].queued = 0;
    /* A requeued chunk may have been finished by a late result since, or
     * found to be poison. */
    if (t->chunk[c].state != MASTER_CHUNK_DONE && !t->chunk[c].poisoned) {
      *id = (size_t)c;
      return 1;
    }
  }
  return 0;
}

int master_table_take_requeued(master_table_t* t,
                               int (*avoid)(void* ctx, size_t id), void* ctx,
                               size_t look, size_t* id) {
  size_t k = 0;
  while (k < t->rq_count && k < look) {
    size_t at = (t->rq_head + k) % t->rq_cap;
    uint64_t c = t->requeue[at];
    int stale = t->chunk[c].state == MASTER_CHUNK_DONE || t->chunk[c].poisoned;
    if (!stale && avoid(ctx, (size_t)c)) {
      k++;
      continue;
    }
    /* Out of the ring: the entries before it move up one place. */
    for (size_t i = k; i > 0; i--)
      t->requeue[(t->rq_head + i) % t->rq_cap] =
          t->requeue[(t->rq_head + i - 1) % t->rq_cap];
    t->rq_head = (t->rq_head + 1) % t->rq_cap;
    t->rq_count--;
    t->chunk[c].queued = 0;
    if (stale) continue;
    *id = (size_t)c;
    return 1;
  }
  return 0;
}

/* A new chunk [begin, end) at the end of the table, or NULL. */
static master_chunk_t* append_chunk(master_table_t* t, uint64_t begin,
                                    uint64_t end) {
  if (t->count == t->cap) {
    master_chunk_t* grown = realloc(t->chunk, 2 * t->cap * sizeof(*grown));
    if (grown == NULL) return NULL;
    t->chunk = grown;
    t->cap *= 2;
  }
  master_chunk_t* c = &t->chunk[t->count++];
  memset(c, 0, sizeof(*c));
  c->begin = begin;
  c->end = end;
  c->state = MASTER_CHUNK_PENDING;
  c->done_by = -1;
  c->checked_by = -1;
  t->next_begin = end;
  return c;
}

/* Enters the known ranges that start where the cuts are as DONE chunks. */
static int absorb_known(master_table_t* t) {
  while (t->known_pos < t->nknown &&
         t->known[2 * t->known_pos] == t->next_begin) {
    master_chunk_t* c = append_chunk(t, t->known[2 * t->known_pos],
                                     t->known[2 * t->known_pos + 1]);
    if (c == NULL) return PROTO_ENOMEM;
    c->state = MASTER_CHUNK_DONE;
    c->done_by = MASTER_DONE_BY_JOURNAL;
    t->done++;
    t->done_iters += c->end - c->begin;
    t->known_pos++;
  }
  return 0;
}

int master_table_preload(master_table_t* t, const uint64_t* ranges,
                         size_t count) {
  if (t->count > 0 || t->known != NULL) return PROTO_EINVAL;
  for (size_t i = 0; i < count; i++) {
    uint64_t b = ranges[2 * i], e = ranges[2 * i + 1];
    if (b >= e || e > t->n || (i > 0 && b < ranges[2 * i - 1]))
      return PROTO_EINVAL;
  }
  if (count == 0) return 0;
  t->known = malloc(2 * count * sizeof(*t->known));
  if (t->known == NULL) return PROTO_ENOMEM;
  memcpy(t->known, ranges, 2 * count * sizeof(*t->known));
  t->nknown = count;
  return absorb_known(t);
}

int master_table_cut(master_table_t* t, uint64_t size, size_t* id) {
  if (t->next_begin >= t->n) return 0;
  if (size == 0) size = 1;
  size = (size + t->align - 1) / t->align * t->align;
  uint64_t limit = t->known_pos < t->nknown ? t->known[2 * t->known_pos] : t->n;
  uint64_t end = limit - t->next_begin <= size ? limit : t->next_begin + size;
  if (append_chunk(t, t->next_begin, end) == NULL) return PROTO_ENOMEM;
  *id = t->count - 1;
  if (absorb_known(t) < 0) return PROTO_ENOMEM;
  return 1;
}

int master_table_next(master_table_t* t, uint64_t size, size_t* id) {
  if (master_table_pop_requeued(t, id)) return 1;
  return master_table_cut(t, size, id);
}

uint32_t master_table_issue(master_table_t* t, size_t id, int rank) {
  assert(id < t->count);
  master_chunk_t* c = &t->chunk[id];
  assert(!c->poisoned);
  c->rank_of[c->attempts % MASTER_MAX_ATTEMPTS] = rank;
  c->attempts++;
  c->live++;
  if (c->state == MASTER_CHUNK_PENDING) c->state = MASTER_CHUNK_ISSUED;
  return c->attempts;
}

int master_table_holder(const master_table_t* t, uint64_t id,
                        uint64_t attempt) {
  if (id >= t->count) return -1;
  const master_chunk_t* c = &t->chunk[id];
  if (attempt < 1 || attempt > c->attempts ||
      c->attempts - attempt >= MASTER_MAX_ATTEMPTS)
    return -1;
  return c->rank_of[(attempt - 1) % MASTER_MAX_ATTEMPTS];
}

master_verdict_t master_table_complete(master_table_t* t, int rank, uint64_t id,
                                       uint64_t attempt, uint64_t begin,
                                       uint64_t end) {
  if (master_table_holder(t, id, attempt) != rank) return MASTER_INVALID;
  master_chunk_t* c = &t->chunk[id];
  if (c->begin != begin || c->end != end) return MASTER_INVALID;
  if (c->state == MASTER_CHUNK_DONE) return MASTER_DUPLICATE;
  c->state = MASTER_CHUNK_DONE;
  c->done_by = rank;
  t->done++;
  t->done_iters += c->end - c->begin;
  return MASTER_ACCEPT;
}

int master_table_abandon(master_table_t* t, size_t id) {
  assert(id < t->count);
  master_chunk_t* c = &t->chunk[id];
  assert(c->live > 0);
  c->live--;
  if (c->state != MASTER_CHUNK_ISSUED || c->live > 0) return 0;
  c->state = MASTER_CHUNK_PENDING;
  return requeue_push(t, id);
}

int master_table_reopen(master_table_t* t, size_t id) {
  assert(id < t->count);
  master_chunk_t* c = &t->chunk[id];
  assert(c->state == MASTER_CHUNK_DONE && c->done_by != MASTER_DONE_BY_JOURNAL);
  assert(t->done > 0 && t->done_iters >= c->end - c->begin);
  t->done--;
  t->done_iters -= c->end - c->begin;
  c->state = c->live > 0 ? MASTER_CHUNK_ISSUED : MASTER_CHUNK_PENDING;
  c->done_by = -1;
  c->checked_by = -1;
  c->check = MASTER_CHECK_NONE;
  c->digest = 0;
  return requeue_push(t, id);
}

void master_table_poison(master_table_t* t, size_t id) {
  assert(id < t->count && t->chunk[id].state != MASTER_CHUNK_DONE);
  t->chunk[id].poisoned = 1;
}

int master_table_finished(const master_table_t* t) {
  return t->done_iters == t->n && t->next_begin == t->n;
}

uint64_t master_table_unissued(const master_table_t* t) {
  uint64_t left = t->n - t->next_begin;
  for (size_t i = 0; i < t->rq_count; i++) {
    const master_chunk_t* c =
        &t->chunk[t->requeue[(t->rq_head + i) % t->rq_cap]];
    if (c->state != MASTER_CHUNK_DONE && !c->poisoned)
      left += c->end - c->begin;
  }
  return left;
}
