/* taskfarm's kernel interface: what a computation farmed out by taskfarm
 * provides. Every job is written against it: the built-in ones (pi, dot,
 * noop, loop, mandelbrot, integrate, each in a file of jobs/) and a user's
 * own, loaded from a shared object with
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
 * (on multiples of `align`). The farm splits chunks into slices freely, and
 * computes some chunks twice to check one result against the other
 * (--verify): a kernel's result must depend on the range alone.
 *
 * Version 2 of the interface adds, all optional: named and typed options
 * with ranges and help (checked by the farm before MPI starts, listed by
 * `taskfarm run --kernel x.so --help`, given as `--arg K=V`), the result
 * lines the run prints, and hooks that derive n from the options or
 * prepare an output file. A version 1 object still loads: it has none of
 * these (its --arg list is passed as given, its result lines are the
 * default ones).
 *
 * A shared object exports one function, `taskfarm_kernel`, returning its
 * descriptor. This header has no dependencies and is all a kernel needs:
 *
 *   cc -O2 -shared -fPIC $(pkg-config --cflags taskfarm) -o libmine.so mine.c
 *
 * The object's content (its bytes) enters the fingerprint of every rank's
 * HELLO, so a rank that loads another build of it is refused. A journal
 * takes the kernel by its name and version instead: a rebuilt kernel (a
 * crash fixed) resumes the journal as long as its version says its results
 * did not change. Every call of a user's kernel runs in a process of its
 * own, never in the one that speaks MPI (a crash costs a chunk). */
#ifndef TASKFARM_KERNEL_H_
#define TASKFARM_KERNEL_H_

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this interface, and the oldest one this taskfarm loads. */
#define TASKFARM_KERNEL_ABI 2
#define TASKFARM_KERNEL_ABI_OLDEST 1

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
   * rank is alive, so it is not taken for frozen (a kernel silent for
   * --timeout-floor is killed). Cheap when nothing is due. */
  void (*keep_alive)(void* ctx);
  /* Version 2: work units per 1000 ns on the master's core, measured once
   * by the kernel's `calibrate` there and sent with every chunk (0 when it
   * has none): a kernel that burns a given time per index does the same
   * work on every rank, so a slower rank takes longer. */
  uint64_t scale;
  /* Version 2: adds the exact dot product sum a[i] * b[i] of count pairs,
   * every product without rounding (a fast path where no product is near
   * the ends of the double range, an exact one where one is). */
  void (*add_products)(void* ctx, const double* a, const double* b,
                       size_t count);
};

/* One argument: a declared option's value (version 2: every declared
 * option, in declaration order, its default filled in; an option without a
 * default that was not given has value NULL), or with version 1 each
 * --arg KEY=VALUE as given. */
typedef struct taskfarm_arg_s taskfarm_arg_t;
struct taskfarm_arg_s {
  const char* key;
  const char* value;
};

/* The types of option. The farm checks a value against its type and range
 * before any rank starts; the kernel then reads it with the functions at
 * the end of this header. */
typedef enum {
  TASKFARM_OPT_COUNT = 1, /* a whole number >= 0, written 1000000 or 1e6 */
  TASKFARM_OPT_INTEGER,   /* a whole number, with a sign */
  TASKFARM_OPT_REAL,      /* a finite number */
  TASKFARM_OPT_TEXT,      /* any text (at most 255 bytes) */
  TASKFARM_OPT_CHOICE,    /* one of `choices` */
  TASKFARM_OPT_INPUT,     /* a file every rank reads: a regular file; its
                             identity is kept with a journal, which refuses
                             to resume once the file changed */
  TASKFARM_OPT_OUTPUT,    /* a file the kernel writes; it takes no part in
                             the fingerprint */
} taskfarm_option_type_t;

/* One option a kernel takes: --NAME VALUE for a built-in job, --arg
 * NAME=VALUE for a user's kernel. */
typedef struct taskfarm_option_s taskfarm_option_t;
struct taskfarm_option_s {
  const char* name;  /* [a-z0-9-]+; NULL ends the list */
  uint32_t type;     /* taskfarm_option_type_t */
  const char* value; /* how the help names the value ("P", "FILE") */
  const char* help;  /* one line: what it does */
  const char* def;   /* its default, as it would be written; NULL: none */
  /* The range: finite, min <= max, min >= 0 for a COUNT. A COUNT's or
   * INTEGER's bounds are rounded inward to whole numbers, and 9.2e18 or
   * more (1.8e19 for a COUNT) stands for the largest the type holds,
   * which no double is; -9.2e18 or less for the smallest. */
  double min;        /* COUNT, INTEGER, REAL: the smallest value ... */
  double max;        /* ... and the largest (min == max == 0: any) */
  const char* const* choices; /* CHOICE: the words, NULL-terminated */
};

/* A value the result is compared with, when one is known (the report's
 * "reference"): pi for a series of pi, a closed form for a sum. */
typedef struct taskfarm_reference_s taskfarm_reference_t;
struct taskfarm_reference_s {
  double value;     /* as a double */
  const char* text; /* as printed exactly (the integer's digits), or NULL */
  const char* what; /* what it is ("pi, the limit of S_n") */
};

typedef struct taskfarm_kernel_s taskfarm_kernel_t;
struct taskfarm_kernel_s {
  uint32_t abi;     /* TASKFARM_KERNEL_ABI */
  const char* name; /* a short name, e.g. "harmonic" */
  uint32_t version; /* bump when the kernel's results change */
  uint32_t result;  /* TASKFARM_RESULT_FLOAT and/or TASKFARM_RESULT_INT */
  uint64_t align;   /* chunk boundaries fall on multiples of this (0: 1) */
  uint64_t n_max;   /* the largest n the kernel takes (0, or more than
                       2^60: 2^60) */
  /* Called once per process before any chunk, with n and the arguments.
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

  /* ---- version 2; every field may be 0 or NULL ---- */

  /* What it computes, for --help: a few lines, each ending in a newline. */
  const char* help;
  /* The options it takes. NULL: none declared, and --arg K=V passes any
   * KEY=VALUE on, as version 1 does. */
  const taskfarm_option_t* options;
  /* The result lines, NULL-terminated templates; "Time = ... sec" follows
   * them. Fields: {float} or {float:FMT} (the float sum rounded once, FMT a
   * printf conversion such as .16f), {bits} (the float sum as %a), {int}
   * (the 128-bit sum, signed), {uint} (unsigned), {error} or {error:FMT}
   * (distance of the float sum from the reference), {n}, {chunks} (chunks
   * cut), {ranks} (ranks in the run), {opt:NAME} (an option's value). NULL:
   * "Result = {float:.17g}", "Result bits = {bits}" and/or "Integer result =
   * {int}" by `result`. */
  const char* const* lines;
  /* What n counts, for messages ("terms", "pixels"); NULL: "indices". */
  const char* n_what;
  /* n from the options, for a kernel that takes no --n (an image's size, a
   * file's length): 0 and *n, or non-zero after a sentence in err. */
  int (*size)(const taskfarm_arg_t* args, int nargs, uint64_t* n, char* err,
              size_t errlen);
  /* Once before any chunk and before MPI starts, on rank 0 only: prepares
   * what every rank will write into (an output file, created or, on a
   * resume, checked). 0, or non-zero after a sentence in err (exit 2). */
  int (*prepare)(const taskfarm_arg_t* args, int nargs, uint64_t n,
                 int resume, char* err, size_t errlen);
  /* The value the result is compared with, if one is known: 0 and *ref,
   * or non-zero when there is none. */
  int (*reference)(uint64_t n, const taskfarm_arg_t* args, int nargs,
                   taskfarm_reference_t* ref);
  /* Measures the work units per 1000 ns of this core (out->scale), once,
   * on the master. NULL: the kernel needs none. */
  uint64_t (*calibrate)(void);
  /* Indices computed between two looks at the outside world (a slice: the
   * farm reads messages and may cancel between slices); about a
   * millisecond of work. 0: the farm measures and grows slices toward a
   * millisecond from the alignment up. */
  uint64_t slice;
  /* The largest chunk the farm cuts by itself (0: 2^20 indices). */
  uint64_t chunk_max;
};

/* The one symbol a kernel's shared object exports. */
typedef const taskfarm_kernel_t* (*taskfarm_kernel_fn)(void);
#define TASKFARM_KERNEL_SYMBOL "taskfarm_kernel"

/* ---- reading the arguments (version 2) ---- */

/* The value of option key, or def when it has none. */
static inline const char* taskfarm_arg_text(const taskfarm_arg_t* args,
                                            int nargs, const char* key,
                                            const char* def) {
  for (int i = 0; i < nargs; i++)
    if (args[i].key != NULL && strcmp(args[i].key, key) == 0 &&
        args[i].value != NULL)
      return args[i].value;
  return def;
}

/* The value of a REAL option (or any number), or def. */
static inline double taskfarm_arg_real(const taskfarm_arg_t* args, int nargs,
                                       const char* key, double def) {
  const char* v = taskfarm_arg_text(args, nargs, key, NULL);
  return v != NULL ? strtod(v, NULL) : def;
}

/* The value of a COUNT option (1e6 forms included), or def. */
static inline uint64_t taskfarm_arg_count(const taskfarm_arg_t* args,
                                          int nargs, const char* key,
                                          uint64_t def) {
  const char* v = taskfarm_arg_text(args, nargs, key, NULL);
  if (v == NULL) return def;
  char* end;
  unsigned long long whole = strtoull(v, &end, 10);
  if (*end == '\0') return whole;
  return (uint64_t)strtod(v, NULL); /* the farm checked it is whole */
}

/* The value of an INTEGER option, or def. */
static inline int64_t taskfarm_arg_integer(const taskfarm_arg_t* args,
                                           int nargs, const char* key,
                                           int64_t def) {
  const char* v = taskfarm_arg_text(args, nargs, key, NULL);
  return v != NULL ? (int64_t)strtoll(v, NULL, 10) : def;
}

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_KERNEL_H_ */
