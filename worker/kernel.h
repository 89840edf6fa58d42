/* The kernel a rank runs, on the interface of worker/taskfarm_kernel.h:
 * the built-in ones (the Leibniz series for pi, the generated integer dot
 * product, the dot product of two float64 files, the empty noop, the loop
 * job's synthetic iterations) and a user's own, loaded from a shared
 * object (run --kernel). Each adds the exact contribution of an index range
 * to a partial result, so a chunk may be computed in slices (for
 * cancellation) with the same bits as in one go. No MPI here. */
#ifndef TASKFARM_WORKER_KERNEL_H_
#define TASKFARM_WORKER_KERNEL_H_

#include <stdint.h>

#include "proto/exact.h"
#include "proto/job.h"
#include "worker/taskfarm_kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  /* Terms below this index are added one pair at a time into the exact
   * accumulator: they carry nearly all of pi's value, so summing them without
   * any rounding keeps the result within 2 ulp of S_n. */
  KERNEL_PI_EXACT_TERMS = 32768,
  /* pi grains are summed by this many virtual accumulators (lanes), quad q
   * of a grain (4 pairs) going to lane q % 16, then combined in a fixed
   * tree. The number is part of the result's definition: never change it. */
  KERNEL_PI_LANES = 16,
};

/* The compiled paths of the pi grain kernel. */
typedef enum {
  KERNEL_PI_SSE2 = 0,   /* x86-64 baseline */
  KERNEL_PI_AVX2 = 1,   /* x86-64-v3 */
  KERNEL_PI_AVX512 = 2, /* x86-64-v4 */
  KERNEL_PI_PATHS = 3,
} kernel_pi_path_t;

typedef struct kernel_s kernel_t;
struct kernel_s {
  const proto_job_t* job;        /* the job; not owned */
  const taskfarm_kernel_t* impl; /* the kernel: built in, or loaded */
  void* state;                   /* impl's state */
  void* dl;                      /* run: dlopen's handle, or NULL */
  uint64_t scale;                /* loop: spin units per 1000 ns (0: measure) */
  void (*beat)(void* arg);       /* out->keep_alive calls it; may be NULL */
  void* beat_arg;
  int fd_a;                      /* DOTF: --a file, or -1 */
  int fd_b;                      /* DOTF: --b file, or -1 */
  double* buf;                   /* DOTF: read buffer, owned */
  int fd_image;          /* mandelbrot --image: opened at the first chunk,
                            -1 before */
  uint8_t* gray;         /* mandelbrot --image: a slice's pixels */
  uint64_t blocks_fast;  /* DOTF: blocks summed by error-free expansions */
  uint64_t blocks_exact; /* DOTF: blocks that needed the accumulator path */
  char what[PROTO_PATH_MAX + 256]; /* why the last call failed, a sentence
                                      naming the file ("" when none) */
};

/* Prepares to compute job's chunks: opens the files of a file dot product,
 * loads and initialises a --kernel object. Returns 0, or a negative
 * proto_error_t with a sentence in k->what; kernel_close() is then still
 * safe. */
int kernel_init(kernel_t* k, const proto_job_t* job);

/* Releases what kernel_init() took. */
void kernel_close(kernel_t* k);

/* Adds the contribution of indices [begin, end) to *fsum (float kernels)
 * and *isum (integer kernels). For pi, begin must be a multiple of
 * PROTO_PI_GRAIN and end one too or equal to n; for a loaded kernel, of its
 * alignment. Returns 0, or PROTO_EIO / PROTO_EKERNEL with a sentence in
 * k->what. */
int kernel_add(kernel_t* k, uint64_t begin, uint64_t end, proto_exact_t* fsum,
               unsigned __int128* isum);

/* For run --kernel, before MPI starts: loads the object, checks its
 * interface version, descriptor and n limit, runs its init and close, and
 * fills job->align, job->kernel_result and job->kernel_name. Every rank
 * calls it, so every rank agrees. Returns 0 or PROTO_EINVAL with one
 * sentence in err. Other jobs: 0. */
int kernel_probe(proto_job_t* job, char* err, size_t errlen);

/* Puts the signals of a crash (SIGSEGV, SIGABRT, ...) back to their
 * default action, which libraries loaded with MPI replace with handlers of
 * their own: a process that runs a user's kernel dies of them plainly, and
 * its parent reports the signal. */
void kernel_default_crash_signals(void);

/* The built-in kernel of job's kind (NULL for hello and run). */
const taskfarm_kernel_t* kernel_builtin(proto_job_kind_t kind);

/* The deterministic sum of the pi terms [begin, end) of one grain, begin
 * even: pairs 4/(4k+1) - 4/(4k+3) = 8/(x*x - 1) with x = 4k + 2;
 * four consecutive pairs (a quad) summed over one division, quad q in lane
 * q % 16; pairs after the last full round of 16 quads one by one, pair p in
 * lane p % 16; the lanes combined in a fixed tree and multiplied by 8; a
 * lone last term added last (worker/pi_grain.c). Identical bits on every
 * path; kernel_pi_grain uses the best path this CPU has. */
double kernel_pi_grain(uint64_t begin, uint64_t end);
double kernel_pi_grain_sse2(uint64_t begin, uint64_t end);
double kernel_pi_grain_avx2(uint64_t begin, uint64_t end);
double kernel_pi_grain_avx512(uint64_t begin, uint64_t end);

/* 1 when this CPU can run path. */
int kernel_pi_path_supported(kernel_pi_path_t path);

/* The path kernel_pi_grain and kernel_dot_fast use: the best supported
 * one, or the one named by TASKFARM_PI_PATH (sse2, avx2, avx512) when
 * set. */
kernel_pi_path_t kernel_pi_path(void);

/* The name of path ("avx2"), static. */
const char* kernel_pi_path_name(kernel_pi_path_t path);

enum {
  KERNEL_DOT_LANES = 8,                        /* worker/dot_fast.c */
  KERNEL_DOT_FAST_OUT = 4 * KERNEL_DOT_LANES, /* doubles it writes */
};

/* The file dot product's fast path for a block (worker/dot_fast.c): 1 with
 * the 32 lane values in out (their exact sum is the exact dot product of the
 * first count / 8 * 8 elements), or 0 when the block needs the exact path.
 * One symbol per path, the same bits on each; kernel_dot_fast uses the path
 * kernel_pi_path() names. */
int kernel_dot_fast(const double* a, const double* b, size_t count,
                    double* out);
int kernel_dot_fast_sse2(const double* a, const double* b, size_t count,
                         double* out);
int kernel_dot_fast_avx2(const double* a, const double* b, size_t count,
                         double* out);
int kernel_dot_fast_avx512(const double* a, const double* b, size_t count,
                           double* out);

/* sum_{i=begin}^{end-1} (i + 1) * (n - i), exactly, modulo 2^128. */
unsigned __int128 kernel_dot_gen(uint64_t n, uint64_t begin, uint64_t end);
/* The same sum by one path each: 128-bit scalar multiplies, or AVX2 with
 * 22-bit halves (worker/kernel.c); kernel_dot_gen picks by
 * kernel_pi_path(). The results are integers, equal on every path. */
unsigned __int128 kernel_dot_gen_scalar(uint64_t n, uint64_t begin,
                                        uint64_t end);
unsigned __int128 kernel_dot_gen_avx2(uint64_t n, uint64_t begin,
                                      uint64_t end);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_WORKER_KERNEL_H_ */
