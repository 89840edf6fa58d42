/* What the master shows the user: whether a person watches a terminal, the
 * progress line with its rate samples, the stop message with the resume
 * command, the result lines (stdout and --output), the summary, and the
 * --report and --trace files. It reads the farm and writes text; it
 * decides nothing about the run. */
#ifndef TASKFARM_MASTER_CONSOLE_H_
#define TASKFARM_MASTER_CONSOLE_H_

#include <stdint.h>

#include "master/farm.h"
#include "master/live.h"
#include "master/report.h"
#include "base/launch.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { MASTER_RATE_SAMPLES = 24 }; /* progress samples kept for the rate */

typedef struct master_console_s master_console_t;
struct master_console_s {
  const farm_t* farm;
  const cli_job_t* job;
  int progress;     /* draw the progress line */
  int tty;          /* redraw it in place (a terminal watches) */
  int drawn;        /* a line is on the terminal */
  uint64_t last_ns; /* when it was last printed (not a terminal) */
  uint64_t rate_t[MASTER_RATE_SAMPLES];    /* sample times */
  uint64_t rate_done[MASTER_RATE_SAMPLES]; /* iterations done then */
  int rate_count;
  double cpu0;                     /* master CPU seconds before the run */
  const char* journal;             /* --journal path, or NULL */
  const uint64_t* journal_records; /* records appended so far */
  master_rank_stats_t* snap;       /* scratch, one per worker */
};

/* Sets c up for farm (which must outlive c). Decides whether the progress
 * line is drawn and how, from the job and the terminal. Returns 0 or
 * PROTO_ENOMEM. */
int master_console_init(master_console_t* c, const farm_t* farm,
                        const cli_job_t* job);
void master_console_close(master_console_t* c);

/* Takes a rate sample and draws the progress line if due; call 4 times a
 * second. */
void master_console_tick(master_console_t* c, uint64_t now);

/* Clears the progress line from the terminal (before any other line). */
void master_console_clear(master_console_t* c);

/* The statistics and live figures now, for /status and /metrics. st->rank
 * points into c. */
void master_console_figures(master_console_t* c, uint64_t now,
                            master_run_stats_t* st, master_live_t* live);

/* Where the run is after a stop and how to resume it, launched as this
 * run was (launch, and the command line argc/argv). */
void master_console_print_stop(master_console_t* c, uint64_t now, int signum,
                               const base_launch_t* launch, int argc,
                               char** argv);

/* Writes the result lines to stdout and, when asked, to --output. Returns 0
 * or PROTO_EIO after saying which write failed. */
int master_console_print_result(master_console_t* c, uint64_t now, double wall);

/* The summary on stderr (not with --quiet). */
void master_console_print_summary(master_console_t* c, uint64_t now,
                                  double wall);

/* The --report and --trace files. Returns 0 or PROTO_EIO after saying
 * which could not be written. */
int master_console_write_outputs(master_console_t* c, const master_log_t* log,
                                 double wall, uint64_t now);

/* Checks --output, --report and --trace before any work: each must be a
 * regular file that can be written, a FIFO with a reader, or a new file in
 * a folder that can be written. Returns 0, or PROTO_EINVAL after one
 * sentence naming the file and the reason. */
int master_console_check_outputs(const cli_job_t* job);

/* The job's prepare hook, before any chunk (an image the job writes is
 * created, or checked on a resume to be the run's own).
 * Returns 0, or PROTO_EINVAL after saying why. */
int master_console_prepare(const cli_job_t* job);

/* "SIGINT" or "SIGTERM", the signals that stop a run. */
const char* master_signal_name(int sig);

/* CPU seconds (user + system) this process has used. */
double master_cpu_seconds(void);

/* What the end of a run needs said. */
typedef struct master_end_s master_end_t;
struct master_end_s {
  uint64_t t0_ns;               /* when the run started */
  int stop_signal;              /* the signal that stopped it; 0 = none */
  const base_launch_t* launch; /* how it was started, and its command */
  int argc;                     /* line, for the resume command */
  char** argv;
  const master_log_t* trace; /* --trace events */
};

/* Prints and writes what the run's end calls for, given its outcome rc: a
 * complete result (whatever signal came after it), the stop and how to
 * resume, the poisoned chunks, or the failure. Returns the run's outcome
 * (PROTO_ESTOPPED when stopped; an output that could not be written). */
int master_console_end(master_console_t* c, int rc, const master_end_t* e);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_CONSOLE_H_ */
