/* What a run leaves behind for the experimenter: the statistics of --report
 * (JSON) and the chunk attempts of --trace (Chrome/Perfetto trace events,
 * one track per rank). The master fills these plain structs; this module only
 * derives the figures and writes the files, so the tests can drive it. */
#ifndef TASKFARM_MASTER_REPORT_H_
#define TASKFARM_MASTER_REPORT_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "master/schedule.h"
#include "cli/job.h"
#include "proto/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What became of one attempt of a chunk, or a point event of a rank. */
typedef enum {
  MASTER_EV_ACCEPTED = 0, /* its result counted */
  MASTER_EV_DUPLICATE,    /* its result came after another one */
  MASTER_EV_CANCELLED,    /* done elsewhere first; the rank was told */
  MASTER_EV_ABANDONED,    /* given up: the rank failed or was lost */
  MASTER_EV_TIMEOUT,      /* instant: the rank missed a deadline */
  MASTER_EV_REISSUE,      /* instant: a chunk went back in line */
  MASTER_EV_LOST,         /* instant: the rank was declared lost */
  MASTER_EV_BACK,         /* instant: a lost rank spoke again */
  MASTER_EV_SPECULATE,    /* instant: a backup copy was issued */
  MASTER_EV_CANCEL,       /* instant: the rank was told to drop a chunk */
  MASTER_EV_KINDS,
} master_event_kind_t;

typedef struct master_event_s master_event_t;
struct master_event_s {
  master_event_kind_t kind;
  int rank;         /* the rank the event belongs to (0: the master) */
  uint64_t chunk;   /* chunk id (attempt events and re-issues) */
  uint64_t attempt; /* attempt number, from 1 */
  uint64_t begin;   /* the chunk's range */
  uint64_t end;
  uint64_t t0_ns; /* start, relative to the run's start */
  uint64_t t1_ns; /* end (== t0_ns for instants) */
};

/* A growing list of events; recording is off while `on` is 0. */
typedef struct master_log_s master_log_t;
struct master_log_s {
  master_event_t* ev;
  size_t count;
  size_t cap;
  int on;
  int full; /* an allocation failed: later events were dropped */
};

/* Appends e when the log is on. Never fails the run: on ENOMEM the log is
 * marked full and the event dropped. */
void master_log_add(master_log_t* log, const master_event_t* e);
void master_log_close(master_log_t* log);

typedef struct master_rank_stats_s master_rank_stats_t;
struct master_rank_stats_s {
  int rank;
  char host[PROTO_HOST_MAX];
  uint64_t pid;
  uint64_t chunks; /* accepted results */
  uint64_t iters;  /* iterations in them */
  double busy_s;   /* compute time they report */
  double finish_s; /* when its last accepted result arrived */
  uint64_t timeouts;
  uint64_t reissued; /* its chunks put back in line for others */
  uint64_t duplicates;
  uint64_t cancels;
  uint64_t rejected;
  int lost;                 /* lost at the end of the run */
  int came_back;            /* it was lost and spoke again */
  int died;                 /* its guard reported its death */
  uint64_t checked;         /* its results another rank confirmed */
  uint64_t checks_done;     /* others' results it confirmed */
  uint64_t revoked;         /* its chunks withdrawn when it was refused */
  char refused_why[160];    /* why it was refused for lying; "" if not */
  const char* state;        /* waiting, active, refused, retired or lost */
  double speed;             /* smoothed iterations per second; 0 = unknown */
  master_learned_t learned; /* what the schedule learnt from its results */
};

typedef struct master_run_stats_s master_run_stats_t;
struct master_run_stats_s {
  const cli_job_t* job;
  int workers;
  uint64_t chunks;     /* chunks cut */
  uint64_t n;          /* indices in the run */
  uint64_t done_iters; /* indices accepted so far (a journal's included) */
  uint64_t inflight;   /* orders the workers hold */
  int alive;           /* workers taking work */
  int lost;            /* workers lost or gone */
  uint64_t chunk_size; /* the fixed size of dynamic/cyclic */
  uint64_t min_chunk;
  double wall_s;
  double master_cpu_s;
  uint64_t messages;
  uint64_t reissues;
  uint64_t speculative;
  uint64_t wasted_iters;
  uint64_t master_iters;  /* computed by the master itself */
  uint64_t resumed_iters; /* taken from a journal */
  uint64_t recoveries;    /* faulted chunks finished by someone */
  double recovery_max_s;
  double recovery_mean_s;
  const char* result; /* the value, as printed */
  const char* bits;   /* %a of the value, or NULL */
  double value;       /* the value as a double */
  int has_reference;  /* reference and error below are known */
  double reference;
  const char* reference_text;
  const char* reference_kind;      /* what the reference is */
  int stopped;                     /* ended by a signal before finishing */
  double verify;                   /* --verify: fraction of chunks checked */
  uint64_t checks_issued;          /* copies issued to check a result */
  uint64_t checks_passed;          /* results another rank confirmed */
  uint64_t free_checks;            /* ... by a copy that was out anyway */
  uint64_t mismatches;             /* computations that contradicted one */
  uint64_t liars;                  /* ranks refused for lying */
  uint64_t inconsistent;           /* ranks whose two computations of one
                                      chunk differed */
  uint64_t kernel_deaths;          /* computations that killed or froze a
                                      rank's kernel */
  uint64_t poisoned;               /* chunks never handed out again */
  uint64_t revoked_iters;          /* indices withdrawn from refused ranks */
  const master_rank_stats_t* rank; /* [workers] */
};

/* Derived figures of a run, as in the report. */
typedef struct master_balance_s master_balance_t;
struct master_balance_s {
  double finish_max_s;         /* latest worker finish */
  double finish_mean_s;        /* over workers with results */
  double imbalance;            /* finish_max / finish_mean (1 = perfect) */
  double finish_cov;           /* coefficient of variation of finish times */
  double efficiency;           /* sum busy / (workers x wall) */
  double ideal_s;              /* the workers' iterations / sum of their
                                  measured speeds */
  double overhead_per_chunk_s; /* (workers x wall - sum busy) / chunks */
};

void master_balance(const master_run_stats_t* st, master_balance_t* out);

/* The summary's line about faults ("faults: 3 chunks re-issued, ...") and
 * the one about checks ("verify: 0.01 of the chunks; ..."), into out. */
void master_faults_line(const master_run_stats_t* st, char* out, size_t len);
void master_checks_line(const master_run_stats_t* st, char* out, size_t len);

/* Writes the --report JSON to f. Returns 0 or PROTO_EIO. */
int master_write_report(FILE* f, const master_run_stats_t* st);

/* Writes the --trace JSON (trace-event format) to f. Returns 0 or
 * PROTO_EIO. */
int master_write_trace(FILE* f, const master_run_stats_t* st,
                       const master_log_t* log);


/* Writes text as a JSON string into out (cap bytes, NUL-terminated):
 * quoted, escaped, and valid UTF-8 whatever text holds (an ill-formed byte
 * becomes U+FFFD). Returns the length it needs, as snprintf does; 6 x
 * strlen(text) + 3 bytes always suffice. */
size_t master_json_quote(const char* text, char* out, size_t cap);

/* Writes text as a JSON string (quoted, escaped, valid UTF-8) to f; text is
 * at most CLI_PATH_MAX bytes. */
void master_json_string(FILE* f, const char* text);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_REPORT_H_ */
