/* How big the next chunk is and, for the static schedules, who gets it.
 * Every classic loop schedule is here (docs/schedules.md gives the formula
 * and source of each): static block and cyclic assign chunks in advance;
 * dynamic, guided, trapezoid and the factoring family size each chunk when a
 * worker asks; the adaptive ones (awf-b, awf-c, af) learn each worker's speed
 * from the compute times its results report. Pure logic: no MPI, no clock;
 * time arrives as numbers. */
#ifndef TASKFARM_MASTER_SCHEDULE_H_
#define TASKFARM_MASTER_SCHEDULE_H_

#include <stdint.h>

#include "cli/job.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  MASTER_CHUNKS_PER_WORKER = 64, /* automatic chunking aims at this many */
  MASTER_MIN_CHUNK_DIV = 4096,   /* automatic --min-chunk: n / (this x P) */
};

/* What a schedule has learnt about one worker from its results. */
typedef struct master_perf_s master_perf_t;
struct master_perf_s {
  uint64_t chunks;  /* results learnt from */
  double sum_t;     /* seconds over all of them */
  double sum_s;     /* iterations over all of them */
  double sum_sx2;   /* sum of s * (t/s)^2, for the variance (af) */
  double wsum_t;    /* sum of k * t for the k-th result (awf) */
  double wsum_s;    /* sum of k * s for the k-th result (awf) */
  uint64_t largest; /* largest chunk handed to it so far */
};

typedef struct master_sched_s master_sched_t;
struct master_sched_s {
  cli_sched_t kind;
  uint64_t n;           /* the range is [0, n) */
  int workers;          /* P */
  uint64_t align;       /* sizes are rounded up to a multiple of this */
  uint64_t chunk;       /* dynamic/cyclic size; static piece size (0: whole) */
  uint64_t min_chunk;   /* smallest variable-size chunk (>= align) */
  uint64_t max_chunk;   /* largest chunk; 0 = no limit */
  uint64_t cuts;        /* chunks sized so far */
  uint64_t growth;      /* adaptive ones: a worker's chunk is at most this
                           times its largest so far (slow start); 0 = none */
  double* weight;       /* per worker, summing to P (wf given, awf learnt) */
  master_perf_t* perf;  /* per worker */
  unsigned char* alive; /* per worker: 0 once lost (left out of awf/af) */
  int live;             /* workers whose alive is 1 */
  double* mu;           /* per worker, scratch for mean iteration times */
  uint64_t batch_chunk; /* factoring family: the batch's per-worker size */
  uint64_t batch_rem;   /* iterations left in the current batch */
  uint64_t tss_first;   /* trapezoid: F */
  uint64_t tss_last;    /* trapezoid: L */
  uint64_t tss_delta;   /* trapezoid: decrement per chunk */
};

/* Sets s up for [0, n), P = workers (>= 1), chunks aligned to align (>= 1).
 * chunk: the fixed size (dynamic, cyclic; a static block is split into
 * pieces of at most chunk when > 0); min_chunk: the smallest size of the
 * variable ones (rounded up to align; 0 means align); max_chunk: 0 for none.
 * weights: P relative speeds for wf (NULL: all equal). Returns 0,
 * PROTO_EINVAL or PROTO_ENOMEM. */
int master_sched_init(master_sched_t* s, cli_sched_t kind, uint64_t n,
                      int workers, uint64_t align, uint64_t chunk,
                      uint64_t min_chunk, uint64_t max_chunk,
                      const double* weights);

/* The adaptive schedules' default growth limit (see docs/schedules.md). */
enum { MASTER_SCHED_GROWTH = 2 };

/* What the adaptive schedules learnt about worker w, for the report. */
typedef struct master_learned_s master_learned_t;
struct master_learned_s {
  uint64_t chunks;      /* results learnt from */
  double mean_s;        /* seconds per iteration, weighted by chunk size
                           (af's mean) */
  double recent_mean_s; /* ... weighted by the result's order (awf's) */
  double sd_s;          /* af's standard deviation of one iteration */
  double weight;        /* wf/awf weight (the weights sum to P); 0: none */
};
void master_sched_learned(const master_sched_t* s, int w,
                          master_learned_t* out);

/* Frees what s holds; safe on a zeroed or closed s. */
void master_sched_close(master_sched_t* s);

/* 1 for the schedules that assign every chunk in advance (static, cyclic). */
int master_sched_is_static(const master_sched_t* s);

/* The size of the chunk that starts at begin (< n), for worker w in
 * [0, P) (ignored by the static schedules): a multiple of align or the rest
 * of the range, never 0, never past n. Advances the schedule's state: call
 * it once per chunk actually cut. */
uint64_t master_sched_next(master_sched_t* s, int w, uint64_t begin);

/* The static schedules: the worker in [0, P) that owns the chunk starting at
 * begin, which is chunk number cut (0-based) of the run. */
int master_sched_owner(const master_sched_t* s, uint64_t begin, uint64_t cut);

/* Worker w computed `iters` iterations in `seconds`: the adaptive schedules
 * learn from it. */
void master_sched_learn(master_sched_t* s, int w, uint64_t iters,
                        double seconds);

/* Worker w is lost (alive 0) or back (1); the adaptive schedules weigh only
 * the live ones. */
void master_sched_set_alive(master_sched_t* s, int w, int alive);

/* The chunk size of the dynamic schedule for job with `workers` workers:
 * job->chunk when set, else n / (64 * workers) rounded up to the job's
 * alignment and kept within [alignment, the job's cap]. Never 0. */
uint64_t master_chunk_size(const cli_job_t* job, int workers);

/* Chunks the master's table holds at most: each costs
 * sizeof(master_chunk_t) (80 bytes) plus 16 bytes while it is in a
 * journal being resumed, so 2^26 chunks are 5.4 GB. */
#define MASTER_CHUNKS_MAX ((uint64_t)1 << 26)

/* How many chunks job cuts with a fixed chunk size (dynamic, cyclic, and
 * static with --chunk): ceil(n / chunk); 0 for the variable-size schedules,
 * whose chunk counts grow with P log n, not with n. */
uint64_t master_fixed_chunk_count(const cli_job_t* job, int workers);

/* The smallest chunk of the variable-size schedules: job->min_chunk when
 * set, else n / (4096 * workers), at least the alignment. */
uint64_t master_min_chunk(const cli_job_t* job, int workers);

/* The alignment chunk boundaries must respect: PI_GRAIN for pi, 1
 * otherwise. */
uint64_t master_chunk_align(const cli_job_t* job);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_SCHEDULE_H_ */
