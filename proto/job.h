/* The job every rank runs: its kind, size, chunking and inputs, parsed from
 * the command line. Every rank parses the same argv, so every rank holds the
 * same proto_job_t; its fingerprint travels in the HELLO handshake so that a
 * worker started with other arguments is refused instead of mis-computing.
 * Parsing is pure (no MPI, no I/O beyond nothing) so the tests can drive it. */
#ifndef TASKFARM_PROTO_JOB_H_
#define TASKFARM_PROTO_JOB_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  PROTO_JOB_NONE = 0,
  PROTO_JOB_HELLO = 1,  /* smiling processes: each rank greets */
  PROTO_JOB_PI = 2,     /* Leibniz series, float result */
  PROTO_JOB_DOT = 3,    /* a=[1..n], b=[n..1] generated, exact 128-bit */
  PROTO_JOB_DOTF = 4,   /* dot of two float64 files, exact then rounded once */
  PROTO_JOB_NOOP = 5,   /* chunks that compute nothing: the farm's own cost */
  PROTO_JOB_RUN = 6,    /* a user's kernel from a shared object (--kernel) */
  PROTO_JOB_LOOP = 7,   /* synthetic iterations of a chosen cost profile */
  PROTO_JOB_MANDEL = 8, /* the Mandelbrot set, one index per pixel */
} proto_job_kind_t;

/* The cost profiles of the loop job (--cost): how long iteration i takes,
 * drawn deterministically from --seed and i. */
typedef enum {
  PROTO_COST_CONSTANT = 0,
  PROTO_COST_UNIFORM,     /* mean +- spread, flat */
  PROTO_COST_NORMAL,      /* mean, standard deviation spread (cut at 0) */
  PROTO_COST_EXPONENTIAL, /* mean */
  PROTO_COST_GAMMA,       /* mean, shape k = (mean / spread)^2 */
  PROTO_COST_INCREASING,  /* linear from mean - spread to mean + spread */
  PROTO_COST_DECREASING,  /* linear from mean + spread to mean - spread */
  PROTO_COST_BIMODAL,     /* mean - spread or mean + spread, half each */
  PROTO_COST_COUNT,
} proto_cost_t;

enum {
  /* pi chunks are made of grains of this many terms; a grain's sum is
   * computed in one fixed order, so results do not depend on chunking. */
  PROTO_PI_GRAIN = 1024,
  /* The definition of the kernels' results: bumped whenever a kernel's
   * bits change (2: pi sums quads of pairs over one division). It enters
   * the job's fingerprint, so a worker or a journal of another definition
   * is refused instead of mixed in. */
  PROTO_KERNEL_VERSION = 2,
  PROTO_PATH_MAX = 1024,
};

/* Largest n accepted per job, and why (printed by --help). */
#define PROTO_PI_N_MAX ((uint64_t)1 << 50) /* term index exact in a double */
#define PROTO_DOT_N_MAX ((uint64_t)12 * 1000 * 1000 * 1000 * 1000)
#define PROTO_NOOP_N_MAX ((uint64_t)1 << 60)
/* n(n+1)(n+2)/6 < 2^128 up to n = 1.26e13; 1.2e13 is the documented limit */

/* Every option that is a time in seconds lies in this range: below 1 ms a
 * deadline is shorter than one message's round trip, above it a number is
 * a typing error (31 years). */
#define PROTO_SECONDS_MIN 1e-3
#define PROTO_SECONDS_MAX 1e9
/* A computing worker reports PROGRESS this often, and the master sends
 * every worker something at least this often (a PING when idle). Silence
 * limits shorter than twice these would take healthy ranks for dead, so
 * --lost-after and --timeout-floor start at 2 x PROTO_BEAT_S and
 * --master-timeout at 2 x PROTO_PING_S. */
#define PROTO_BEAT_S 0.1
#define PROTO_PING_S 1.0

typedef enum {
  PROTO_FAULT_EXIT = 1,   /* the worker exits with status 3 */
  PROTO_FAULT_ABORT = 2,  /* the worker dies by SIGABRT */
  PROTO_FAULT_FREEZE = 3, /* the worker stops itself (SIGSTOP) */
  PROTO_FAULT_SLOW = 4,   /* the worker computes `factor` times slower */
  PROTO_FAULT_SPEED = 5,  /* the worker's speed follows a timeline */
  PROTO_FAULT_CORRUPT = 6, /* the worker flips one bit in a fraction
                              `factor` of its partial results */
} proto_fault_kind_t;

enum { PROTO_SPEED_STEPS = 8 };

/* One injected fault (--inject), for tests and experiments only. */
typedef struct proto_fault_s proto_fault_t;
struct proto_fault_s {
  int rank;                /* which worker */
  proto_fault_kind_t kind; /* what happens */
  double factor;           /* SLOW: slowdown factor (> 1); CORRUPT: the
                              fraction of partials corrupted (0, 1] */
  uint64_t after_chunks;   /* trigger after this many chunks done ... */
  double after_seconds;    /* ... or after this many seconds of work */
  int nsteps;              /* SPEED: from step_at[k] seconds after the
                              worker started, it computes at step_pct[k]
                              percent of its speed (100 before the first) */
  double step_pct[PROTO_SPEED_STEPS];
  double step_at[PROTO_SPEED_STEPS];
};

enum { PROTO_FAULTS_MAX = 16 };

/* How the master sizes chunks and who gets them (--schedule). The names are
 * part of the interface: scripts and papers cite them. docs/schedules.md has
 * every formula with its source. */
typedef enum {
  PROTO_SCHED_DYNAMIC = 0, /* self-scheduling, one fixed chunk size */
  PROTO_SCHED_STATIC,      /* one contiguous block per worker */
  PROTO_SCHED_CYCLIC,      /* fixed chunks dealt round-robin in advance */
  PROTO_SCHED_GUIDED,      /* GSS: remaining / P */
  PROTO_SCHED_TRAPEZOID,   /* TSS: linearly decreasing */
  PROTO_SCHED_FACTORING,   /* FAC2: batches of P chunks of remaining / 2P */
  PROTO_SCHED_WF,          /* weighted factoring, given weights */
  PROTO_SCHED_AWF_B,       /* adaptive weighted factoring, per batch */
  PROTO_SCHED_AWF_C,       /* adaptive weighted factoring, per chunk */
  PROTO_SCHED_AF,          /* adaptive factoring (mean and variance) */
  PROTO_SCHED_COUNT,
} proto_sched_t;

enum {
  PROTO_WEIGHTS_MAX = 256,
  PROTO_BIND_MAX = 64,
  PROTO_ARGS_MAX = 32,   /* --arg K=V entries */
  PROTO_ARG_BYTES = 256, /* each, with its NUL */
};

/* --verify's default: the fraction of chunks computed a second time by
 * another rank and compared bit for bit. It costs that fraction of the
 * work (docs/fault-tolerance.md has what it detects). */
#define PROTO_VERIFY_DEFAULT 0.01
/* --poison-after: its default and largest value. */
enum { PROTO_POISON_DEFAULT = 2, PROTO_POISON_MAX = 16 };

/* The largest n of the run and loop jobs. */
#define PROTO_RUN_N_MAX ((uint64_t)1 << 60)

/* What identifies an input file's contents for a journal: where it is
 * (the canonical path) and what the kernel says of it. The inode change
 * time is set by the kernel on every write and cannot be set back from
 * user space, so a file written in place always differs here, even when
 * its size and modification time were restored. Filled by
 * proto_job_resolve on every rank; only the master's is used. */
typedef struct proto_input_s proto_input_t;
struct proto_input_s {
  char path[PROTO_PATH_MAX]; /* realpath() */
  uint64_t size;             /* bytes */
  uint64_t mtime_ns;         /* modification time, ns since the epoch */
  uint64_t ctime_ns;         /* inode change time, ns since the epoch */
  uint64_t dev;
  uint64_t ino;
};

typedef struct proto_job_s proto_job_t;
struct proto_job_s {
  proto_job_kind_t kind; /* which computation */
  uint64_t n;            /* iterations in [0, n) */
  uint64_t chunk;        /* iterations per chunk; 0 = choose automatically */
  char a_path[PROTO_PATH_MAX];      /* dot --a file (DOTF only) */
  char b_path[PROTO_PATH_MAX];      /* dot --b file (DOTF only) */
  proto_input_t input[2];           /* --a and --b as resolved (DOTF only) */
  char kernel_path[PROTO_PATH_MAX]; /* run: --kernel, a shared object */
  uint64_t kernel_hash;             /* run: FNV-1a of its bytes (resolve) */
  uint64_t align;                   /* run: its chunk alignment (probe) */
  uint32_t kernel_result;           /* run: TASKFARM_RESULT_* (probe) */
  uint32_t kernel_version;          /* run: its version (probe) */
  char kernel_name[64];             /* run: its name (probe) */
  int nargs;                        /* run: --arg entries */
  char arg[PROTO_ARGS_MAX][PROTO_ARG_BYTES]; /* run: "KEY=VALUE" each */
  proto_cost_t cost;                         /* loop: --cost */
  double cost_mean_ns;         /* loop: --mean (ns per iteration) */
  double cost_spread_ns;       /* loop: --spread (ns) */
  uint64_t seed;               /* loop: --seed */
  uint32_t width, height;      /* mandelbrot: --size WxH */
  double region[4];            /* mandelbrot: --region x0,y0,x1,y1 */
  uint32_t max_iter;           /* mandelbrot: --max-iter */
  char image[PROTO_PATH_MAX];  /* mandelbrot: --image FILE.pgm */
  char output[PROTO_PATH_MAX]; /* --output: also write the result here */
  int help;                    /* --help given: print usage, run nothing */
  int quiet;                   /* --quiet: result lines only */
  double timeout;              /* --timeout SECONDS per chunk; 0 = auto */
  double timeout_factor;       /* auto: deadline = factor x expected time */
  double timeout_floor;        /* ... + this; also the longest silence */
  double lost_after;           /* silent this long with work: rank is lost */
  double master_timeout;       /* a worker exits after this long w/o master */
  int speculate;               /* duplicate stragglers' chunks at the end:
                                  1 on, 0 off, -1 auto (off for static and
                                  cyclic, whose point is a fixed assignment) */
  double verify;               /* --verify: fraction of chunks checked by a
                                  second rank, 0 (off) to 1 (all) */
  int poison_after;            /* --poison-after: a chunk whose computation
                                  killed or froze this many ranks ends the
                                  run */
  proto_sched_t schedule;      /* --schedule */
  uint64_t min_chunk;          /* --min-chunk; 0 = automatic */
  int nweights;                /* --weights entries (wf) */
  double weight[PROTO_WEIGHTS_MAX]; /* relative speed of worker i + 1 */
  char report[PROTO_PATH_MAX];      /* --report: JSON statistics of the run */
  char trace[PROTO_PATH_MAX];       /* --trace: Chrome/Perfetto trace events */
  char journal[PROTO_PATH_MAX];     /* --journal: completed chunks, appended */
  int resume;                       /* --resume: skip what the journal holds */
  int progress;    /* progress line: 1 on, 0 off, -1 when a tty */
  int status_port; /* --status-port; 0 = no HTTP endpoint */
  char status_bind[PROTO_BIND_MAX];      /* --status-bind address */
  int nfaults;                           /* entries used in fault[] */
  proto_fault_t fault[PROTO_FAULTS_MAX]; /* --inject (TASKFARM_FAULTS=1) */
};

/* Parses argv (argv[0] is the program) into job. On error returns a negative
 * code and writes one sentence into err (size errlen). --help anywhere sets
 * job->help and returns 0 with the job kind parsed so far. */
int proto_job_parse(proto_job_t* job, int argc, char** argv, char* err,
                    size_t errlen);

/* Completes a parsed job from its inputs: for a file dot product, checks
 * that both files are readable regular files of equal, non-zero length that
 * is a multiple of 8 bytes, and sets job->n to their element count and
 * job->input to their identity. A FIFO or device is refused without
 * blocking in open(). Other
 * jobs are left as they are. Returns 0, or PROTO_EFILE with one sentence in
 * err. Every rank calls it, so every rank agrees on n. */
int proto_job_resolve(proto_job_t* job, char* err, size_t errlen);

/* Parses a count: an integer ("12000") or a decimal with exponent whose value
 * is a whole number ("1e10", "10e9", "2.5e3"). Rejects signs, fractions,
 * garbage and values above max. Returns 0 or a negative code. */
int proto_parse_count(const char* text, uint64_t max, uint64_t* out);

/* A 64-bit fingerprint of everything that decides the result, as every
 * rank sees it from its command line. Ranks whose fingerprints differ must
 * not cooperate. Input files enter by their role, not their path: whether
 * two paths name the same contents is the journal's question (it keeps the
 * files' proto_input_t). */
uint64_t proto_job_fingerprint(const proto_job_t* job);

/* The same, but a --kernel object enters by the name and version it
 * declares rather than by its bytes: what decides whether a journal's
 * results are this run's. A rebuilt kernel (a crash fixed) resumes its
 * journal while its version says its results did not change. */
uint64_t proto_job_results_fingerprint(const proto_job_t* job);

/* The usage text for kind (PROTO_JOB_NONE: the general one). Static. */
const char* proto_job_usage(proto_job_kind_t kind);

/* The name of a schedule ("awf-b"), static; NULL when out of range. */
const char* proto_sched_name(proto_sched_t sched);

/* Parses a schedule name; returns 0 or PROTO_EINVAL. */
int proto_sched_parse(const char* text, proto_sched_t* out);

/* The speculation setting after resolving "auto" for the job's schedule. */
int proto_job_speculates(const proto_job_t* job);

/* The name of a loop cost profile ("exponential"), static; NULL when out of
 * range. */
const char* proto_cost_name(proto_cost_t cost);

/* The mandelbrot image's PGM header ("P5\nW H\n255\n") into buf (at least
 * 32 bytes); returns its length. Pixel i is the byte at that offset + i. */
size_t proto_image_header(const proto_job_t* job, char* buf, size_t len);

/* Chunk boundaries fall on multiples of this (or on n): PROTO_PI_GRAIN for
 * pi, the kernel's own for run (after probing), else 1. */
uint64_t proto_job_align(const proto_job_t* job);

/* The name of kind ("pi"), static. */
const char* proto_job_name(proto_job_kind_t kind);

/* Iterations computed between two looks at the outside world (messages,
 * the event loop): a slice takes around a millisecond of the job's kernel.
 * A chunk computed in slices has the bits of one computed in one go. */
uint64_t proto_job_slice(const proto_job_t* job);

/* The next slice after one of `slice` indices took took_ns: for run, whose
 * kernel's cost per index is unknown, slices start at one alignment unit
 * and grow (or shrink) toward a millisecond of work, by at most 4x a step,
 * on multiples of the alignment. Other jobs keep proto_job_slice(). */
uint64_t proto_job_next_slice(const proto_job_t* job, uint64_t slice,
                              uint64_t took_ns);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_PROTO_JOB_H_ */
