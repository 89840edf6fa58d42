/* master/console.h. Everything here reads the farm through farm_snapshot()
 * and farm.h's functions; the result lines are the only text on standard
 * output (base_out()). */
#include "master/console.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

extern char** environ;

#include "master/resume.h"
#include "base/clock.h"
#include "proto/error.h"
#include "base/log.h"
#include "jobs/lines.h"
#include "jobs/taskfarm_kernel.h"
#include "kernel/probe.h"

static double seconds(uint64_t ns) { return (double)ns / 1e9; }

double master_cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Whether the user watches a terminal: our stderr, or under mpiexec (which
 * hands rank 0 a pipe) the stderr of the launcher that forwards it, found
 * among the first few ancestors. */
static int stderr_is_terminal(void) {
  if (isatty(STDERR_FILENO)) return 1;
  long pid = (long)getppid();
  for (int depth = 0; depth < 4 && pid > 1; depth++) {
    char path[64], target[64];
    snprintf(path, sizeof(path), "/proc/%ld/fd/2", pid);
    ssize_t len = readlink(path, target, sizeof(target) - 1);
    if (len > 0) {
      target[len] = '\0';
      if (strncmp(target, "/dev/pts/", 9) == 0 ||
          strncmp(target, "/dev/tty", 8) == 0)
        return 1;
    }
    /* The parent's parent: field 4 of /proc/PID/stat, after "(comm)". */
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE* f = fopen(path, "r");
    if (f == NULL) break;
    char buf[512];
    size_t got = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[got] = '\0';
    char* close_paren = strrchr(buf, ')');
    if (close_paren == NULL || sscanf(close_paren + 1, " %*c %ld", &pid) != 1)
      break;
  }
  return 0;
}

/* Opens path for writing without ever blocking (a FIFO without a reader is
 * an error, not a hang): NULL with errno set on failure. */
static FILE* open_output(const char* path) {
  int fd =
      open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0) return NULL;
  /* Writes themselves may block: a reader that is slow is still a reader. */
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  FILE* f = fdopen(fd, "w");
  if (f == NULL) close(fd);
  return f;
}

/* Why path cannot be written, or NULL when it can. */
static const char* output_problem(const char* path, char* why, size_t len) {
  struct stat st;
  if (stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return "it is a folder";
    if (S_ISFIFO(st.st_mode)) {
      int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0)
        return errno == ENXIO ? "it is a FIFO with no reader" : strerror(errno);
      close(fd);
      return NULL;
    }
    if (!S_ISREG(st.st_mode)) return "it is not a regular file";
    /* Opened for writing, not truncated: what access() says for root is no
     * proof. */
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return strerror(errno);
    close(fd);
    return NULL;
  }
  if (errno != ENOENT) return strerror(errno);
  /* A new file: its folder must exist and take new files. */
  snprintf(why, len, "%s", path);
  char* slash = strrchr(why, '/');
  const char* dir = ".";
  if (slash == why) {
    dir = "/";
  } else if (slash != NULL) {
    *slash = '\0';
    dir = why;
  }
  if (stat(dir, &st) != 0) return "its folder does not exist";
  if (!S_ISDIR(st.st_mode)) return "its folder is not a folder";
  return access(dir, W_OK | X_OK) == 0 ? NULL
                                       : "its folder cannot take new files";
}

int master_console_check_outputs(const cli_job_t* job) {
  const struct {
    const char* opt;
    const char* path;
  } outs[] = {{"--output", job->output},
              {"--report", job->report},
              {"--trace", job->trace}};
  for (size_t k = 0; k < sizeof(outs) / sizeof(outs[0]); k++) {
    if (outs[k].path[0] == '\0') continue;
    char scratch[CLI_PATH_MAX];
    const char* why = output_problem(outs[k].path, scratch, sizeof(scratch));
    if (why == NULL) continue;
    base_log(BASE_LOG_WARN, "cannot write %s file '%s': %s", outs[k].opt,
              outs[k].path, why);
    return PROTO_EINVAL;
  }
  return 0;
}

int master_console_prepare(const cli_job_t* job) {
  struct stat st;
  int resume = job->resume && job->journal[0] != '\0' &&
               stat(job->journal, &st) == 0;
  char err[512];
  if (kernel_prepare(&job->task, job->n, resume, job->master_timeout, err,
                     sizeof(err)) == 0)
    return 0;
  base_log(BASE_LOG_WARN, "%s", err);
  return PROTO_EINVAL;
}

int master_console_init(master_console_t* c, const farm_t* farm,
                        const cli_job_t* job) {
  memset(c, 0, sizeof(*c));
  c->farm = farm;
  c->job = job;
  c->cpu0 = master_cpu_seconds();
  int terminal = job->progress != 0 && stderr_is_terminal();
  c->progress = !job->quiet && cli_job_has_range(job) &&
                (job->progress == 1 || (job->progress == -1 && terminal));
  c->tty = c->progress && terminal;
  int workers = farm_workers(farm);
  c->snap = calloc((size_t)(workers > 0 ? workers : 1), sizeof(*c->snap));
  return c->snap == NULL ? PROTO_ENOMEM : 0;
}

void master_console_close(master_console_t* c) {
  free(c->snap);
  c->snap = NULL;
}

void master_console_figures(master_console_t* c, uint64_t now,
                            master_run_stats_t* st, master_live_t* live) {
  farm_snapshot(c->farm, now, c->snap, st);
  st->master_cpu_s = master_cpu_seconds() - c->cpu0;
  memset(live, 0, sizeof(*live));
  live->done_iters = st->done_iters;
  live->elapsed_s = st->wall_s;
  live->inflight = st->inflight;
  live->alive = st->alive;
  live->lost = st->lost;
  live->eta_s = -1;
  if (c->rate_count > 1) {
    int oldest = c->rate_count < MASTER_RATE_SAMPLES
                     ? 0
                     : c->rate_count % MASTER_RATE_SAMPLES;
    int newest = (c->rate_count - 1) % MASTER_RATE_SAMPLES;
    double dt = seconds(c->rate_t[newest] - c->rate_t[oldest]);
    if (dt > 0)
      live->rate = (double)(c->rate_done[newest] - c->rate_done[oldest]) / dt;
  }
  if (live->rate > 0)
    live->eta_s = (double)(st->n - live->done_iters) / live->rate;
  live->stopping = farm_stopping(c->farm) != FARM_STOP_NONE;
  live->journal = c->journal;
  live->journal_records = c->journal_records ? *c->journal_records : 0;
}

void master_console_clear(master_console_t* c) {
  if (c->drawn && c->tty) fputs("\r\033[K", stderr);
  c->drawn = 0;
}

void master_console_tick(master_console_t* c, uint64_t now) {
  master_run_stats_t st;
  master_live_t live;
  master_console_figures(c, now, &st, &live);
  int k = c->rate_count++ % MASTER_RATE_SAMPLES;
  c->rate_t[k] = now;
  c->rate_done[k] = st.done_iters;
  if (!c->progress) return;
  /* A terminal gets the line redrawn in place; a file a line a second. */
  if (!c->tty && now - c->last_ns < 1000000000u) return;
  master_console_figures(c, now, &st, &live);
  char line[256];
  master_progress_line(&st, &live, line, sizeof(line));
  fprintf(stderr, c->tty ? "\r%s\033[K" : "taskfarm: %s\n", line);
  fflush(stderr);
  c->drawn = c->tty;
  c->last_ns = now;
}

const char* master_signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

void master_console_print_stop(master_console_t* c, uint64_t now, int signum,
                               const base_launch_t* launch, int argc,
                               char** argv) {
  const cli_job_t* job = c->job;
  master_run_stats_t st;
  farm_snapshot(c->farm, now, c->snap, &st);
  double pct = job->n ? 100.0 * (double)st.done_iters / (double)job->n : 100.0;
  base_log(BASE_LOG_WARN,
            "stopped by %s: %llu of %llu iterations done (%.1f%%)",
            master_signal_name(signum), (unsigned long long)st.done_iters,
            (unsigned long long)job->n, pct);
  if (c->journal == NULL) {
    base_log(BASE_LOG_WARN,
              "no --journal: this work cannot be resumed; run with "
              "--journal FILE to make a run resumable");
    return;
  }
  base_log(BASE_LOG_WARN,
            "all of it is in journal '%s'; resume with:", c->journal);
  char exe[CLI_PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  exe[len > 0 ? len : 0] = '\0';
  master_resume_t r = {*launch, argc,
                       argv,    len > 0 ? exe : NULL,
                       environ, farm_host_count(c->farm)};
  master_resume_write(stderr, &r);
}

/* {opt:NAME} of a result line: the option's value. */
static const char* option_value(const void* ctx, const char* name) {
  return jobs_value(ctx, name);
}

/* The longest result line printed: a template is at most JOBS_LINE_MAX
 * bytes, and an option's value ({opt:NAME}) up to JOBS_VALUE_MAX. */
enum { RESULT_LINE_MAX = JOBS_LINE_MAX + 2 * JOBS_VALUE_MAX };

/* The job's result lines, filled in, into text; returns their length. */
static int result_lines(const cli_job_t* job, const proto_exact_t* fsum,
                        unsigned __int128 isum, const master_run_stats_t* st,
                        char* text, size_t len) {
  const jobs_task_t* task = &job->task;
  jobs_result_t r = {
      .value = (task->spec.result & TASKFARM_RESULT_FLOAT)
                   ? proto_exact_to_double(fsum)
                   : 0,
      .sum = isum,
      .has_reference = task->has_reference,
      .reference = task->reference,
      .n = job->n,
      .chunks = st->chunks,
      .ranks = (uint64_t)st->workers + 1,
      .option = option_value,
      .ctx = task,
  };
  size_t at = 0;
  text[0] = '\0';
  for (int i = 0; i < task->spec.nlines; i++) {
    /* A line is cut at RESULT_LINE_MAX bytes; one that does not fit whole
     * with its newline is left out, so text always ends with a line's. */
    char line[RESULT_LINE_MAX];
    jobs_format_line(task->spec.line[i], &r, line, sizeof(line));
    size_t n = strlen(line);
    if (at + n + 2 > len) break;
    memcpy(text + at, line, n);
    at += n;
    text[at++] = '\n';
    text[at] = '\0';
  }
  return (int)at;
}

int master_console_print_result(master_console_t* c, uint64_t now,
                                double wall) {
  const cli_job_t* job = c->job;
  master_run_stats_t st;
  farm_snapshot(c->farm, now, c->snap, &st);
  proto_exact_t fsum;
  unsigned __int128 isum;
  farm_result(c->farm, &fsum, &isum);
  static char text[JOBS_LINES_MAX * RESULT_LINE_MAX + 64];
  int len = result_lines(job, &fsum, isum, &st, text, sizeof(text) - 64);
  if (cli_job_has_range(job))
    snprintf(text + len, sizeof(text) - (size_t)len, "Time = %.6f sec\n",
             wall);
  len = (int)strlen(text);
  FILE* results = base_out();
  if (fputs(text, results) == EOF || fflush(results) != 0) {
    base_log(BASE_LOG_WARN, "cannot write the result to standard output: %s",
              strerror(errno));
    return PROTO_EIO;
  }
  if (job->output[0] == '\0') return 0;
  FILE* out = open_output(job->output);
  int ok = out != NULL && fwrite(text, 1, (size_t)len, out) == (size_t)len;
  int saved = errno;
  if (out != NULL && fclose(out) != 0 && ok) {
    ok = 0;
    saved = errno;
  }
  if (!ok) {
    base_log(BASE_LOG_WARN, "cannot write --output file '%s': %s",
              job->output, strerror(saved));
    return PROTO_EIO;
  }
  return 0;
}

void master_console_print_summary(master_console_t* c, uint64_t now,
                                  double wall) {
  const cli_job_t* job = c->job;
  if (!cli_job_has_range(job)) return;
  master_run_stats_t st;
  farm_snapshot(c->farm, now, c->snap, &st);
  double cpu = master_cpu_seconds() - c->cpu0;
  base_log(BASE_LOG_INFO,
            "%s n=%llu, schedule %s, %llu chunk%s, %d worker%s, %.3f s; "
            "master CPU %.3f s (%.1f%% of a core), %llu messages",
            cli_job_name(job), (unsigned long long)job->n,
            cli_sched_name(job->schedule), (unsigned long long)st.chunks,
            st.chunks == 1 ? "" : "s", st.workers, st.workers == 1 ? "" : "s",
            wall, cpu, wall > 0 ? 100.0 * cpu / wall : 0.0,
            (unsigned long long)st.messages);
  char line[512];
  master_faults_line(&st, line, sizeof(line));
  base_log(BASE_LOG_INFO, "%s", line);
  master_checks_line(&st, line, sizeof(line));
  base_log(BASE_LOG_INFO, "%s", line);
  int lost = 0;
  for (int i = 0; i < st.workers; i++) {
    const master_rank_stats_t* r = &st.rank[i];
    lost += r->lost;
    base_log(BASE_LOG_INFO,
              "  rank %d (%s pid %llu): %llu chunks, %llu iterations, busy "
              "%.3f s, %.3g it/s, %llu timeouts, %llu re-issued, %llu "
              "duplicates, %llu cancelled, %llu rejected%s%s%s",
              r->rank, r->host[0] ? r->host : "?", (unsigned long long)r->pid,
              (unsigned long long)r->chunks, (unsigned long long)r->iters,
              r->busy_s, r->busy_s > 0 ? (double)r->iters / r->busy_s : 0.0,
              (unsigned long long)r->timeouts, (unsigned long long)r->reissued,
              (unsigned long long)r->duplicates, (unsigned long long)r->cancels,
              (unsigned long long)r->rejected, r->lost ? ", LOST" : "",
              r->came_back ? ", came back" : "",
              strcmp(r->state, "refused") == 0 ? ", REFUSED" : "");
    if (r->refused_why[0] != '\0')
      base_log(BASE_LOG_INFO,
                "    refused: %s; %llu chunk%s withdrawn and computed again",
                r->refused_why, (unsigned long long)r->revoked,
                r->revoked == 1 ? "" : "s");
  }
  if (st.master_iters > 0)
    base_log(BASE_LOG_INFO, "  rank 0 (the master itself): %llu iterations",
              (unsigned long long)st.master_iters);
  if (lost > 0) base_log(BASE_LOG_INFO, "lost ranks: %d", lost);
}

int master_console_write_outputs(master_console_t* c, const master_log_t* log,
                                 double wall, uint64_t now) {
  const cli_job_t* job = c->job;
  if (job->report[0] == '\0' && job->trace[0] == '\0') return 0;
  proto_exact_t fsum;
  unsigned __int128 isum;
  farm_result(c->farm, &fsum, &isum);
  char value[64] = "", bits[64] = "", reference[64] = "";
  master_run_stats_t st;
  master_live_t live;
  master_console_figures(c, now, &st, &live);
  st.wall_s = wall;
  st.result = value;
  const jobs_task_t* task = &job->task;
  if (task->spec.result & TASKFARM_RESULT_FLOAT) {
    st.value = proto_exact_to_double(&fsum);
    snprintf(value, sizeof(value), "%.17g", st.value);
    snprintf(bits, sizeof(bits), "%a", st.value);
    st.bits = bits;
  } else if (task->spec.result & TASKFARM_RESULT_INT) {
    jobs_u128_str(isum, value);
    st.value = (double)isum;
  } else {
    snprintf(value, sizeof(value), "%llu chunks",
             (unsigned long long)st.chunks);
  }
  if (task->has_reference) {
    st.has_reference = 1;
    st.reference = task->reference;
    if (task->reference_text[0] != '\0')
      snprintf(reference, sizeof(reference), "%s", task->reference_text);
    else
      snprintf(reference, sizeof(reference), "%.17g", task->reference);
    st.reference_kind = task->reference_what;
  }
  st.reference_text = reference;
  int rc = 0;
  const char* paths[2] = {job->report, job->trace};
  for (int k = 0; k < 2 && rc == 0; k++) {
    if (paths[k][0] == '\0') continue;
    FILE* out = open_output(paths[k]);
    int wrc = out == NULL ? PROTO_EIO
              : k == 0    ? master_write_report(out, &st)
                          : master_write_trace(out, &st, log);
    if (out != NULL && fclose(out) != 0) wrc = PROTO_EIO;
    if (wrc < 0) {
      base_log(BASE_LOG_WARN, "cannot write %s file '%s'",
                k == 0 ? "--report" : "--trace", paths[k]);
      rc = wrc;
    }
  }
  return rc;
}

int master_console_end(master_console_t* c, int rc, const master_end_t* e) {
  const cli_job_t* job = c->job;
  const farm_t* f = c->farm;
  uint64_t now = base_now_ns();
  double wall = (double)(now - e->t0_ns) / 1e9;
  /* A finished result is printed whatever signal came after it. */
  int complete = cli_job_has_range(job) ? farm_finished(f) : farm_done(f);
  if (rc == 0 && complete) {
    rc = master_console_print_result(c, now, wall);
    master_console_print_summary(c, now, wall);
    int orc = master_console_write_outputs(c, e->trace, wall, now);
    return rc == 0 ? orc : rc;
  }
  if (farm_stopping(f) != FARM_STOP_NONE && (rc == 0 || rc == PROTO_ESTOPPED)) {
    master_console_print_stop(c, now, e->stop_signal, e->launch, e->argc,
                              e->argv);
    master_console_write_outputs(c, e->trace, wall, now);
    return PROTO_ESTOPPED;
  }
  if (rc == PROTO_EPOISON) {
    char line[1024];
    uint64_t poisoned = 0;
    for (; farm_describe_poison(f, poisoned, line, sizeof(line)) == 0;
         poisoned++)
      if (poisoned < 10) base_log(BASE_LOG_WARN, "%s", line);
    if (poisoned > 10)
      base_log(BASE_LOG_WARN, "... and %llu more such chunks",
                (unsigned long long)(poisoned - 10));
    base_log(BASE_LOG_WARN,
              "run failed: %llu chunk%s killed or froze %d computations "
              "each; every other chunk is done%s",
              (unsigned long long)poisoned, poisoned == 1 ? "" : "s",
              job->poison_after,
              c->journal != NULL ? " and in the journal: fix the kernel and "
                                   "run again with --resume"
                                 : " (run with --journal FILE to keep it)");
    return rc;
  }
  if (rc == 0) rc = PROTO_ECANCELED;
  if (rc != PROTO_EJOURNAL)
    base_log(BASE_LOG_WARN, "run failed: %s", proto_strerror(rc));
  return rc;
}
