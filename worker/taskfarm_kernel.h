/* taskfarm's kernel interface: what a computation farmed out by taskfarm
 * provides. Every job is written against it: the built-in ones (pi, dot,
 * noop, loop) and a user's own, loaded from a shared object with
 * `taskfarm run --kernel ./libmine.so --n N [--arg K=V ...]`.
 *
 * A kernel computes the contribution of an index range [begin, end) of
 * [0, n) and hands it to the farm through the `taskfarm_out_t` it is given:
 * doubles go into an exact accumulator (no rounding until the end), integers
 * into an exact 128-bit sum (two's complement, wrapping). So the farm's
 * result does not depend on how [0, n) was cut into chunks, which rank
 * computed what, or in which order results arrived, as long as the kernel's
 * own contribution of a range is the sum of the contributions of its parts.
 * That is the one rule a kernel must keep: compute(a, c) must add the same
 * values as compute(a, b) followed by compute(b, c), for every a <= b <= c
 * (on multiples of `align`). The farm splits chunks into slices freely.
 *
 * A shared object exports one function, `taskfarm_kernel`, returning its
 * descriptor. This header has no dependencies and is all a kernel needs:
 *
 *   gcc -O2 -shared -fPIC -I path/to/taskfarm/worker -o libmine.so mine.c
 *
 * The object's content (its bytes) enters the job's fingerprint, so a rank
 * that loads another build of it is refused, and a journal written with
 * another build is not resumed. */
#ifndef TASKFARM_WORKER_TASKFARM_KERNEL_H_
#define TASKFARM_WORKER_TASKFARM_KERNEL_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this interface. A kernel built against another one is
 * refused when it is loaded. */
#define TASKFARM_KERNEL_ABI 1

/* What a kernel's result is: which sums the farm prints. */
enum {
  TASKFARM_RESULT_FLOAT = 1, /* the exact sum of the doubles, rounded once */
  TASKFARM_RESULT_INT = 2,   /* the 128-bit sum of the integers */
};

/* Where a kernel's contributions go. The farm owns it; a kernel only calls
 * its functions with its ctx. */
typedef struct taskfarm_out_s taskfarm_out_t;
struct taskfarm_out_s {
  void* ctx;
  /* Adds v exactly (any finite double; infinities and NaN as IEEE says). */
  void (*add_double)(void* ctx, double v);
  /* Adds v to the 128-bit integer sum. */
  void (*add_int)(void* ctx, int64_t v);
  /* Adds hi * 2^64 + lo to the 128-bit integer sum. */
  void (*add_uint128)(void* ctx, uint64_t hi, uint64_t lo);
  /* A compute that takes long for one index (more than about 50 ms) calls
   * this now and then, at least every 50 ms: the farm tells the master the
   * rank is alive, so it is not taken for frozen. Cheap when nothing is
   * due. */
  void (*keep_alive)(void* ctx);
};

/* One argument from the command line: --arg KEY=VALUE. */
typedef struct taskfarm_arg_s taskfarm_arg_t;
struct taskfarm_arg_s {
  const char* key;
  const char* value;
};

typedef struct taskfarm_kernel_s taskfarm_kernel_t;
struct taskfarm_kernel_s {
  uint32_t abi;     /* TASKFARM_KERNEL_ABI */
  const char* name; /* a short name, e.g. "harmonic" */
  uint32_t version; /* bump when the kernel's results change */
  uint32_t result;  /* TASKFARM_RESULT_FLOAT and/or TASKFARM_RESULT_INT */
  uint64_t align;   /* chunk boundaries fall on multiples of this (0: 1) */
  uint64_t n_max;   /* the largest n the kernel takes (0: 2^60) */
  /* Called once per process before any chunk, with n and the --arg list.
   * Sets *state (may stay NULL). Returns 0, or non-zero after writing one
   * sentence into err (errlen bytes): the run is refused with exit 2 when
   * this fails on the first rank, before MPI starts. May be NULL. */
  int (*init)(void** state, uint64_t n, const taskfarm_arg_t* args, int nargs,
              char* err, size_t errlen);
  /* Adds the contribution of [begin, end) to out. Returns 0, or non-zero
   * after writing one sentence into err: the chunk fails and goes to
   * another rank (a rank whose chunks keep failing gets no more). */
  int (*compute)(void* state, uint64_t begin, uint64_t end,
                 const taskfarm_out_t* out, char* err, size_t errlen);
  /* Releases what init took. May be NULL. */
  void (*close)(void* state);
};

/* The one symbol a kernel's shared object exports. */
typedef const taskfarm_kernel_t* (*taskfarm_kernel_fn)(void);
#define TASKFARM_KERNEL_SYMBOL "taskfarm_kernel"

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_WORKER_TASKFARM_KERNEL_H_ */
