/* The option parser: proto_job_parse on any argv, then proto_job_resolve.
 * Input: the arguments after the program's name, separated by NUL bytes
 * (so "pi\0--n\0001e6"). --inject is allowed (TASKFARM_FAULTS=1). Input
 * files are resolved only when every path names a file of the harness's own
 * folder (no '/'), which holds two 8-element vectors a.f64 and b.f64, a
 * longer c.f64, odd.bin (5 bytes), empty, a folder dir, a FIFO fifo and
 * k.so; no other file of the machine is ever opened.
 * Properties: an error is a known code with a sentence; a parse is
 * deterministic (the same job, byte for byte); an accepted job keeps every
 * limit job.h and the usage text state (n within its job's maximum, every
 * time within [1 ms, 1e9 s] and above its floor, faults, weights, --arg
 * entries, paths NUL-terminated in their arrays, ...). Only the public
 * functions are called, so options added to job.c are covered as they come,
 * and their limits can be added here. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/error.h"
#include "proto/job.h"
#include "tests/fuzz/fuzz.h"

enum { ARGS_MAX = 128 };

static char folder[64]; /* the harness's files */

static void put_file(const char* name, size_t bytes) {
  char path[128];
  snprintf(path, sizeof(path), "%s/%s", folder, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) abort();
  static const uint8_t zeros[256];
  if (write(fd, zeros, bytes) != (ssize_t)bytes) abort();
  close(fd);
}

static void remove_folder(void) {
  static const char* const names[] = {"a.f64", "b.f64", "c.f64", "odd.bin",
                                      "empty", "fifo",  "k.so"};
  char path[128];
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    snprintf(path, sizeof(path), "%s/%s", folder, names[i]);
    unlink(path);
  }
  snprintf(path, sizeof(path), "%s/dir", folder);
  rmdir(path);
  rmdir(folder);
}

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc, (void)argv;
  setenv("TASKFARM_FAULTS", "1", 1);
  snprintf(folder, sizeof(folder), "/tmp/taskfarm-fuzz-job.%ld",
           (long)getpid());
  if (mkdir(folder, 0755) != 0) abort();
  put_file("a.f64", 64);
  put_file("b.f64", 64);
  put_file("c.f64", 72);
  put_file("odd.bin", 5);
  put_file("empty", 0);
  put_file("k.so", 100);
  char path[128];
  snprintf(path, sizeof(path), "%s/dir", folder);
  mkdir(path, 0755);
  snprintf(path, sizeof(path), "%s/fifo", folder);
  mkfifo(path, 0644);
  atexit(remove_folder);
  return 0;
}

/* 1 if the string fits its array with its NUL. */
static int terminated(const char* s, size_t cap) {
  return memchr(s, '\0', cap) != NULL;
}

static int seconds_ok(double s, double min) {
  return s >= min && s <= PROTO_SECONDS_MAX && isfinite(s);
}

/* Every limit an accepted job must keep. */
static void check_job(const proto_job_t* job) {
  FUZZ_CHECK(job->kind >= PROTO_JOB_HELLO && job->kind <= PROTO_JOB_MANDEL);
  switch (job->kind) {
    case PROTO_JOB_PI:
      FUZZ_CHECK(job->n >= 1 && job->n <= PROTO_PI_N_MAX);
      break;
    case PROTO_JOB_DOT:
      FUZZ_CHECK(job->n >= 1 && job->n <= PROTO_DOT_N_MAX);
      break;
    case PROTO_JOB_NOOP:
      FUZZ_CHECK(job->n >= 1 && job->n <= PROTO_NOOP_N_MAX);
      break;
    case PROTO_JOB_RUN:
    case PROTO_JOB_LOOP:
      FUZZ_CHECK(job->n >= 1 && job->n <= PROTO_RUN_N_MAX);
      break;
    case PROTO_JOB_MANDEL:
      FUZZ_CHECK(job->width >= 1 && job->width <= 1000000);
      FUZZ_CHECK(job->height >= 1 && job->height <= 1000000);
      FUZZ_CHECK(job->n == (uint64_t)job->width * job->height);
      FUZZ_CHECK(job->max_iter >= 1 && job->max_iter <= 1000000000);
      FUZZ_CHECK(job->region[0] < job->region[2]);
      FUZZ_CHECK(job->region[1] < job->region[3]);
      for (int k = 0; k < 4; k++) FUZZ_CHECK(fabs(job->region[k]) <= 1e6);
      break;
    case PROTO_JOB_DOTF:
      FUZZ_CHECK(job->a_path[0] != '\0' && job->b_path[0] != '\0');
      break;
    default:
      break;
  }
  if (job->kind == PROTO_JOB_RUN) FUZZ_CHECK(job->kernel_path[0] != '\0');
  FUZZ_CHECK(job->chunk <= UINT64_MAX / 2 + PROTO_PI_GRAIN);
  if (job->kind == PROTO_JOB_PI) {
    FUZZ_CHECK(job->chunk % PROTO_PI_GRAIN == 0);
    FUZZ_CHECK(job->min_chunk % PROTO_PI_GRAIN == 0);
  }
  FUZZ_CHECK(job->timeout == 0 || seconds_ok(job->timeout, PROTO_SECONDS_MIN));
  FUZZ_CHECK(job->timeout_factor >= 1 && job->timeout_factor <= 1e6);
  FUZZ_CHECK(seconds_ok(job->timeout_floor, 2 * PROTO_BEAT_S));
  FUZZ_CHECK(seconds_ok(job->lost_after, 2 * PROTO_BEAT_S));
  FUZZ_CHECK(seconds_ok(job->master_timeout, 2 * PROTO_PING_S));
  FUZZ_CHECK(job->speculate >= -1 && job->speculate <= 1);
  FUZZ_CHECK(job->verify >= 0 && job->verify <= 1);
  FUZZ_CHECK(job->poison_after >= 1 && job->poison_after <= PROTO_POISON_MAX);
  FUZZ_CHECK((unsigned)job->schedule < PROTO_SCHED_COUNT);
  FUZZ_CHECK(proto_sched_name(job->schedule) != NULL);
  FUZZ_CHECK((job->schedule == PROTO_SCHED_WF) == (job->nweights > 0));
  FUZZ_CHECK(job->nweights >= 0 && job->nweights <= PROTO_WEIGHTS_MAX);
  for (int i = 0; i < job->nweights; i++)
    FUZZ_CHECK(job->weight[i] > 0 && job->weight[i] <= 1e9);
  FUZZ_CHECK(!job->resume || job->journal[0] != '\0');
  FUZZ_CHECK(job->progress >= -1 && job->progress <= 1);
  FUZZ_CHECK(job->status_port >= 0 && job->status_port <= 65535);
  FUZZ_CHECK(terminated(job->status_bind, sizeof(job->status_bind)));
  unsigned char addr[16];
  FUZZ_CHECK(inet_pton(AF_INET, job->status_bind, addr) == 1 ||
             inet_pton(AF_INET6, job->status_bind, addr) == 1);
  const char* paths[] = {job->a_path, job->b_path, job->kernel_path,
                         job->image,  job->output, job->report,
                         job->trace,  job->journal};
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
    FUZZ_CHECK(terminated(paths[i], PROTO_PATH_MAX));
  FUZZ_CHECK(job->nargs >= 0 && job->nargs <= PROTO_ARGS_MAX);
  for (int i = 0; i < job->nargs; i++) {
    FUZZ_CHECK(terminated(job->arg[i], PROTO_ARG_BYTES));
    const char* eq = strchr(job->arg[i], '=');
    FUZZ_CHECK(eq != NULL && eq != job->arg[i]);
    for (int k = 0; k < i; k++) /* each key once */
      FUZZ_CHECK(strncmp(job->arg[k], job->arg[i],
                         (size_t)(eq - job->arg[i]) + 1) != 0);
  }
  if (job->kind == PROTO_JOB_LOOP) {
    FUZZ_CHECK((unsigned)job->cost < PROTO_COST_COUNT);
    FUZZ_CHECK(job->cost_mean_ns >= 1 && job->cost_mean_ns <= 1e9);
    FUZZ_CHECK(job->cost_spread_ns >= 0 && job->cost_spread_ns <= 1e9);
    proto_cost_t c = job->cost;
    if (c == PROTO_COST_UNIFORM || c == PROTO_COST_INCREASING ||
        c == PROTO_COST_DECREASING || c == PROTO_COST_BIMODAL)
      FUZZ_CHECK(job->cost_spread_ns <= job->cost_mean_ns);
    if (c == PROTO_COST_GAMMA) FUZZ_CHECK(job->cost_spread_ns > 0);
  }
  FUZZ_CHECK(job->nfaults >= 0 && job->nfaults <= PROTO_FAULTS_MAX);
  for (int i = 0; i < job->nfaults; i++) {
    const proto_fault_t* f = &job->fault[i];
    FUZZ_CHECK(f->rank >= 1 && f->rank <= 1000000);
    FUZZ_CHECK(f->kind >= PROTO_FAULT_EXIT); /* kinds may be added */
    FUZZ_CHECK(f->after_seconds >= 0 && f->after_seconds <= PROTO_SECONDS_MAX);
    if (f->kind == PROTO_FAULT_SLOW)
      FUZZ_CHECK(f->factor > 1 && f->factor <= 1e6);
    if (f->kind == PROTO_FAULT_CORRUPT)
      FUZZ_CHECK(f->factor > 0 && f->factor <= 1);
    if (f->kind == PROTO_FAULT_SPEED) {
      FUZZ_CHECK(f->nsteps >= 1 && f->nsteps <= PROTO_SPEED_STEPS);
      for (int k = 0; k < f->nsteps; k++) {
        FUZZ_CHECK(f->step_pct[k] >= 1 && f->step_pct[k] <= 100);
        FUZZ_CHECK(f->step_at[k] >= 0 && f->step_at[k] <= PROTO_SECONDS_MAX);
        if (k > 0) FUZZ_CHECK(f->step_at[k] > f->step_at[k - 1]);
      }
    }
  }
  FUZZ_CHECK(proto_job_align(job) >= 1);
  FUZZ_CHECK(proto_job_slice(job) >= 1);
  (void)proto_job_fingerprint(job);
  (void)proto_job_speculates(job);
  char header[64];
  if (job->kind == PROTO_JOB_MANDEL)
    FUZZ_CHECK(proto_image_header(job, header, sizeof(header)) > 0);
}

/* Points a bare file name at the harness's folder; 0 when path names
 * anything else (then the job is not resolved). */
static int in_folder(char* path) {
  if (path[0] == '\0') return 1;
  if (strchr(path, '/') != NULL) return 0;
  char full[PROTO_PATH_MAX];
  int n = snprintf(full, sizeof(full), "%s/%s", folder, path);
  if (n < 0 || (size_t)n >= sizeof(full)) return 0;
  memcpy(path, full, (size_t)n + 1);
  return 1;
}

/* Splits data into argv (after the program's name) on NUL bytes, each
 * argument in a buffer of exactly its size; returns argc. */
static int split(const uint8_t* data, size_t size, char** argv) {
  int argc = 0;
  argv[argc++] = strdup("taskfarm");
  size_t at = 0;
  while (at <= size && argc < ARGS_MAX) {
    const uint8_t* nul = memchr(data + at, '\0', size - at);
    size_t len = nul ? (size_t)(nul - (data + at)) : size - at;
    char* arg = malloc(len + 1);
    if (arg == NULL) abort();
    memcpy(arg, data + at, len);
    arg[len] = '\0';
    argv[argc++] = arg;
    at += len + 1;
  }
  argv[argc] = NULL;
  return argc;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  static proto_job_t job, again;
  char* argv[ARGS_MAX + 1];
  char err[512], err2[512];
  int argc = split(data, size, argv);
  /* Parsing is deterministic: the same argv gives the same job, byte for
   * byte (the struct is zeroed first, padding included), and the same
   * error. */
  int rc = proto_job_parse(&job, argc, argv, err, sizeof(err));
  int rc2 = proto_job_parse(&again, argc, argv, err2, sizeof(err2));
  for (int i = 0; i < argc; i++) free(argv[i]);
  FUZZ_CHECK(rc == rc2);
  FUZZ_CHECK(strcmp(err, err2) == 0);
  FUZZ_CHECK(memcmp(&job, &again, sizeof(job)) == 0);
  if (rc < 0) {
    FUZZ_CHECK(rc == PROTO_EINVAL || rc == PROTO_ERANGE);
    FUZZ_CHECK(err[0] != '\0' && terminated(err, sizeof(err)));
    return 0;
  }
  FUZZ_CHECK(err[0] == '\0');
  if (job.help) return 0;
  check_job(&job);

  if (!in_folder(job.a_path) || !in_folder(job.b_path) ||
      !in_folder(job.kernel_path))
    return 0;
  rc = proto_job_resolve(&job, err, sizeof(err));
  if (rc < 0) {
    FUZZ_CHECK(rc == PROTO_EFILE);
    FUZZ_CHECK(err[0] != '\0' && terminated(err, sizeof(err)));
    return 0;
  }
  if (job.kind == PROTO_JOB_DOTF) {
    FUZZ_CHECK(job.n >= 1 && job.input[0].size == job.input[1].size);
    FUZZ_CHECK(job.n == job.input[0].size / 8 && job.input[0].size % 8 == 0);
  }
  check_job(&job);
  return 0;
}
