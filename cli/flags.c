/* cli/flags.h: the shared options, their handlers and their help. */
#include "cli/flags.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/options.h"
#include "proto/error.h"
#include "proto/proto.h"

int cli_parse_count(cli_parse_t* p, const char* opt, const char* text,
                    uint64_t max, uint64_t* out) {
  if (*text == '-')
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s must be a positive whole number, got '%s'", opt,
                      text);
  int rc = jobs_parse_count(text, max, out);
  if (rc == PROTO_ERANGE)
    return proto_fail(p->err, p->errlen, rc,
                      "%s %s is beyond the supported maximum %llu", opt, text,
                      (unsigned long long)max);
  if (rc < 0)
    return proto_fail(p->err, p->errlen, rc,
                      "%s must be a positive whole number such as 1000000 or "
                      "1e6, got '%s'",
                      opt, text);
  if (*out == 0)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s must be at least 1, got '%s'", opt, text);
  return 0;
}

static int copy_path(cli_parse_t* p, const char* opt, const char* value,
                     char* dst) {
  size_t len = strlen(value);
  if (len == 0)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s needs a file name, got an empty one", opt);
  if (len >= CLI_PATH_MAX)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s needs a file name shorter than %d bytes, got one "
                      "of %zu",
                      opt, CLI_PATH_MAX, len);
  memcpy(dst, value, len + 1);
  return 0;
}

/* A number in [min, max], finite; why names the range in the message. */
static int parse_number(cli_parse_t* p, const char* opt, const char* text,
                        double min, double max, const char* why,
                        double* out) {
  char* end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || errno != 0 || !(v >= min) ||
      !(v <= max))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes %s, got '%s'", opt, why, text);
  *out = v;
  return 0;
}

/* Seconds in [min, CLI_SECONDS_MAX]; why says what the minimum is (NULL:
 * 1 ms, the least time there is). */
static int parse_seconds_from(cli_parse_t* p, const char* opt,
                              const char* text, double min, const char* why,
                              double* out) {
  char* end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || errno != 0 || !(v <= CLI_SECONDS_MAX) ||
      !(v == v))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes a number of seconds from %g to %g, got '%s'",
                      opt, min, CLI_SECONDS_MAX, text);
  if (!(v >= min))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s must be at least %g s (%s), got '%s'", opt, min,
                      why ? why : "1 ms", text);
  *out = v;
  return 0;
}

/* W1,W2,...: finite numbers > 0. */
static int parse_weights(const char* text, cli_job_t* job) {
  job->nweights = 0;
  const char* at = text;
  for (;;) {
    if (job->nweights == CLI_WEIGHTS_MAX) return PROTO_ERANGE;
    char* end;
    errno = 0;
    double w = strtod(at, &end);
    if (end == at || errno != 0 || !(w > 0) || w > 1e9) return PROTO_EINVAL;
    job->weight[job->nweights++] = w;
    if (*end == '\0') return 0;
    if (*end != ',') return PROTO_EINVAL;
    at = end + 1;
  }
}

/* One handler per option: each writes its own field of the job and no
 * other (the table below binds them). */
static int opt_n(cli_parse_t* p, const char* opt, const char* v) {
  (void)opt;
  p->n_text = v;
  p->job->n_given = 1;
  return 0;
}
static int opt_chunk(cli_parse_t* p, const char* opt, const char* v) {
  (void)opt;
  p->chunk_text = v;
  return 0;
}
static int opt_output(cli_parse_t* p, const char* opt, const char* v) {
  return copy_path(p, opt, v, p->job->output);
}
static int opt_report(cli_parse_t* p, const char* opt, const char* v) {
  return copy_path(p, opt, v, p->job->report);
}
static int opt_trace(cli_parse_t* p, const char* opt, const char* v) {
  return copy_path(p, opt, v, p->job->trace);
}
static int opt_journal(cli_parse_t* p, const char* opt, const char* v) {
  return copy_path(p, opt, v, p->job->journal);
}
static int opt_quiet(cli_parse_t* p, const char* opt, const char* v) {
  (void)opt, (void)v;
  p->job->quiet = 1;
  return 0;
}
static int opt_resume(cli_parse_t* p, const char* opt, const char* v) {
  (void)opt, (void)v;
  p->job->resume = 1;
  return 0;
}
static int opt_progress(cli_parse_t* p, const char* opt, const char* v) {
  (void)opt, (void)v;
  p->job->progress = 1;
  return 0;
}
static int opt_schedule(cli_parse_t* p, const char* opt, const char* v) {
  (void)opt;
  if (cli_sched_parse(v, &p->job->schedule) == 0) return 0;
  return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                    "unknown schedule '%s': use static, cyclic, dynamic, "
                    "guided, trapezoid, factoring, wf, awf-b, awf-c or af",
                    v);
}
static int opt_weights(cli_parse_t* p, const char* opt, const char* v) {
  (void)opt;
  if (parse_weights(v, p->job) == 0) return 0;
  return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                    "--weights takes up to %d numbers > 0 separated by commas "
                    "(one per worker), got '%s'",
                    CLI_WEIGHTS_MAX, v);
}
static int opt_min_chunk(cli_parse_t* p, const char* opt, const char* v) {
  return cli_parse_count(p, opt, v, UINT64_MAX / 2, &p->job->min_chunk);
}
static int opt_status_port(cli_parse_t* p, const char* opt, const char* v) {
  (void)opt;
  char* end;
  errno = 0;
  long port = strtol(v, &end, 10);
  if (end == v || *end != '\0' || errno != 0 || port < 1 || port > 65535)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--status-port takes a TCP port 1..65535, got '%s'", v);
  p->job->status_port = (int)port;
  return 0;
}
static int opt_status_bind(cli_parse_t* p, const char* opt, const char* v) {
  (void)opt;
  size_t len = strlen(v);
  unsigned char addr[16];
  if (len == 0 || len >= CLI_BIND_MAX ||
      (inet_pton(AF_INET, v, addr) != 1 && inet_pton(AF_INET6, v, addr) != 1))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--status-bind takes an IP address such as 127.0.0.1, "
                      "0.0.0.0 or ::1, got '%s'",
                      v);
  memcpy(p->job->status_bind, v, len + 1);
  return 0;
}
static int opt_timeout(cli_parse_t* p, const char* opt, const char* v) {
  if (strcmp(v, "auto") == 0) {
    p->job->timeout = 0;
    return 0;
  }
  char* end;
  errno = 0;
  if (strtod(v, &end) == 0 || end == v || *end != '\0')
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--timeout takes 'auto' or a number of seconds from %g "
                      "(1 ms) to %g, got '%s'",
                      CLI_SECONDS_MIN, CLI_SECONDS_MAX, v);
  return parse_seconds_from(p, opt, v, CLI_SECONDS_MIN, NULL,
                            &p->job->timeout);
}
static int opt_timeout_factor(cli_parse_t* p, const char* opt,
                              const char* v) {
  return parse_number(p, opt, v, 1, 1e6, "a number from 1 to 1e6",
                      &p->job->timeout_factor);
}
static const char kBeatWhy[] =
    "twice the 0.1 s between a computing worker's reports: less takes "
    "healthy workers for silent";
static int opt_timeout_floor(cli_parse_t* p, const char* opt, const char* v) {
  return parse_seconds_from(p, opt, v, 2 * PROTO_BEAT_S, kBeatWhy,
                            &p->job->timeout_floor);
}
static int opt_lost_after(cli_parse_t* p, const char* opt, const char* v) {
  return parse_seconds_from(p, opt, v, 2 * PROTO_BEAT_S, kBeatWhy,
                            &p->job->lost_after);
}
static int opt_master_timeout(cli_parse_t* p, const char* opt,
                              const char* v) {
  return parse_seconds_from(
      p, opt, v, 2 * PROTO_PING_S,
      "twice the 1 s between the master's messages to an idle worker: "
      "less makes healthy workers leave",
      &p->job->master_timeout);
}
static int opt_speculate(cli_parse_t* p, const char* opt, const char* v) {
  (void)opt;
  if (strcmp(v, "on") == 0) {
    p->job->speculate = 1; /* for every schedule, static ones too */
  } else if (strcmp(v, "off") == 0) {
    p->job->speculate = 0;
  } else {
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--speculate takes on or off, got '%s'", v);
  }
  return 0;
}
static int opt_verify(cli_parse_t* p, const char* opt, const char* v) {
  if (strcmp(v, "all") == 0 || strcmp(v, "off") == 0) {
    p->job->verify = v[0] == 'a' ? 1 : 0;
    return 0;
  }
  char* end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || *end != '\0' || errno != 0 || !(x >= 0) || !(x <= 1))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes a fraction of the chunks from 0 to 1 (0.01 "
                      "checks one chunk in a hundred), all or off; got '%s'",
                      opt, v);
  p->job->verify = x;
  return 0;
}
static int opt_poison_after(cli_parse_t* p, const char* opt, const char* v) {
  char* end;
  errno = 0;
  long k = strtol(v, &end, 10);
  if (end == v || *end != '\0' || errno != 0 || k < 1 || k > CLI_POISON_MAX)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes a number of ranks from 1 to %d, got '%s'", opt,
                      CLI_POISON_MAX, v);
  p->job->poison_after = (int)k;
  return 0;
}
static int opt_inject(cli_parse_t* p, const char* opt, const char* v) {
  (void)opt;
  cli_job_t* job = p->job;
  const char* allow = getenv("TASKFARM_FAULTS");
  if (allow == NULL || strcmp(allow, "1") != 0)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--inject is for tests and experiments: it also needs "
                      "TASKFARM_FAULTS=1 in the environment");
  if (job->nfaults == CLI_FAULTS_MAX)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "at most %d --inject options", CLI_FAULTS_MAX);
  if (cli_fault_parse(v, &job->fault[job->nfaults]) < 0)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--inject takes RANK:KIND[@WHEN] with KIND exit, abort, "
                      "freeze, slow=F (1 < F <= 1e6) or corrupt=P (a fraction "
                      "0 < P <= 1 of its partials get one bit flipped) and "
                      "WHEN Nc or Ts, e.g. 2:freeze@3c, or "
                      "RANK:speed=P@T,P@T,... (percent 1-100 from T seconds "
                      "on, T rising, at most 8 steps); got '%s'",
                      v);
  job->nfaults++;
  return 0;
}
static int opt_kernel(cli_parse_t* p, const char* opt, const char* v) {
  return copy_path(p, opt, v, p->job->task.kernel_path);
}
static int opt_arg(cli_parse_t* p, const char* opt, const char* v) {
  return cli_keep_arg(p, opt, v);
}

#define ALL CLI_FOR_ALL
#define RANGE CLI_FOR_RANGE
#define RUN CLI_FOR_RUN
#define S(x) CLI_SECTION_##x

static const cli_option_t kOptions[] = {
    {"--n", opt_n, 1, 0, RANGE, S(GENERAL), "N",
     "how many indices: [0, N) is cut into chunks; an integer or a form\n"
     "such as 1e10 (jobs that take their n from their options refuse it)\n"},
    {"--chunk", opt_chunk, 1, 0, RANGE, S(GENERAL), "C",
     "indices per chunk (default: about 64 chunks per worker, capped so\n"
     "one chunk takes well under a second; rounded up to the job's\n"
     "alignment); the master keeps 80 bytes per chunk and takes at most\n"
     "2^26 (67 million) chunks\n"},
    {"--output", opt_output, 1, 0, ALL, S(GENERAL), "FILE",
     "also write the result lines to FILE\n"},
    {"--quiet", opt_quiet, 0, 0, ALL, S(GENERAL), NULL,
     "print only the result lines\n"},
    {"--schedule", opt_schedule, 1, 0, RANGE, S(SCHEDULING), "NAME",
     "how chunks are sized and handed out (default dynamic):\n"
     "  static     one contiguous block per worker\n"
     "  cyclic     fixed chunks dealt round-robin in advance\n"
     "  dynamic    fixed chunks on demand (--chunk or auto)\n"
     "  guided     remaining/P on demand (GSS)\n"
     "  trapezoid  linearly decreasing sizes (TSS)\n"
     "  factoring  batches of P chunks of remaining/2P (FAC2)\n"
     "  wf         factoring scaled by --weights\n"
     "  awf-b      factoring with weights learned per batch\n"
     "  awf-c      factoring with weights learned per chunk\n"
     "  af         adaptive factoring from the measured mean and variance\n"
     "             of each worker's speed\n"},
    {"--weights", opt_weights, 1, 0, RANGE, S(SCHEDULING), "W1,W2,...",
     "wf: the relative speed of workers 1..P (P values)\n"},
    {"--min-chunk", opt_min_chunk, 1, 0, RANGE, S(SCHEDULING), "C",
     "the smallest chunk of the variable-size schedules (default\n"
     "n/(4096 P), at least the job's alignment)\n"},
    {"--report", opt_report, 1, 0, RANGE, S(SCHEDULING), "FILE",
     "write the run's statistics as JSON\n"},
    {"--trace", opt_trace, 1, 0, RANGE, S(SCHEDULING), "FILE",
     "write a Chrome/Perfetto trace: one track per rank, one slice per\n"
     "chunk attempt (open it in ui.perfetto.dev)\n"},
    {"--journal", opt_journal, 1, 0, RANGE, S(LONG_RUNS), "FILE",
     "append every finished chunk to FILE (checksummed, made durable at\n"
     "least once a second)\n"},
    {"--resume", opt_resume, 0, 0, RANGE, S(LONG_RUNS), NULL,
     "with --journal: skip the chunks FILE already holds; the result is\n"
     "bitwise the one of an unbroken run\n"},
    {"--progress", opt_progress, 0, 0, RANGE, S(LONG_RUNS), NULL,
     "a progress line on stderr even when it is not a terminal (default:\n"
     "only on a terminal)\n"},
    {"--status-port", opt_status_port, 1, 0, RANGE, S(LONG_RUNS), "P",
     "serve GET /status (JSON) and GET /metrics (Prometheus) over HTTP on\n"
     "port P\n"},
    {"--status-bind", opt_status_bind, 1, 0, RANGE, S(LONG_RUNS), "A",
     "the IP address for --status-port (default 127.0.0.1; 0.0.0.0 serves\n"
     "every interface)\n"},
    {"--timeout", opt_timeout, 1, 0, RANGE, S(FAULTS), "auto|S",
     "chunk deadline: auto (default) = factor x the time the worker's\n"
     "measured speed predicts + floor; or a fixed S >= 0.001 s per chunk\n"},
    {"--timeout-factor", opt_timeout_factor, 1, 0, RANGE, S(FAULTS), "F",
     "the auto deadline's factor, 1..1e6 (default 3)\n"},
    {"--timeout-floor", opt_timeout_floor, 1, 0, RANGE, S(FAULTS), "S",
     "added to every deadline; a worker silent this long has its chunks\n"
     "re-issued (default 1, at least 0.2: a computing worker reports every\n"
     "0.1 s)\n"},
    {"--lost-after", opt_lost_after, 1, 0, RANGE, S(FAULTS), "S",
     "a worker silent this long while holding work is lost: no more work\n"
     "until it speaks (default 3, at least 0.2)\n"},
    {"--master-timeout", opt_master_timeout, 1, 0, ALL, S(FAULTS), "S",
     "a worker that hears nothing from the master for S seconds, start-up\n"
     "included, exits on its own (default 60, at least 2: the master sends\n"
     "every worker something each second)\n"},
    {"--speculate", opt_speculate, 1, 0, RANGE, S(FAULTS), "on|off",
     "at the end, copy chunks of slow workers to idle fast ones when that\n"
     "finishes sooner (default on, off for --schedule static and cyclic)\n"},
    {"--inject", opt_inject, 1, 1, RANGE, S(FAULTS), "R:KIND[@WHEN]",
     "a test-only fault on worker rank R; needs TASKFARM_FAULTS=1 in the\n"
     "environment. KIND: exit, abort, freeze, slow=F, corrupt=P (one bit\n"
     "flipped in a fraction P of its partials), or speed=P@T,P@T,... (P\n"
     "percent of its speed from T seconds on). WHEN: Nc (after N chunks,\n"
     "default 0c) or Ts (after T seconds)\n"},
    {"--verify", opt_verify, 1, 0, RANGE, S(TRUST), "F|all|off",
     "a fraction F of the chunks, picked at random, is computed again by\n"
     "another rank (on another host where there is one) and compared bit\n"
     "for bit; a mismatch is decided by a third computation, the rank that\n"
     "was wrong is refused and all it delivered is computed again (default\n"
     "0.01: it costs 1% of the work; all doubles the work)\n"},
    {"--poison-after", opt_poison_after, 1, 0, RANGE, S(TRUST), "K",
     "a chunk whose computation killed or froze K ranks (a kernel that\n"
     "crashes, exits or hangs) is not handed out again: the run finishes\n"
     "the rest, journals it and exits 1 naming the chunk (default 2, 1 to\n"
     "16)\n"},
    {"--kernel", opt_kernel, 1, 0, RUN, S(RUN), "FILE",
     "run: the shared object of your kernel (taskfarm_kernel.h)\n"},
    {"--arg", opt_arg, 1, 1, RUN, S(RUN), "KEY=VALUE",
     "run: a value for one of the kernel's options (`taskfarm run --kernel\n"
     "FILE --help` lists them); up to 32\n"},
};
enum { OPTION_COUNT = sizeof(kOptions) / sizeof(kOptions[0]) };
_Static_assert((int)OPTION_COUNT <= (int)CLI_OPTIONS_MAX,
               "raise CLI_OPTIONS_MAX");

const cli_option_t* cli_options_table(size_t* count) {
  *count = OPTION_COUNT;
  return kOptions;
}

const cli_option_t* cli_options(void) { return kOptions; }

const cli_option_t* cli_option_find(const char* name, size_t len) {
  for (size_t k = 0; k < OPTION_COUNT; k++)
    if (strlen(kOptions[k].name) == len &&
        strncmp(kOptions[k].name, name, len) == 0)
      return &kOptions[k];
  return NULL;
}

const char* cli_section_title(cli_section_t s) {
  static const char* const kTitle[CLI_SECTIONS] = {
      [CLI_SECTION_GENERAL] = "options",
      [CLI_SECTION_SCHEDULING] =
          "scheduling (docs/schedules.md has the formulas and their sources)",
      [CLI_SECTION_LONG_RUNS] = "long runs",
      [CLI_SECTION_FAULTS] =
          "fault tolerance (launch with mpiexec.mpich -disable-auto-cleanup "
          "so a\nlost rank does not end the job)",
      [CLI_SECTION_TRUST] = "trust nothing",
      [CLI_SECTION_RUN] = "your own kernel",
  };
  return (unsigned)s < CLI_SECTIONS ? kTitle[s] : "";
}
