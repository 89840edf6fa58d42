/* The loop schedules of schedule.h. Each size is first computed in
 * iterations by the schedule's formula (docs/schedules.md), then limited
 * to [min_chunk, max_chunk], rounded up to the alignment and clipped to the
 * rest of the range. The caps of the automatic dynamic size keep one chunk at
 * a small fraction of a second on a current core, so a re-issue never
 * repeats much work. */
#include "master/schedule.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/error.h"

static uint64_t round_up(uint64_t v, uint64_t align) {
  return (v + align - 1) / align * align;
}

static uint64_t ceil_div(uint64_t a, uint64_t b) {
  return a / b + (a % b != 0);
}

int master_sched_init(master_sched_t* s, cli_sched_t kind, uint64_t n,
                      int workers, uint64_t align, uint64_t chunk,
                      uint64_t min_chunk, uint64_t max_chunk,
                      const double* weights) {
  memset(s, 0, sizeof(*s));
  if ((unsigned)kind >= CLI_SCHED_COUNT || workers < 1 || align == 0)
    return PROTO_EINVAL;
  s->kind = kind;
  s->n = n;
  s->workers = workers;
  s->align = align;
  s->chunk = chunk > 0 ? round_up(chunk, align) : 0;
  if (s->chunk == 0 && kind != CLI_SCHED_STATIC) s->chunk = align;
  s->min_chunk = round_up(min_chunk > 0 ? min_chunk : align, align);
  s->max_chunk = max_chunk;
  s->growth = MASTER_SCHED_GROWTH;
  s->weight = calloc((size_t)workers, sizeof(*s->weight));
  s->perf = calloc((size_t)workers, sizeof(*s->perf));
  s->alive = malloc((size_t)workers);
  s->mu = calloc((size_t)workers, sizeof(*s->mu));
  if (s->weight == NULL || s->perf == NULL || s->alive == NULL ||
      s->mu == NULL) {
    master_sched_close(s);
    return PROTO_ENOMEM;
  }
  memset(s->alive, 1, (size_t)workers);
  s->live = workers;
  double total = 0;
  for (int i = 0; i < workers; i++) {
    s->weight[i] = weights ? weights[i] : 1.0;
    if (!(s->weight[i] > 0)) {
      master_sched_close(s);
      return PROTO_EINVAL;
    }
    total += s->weight[i];
  }
  for (int i = 0; i < workers; i++) s->weight[i] *= workers / total;
  /* Trapezoid: first F = n/2P, last L, C = 2n/(F+L) chunks, F - L spread
   * evenly (integer decrement, as Tzen and Ni). */
  s->tss_first = ceil_div(n, 2 * (uint64_t)workers);
  s->tss_last = s->min_chunk;
  if (s->tss_first < s->tss_last) s->tss_first = s->tss_last;
  uint64_t count = ceil_div(2 * n, s->tss_first + s->tss_last);
  s->tss_delta = count > 1 ? (s->tss_first - s->tss_last) / (count - 1) : 0;
  return 0;
}

void master_sched_close(master_sched_t* s) {
  free(s->weight);
  free(s->perf);
  free(s->alive);
  free(s->mu);
  s->mu = NULL;
  s->weight = NULL;
  s->perf = NULL;
  s->alive = NULL;
}

int master_sched_is_static(const master_sched_t* s) {
  return s->kind == CLI_SCHED_STATIC || s->kind == CLI_SCHED_CYCLIC;
}

/* First index of worker w's static block; block P begins at n. */
static uint64_t block_begin(const master_sched_t* s, int w) {
  if (w >= s->workers) return s->n;
  unsigned __int128 at =
      (unsigned __int128)s->n * (unsigned)w / (unsigned)s->workers;
  return (uint64_t)at / s->align * s->align;
}

int master_sched_owner(const master_sched_t* s, uint64_t begin, uint64_t cut) {
  if (s->kind == CLI_SCHED_CYCLIC) return (int)(cut % (uint64_t)s->workers);
  int w = (int)((unsigned __int128)begin * (unsigned)s->workers / s->n);
  if (w >= s->workers) w = s->workers - 1;
  while (w + 1 < s->workers && block_begin(s, w + 1) <= begin) w++;
  while (w > 0 && block_begin(s, w) > begin) w--;
  return w;
}

/* Live workers, at least 1: kept by master_sched_set_alive(), so sizing a
 * chunk does not cost O(P). */
static int live_count(const master_sched_t* s) {
  return s->live > 0 ? s->live : 1;
}

/* Seconds per iteration of worker w: the awf mean weighs the k-th result by
 * k (recent results count more), the af mean weighs by size. 0: unknown. */
static double mean_time(const master_sched_t* s, int w, int weighted) {
  const master_perf_t* p = &s->perf[w];
  if (p->chunks == 0) return 0;
  return weighted ? p->wsum_t / p->wsum_s : p->sum_t / p->sum_s;
}

/* Variance of one iteration's time, from per-result means x_k = t_k / s_k:
 * with independent iterations, Var(x_k) = sigma^2 / s_k, so
 * sigma^2 = sum s_k (x_k - mu)^2 / (m - 1). */
static double time_variance(const master_sched_t* s, int w) {
  const master_perf_t* p = &s->perf[w];
  if (p->chunks < 2) return 0;
  double mu = p->sum_t / p->sum_s;
  double v = (p->sum_sx2 - mu * mu * p->sum_s) / (double)(p->chunks - 1);
  return v > 0 ? v : 0;
}

void master_sched_learned(const master_sched_t* s, int w,
                          master_learned_t* out) {
  memset(out, 0, sizeof(*out));
  if (s->perf == NULL || w < 0 || w >= s->workers) return;
  out->chunks = s->perf[w].chunks;
  out->mean_s = mean_time(s, w, 0);
  out->recent_mean_s = mean_time(s, w, 1);
  out->sd_s = sqrt(time_variance(s, w));
  out->weight = s->weight != NULL ? s->weight[w] : 0;
}

/* Mean time per iteration of every live worker into mu[]; a worker without
 * results is assumed as slow as the slowest measured one. 0 if none is. */
static int known_means(const master_sched_t* s, int weighted, double* mu) {
  double slowest = 0;
  for (int i = 0; i < s->workers; i++) {
    mu[i] = s->alive[i] ? mean_time(s, i, weighted) : 0;
    if (mu[i] > slowest) slowest = mu[i];
  }
  if (slowest == 0) return 0;
  for (int i = 0; i < s->workers; i++)
    if (s->alive[i] && mu[i] == 0) mu[i] = slowest;
  return 1;
}

/* AWF weights: w_i = (1/mu_i) P / sum_j (1/mu_j) over the live workers (the
 * normalised reference weights awap/mu_i of Banicescu et al.). */
static void learn_weights(master_sched_t* s) {
  double* mu = s->mu;
  if (!known_means(s, 1, mu)) return;
  double inv = 0;
  for (int i = 0; i < s->workers; i++)
    if (s->alive[i]) inv += 1 / mu[i];
  int live = live_count(s);
  for (int i = 0; i < s->workers; i++)
    s->weight[i] = s->alive[i] ? live / (mu[i] * inv) : 0;
}

/* AF: K_w = (D + 2TR - sqrt(D^2 + 4DTR)) / (2 mu_w), D = sum sigma_i^2 /
 * mu_i, T = 1 / sum (1 / mu_i) (Banicescu and Liu 2000). 0: not yet known. */
static double adaptive_factoring(master_sched_t* s, int w, uint64_t rem) {
  double* mu = s->mu;
  if (!known_means(s, 0, mu) || s->perf[w].chunks == 0) return 0;
  double d = 0, inv = 0;
  for (int i = 0; i < s->workers; i++) {
    if (!s->alive[i]) continue;
    d += time_variance(s, i) / mu[i];
    inv += 1 / mu[i];
  }
  double t = 1 / inv, r = (double)rem;
  return (d + 2 * t * r - sqrt(d * d + 4 * d * t * r)) / (2 * mu[w]);
}

static uint64_t weighted(double weight, uint64_t size) {
  double v = weight * (double)size + 0.5;
  return v < 1 ? 1 : (uint64_t)v;
}

/* The schedules that cut a batch at a time and share it out. */
static int is_batched(cli_sched_t kind) {
  return kind == CLI_SCHED_FACTORING || kind == CLI_SCHED_WF ||
         kind == CLI_SCHED_AWF_B;
}

/* A batched schedule's size for worker w, opening a new batch of about
 * half the rest when the last one is used up. */
static uint64_t batch_size(master_sched_t* s, int w, uint64_t rem, uint64_t p) {
  if (s->batch_rem == 0) {
    s->batch_chunk = ceil_div(rem, 2 * p);
    if (s->batch_chunk < s->min_chunk) s->batch_chunk = s->min_chunk;
    s->batch_rem = p * s->batch_chunk < rem ? p * s->batch_chunk : rem;
    if (s->kind == CLI_SCHED_AWF_B) learn_weights(s);
  }
  if (s->kind == CLI_SCHED_FACTORING) return s->batch_chunk;
  if (s->kind == CLI_SCHED_AWF_B && s->perf[w].chunks == 0)
    return s->min_chunk; /* nothing measured: probe with the minimum */
  return weighted(s->weight[w], s->batch_chunk);
}

/* The size the schedule's formula gives worker w, before any limit; not
 * for the static schedule, whose blocks are fixed. */
static uint64_t formula_size(master_sched_t* s, int w, uint64_t rem) {
  uint64_t p = (uint64_t)live_count(s);
  switch (s->kind) {
    case CLI_SCHED_CYCLIC:
    case CLI_SCHED_DYNAMIC:
      return s->chunk;
    case CLI_SCHED_GUIDED:
      return ceil_div(rem, p);
    case CLI_SCHED_TRAPEZOID: {
      uint64_t drop = s->tss_delta * s->cuts;
      return s->tss_first - s->tss_last > drop ? s->tss_first - drop
                                               : s->tss_last;
    }
    case CLI_SCHED_FACTORING:
    case CLI_SCHED_WF:
    case CLI_SCHED_AWF_B:
      return batch_size(s, w, rem, p);
    case CLI_SCHED_AWF_C:
      learn_weights(s);
      return s->perf[w].chunks == 0
                 ? s->min_chunk
                 : weighted(s->weight[w], ceil_div(rem, 2 * p));
    case CLI_SCHED_AF: {
      double k = adaptive_factoring(s, w, rem);
      uint64_t cap = ceil_div(s->n, 2 * (uint64_t)s->workers);
      return k <= 0             ? s->min_chunk
             : k >= (double)cap ? cap
                                : (uint64_t)(k + 0.5);
    }
    case CLI_SCHED_STATIC:
    case CLI_SCHED_COUNT:
      break;
  }
  return 0;
}

/* size limited by the growth cap of the adaptive schedules, max_chunk and
 * min_chunk (which dynamic and cyclic, cut at a fixed size, do not take). */
static uint64_t limit_size(const master_sched_t* s, int w, uint64_t size) {
  int adaptive = s->kind == CLI_SCHED_AWF_B || s->kind == CLI_SCHED_AWF_C ||
                 s->kind == CLI_SCHED_AF;
  if (adaptive && s->growth > 0 && s->perf[w].largest > 0 &&
      size > s->growth * s->perf[w].largest)
    size = s->growth * s->perf[w].largest;
  if (s->max_chunk > 0 && size > s->max_chunk) size = s->max_chunk;
  if (size < s->min_chunk && s->kind != CLI_SCHED_DYNAMIC &&
      s->kind != CLI_SCHED_CYCLIC)
    size = s->min_chunk;
  return size;
}

/* Takes size out of the open batch. A batch hands out what it holds; a
 * remnant no larger than the minimum joins the chunk that leaves it. */
static uint64_t take_from_batch(master_sched_t* s, uint64_t size) {
  if (size > s->batch_rem) size = s->batch_rem;
  s->batch_rem -= size;
  if (s->batch_rem > 0 && s->batch_rem <= s->min_chunk) {
    size += s->batch_rem;
    s->batch_rem = 0;
  }
  return size;
}

uint64_t master_sched_next(master_sched_t* s, int w, uint64_t begin) {
  uint64_t rem = s->n - begin;
  if (w < 0 || w >= s->workers) w = 0;
  if (s->kind == CLI_SCHED_STATIC) {
    uint64_t end = block_begin(s, master_sched_owner(s, begin, 0) + 1);
    uint64_t size = end - begin;
    if (s->chunk > 0 && size > s->chunk) size = s->chunk;
    s->cuts++;
    return size;
  }
  int batched = is_batched(s->kind);
  uint64_t size = limit_size(s, w, formula_size(s, w, rem));
  if (batched) size = take_from_batch(s, size);
  uint64_t planned = size == 0 ? 1 : size;
  size = round_up(planned, s->align);
  if (size > rem) size = rem;
  if (batched && size > planned) {
    /* What alignment added comes out of the batch too. */
    uint64_t extra = size - planned;
    s->batch_rem = s->batch_rem > extra ? s->batch_rem - extra : 0;
  }
  s->cuts++;
  if (size > s->perf[w].largest) s->perf[w].largest = size;
  return size;
}

void master_sched_learn(master_sched_t* s, int w, uint64_t iters,
                        double seconds) {
  if (w < 0 || w >= s->workers || iters == 0 || !(seconds > 0)) return;
  master_perf_t* p = &s->perf[w];
  double t = seconds, n = (double)iters, x = t / n;
  p->chunks++;
  p->sum_t += t;
  p->sum_s += n;
  p->sum_sx2 += n * x * x;
  p->wsum_t += (double)p->chunks * t;
  p->wsum_s += (double)p->chunks * n;
}

void master_sched_set_alive(master_sched_t* s, int w, int alive) {
  if (w < 0 || w >= s->workers || s->alive[w] == (alive ? 1 : 0)) return;
  s->alive[w] = alive ? 1 : 0;
  s->live += alive ? 1 : -1;
}

uint64_t master_chunk_align(const cli_job_t* job) {
  return job->task.spec.align > 0 ? job->task.spec.align : 1;
}

/* The largest chunk cut automatically: the kernel's own limit. */
static uint64_t chunk_cap(const cli_job_t* job) {
  return job->task.spec.chunk_max > 0 ? job->task.spec.chunk_max
                                      : JOBS_CHUNK_MAX_DEFAULT;
}

uint64_t master_chunk_size(const cli_job_t* job, int workers) {
  uint64_t align = master_chunk_align(job);
  if (job->chunk > 0) return job->chunk;
  uint64_t w = workers > 0 ? (uint64_t)workers : 1;
  uint64_t size = job->n / (MASTER_CHUNKS_PER_WORKER * w);
  if (size > chunk_cap(job)) size = chunk_cap(job);
  /* The cap never makes more chunks than the table takes. */
  if (size < ceil_div(job->n, MASTER_CHUNKS_MAX))
    size = ceil_div(job->n, MASTER_CHUNKS_MAX);
  size = round_up(size, align);
  return size < align ? align : size;
}

uint64_t master_fixed_chunk_count(const cli_job_t* job, int workers) {
  switch (job->schedule) {
    case CLI_SCHED_STATIC:
      if (job->chunk == 0) return 0;
      /* fall through */
    case CLI_SCHED_CYCLIC:
    case CLI_SCHED_DYNAMIC:
      return ceil_div(job->n, master_chunk_size(job, workers));
    default:
      return 0;
  }
}

uint64_t master_min_chunk(const cli_job_t* job, int workers) {
  uint64_t align = master_chunk_align(job);
  if (job->min_chunk > 0) return round_up(job->min_chunk, align);
  uint64_t w = workers > 0 ? (uint64_t)workers : 1;
  uint64_t size = round_up(job->n / (MASTER_MIN_CHUNK_DIV * w), align);
  return size < align ? align : size;
}
