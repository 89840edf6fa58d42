/* Command-line parsing for the job every rank runs (never touching MPI or
 * files, so it behaves the same on every rank and in the unit tests), the
 * job's fingerprint, and proto_job_resolve, which reads the input files. */
/* realpath() */
#define _XOPEN_SOURCE 700
#include "proto/job.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/error.h"

const char* proto_job_name(proto_job_kind_t kind) {
  switch (kind) {
    case PROTO_JOB_HELLO:
      return "hello";
    case PROTO_JOB_PI:
      return "pi";
    case PROTO_JOB_DOT:
    case PROTO_JOB_DOTF:
      return "dot";
    case PROTO_JOB_NOOP:
      return "noop";
    case PROTO_JOB_RUN:
      return "run";
    case PROTO_JOB_LOOP:
      return "loop";
    case PROTO_JOB_MANDEL:
      return "mandelbrot";
    case PROTO_JOB_NONE:
      break;
  }
  return "none";
}

static const char* const kSchedName[PROTO_SCHED_COUNT] = {
    [PROTO_SCHED_DYNAMIC] = "dynamic",
    [PROTO_SCHED_STATIC] = "static",
    [PROTO_SCHED_CYCLIC] = "cyclic",
    [PROTO_SCHED_GUIDED] = "guided",
    [PROTO_SCHED_TRAPEZOID] = "trapezoid",
    [PROTO_SCHED_FACTORING] = "factoring",
    [PROTO_SCHED_WF] = "wf",
    [PROTO_SCHED_AWF_B] = "awf-b",
    [PROTO_SCHED_AWF_C] = "awf-c",
    [PROTO_SCHED_AF] = "af",
};

static const char* const kCostName[PROTO_COST_COUNT] = {
    [PROTO_COST_CONSTANT] = "constant",
    [PROTO_COST_UNIFORM] = "uniform",
    [PROTO_COST_NORMAL] = "normal",
    [PROTO_COST_EXPONENTIAL] = "exponential",
    [PROTO_COST_GAMMA] = "gamma",
    [PROTO_COST_INCREASING] = "increasing",
    [PROTO_COST_DECREASING] = "decreasing",
    [PROTO_COST_BIMODAL] = "bimodal",
};

const char* proto_cost_name(proto_cost_t cost) {
  return (unsigned)cost < PROTO_COST_COUNT ? kCostName[cost] : NULL;
}

const char* proto_sched_name(proto_sched_t sched) {
  return (unsigned)sched < PROTO_SCHED_COUNT ? kSchedName[sched] : NULL;
}

int proto_sched_parse(const char* text, proto_sched_t* out) {
  for (int i = 0; i < PROTO_SCHED_COUNT; i++)
    if (strcmp(text, kSchedName[i]) == 0) {
      *out = (proto_sched_t)i;
      return 0;
    }
  return PROTO_EINVAL;
}

int proto_job_speculates(const proto_job_t* job) {
  if (job->speculate >= 0) return job->speculate;
  return job->schedule != PROTO_SCHED_STATIC &&
         job->schedule != PROTO_SCHED_CYCLIC;
}

/* W1,W2,...: finite numbers > 0. */
static int parse_weights(const char* text, proto_job_t* job) {
  job->nweights = 0;
  const char* p = text;
  for (;;) {
    if (job->nweights == PROTO_WEIGHTS_MAX) return PROTO_ERANGE;
    char* end;
    errno = 0;
    double w = strtod(p, &end);
    if (end == p || errno != 0 || !(w > 0) || w > 1e9) return PROTO_EINVAL;
    job->weight[job->nweights++] = w;
    if (*end == '\0') return 0;
    if (*end != ',') return PROTO_EINVAL;
    p = end + 1;
  }
}

int proto_parse_count(const char* text, uint64_t max, uint64_t* out) {
  const char* p = text;
  if (*p == '\0') return PROTO_EINVAL;
  /* Collect the significant digits and the decimal exponent they carry. */
  char digits[64];
  int ndigits = 0, seen_digit = 0;
  long exp10 = 0;
  /* Zeros after the first significant digit wait here until a non-zero
   * digit follows; trailing ones ("1.000...0") never take a place. */
  long zeros = 0;
  int point = 0;
  for (;; p++) {
    if (*p == '.' && !point) {
      point = 1;
      continue;
    }
    if (!(*p >= '0' && *p <= '9')) break;
    seen_digit = 1;
    if (point) exp10--;
    if (*p == '0') {
      if (ndigits > 0) zeros++;
      continue;
    }
    if (ndigits + zeros + 1 > (long)sizeof(digits)) return PROTO_ERANGE;
    for (; zeros > 0; zeros--) digits[ndigits++] = '0';
    digits[ndigits++] = *p;
  }
  exp10 += zeros;
  if (!seen_digit) return PROTO_EINVAL;
  if (*p == 'e' || *p == 'E') {
    p++;
    int eneg = 0;
    if (*p == '+' || *p == '-') eneg = *p++ == '-';
    if (!(*p >= '0' && *p <= '9')) return PROTO_EINVAL;
    long e = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
      if (e > 100000) return PROTO_ERANGE;
      e = e * 10 + (*p - '0');
    }
    exp10 += eneg ? -e : e;
  }
  if (*p != '\0') return PROTO_EINVAL;
  /* Digits below the decimal point must all be zero for a whole number. */
  while (exp10 < 0 && ndigits > 0) {
    if (digits[ndigits - 1] != '0') return PROTO_EINVAL;
    ndigits--;
    exp10++;
  }
  if (ndigits == 0) {
    *out = 0;
    return 0;
  }
  uint64_t v = 0;
  for (int i = 0; i < ndigits; i++) {
    if (v > (UINT64_MAX - 9) / 10) return PROTO_ERANGE;
    v = v * 10 + (uint64_t)(digits[i] - '0');
  }
  for (long i = 0; i < exp10; i++) {
    if (v > UINT64_MAX / 10) return PROTO_ERANGE;
    v *= 10;
  }
  if (v > max) return PROTO_ERANGE;
  *out = v;
  return 0;
}

/* The parse in progress: the job, and what is resolved once all options
 * are known (--n's limit depends on the job, which --a can change). */
typedef struct parse_s parse_t;
struct parse_s {
  proto_job_t* job;
  const char* name; /* the job's name as given */
  const char* n_text;
  const char* chunk_text;
  char* err;
  size_t errlen;
};

static int copy_path(parse_t* p, const char* opt, const char* value,
                     char* dst) {
  size_t len = strlen(value);
  if (len == 0)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s needs a file name, got an empty one", opt);
  if (len >= PROTO_PATH_MAX)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s needs a file name shorter than %d bytes, got one "
                      "of %zu",
                      opt, PROTO_PATH_MAX, len);
  memcpy(dst, value, len + 1);
  return 0;
}

/* Parses the value of a count option, with a message naming the option. */
static int parse_count_option(parse_t* p, const char* opt, const char* text,
                              uint64_t max, uint64_t* out) {
  if (*text == '-')
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s must be a positive whole number, got '%s'", opt,
                      text);
  int rc = proto_parse_count(text, max, out);
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

/* Seconds in [min, PROTO_SECONDS_MAX], a finite number; why says what the
 * minimum is (NULL: 1 ms, the least time there is). */
static int parse_seconds_from(parse_t* p, const char* opt, const char* text,
                              double min, const char* why, double* out) {
  char* end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || errno != 0 || !(v <= PROTO_SECONDS_MAX) ||
      !(v == v))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes a number of seconds from %g to %g, got '%s'",
                      opt, min, PROTO_SECONDS_MAX, text);
  if (!(v >= min))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s must be at least %g s (%s), got '%s'", opt, min,
                      why ? why : "1 ms", text);
  *out = v;
  return 0;
}

static int parse_seconds(parse_t* p, const char* opt, const char* text,
                         double* out) {
  return parse_seconds_from(p, opt, text, PROTO_SECONDS_MIN, NULL, out);
}

/* RANK:KIND[@WHEN], see the usage text. */
static int parse_fault(const char* text, proto_fault_t* f) {
  memset(f, 0, sizeof(*f));
  char* end;
  long rank = strtol(text, &end, 10);
  if (end == text || *end != ':' || rank < 1 || rank > 1000000)
    return PROTO_EINVAL;
  f->rank = (int)rank;
  const char* kind = end + 1;
  const char* at = strchr(kind, '@');
  size_t klen = at ? (size_t)(at - kind) : strlen(kind);
  if (klen == 4 && strncmp(kind, "exit", 4) == 0) {
    f->kind = PROTO_FAULT_EXIT;
  } else if (klen == 5 && strncmp(kind, "abort", 5) == 0) {
    f->kind = PROTO_FAULT_ABORT;
  } else if (klen == 6 && strncmp(kind, "freeze", 6) == 0) {
    f->kind = PROTO_FAULT_FREEZE;
  } else if (strncmp(kind, "speed=", 6) == 0) {
    /* speed=P@T,P@T,...: the whole rest is the timeline, no WHEN. */
    f->kind = PROTO_FAULT_SPEED;
    const char* at = kind + 6;
    for (;;) {
      if (f->nsteps == PROTO_SPEED_STEPS) return PROTO_EINVAL;
      errno = 0;
      double pct = strtod(at, &end);
      if (end == at || *end != '@' || errno != 0 || !(pct >= 1) ||
          !(pct <= 100))
        return PROTO_EINVAL;
      at = end + 1;
      double t = strtod(at, &end);
      if (end == at || errno != 0 || !(t >= 0) || t > PROTO_SECONDS_MAX ||
          (f->nsteps > 0 && !(t > f->step_at[f->nsteps - 1])))
        return PROTO_EINVAL;
      f->step_pct[f->nsteps] = pct;
      f->step_at[f->nsteps] = t;
      f->nsteps++;
      if (*end == '\0') return 0;
      if (*end != ',') return PROTO_EINVAL;
      at = end + 1;
    }
  } else if (klen > 8 && strncmp(kind, "corrupt=", 8) == 0) {
    f->kind = PROTO_FAULT_CORRUPT;
    errno = 0;
    f->factor = strtod(kind + 8, &end);
    if (end != kind + klen || errno != 0 || !(f->factor > 0) || f->factor > 1)
      return PROTO_EINVAL;
  } else if (klen > 5 && strncmp(kind, "slow=", 5) == 0) {
    f->kind = PROTO_FAULT_SLOW;
    errno = 0;
    f->factor = strtod(kind + 5, &end);
    if (end != kind + klen || errno != 0 || !(f->factor > 1) || f->factor > 1e6)
      return PROTO_EINVAL;
  } else {
    return PROTO_EINVAL;
  }
  if (at == NULL) return 0;
  const char* when = at + 1;
  size_t wlen = strlen(when);
  if (wlen < 2 || !(when[0] >= '0' && when[0] <= '9')) return PROTO_EINVAL;
  errno = 0;
  if (when[wlen - 1] == 'c') {
    unsigned long long c = strtoull(when, &end, 10);
    if (end != when + wlen - 1 || errno != 0) return PROTO_EINVAL;
    f->after_chunks = c;
  } else if (when[wlen - 1] == 's') {
    f->after_seconds = strtod(when, &end);
    if (end != when + wlen - 1 || errno != 0 || !(f->after_seconds >= 0) ||
        f->after_seconds > PROTO_SECONDS_MAX)
      return PROTO_EINVAL;
  } else {
    return PROTO_EINVAL;
  }
  return 0;
}

/* One handler per option: each writes its own field of the job and no
 * other (the table below binds them). */
static int opt_n(parse_t* p, const char* opt, const char* v) {
  (void)opt;
  p->n_text = v;
  return 0;
}
static int opt_chunk(parse_t* p, const char* opt, const char* v) {
  (void)opt;
  p->chunk_text = v;
  return 0;
}
static int opt_a(parse_t* p, const char* opt, const char* v) {
  p->job->kind = PROTO_JOB_DOTF;
  return copy_path(p, opt, v, p->job->a_path);
}
static int opt_b(parse_t* p, const char* opt, const char* v) {
  p->job->kind = PROTO_JOB_DOTF;
  return copy_path(p, opt, v, p->job->b_path);
}
static int opt_output(parse_t* p, const char* opt, const char* v) {
  return copy_path(p, opt, v, p->job->output);
}
static int opt_report(parse_t* p, const char* opt, const char* v) {
  return copy_path(p, opt, v, p->job->report);
}
static int opt_trace(parse_t* p, const char* opt, const char* v) {
  return copy_path(p, opt, v, p->job->trace);
}
static int opt_journal(parse_t* p, const char* opt, const char* v) {
  return copy_path(p, opt, v, p->job->journal);
}
static int opt_quiet(parse_t* p, const char* opt, const char* v) {
  (void)opt, (void)v;
  p->job->quiet = 1;
  return 0;
}
static int opt_resume(parse_t* p, const char* opt, const char* v) {
  (void)opt, (void)v;
  p->job->resume = 1;
  return 0;
}
static int opt_progress(parse_t* p, const char* opt, const char* v) {
  (void)opt, (void)v;
  p->job->progress = 1;
  return 0;
}
static int opt_schedule(parse_t* p, const char* opt, const char* v) {
  (void)opt;
  if (proto_sched_parse(v, &p->job->schedule) == 0) return 0;
  return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                    "unknown schedule '%s': use static, cyclic, dynamic, "
                    "guided, trapezoid, factoring, wf, awf-b, awf-c or af",
                    v);
}
static int opt_weights(parse_t* p, const char* opt, const char* v) {
  (void)opt;
  if (parse_weights(v, p->job) == 0) return 0;
  return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                    "--weights takes up to %d numbers > 0 separated by commas "
                    "(one per worker), got '%s'",
                    PROTO_WEIGHTS_MAX, v);
}
static int opt_min_chunk(parse_t* p, const char* opt, const char* v) {
  return parse_count_option(p, opt, v, UINT64_MAX / 2, &p->job->min_chunk);
}
static int opt_status_port(parse_t* p, const char* opt, const char* v) {
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
static int opt_status_bind(parse_t* p, const char* opt, const char* v) {
  (void)opt;
  size_t len = strlen(v);
  unsigned char addr[16];
  if (len == 0 || len >= PROTO_BIND_MAX ||
      (inet_pton(AF_INET, v, addr) != 1 && inet_pton(AF_INET6, v, addr) != 1))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--status-bind takes an IP address such as 127.0.0.1, "
                      "0.0.0.0 or ::1, got '%s'",
                      v);
  memcpy(p->job->status_bind, v, len + 1);
  return 0;
}
static int opt_timeout(parse_t* p, const char* opt, const char* v) {
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
                      PROTO_SECONDS_MIN, PROTO_SECONDS_MAX, v);
  return parse_seconds(p, opt, v, &p->job->timeout);
}
static int opt_timeout_factor(parse_t* p, const char* opt, const char* v) {
  char* end;
  errno = 0;
  double f = strtod(v, &end);
  if (end == v || *end != '\0' || errno != 0 || !(f >= 1) || !(f <= 1e6))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes a number from 1 to 1e6, got '%s'", opt, v);
  p->job->timeout_factor = f;
  return 0;
}
static const char kBeatWhy[] =
    "twice the 0.1 s between a computing worker's reports: less takes "
    "healthy workers for silent";
static int opt_timeout_floor(parse_t* p, const char* opt, const char* v) {
  return parse_seconds_from(p, opt, v, 2 * PROTO_BEAT_S, kBeatWhy,
                            &p->job->timeout_floor);
}
static int opt_lost_after(parse_t* p, const char* opt, const char* v) {
  return parse_seconds_from(p, opt, v, 2 * PROTO_BEAT_S, kBeatWhy,
                            &p->job->lost_after);
}
static int opt_master_timeout(parse_t* p, const char* opt, const char* v) {
  return parse_seconds_from(
      p, opt, v, 2 * PROTO_PING_S,
      "twice the 1 s between the master's messages to an idle worker: "
      "less makes healthy workers leave",
      &p->job->master_timeout);
}
static int opt_speculate(parse_t* p, const char* opt, const char* v) {
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
static int opt_verify(parse_t* p, const char* opt, const char* v) {
  if (strcmp(v, "all") == 0) {
    p->job->verify = 1;
    return 0;
  }
  if (strcmp(v, "off") == 0) {
    p->job->verify = 0;
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
static int opt_poison_after(parse_t* p, const char* opt, const char* v) {
  char* end;
  errno = 0;
  long k = strtol(v, &end, 10);
  if (end == v || *end != '\0' || errno != 0 || k < 1 || k > PROTO_POISON_MAX)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes a number of ranks from 1 to %d, got '%s'", opt,
                      PROTO_POISON_MAX, v);
  p->job->poison_after = (int)k;
  return 0;
}
static int opt_inject(parse_t* p, const char* opt, const char* v) {
  (void)opt;
  proto_job_t* job = p->job;
  const char* allow = getenv("TASKFARM_FAULTS");
  if (allow == NULL || strcmp(allow, "1") != 0)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--inject is for tests and experiments: it also needs "
                      "TASKFARM_FAULTS=1 in the environment");
  if (job->nfaults == PROTO_FAULTS_MAX)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "at most %d --inject options", PROTO_FAULTS_MAX);
  if (parse_fault(v, &job->fault[job->nfaults]) < 0)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--inject takes RANK:KIND[@WHEN] with KIND exit, abort, "
                      "freeze, slow=F (1 < F <= 1e6) or corrupt=P (a fraction "
                      "0 < P <= 1 of its partials get one bit flipped) and "
                      "WHEN Nc or Ts, "
                      "e.g. 2:freeze@3c, or RANK:speed=P@T,P@T,... (percent "
                      "1-100 from T seconds on, T rising, at most 8 "
                      "steps); got '%s'",
                      v);
  job->nfaults++;
  return 0;
}

static int opt_kernel(parse_t* p, const char* opt, const char* v) {
  return copy_path(p, opt, v, p->job->kernel_path);
}
static int opt_arg(parse_t* p, const char* opt, const char* v) {
  (void)opt;
  proto_job_t* job = p->job;
  const char* eq = strchr(v, '=');
  if (eq == NULL || eq == v)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--arg takes KEY=VALUE, got '%s'", v);
  if (strlen(v) >= PROTO_ARG_BYTES)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--arg '%.40s...' is longer than %d bytes", v,
                      PROTO_ARG_BYTES - 1);
  if (job->nargs == PROTO_ARGS_MAX)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "at most %d --arg options", PROTO_ARGS_MAX);
  for (int i = 0; i < job->nargs; i++)
    if (strncmp(job->arg[i], v, (size_t)(eq - v) + 1) == 0)
      return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                        "--arg %.*s is given more than once", (int)(eq - v), v);
  memcpy(job->arg[job->nargs++], v, strlen(v) + 1);
  return 0;
}
static int opt_cost(parse_t* p, const char* opt, const char* v) {
  (void)opt;
  for (int c = 0; c < PROTO_COST_COUNT; c++)
    if (strcmp(v, kCostName[c]) == 0) {
      p->job->cost = (proto_cost_t)c;
      return 0;
    }
  return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                    "unknown --cost '%s': use constant, uniform, normal, "
                    "exponential, gamma, increasing, decreasing or bimodal",
                    v);
}
/* A cost in ns: a finite number in [min, 1e9] (one second an iteration). */
static int parse_ns(parse_t* p, const char* opt, const char* v, double min,
                    double* out) {
  char* end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || *end != '\0' || errno != 0 || !(x >= min) || !(x <= 1e9))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes a number of nanoseconds from %g to 1e9, got "
                      "'%s'",
                      opt, min, v);
  *out = x;
  return 0;
}
static int opt_mean(parse_t* p, const char* opt, const char* v) {
  return parse_ns(p, opt, v, 1, &p->job->cost_mean_ns);
}
static int opt_spread(parse_t* p, const char* opt, const char* v) {
  return parse_ns(p, opt, v, 0, &p->job->cost_spread_ns);
}
static int opt_seed(parse_t* p, const char* opt, const char* v) {
  char* end;
  errno = 0;
  if (*v == '-' || *v == '\0')
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes a whole number from 0 to 2^64-1, got '%s'", opt,
                      v);
  unsigned long long s = strtoull(v, &end, 0);
  if (*end != '\0' || errno != 0)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes a whole number from 0 to 2^64-1, got '%s'", opt,
                      v);
  p->job->seed = s;
  return 0;
}

static int opt_size(parse_t* p, const char* opt, const char* v) {
  unsigned long w, h;
  char x, extra;
  if (sscanf(v, "%lu%c%lu%c", &w, &x, &h, &extra) != 3 || x != 'x' ||
      v[0] == '-' || strchr(v, '-') != NULL || w < 1 || h < 1 || w > 1000000 ||
      h > 1000000)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes WxH, two whole numbers from 1 to 1000000 such "
                      "as 1024x768, got '%s'",
                      opt, v);
  p->job->width = (uint32_t)w;
  p->job->height = (uint32_t)h;
  return 0;
}
static int opt_region(parse_t* p, const char* opt, const char* v) {
  double r[4];
  const char* at = v;
  for (int k = 0; k < 4; k++) {
    char* end;
    errno = 0;
    r[k] = strtod(at, &end);
    if (end == at || errno != 0 || !isfinite(r[k]) || fabs(r[k]) > 1e6 ||
        *end != (k < 3 ? ',' : '\0'))
      return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                        "%s takes X0,Y0,X1,Y1 (four numbers, X0 < X1 and Y0 "
                        "< Y1), got '%s'",
                        opt, v);
    at = end + 1;
  }
  if (!(r[0] < r[2]) || !(r[1] < r[3]))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s needs X0 < X1 and Y0 < Y1, got '%s'", opt, v);
  memcpy(p->job->region, r, sizeof(r));
  return 0;
}
static int opt_max_iter(parse_t* p, const char* opt, const char* v) {
  uint64_t m;
  int rc = parse_count_option(p, opt, v, 1000000000, &m);
  if (rc == 0) p->job->max_iter = (uint32_t)m;
  return rc;
}
static int opt_image(parse_t* p, const char* opt, const char* v) {
  return copy_path(p, opt, v, p->job->image);
}

/* Which jobs take an option. */
#define JOB_BIT(kind) (1u << (kind))
#define JOBS_RANGE                                                            \
  (JOB_BIT(PROTO_JOB_PI) | JOB_BIT(PROTO_JOB_DOT) | JOB_BIT(PROTO_JOB_DOTF) | \
   JOB_BIT(PROTO_JOB_NOOP) | JOB_BIT(PROTO_JOB_RUN) |                         \
   JOB_BIT(PROTO_JOB_LOOP) | JOB_BIT(PROTO_JOB_MANDEL))
#define JOBS_DOT (JOB_BIT(PROTO_JOB_DOT) | JOB_BIT(PROTO_JOB_DOTF))
#define JOBS_ALL (JOBS_RANGE | JOB_BIT(PROTO_JOB_HELLO))

typedef struct option_s option_t;
struct option_s {
  const char* name;
  int (*parse)(parse_t* p, const char* opt, const char* value);
  int takes_value;
  int repeats; /* may be given more than once */
  unsigned jobs;
};

static const option_t kOptions[] = {
    {"--n", opt_n, 1, 0, JOBS_RANGE},
    {"--chunk", opt_chunk, 1, 0, JOBS_RANGE},
    {"--a", opt_a, 1, 0, JOBS_DOT},
    {"--b", opt_b, 1, 0, JOBS_DOT},
    {"--output", opt_output, 1, 0, JOBS_ALL},
    {"--quiet", opt_quiet, 0, 0, JOBS_ALL},
    {"--schedule", opt_schedule, 1, 0, JOBS_RANGE},
    {"--weights", opt_weights, 1, 0, JOBS_RANGE},
    {"--min-chunk", opt_min_chunk, 1, 0, JOBS_RANGE},
    {"--report", opt_report, 1, 0, JOBS_RANGE},
    {"--trace", opt_trace, 1, 0, JOBS_RANGE},
    {"--journal", opt_journal, 1, 0, JOBS_RANGE},
    {"--resume", opt_resume, 0, 0, JOBS_RANGE},
    {"--progress", opt_progress, 0, 0, JOBS_RANGE},
    {"--status-port", opt_status_port, 1, 0, JOBS_RANGE},
    {"--status-bind", opt_status_bind, 1, 0, JOBS_RANGE},
    {"--timeout", opt_timeout, 1, 0, JOBS_RANGE},
    {"--timeout-factor", opt_timeout_factor, 1, 0, JOBS_RANGE},
    {"--timeout-floor", opt_timeout_floor, 1, 0, JOBS_RANGE},
    {"--lost-after", opt_lost_after, 1, 0, JOBS_RANGE},
    {"--master-timeout", opt_master_timeout, 1, 0, JOBS_ALL},
    {"--speculate", opt_speculate, 1, 0, JOBS_RANGE},
    {"--verify", opt_verify, 1, 0, JOBS_RANGE},
    {"--poison-after", opt_poison_after, 1, 0, JOBS_RANGE},
    {"--inject", opt_inject, 1, 1, JOBS_RANGE},
    {"--kernel", opt_kernel, 1, 0, JOB_BIT(PROTO_JOB_RUN)},
    {"--arg", opt_arg, 1, 1, JOB_BIT(PROTO_JOB_RUN)},
    {"--cost", opt_cost, 1, 0, JOB_BIT(PROTO_JOB_LOOP)},
    {"--mean", opt_mean, 1, 0, JOB_BIT(PROTO_JOB_LOOP)},
    {"--spread", opt_spread, 1, 0, JOB_BIT(PROTO_JOB_LOOP)},
    {"--seed", opt_seed, 1, 0, JOB_BIT(PROTO_JOB_LOOP)},
    {"--size", opt_size, 1, 0, JOB_BIT(PROTO_JOB_MANDEL)},
    {"--region", opt_region, 1, 0, JOB_BIT(PROTO_JOB_MANDEL)},
    {"--max-iter", opt_max_iter, 1, 0, JOB_BIT(PROTO_JOB_MANDEL)},
    {"--image", opt_image, 1, 0, JOB_BIT(PROTO_JOB_MANDEL)},
};
enum { OPTION_COUNT = sizeof(kOptions) / sizeof(kOptions[0]) };

static const option_t* find_option(const char* name, size_t len) {
  for (size_t k = 0; k < OPTION_COUNT; k++)
    if (strlen(kOptions[k].name) == len &&
        strncmp(kOptions[k].name, name, len) == 0)
      return &kOptions[k];
  return NULL;
}

/* The options after the job name: --opt VALUE or --opt=VALUE; no option
 * is abbreviated, none but --inject given twice, nothing else accepted. */
static int parse_options(parse_t* p, int argc, char** argv) {
  unsigned char seen[OPTION_COUNT] = {0};
  unsigned job_bit = JOB_BIT(p->job->kind);
  for (int i = 2; i < argc; i++) {
    const char* arg = argv[i];
    const char* eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const option_t* o = find_option(arg, len);
    if (o == NULL || !(o->jobs & job_bit)) {
      if (o != NULL && o->jobs == JOBS_DOT)
        return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                          "%s is an option of the dot job only", o->name);
      for (int k = PROTO_JOB_HELLO; o != NULL && k <= PROTO_JOB_MANDEL; k++)
        if (o->jobs == JOB_BIT(k))
          return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                            "%s is an option of the %s job only", o->name,
                            proto_job_name((proto_job_kind_t)k));
      return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                        "unknown option '%s' for job %s (see taskfarm %s "
                        "--help)",
                        arg, p->name, p->name);
    }
    size_t k = (size_t)(o - kOptions);
    if (seen[k]++ && !o->repeats)
      return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                        "%s is given more than once", o->name);
    const char* value = NULL;
    if (o->takes_value) {
      if (eq != NULL) {
        value = eq + 1;
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return proto_fail(p->err, p->errlen, PROTO_EINVAL, "%s needs a value",
                          o->name);
      }
    } else if (eq != NULL) {
      return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                        "%s takes no value, got '%s'", o->name, arg);
    }
    int rc = o->parse(p, o->name, value);
    if (rc < 0) return rc;
    job_bit = JOB_BIT(p->job->kind); /* --a makes dot a file job */
  }
  return 0;
}

int proto_job_parse(proto_job_t* job, int argc, char** argv, char* err,
                    size_t errlen) {
  memset(job, 0, sizeof(*job));
  err[0] = '\0';
  job->timeout_factor = 3.0;
  job->timeout_floor = 1.0;
  job->lost_after = 3.0;
  job->master_timeout = 60.0;
  job->speculate = -1;
  job->verify = PROTO_VERIFY_DEFAULT;
  job->poison_after = PROTO_POISON_DEFAULT;
  job->progress = -1;
  memcpy(job->status_bind, "127.0.0.1", sizeof("127.0.0.1"));
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      job->help = 1;
  if (argc < 2) {
    if (job->help) return 0;
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "no job given: use one of hello, pi, dot, noop, loop, "
                      "mandelbrot, run (see --help)");
  }
  const char* name = argv[1];
  if (strcmp(name, "hello") == 0) {
    job->kind = PROTO_JOB_HELLO;
  } else if (strcmp(name, "pi") == 0) {
    job->kind = PROTO_JOB_PI;
  } else if (strcmp(name, "dot") == 0) {
    job->kind = PROTO_JOB_DOT;
  } else if (strcmp(name, "noop") == 0) {
    job->kind = PROTO_JOB_NOOP;
  } else if (strcmp(name, "loop") == 0) {
    job->kind = PROTO_JOB_LOOP;
  } else if (strcmp(name, "run") == 0) {
    job->kind = PROTO_JOB_RUN;
  } else if (strcmp(name, "mandelbrot") == 0) {
    job->kind = PROTO_JOB_MANDEL;
  } else if (job->help && name[0] == '-') {
    return 0;
  } else {
    return proto_fail(
        err, errlen, PROTO_EINVAL,
        "unknown job '%s': use one of hello, pi, dot, noop, loop, "
        "mandelbrot, run (see --help)",
        name);
  }
  if (job->help) return 0;
  job->cost_mean_ns = 1000;
  job->cost_spread_ns = -1; /* mean / 2 unless given */
  job->seed = 1;
  job->width = 1024;
  job->height = 768;
  job->region[0] = -2.5;
  job->region[1] = -1.25;
  job->region[2] = 1.0;
  job->region[3] = 1.25;
  job->max_iter = 1000;
  parse_t p = {job, name, NULL, NULL, err, errlen};
  int rc = parse_options(&p, argc, argv);
  if (rc < 0) return rc;

  switch (job->kind) {
    case PROTO_JOB_HELLO:
      return 0;
    case PROTO_JOB_PI:
    case PROTO_JOB_DOT:
    case PROTO_JOB_NOOP:
    case PROTO_JOB_RUN:
    case PROTO_JOB_LOOP: {
      if (job->kind == PROTO_JOB_RUN && job->kernel_path[0] == '\0')
        return proto_fail(err, errlen, PROTO_EINVAL,
                          "run needs --kernel FILE, a shared object built "
                          "against worker/taskfarm_kernel.h");
      if (p.n_text == NULL)
        return proto_fail(err, errlen, PROTO_EINVAL,
                          "%s needs --n N, the number of %s (e.g. --n 1e9)",
                          name,
                          job->kind == PROTO_JOB_PI    ? "terms"
                          : job->kind == PROTO_JOB_DOT ? "elements"
                                                       : "iterations");
      uint64_t max = job->kind == PROTO_JOB_PI     ? PROTO_PI_N_MAX
                     : job->kind == PROTO_JOB_DOT  ? PROTO_DOT_N_MAX
                     : job->kind == PROTO_JOB_NOOP ? PROTO_NOOP_N_MAX
                                                   : PROTO_RUN_N_MAX;
      rc = parse_count_option(&p, "--n", p.n_text, max, &job->n);
      if (rc < 0) return rc;
      break;
    }
    case PROTO_JOB_DOTF:
      if (p.n_text)
        return proto_fail(
            err, errlen, PROTO_EINVAL,
            "dot takes either --n or --a/--b, not both: with files, "
            "n is their length");
      if (job->a_path[0] == '\0' || job->b_path[0] == '\0')
        return proto_fail(err, errlen, PROTO_EINVAL,
                          "dot with files needs both --a FILE and --b FILE");
      break;
    case PROTO_JOB_MANDEL:
      if (p.n_text)
        return proto_fail(err, errlen, PROTO_EINVAL,
                          "mandelbrot takes --size WxH, not --n: n is the "
                          "number of pixels");
      job->n = (uint64_t)job->width * job->height;
      break;
    case PROTO_JOB_NONE:
      return proto_fail(err, errlen, PROTO_EINVAL, "no job given");
  }
  if (job->kind == PROTO_JOB_LOOP) {
    if (job->cost_spread_ns < 0) job->cost_spread_ns = job->cost_mean_ns / 2;
    proto_cost_t c = job->cost;
    if ((c == PROTO_COST_UNIFORM || c == PROTO_COST_INCREASING ||
         c == PROTO_COST_DECREASING || c == PROTO_COST_BIMODAL) &&
        job->cost_spread_ns > job->cost_mean_ns)
      return proto_fail(err, errlen, PROTO_EINVAL,
                        "--cost %s needs --spread (%g) at most --mean (%g): "
                        "a cost cannot be negative",
                        proto_cost_name(c), job->cost_spread_ns,
                        job->cost_mean_ns);
    if (c == PROTO_COST_GAMMA && !(job->cost_spread_ns > 0))
      return proto_fail(err, errlen, PROTO_EINVAL,
                        "--cost gamma needs --spread > 0 (its standard "
                        "deviation)");
  }
  if (job->schedule == PROTO_SCHED_WF && job->nweights == 0)
    return proto_fail(
        err, errlen, PROTO_EINVAL,
        "--schedule wf needs --weights W1,W2,... (one per worker)");
  if (job->nweights > 0 && job->schedule != PROTO_SCHED_WF)
    return proto_fail(
        err, errlen, PROTO_EINVAL,
        "--weights is for --schedule wf (the adaptive schedules learn "
        "the weights)");
  if (job->resume && job->journal[0] == '\0')
    return proto_fail(
        err, errlen, PROTO_EINVAL,
        "--resume needs --journal FILE, the journal of the run to "
        "resume");
  if (job->kind == PROTO_JOB_PI && job->min_chunk > 0)
    job->min_chunk =
        (job->min_chunk + PROTO_PI_GRAIN - 1) / PROTO_PI_GRAIN * PROTO_PI_GRAIN;
  if (p.chunk_text) {
    rc = parse_count_option(&p, "--chunk", p.chunk_text, UINT64_MAX / 2,
                            &job->chunk);
    if (rc < 0) return rc;
    if (job->kind == PROTO_JOB_PI)
      job->chunk =
          (job->chunk + PROTO_PI_GRAIN - 1) / PROTO_PI_GRAIN * PROTO_PI_GRAIN;
  }
  return 0;
}

static uint64_t fnv1a(uint64_t h, const void* data, size_t len) {
  const unsigned char* p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

/* The fingerprint; a kernel object enters by its bytes (by_bytes) or by
 * the name and version it declares. */
static uint64_t fingerprint(const proto_job_t* job, int by_bytes) {
  uint64_t h = 14695981039346656037ull;
  uint64_t fields[4] = {(uint64_t)job->kind, job->n, PROTO_PI_GRAIN,
                        PROTO_KERNEL_VERSION};
  h = fnv1a(h, fields, sizeof(fields));
  if (job->kind == PROTO_JOB_RUN) {
    /* The object (not its path) and its arguments, in order. */
    if (by_bytes) {
      h = fnv1a(h, &job->kernel_hash, sizeof(job->kernel_hash));
    } else {
      h = fnv1a(h, job->kernel_name, strnlen(job->kernel_name, 63) + 1);
      h = fnv1a(h, &job->kernel_version, sizeof(job->kernel_version));
    }
    for (int i = 0; i < job->nargs; i++)
      h = fnv1a(h, job->arg[i], strlen(job->arg[i]) + 1);
  }
  if (job->kind == PROTO_JOB_MANDEL) {
    uint64_t dims[3] = {job->width, job->height, job->max_iter};
    h = fnv1a(h, dims, sizeof(dims));
    h = fnv1a(h, job->region, sizeof(job->region));
  }
  if (job->kind == PROTO_JOB_LOOP) {
    double costs[2] = {job->cost_mean_ns, job->cost_spread_ns};
    uint64_t more[2] = {(uint64_t)job->cost, job->seed};
    h = fnv1a(h, costs, sizeof(costs));
    h = fnv1a(h, more, sizeof(more));
  }
  return h;
}

uint64_t proto_job_fingerprint(const proto_job_t* job) {
  return fingerprint(job, 1);
}

uint64_t proto_job_results_fingerprint(const proto_job_t* job) {
  return fingerprint(job, 0);
}

/* The identity of a readable regular file, or a negative code. Opened
 * without blocking: a FIFO with no writer would otherwise wait in open(). */
static int file_identity(const char* path, const char* opt, proto_input_t* in,
                         char* err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return proto_fail(err, errlen, PROTO_EFILE, "cannot open %s file '%s': %s",
                      opt, path, strerror(errno));
  struct stat st;
  int rc = fstat(fd, &st);
  int saved = errno;
  close(fd);
  if (rc < 0)
    return proto_fail(err, errlen, PROTO_EFILE, "cannot stat %s file '%s': %s",
                      opt, path, strerror(saved));
  if (!S_ISREG(st.st_mode))
    return proto_fail(
        err, errlen, PROTO_EFILE,
        "%s file '%s' is not a regular file (it is %s)", opt, path,
        S_ISDIR(st.st_mode)                          ? "a folder"
        : S_ISFIFO(st.st_mode)                       ? "a FIFO"
        : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                     : "a socket");
  memset(in, 0, sizeof(*in));
  char canon[PATH_MAX];
  if (realpath(path, canon) == NULL || strlen(canon) >= sizeof(in->path))
    snprintf(in->path, sizeof(in->path), "%s", path);
  else
    memcpy(in->path, canon, strlen(canon) + 1);
  in->size = (uint64_t)st.st_size;
  in->mtime_ns =
      (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
  in->ctime_ns =
      (uint64_t)st.st_ctim.tv_sec * 1000000000u + (uint64_t)st.st_ctim.tv_nsec;
  in->dev = (uint64_t)st.st_dev;
  in->ino = (uint64_t)st.st_ino;
  return 0;
}

/* FNV-1a of a regular file's bytes, read without blocking on a FIFO. */
static int hash_file(const char* path, const char* opt, uint64_t* out,
                     char* err, size_t errlen) {
  proto_input_t in;
  int rc = file_identity(path, opt, &in, err, errlen);
  if (rc < 0) return rc;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return proto_fail(err, errlen, PROTO_EFILE, "cannot open %s file '%s': %s",
                      opt, path, strerror(errno));
  uint64_t h = 14695981039346656037ull;
  unsigned char buf[65536];
  for (;;) {
    ssize_t got = read(fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int saved = errno;
      close(fd);
      return proto_fail(err, errlen, PROTO_EFILE,
                        "cannot read %s file '%s': %s", opt, path,
                        strerror(saved));
    }
    if (got == 0) break;
    h = fnv1a(h, buf, (size_t)got);
  }
  close(fd);
  *out = h;
  return 0;
}

int proto_job_resolve(proto_job_t* job, char* err, size_t errlen) {
  if (job->kind == PROTO_JOB_RUN)
    return hash_file(job->kernel_path, "--kernel", &job->kernel_hash, err,
                     errlen);
  if (job->kind != PROTO_JOB_DOTF) return 0;
  int rc = file_identity(job->a_path, "--a", &job->input[0], err, errlen);
  if (rc == 0)
    rc = file_identity(job->b_path, "--b", &job->input[1], err, errlen);
  if (rc < 0) return rc;
  off_t size_a = (off_t)job->input[0].size;
  off_t size_b = (off_t)job->input[1].size;
  if (size_a % 8 != 0)
    return proto_fail(
        err, errlen, PROTO_EFILE,
        "--a file '%s' has %lld bytes, not a whole number of float64 "
        "(8 bytes each)",
        job->a_path, (long long)size_a);
  if (size_b % 8 != 0)
    return proto_fail(
        err, errlen, PROTO_EFILE,
        "--b file '%s' has %lld bytes, not a whole number of float64 "
        "(8 bytes each)",
        job->b_path, (long long)size_b);
  if (size_a != size_b)
    return proto_fail(
        err, errlen, PROTO_EFILE,
        "--a has %lld elements but --b has %lld: the vectors must have "
        "the same length",
        (long long)(size_a / 8), (long long)(size_b / 8));
  if (size_a == 0)
    return proto_fail(err, errlen, PROTO_EFILE, "--a and --b files are empty");
  job->n = (uint64_t)size_a / 8;
  return 0;
}

size_t proto_image_header(const proto_job_t* job, char* buf, size_t len) {
  int n = snprintf(buf, len, "P5\n%u %u\n255\n", job->width, job->height);
  return n > 0 ? (size_t)n : 0;
}

uint64_t proto_job_align(const proto_job_t* job) {
  if (job->kind == PROTO_JOB_PI) return PROTO_PI_GRAIN;
  if (job->kind == PROTO_JOB_RUN && job->align > 1) return job->align;
  return 1;
}

uint64_t proto_job_slice(const proto_job_t* job) {
  switch (job->kind) {
    case PROTO_JOB_PI:
      return (uint64_t)1 << 22;
    case PROTO_JOB_DOT:
      return (uint64_t)1 << 20;
    case PROTO_JOB_MANDEL:
      return 1024; /* pixels: up to a few ms inside the set */
    case PROTO_JOB_LOOP: {
      /* About a millisecond of the profile's mean cost. */
      double per_ms = 1e6 / job->cost_mean_ns;
      return per_ms >= 1 ? (uint64_t)per_ms : 1;
    }
    case PROTO_JOB_RUN:
      /* A user's kernel's cost is unknown: one alignment unit (the
       * worker grows its slices toward a millisecond as it measures). */
      return job->align > 1 ? job->align : 1;
    default:
      return (uint64_t)1 << 16;
  }
}

uint64_t proto_job_next_slice(const proto_job_t* job, uint64_t slice,
                              uint64_t took_ns) {
  if (job->kind != PROTO_JOB_RUN) return proto_job_slice(job);
  const double target_ns = 1e6;
  uint64_t align = proto_job_align(job);
  double want = took_ns > 0 ? (double)slice * target_ns / (double)took_ns
                            : (double)slice * 4;
  if (want > (double)slice * 4) want = (double)slice * 4;
  if (want < (double)slice / 4) want = (double)slice / 4;
  if (want > 1e15) want = 1e15;
  uint64_t next = (uint64_t)want / align * align;
  return next < align ? align : next;
}
