/* The chunk table: every chunk of [0, n) with its state and the rank that
 * holds each of its attempts. Chunks are cut on demand from the unsplit tail
 * of the range, so a schedule can choose each size as the run goes; a chunk
 * whose attempt was abandoned (timeout, lost rank, failure) goes back to a
 * queue that is served before new cuts. Invariant: the chunks partition
 * [0, next_begin), and a chunk is DONE at most once at a time, so every index
 * is counted exactly once; a DONE chunk is reopened only when the result that
 * made it DONE is withdrawn (its rank lied). A requeued chunk may still have
 * live attempts: the first result for it counts, the others are duplicates.
 * A DONE chunk may be issued again, to check its result: those attempts'
 * results are duplicates, compared with the accepted one by its digest. A
 * poisoned chunk is never issued again. Pure logic, no MPI. */
#ifndef TASKFARM_MASTER_CHUNKS_H_
#define TASKFARM_MASTER_CHUNKS_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  MASTER_MAX_ATTEMPTS = 8, /* holders remembered per chunk: the newest ones */
};

typedef enum {
  MASTER_CHUNK_PENDING = 0, /* waiting to be issued (new or requeued) */
  MASTER_CHUNK_ISSUED = 1,  /* at least one attempt outstanding */
  MASTER_CHUNK_DONE = 2,    /* a result was accepted */
} master_chunk_state_t;

typedef enum {
  MASTER_ACCEPT = 0,    /* first result for this chunk: add it */
  MASTER_DUPLICATE = 1, /* chunk already done: drop and count */
  MASTER_INVALID = 2,   /* no such chunk/attempt/range for this rank: drop */
} master_verdict_t;

/* Where a chunk's check by a second computation stands (--verify). */
typedef enum {
  MASTER_CHECK_NONE = 0, /* not asked for (or not DONE) */
  MASTER_CHECK_WANTED,   /* picked: a copy must go to another rank */
  MASTER_CHECK_ISSUED,   /* a copy is out */
  MASTER_CHECK_DISPUTED, /* two results differ: more computations decide */
  MASTER_CHECK_PASSED,   /* another rank's result had the same bits */
} master_check_t;

typedef struct master_chunk_s master_chunk_t;
struct master_chunk_s {
  uint64_t begin;                       /* first index */
  uint64_t end;                         /* one past the last index */
  master_chunk_state_t state;           /* see master_chunk_state_t */
  uint32_t attempts;                    /* attempts issued so far */
  uint32_t live;                        /* attempts issued and not closed */
  int32_t rank_of[MASTER_MAX_ATTEMPTS]; /* rank of attempt k+1 is at
                                           (k % MASTER_MAX_ATTEMPTS), for
                                           the newest MASTER_MAX_ATTEMPTS */
  int32_t done_by;                      /* rank whose result counted */
  int queued;                           /* in the requeue ring */
  uint64_t fault_ns;                    /* when a failed attempt was last
                                           heard from; 0 = no fault */
  uint64_t digest;                      /* DONE: the accepted result's
                                           digest (master/digest.h) */
  int32_t checked_by;                   /* PASSED: the rank whose result
                                           matched; else -1 */
  uint32_t held;                        /* while its check is open: 1 +
                                           the farm's index of the result
                                           held back from the journal; 0 =
                                           none */
  uint8_t check;                        /* master_check_t */
  uint8_t poisoned;                     /* its computation killed ranks:
                                           never issued again */
};

typedef struct master_table_s master_table_t;
struct master_table_s {
  master_chunk_t* chunk; /* chunk[id], id in [0, count) */
  size_t count;          /* chunks cut so far */
  size_t cap;            /* allocated entries */
  uint64_t n;            /* the range is [0, n) */
  uint64_t align;        /* cuts fall on multiples of this (or n) */
  uint64_t next_begin;   /* first index not yet cut into a chunk */
  uint64_t* requeue;     /* ids of chunks pending again, FIFO ring */
  size_t rq_head;        /* first entry of the ring */
  size_t rq_count;       /* entries in the ring */
  size_t rq_cap;         /* ring capacity */
  size_t done;           /* chunks DONE */
  uint64_t done_iters;   /* indices covered by DONE chunks */
  uint64_t* known;       /* ranges done before the run (a journal):
                            begin, end pairs, sorted, disjoint */
  size_t nknown;
  size_t known_pos; /* first range not yet entered as a chunk */
};

enum { MASTER_DONE_BY_JOURNAL = -2 }; /* done_by of a chunk from a journal */

/* Fills t for the range [0, n) with cuts aligned to align (>= 1). Returns 0
 * or PROTO_ENOMEM. */
int master_table_init(master_table_t* t, uint64_t n, uint64_t align);

/* Frees what t holds; safe on a zeroed or closed table. */
void master_table_close(master_table_t* t);

/* Puts chunk id back in line for another worker while its outstanding
 * attempts stay open (a timeout: whichever result comes first counts).
 * No-op for a done or already queued chunk. Returns 0 or PROTO_ENOMEM. */
int master_table_requeue(master_table_t* t, size_t id);

/* Picks the next chunk to issue: a requeued one first, else a new cut of
 * `size` indices (rounded up to the alignment, clipped at n). Returns 1 and
 * sets *id, 0 when nothing is pending, or PROTO_ENOMEM. */
int master_table_next(master_table_t* t, uint64_t size, size_t* id);

/* Declares ranges already done (from a journal): count begin/end pairs in
 * ranges, sorted and disjoint, aligned like the table. Cuts never cross
 * them; each enters the table as a DONE chunk when the cuts reach it. Call
 * before any cut. Returns 0, PROTO_EINVAL or PROTO_ENOMEM. */
int master_table_preload(master_table_t* t, const uint64_t* ranges,
                         size_t count);

/* Takes the oldest requeued chunk that is still open: 1 and *id, or 0. */
int master_table_pop_requeued(master_table_t* t, size_t* id);

/* Like master_table_pop_requeued, but passes over (and leaves in line) the
 * chunks for which avoid(ctx, id) says 1, among the first `look` open ones:
 * a chunk that killed a rank goes to another. */
int master_table_take_requeued(master_table_t* t,
                               int (*avoid)(void* ctx, size_t id), void* ctx,
                               size_t look, size_t* id);

/* Cuts a new chunk of `size` indices (rounded up to the alignment, clipped
 * at n) from the unsplit tail: 1 and *id, 0 when all is cut, or
 * PROTO_ENOMEM. */
int master_table_cut(master_table_t* t, uint64_t size, size_t* id);

/* Records that a new attempt of chunk id goes to rank and opens it; a DONE
 * chunk stays DONE (the attempt checks its result). Returns the attempt
 * number (1, 2, ...); there is no limit, the table remembers the holders of
 * the newest MASTER_MAX_ATTEMPTS. */
uint32_t master_table_issue(master_table_t* t, size_t id, int rank);

/* The rank that holds attempt of chunk id, or -1 when the attempt was never
 * issued or is too old to be remembered. */
int master_table_holder(const master_table_t* t, uint64_t id, uint64_t attempt);

/* Judges a result from rank for chunk id, attempt, range [begin, end): the
 * first valid one for an open chunk is accepted and marks it DONE. The
 * attempt stays open: close it with master_table_abandon once its holder no
 * longer has it. An attempt too old to be remembered is INVALID. */
master_verdict_t master_table_complete(master_table_t* t, int rank, uint64_t id,
                                       uint64_t attempt, uint64_t begin,
                                       uint64_t end);

/* Closes an open attempt of chunk id (its holder has a result, gave up,
 * timed out for good or was lost). When no attempt of a chunk that is not
 * DONE is left, the chunk is requeued. Returns 0 or PROTO_ENOMEM. */
int master_table_abandon(master_table_t* t, size_t id);

/* Withdraws the result of DONE chunk id (its rank turned out to lie): the
 * chunk is open again and goes back in line; its open attempts stay open
 * (the first result of one counts). Returns 0 or PROTO_ENOMEM. */
int master_table_reopen(master_table_t* t, size_t id);

/* Marks chunk id (not DONE) poisoned: it is never handed out again, and a
 * queued entry of it is skipped. */
void master_table_poison(master_table_t* t, size_t id);

/* 1 when every index of [0, n) belongs to a DONE chunk. */
int master_table_finished(const master_table_t* t);

/* Indices not yet cut into chunks plus those of requeued chunks. */
uint64_t master_table_unissued(const master_table_t* t);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_CHUNKS_H_ */
