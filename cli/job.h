/* The job every rank runs, as its command line describes it: which job
 * (the table entry, its kernel's declaration and its options' values, in
 * jobs_task_t) and how the farm runs it (n, chunking, the schedule, the
 * deadlines, the outputs). Every rank parses the same argv, so every rank
 * holds the same cli_job_t; its fingerprint travels in the HELLO handshake
 * so that a worker started with other arguments is refused instead of
 * mis-computing. Parsing is pure (no MPI, no I/O) so the tests can drive
 * it; cli_job_resolve then reads what the options name. */
#ifndef TASKFARM_CLI_JOB_H_
#define TASKFARM_CLI_JOB_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jobs/jobs.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { CLI_PATH_MAX = JOBS_PATH_MAX };

/* Every option that is a time in seconds lies in this range: below 1 ms a
 * deadline is shorter than one message's round trip, above it a number is
 * a typing error (31 years). */
#define CLI_SECONDS_MIN 1e-3
#define CLI_SECONDS_MAX 1e9

typedef enum {
  CLI_FAULT_EXIT = 1,    /* the worker exits with status 3 */
  CLI_FAULT_ABORT = 2,   /* the worker dies by SIGABRT */
  CLI_FAULT_FREEZE = 3,  /* the worker stops itself (SIGSTOP) */
  CLI_FAULT_SLOW = 4,    /* the worker computes `factor` times slower */
  CLI_FAULT_SPEED = 5,   /* the worker's speed follows a timeline */
  CLI_FAULT_CORRUPT = 6, /* the worker flips one bit in a fraction
                            `factor` of its partial results */
} cli_fault_kind_t;

enum { CLI_SPEED_STEPS = 8, CLI_FAULTS_MAX = 16 };

/* One injected fault (--inject), for tests and experiments only. */
typedef struct cli_fault_s cli_fault_t;
struct cli_fault_s {
  int rank;              /* which worker */
  cli_fault_kind_t kind; /* what happens */
  double factor;         /* SLOW: slowdown factor (> 1); CORRUPT: the
                            fraction of partials corrupted (0, 1] */
  uint64_t after_chunks; /* trigger after this many chunks done ... */
  double after_seconds;  /* ... or after this many seconds of work */
  int nsteps;            /* SPEED: from step_at[k] seconds after the worker
                            started, it computes at step_pct[k] percent of
                            its speed (100 before the first) */
  double step_pct[CLI_SPEED_STEPS];
  double step_at[CLI_SPEED_STEPS];
};

/* How the master sizes chunks and who gets them (--schedule). The names are
 * part of the interface: scripts and papers cite them. docs/schedules.md has
 * every formula with its source. */
typedef enum {
  CLI_SCHED_DYNAMIC = 0, /* self-scheduling, one fixed chunk size */
  CLI_SCHED_STATIC,      /* one contiguous block per worker */
  CLI_SCHED_CYCLIC,      /* fixed chunks dealt round-robin in advance */
  CLI_SCHED_GUIDED,      /* GSS: remaining / P */
  CLI_SCHED_TRAPEZOID,   /* TSS: linearly decreasing */
  CLI_SCHED_FACTORING,   /* FAC2: batches of P chunks of remaining / 2P */
  CLI_SCHED_WF,          /* weighted factoring, given weights */
  CLI_SCHED_AWF_B,       /* adaptive weighted factoring, per batch */
  CLI_SCHED_AWF_C,       /* adaptive weighted factoring, per chunk */
  CLI_SCHED_AF,          /* adaptive factoring (mean and variance) */
  CLI_SCHED_COUNT,
} cli_sched_t;

enum {
  CLI_WEIGHTS_MAX = 256,
  CLI_BIND_MAX = 64,
};

/* --verify's default: the fraction of chunks computed a second time by
 * another rank and compared bit for bit. It costs that fraction of the
 * work (docs/trust.md has what it detects). */
#define CLI_VERIFY_DEFAULT 0.01
/* --poison-after: its default and largest value. */
enum { CLI_POISON_DEFAULT = 2, CLI_POISON_MAX = 16 };

typedef struct cli_job_s cli_job_t;
struct cli_job_s {
  jobs_task_t task;      /* the job: its kernel and its options' values */
  uint64_t n;            /* iterations in [0, n); 0 for a job of no range */
  int n_given;           /* --n was given (else the kernel derives n) */
  uint64_t chunk;        /* iterations per chunk; 0 = choose automatically */
  char output[CLI_PATH_MAX]; /* --output: also write the result here */
  int help;                  /* --help given: print usage, run nothing */
  int quiet;                 /* --quiet: result lines only */
  double timeout;            /* --timeout SECONDS per chunk; 0 = auto */
  double timeout_factor;     /* auto: deadline = factor x expected time */
  double timeout_floor;      /* ... + this; also the longest silence */
  double lost_after;         /* silent this long with work: rank is lost */
  double master_timeout;     /* a worker exits after this long w/o master */
  int speculate;             /* duplicate stragglers' chunks at the end:
                                1 on, 0 off, -1 auto (off for static and
                                cyclic, whose point is a fixed assignment) */
  double verify;             /* --verify: fraction of chunks checked by a
                                second rank, 0 (off) to 1 (all) */
  int poison_after;          /* --poison-after: a chunk whose computation
                                killed or froze this many ranks ends the
                                run */
  cli_sched_t schedule;      /* --schedule */
  uint64_t min_chunk;        /* --min-chunk; 0 = automatic */
  int nweights;              /* --weights entries (wf) */
  double weight[CLI_WEIGHTS_MAX]; /* relative speed of worker i + 1 */
  char report[CLI_PATH_MAX];      /* --report: JSON statistics of the run */
  char trace[CLI_PATH_MAX];       /* --trace: Chrome/Perfetto trace events */
  char journal[CLI_PATH_MAX];     /* --journal: completed chunks, appended */
  int resume;                     /* --resume: skip what the journal holds */
  int progress;    /* progress line: 1 on, 0 off, -1 when a tty */
  int status_port; /* --status-port; 0 = no HTTP endpoint */
  char status_bind[CLI_BIND_MAX];      /* --status-bind address */
  int nfaults;                         /* entries used in fault[] */
  cli_fault_t fault[CLI_FAULTS_MAX];   /* --inject (TASKFARM_FAULTS=1) */
};

/* Parses argv (argv[0] is the program) into job. On error returns a
 * negative code and writes one sentence into err (errlen bytes). --help
 * anywhere sets job->help and returns 0 with the job parsed so far. */
int cli_job_parse(cli_job_t* job, int argc, char** argv, char* err,
                  size_t errlen);

/* Completes a parsed job from what its options name: the kernel's options
 * bound and checked, n from --n or from the kernel (an image's size, the
 * files' length), the input files' identities, the reference value; a
 * --kernel object is hashed and tried in a child process. With calibrate,
 * *scale is the kernel's work units per 1000 ns on this core (0: none).
 * Every rank calls it, so every rank agrees on n. Returns 0, or a
 * negative code with one sentence in err. */
int cli_job_resolve(cli_job_t* job, int calibrate, uint64_t* scale,
                    char* err, size_t errlen);

/* The job's name as the user wrote it ("pi"). */
const char* cli_job_name(const cli_job_t* job);

/* 1 when the job computes a range (every job but hello). */
int cli_job_has_range(const cli_job_t* job);

/* A 64-bit fingerprint of everything that decides the result, as every
 * rank sees it from its command line: the job, n, the kernel's name and
 * version, and its options' canonical values (files that it reads by
 * their role, not their path; the files it writes not at all). Ranks whose
 * fingerprints differ must not cooperate. A --kernel object enters by its
 * bytes. */
uint64_t cli_job_fingerprint(const cli_job_t* job);

/* The same, but a --kernel object enters by the name and version it
 * declares rather than by its bytes: what decides whether a journal's
 * results are this run's. A rebuilt kernel (a crash fixed) resumes its
 * journal while its version says its results did not change. */
uint64_t cli_job_results_fingerprint(const cli_job_t* job);

/* The speculation setting after resolving "auto" for the job's schedule. */
int cli_job_speculates(const cli_job_t* job);

/* The name of a schedule ("awf-b"), static; NULL when out of range. */
const char* cli_sched_name(cli_sched_t sched);

/* Parses a schedule name; returns 0 or PROTO_EINVAL. */
int cli_sched_parse(const char* text, cli_sched_t* out);

/* Parses --inject's RANK:KIND[@WHEN] into *f; 0 or PROTO_EINVAL. */
int cli_fault_parse(const char* text, cli_fault_t* f);

/* Every option the parser accepts, one a line: its name, then the jobs it
 * is for when it is not for every job that computes a range. */
void cli_list_options(FILE* out);

/* The jobs, one a line: its command and what it computes. */
void cli_list_jobs(FILE* out);

/* The usage text: the general one (job NULL), or one job's, which for a
 * --kernel names the object's own options (loaded in a child). Returns 0,
 * or a negative code with a sentence in err. */
int cli_usage(const cli_job_t* job, FILE* out, char* err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_CLI_JOB_H_ */
