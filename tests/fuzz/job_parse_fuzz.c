/* The command line: cli_job_parse on any argv, then cli_job_resolve.
 * Input: the arguments after the program's name, separated by NUL bytes
 * (so "pi\0--n\0001e6"). --inject is allowed (TASKFARM_FAULTS=1). A job is
 * resolved only when every file it reads (its kernel's INPUT options, a
 * --kernel object) names a file of the harness's own folder (no '/'),
 * which holds two 8-element vectors a.f64 and b.f64, a longer c.f64,
 * odd.bin (5 bytes), empty, a folder dir, a FIFO fifo and k.so (no
 * object); no other file of the machine is ever opened, and no object is
 * ever loaded.
 * Properties:
 *   - an error is a known code with a sentence; parsing and resolving are
 *     deterministic (the same job, byte for byte, and the same error);
 *   - an accepted job has an entry of the job table (jobs_table), named by
 *     its first word, whose kernel declares every option given; it keeps
 *     every limit cli/job.h and the usage text state (n, chunks, every time
 *     within [1 ms, 1e9 s] and above its floor, faults, weights, paths
 *     NUL-terminated in their arrays, a valid --status-bind, ...);
 *   - resolving changes only the task, n and the chunk sizes: the spec is
 *     the entry's descriptor (jobs_spec_of), n is within its n_max, the
 *     chunks are rounded up to the next multiple of spec.align, every
 *     declared option is bound in declaration order, its value canonical
 *     (counts and integers in decimal, reals as %.17g, choices one of the
 *     words, in range) and meaning what was given (or the default), the
 *     input files are the files the options name, the result lines format;
 *   - the job written back from its canonical values (--n and --KEY=VALUE
 *     for every value set) parses and resolves to the same values, n,
 *     inputs and fingerprints: a fingerprint does not depend on how a
 *     value was written;
 *   - the built-in jobs' own limits: pi's n and alignment, dot's n, the
 *     file dot product's n of two equal files, mandelbrot's n = W x H and
 *     region, loop's cost profile, integrate's bounds.
 * Only the public functions are called and options are found through the
 * job table, so jobs and options added are covered as they come; add
 * their own limits to check_known(). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/job.h"
#include "jobs/dot.h"
#include "jobs/jobs.h"
#include "jobs/lines.h"
#include "jobs/loop.h"
#include "jobs/options.h"
#include "jobs/pi.h"
#include "kernel/kernel.h"
#include "proto/error.h"
#include "proto/proto.h"
#include "tests/fuzz/fault_checks.h"
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
  /* Every job refused would check nothing: the table must hold the jobs
   * (a build that links jobs/ from an archive drops them). */
  size_t count;
  jobs_table(&count);
  if (count == 0 || jobs_find("pi") == NULL) {
    fprintf(stderr, "job_parse_fuzz: the job table is empty: link jobs/*.o "
                    "whole\n");
    abort();
  }
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
  return s >= min && s <= CLI_SECONDS_MAX && isfinite(s);
}

/* The option of d called key, or NULL. */
static const taskfarm_option_t* option_of(const taskfarm_kernel_t* d,
                                          const char* key) {
  if (d == NULL || d->abi < 2 || d->options == NULL) return NULL;
  for (const taskfarm_option_t* o = d->options; o->name != NULL; o++)
    if (strcmp(o->name, key) == 0) return o;
  return NULL;
}

/* The value given for key on the command line (before resolve), or NULL. */
static const char* given(const cli_job_t* parsed, const char* key) {
  for (int i = 0; i < parsed->task.nvalues; i++)
    if (strcmp(parsed->task.value[i].key, key) == 0)
      return parsed->task.value[i].value;
  return NULL;
}

/* What every job keeps, parsed or resolved: the options every job shares. */
static void check_shared(const cli_job_t* job) {
  FUZZ_CHECK(job->timeout == 0 || seconds_ok(job->timeout, CLI_SECONDS_MIN));
  FUZZ_CHECK(job->timeout_factor >= 1 && job->timeout_factor <= 1e6);
  FUZZ_CHECK(seconds_ok(job->timeout_floor, 2 * PROTO_BEAT_S));
  FUZZ_CHECK(seconds_ok(job->lost_after, 2 * PROTO_BEAT_S));
  FUZZ_CHECK(seconds_ok(job->master_timeout, 2 * PROTO_PING_S));
  FUZZ_CHECK(job->speculate >= -1 && job->speculate <= 1);
  int spec = cli_job_speculates(job);
  FUZZ_CHECK(spec == 0 || spec == 1);
  if (job->speculate >= 0) FUZZ_CHECK(spec == job->speculate);
  FUZZ_CHECK(job->verify >= 0 && job->verify <= 1);
  FUZZ_CHECK(job->poison_after >= 1 && job->poison_after <= CLI_POISON_MAX);
  FUZZ_CHECK((unsigned)job->schedule < CLI_SCHED_COUNT);
  const char* sched = cli_sched_name(job->schedule);
  FUZZ_CHECK(sched != NULL);
  cli_sched_t back;
  FUZZ_CHECK(cli_sched_parse(sched, &back) == 0 && back == job->schedule);
  FUZZ_CHECK((job->schedule == CLI_SCHED_WF) == (job->nweights > 0));
  FUZZ_CHECK(job->nweights >= 0 && job->nweights <= CLI_WEIGHTS_MAX);
  for (int i = 0; i < job->nweights; i++)
    FUZZ_CHECK(job->weight[i] > 0 && job->weight[i] <= 1e9);
  FUZZ_CHECK(!job->resume || job->journal[0] != '\0');
  FUZZ_CHECK(job->progress >= -1 && job->progress <= 1);
  FUZZ_CHECK(job->status_port >= 0 && job->status_port <= 65535);
  FUZZ_CHECK(terminated(job->status_bind, sizeof(job->status_bind)));
  unsigned char addr[16];
  FUZZ_CHECK(inet_pton(AF_INET, job->status_bind, addr) == 1 ||
             inet_pton(AF_INET6, job->status_bind, addr) == 1);
  const char* paths[] = {job->task.kernel_path, job->output, job->report,
                         job->trace, job->journal};
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
    FUZZ_CHECK(terminated(paths[i], CLI_PATH_MAX));
  FUZZ_CHECK(job->nfaults >= 0 && job->nfaults <= CLI_FAULTS_MAX);
  for (int i = 0; i < job->nfaults; i++) fuzz_check_fault(&job->fault[i]);
}

/* The entry is one of the table's, the one its command names. */
static void check_entry(const jobs_entry_t* e, const char* command) {
  size_t count;
  const jobs_entry_t* const* t = jobs_table(&count);
  int found = 0;
  for (size_t i = 0; i < count; i++) found |= t[i] == e;
  FUZZ_CHECK(found);
  FUZZ_CHECK(strcmp(e->command, command) == 0);
  const jobs_entry_t* first = jobs_find(command);
  FUZZ_CHECK(first != NULL && strcmp(first->command, e->command) == 0);
  FUZZ_CHECK(first->variant <= e->variant);
  FUZZ_CHECK(((e->flags & JOBS_LOADS) != 0) == (e->kernel == NULL));
}

/* A job as cli_job_parse leaves it. */
static void check_parsed(const cli_job_t* job, const char* command) {
  const jobs_task_t* task = &job->task;
  FUZZ_CHECK(task->entry != NULL);
  const jobs_entry_t* e = task->entry;
  check_entry(e, command);
  FUZZ_CHECK(strcmp(cli_job_name(job), command) == 0);
  FUZZ_CHECK(cli_job_has_range(job) == !(e->flags & JOBS_RANGELESS));
  if (e->flags & JOBS_LOADS) {
    FUZZ_CHECK(task->kernel_path[0] != '\0');
  } else {
    /* --kernel is run's alone; every built-in descriptor is valid. */
    FUZZ_CHECK(task->kernel_path[0] == '\0');
    jobs_spec_t spec;
    char why[256];
    FUZZ_CHECK(jobs_spec_of(e->kernel, &spec, why, sizeof(why)) == 0);
  }
  /* n, chunks: whole numbers >= 1 when given, else 0. */
  FUZZ_CHECK(job->n_given == 0 || job->n_given == 1);
  if (job->n_given)
    FUZZ_CHECK(job->n >= 1 && job->n <= UINT64_MAX / 2);
  else
    FUZZ_CHECK(job->n == 0);
  if (e->flags & JOBS_RANGELESS) FUZZ_CHECK(!job->n_given && job->chunk == 0);
  FUZZ_CHECK(job->chunk <= UINT64_MAX / 2);
  FUZZ_CHECK(job->min_chunk <= UINT64_MAX / 2);
  /* The kernel's options as given: KEY and VALUE, each key once, every
   * key one the chosen variant's kernel declares. */
  FUZZ_CHECK(task->nvalues >= 0 && task->nvalues <= JOBS_VALUES_MAX);
  for (int i = 0; i < task->nvalues; i++) {
    const jobs_value_t* v = &task->value[i];
    FUZZ_CHECK(terminated(v->key, sizeof(v->key)) && v->key[0] != '\0');
    FUZZ_CHECK(strchr(v->key, '=') == NULL);
    FUZZ_CHECK(terminated(v->value, sizeof(v->value)));
    FUZZ_CHECK(v->set == 1 && v->type == 0);
    for (int k = 0; k < i; k++)
      FUZZ_CHECK(strcmp(task->value[k].key, v->key) != 0);
    if (!(e->flags & JOBS_LOADS)) FUZZ_CHECK(jobs_declares(e->kernel, v->key));
  }
  FUZZ_CHECK(task->ninputs == 0 && task->has_reference == 0);
  check_shared(job);
}

/* A canonical value of option o: counts and integers in decimal, reals as
 * %.17g, a choice one of its words, within the declared range. */
static void check_canonical(const taskfarm_option_t* o, const char* v) {
  int ranged = !(o->min == 0 && o->max == 0);
  char back[JOBS_VALUE_MAX];
  char* end;
  switch (o->type) {
    case TASKFARM_OPT_COUNT: {
      FUZZ_CHECK(v[0] >= '0' && v[0] <= '9');
      FUZZ_CHECK(v[0] != '0' || v[1] == '\0');
      uint64_t x = 0;
      FUZZ_CHECK(jobs_parse_count(v, UINT64_MAX, &x) == 0);
      snprintf(back, sizeof(back), "%llu", (unsigned long long)x);
      FUZZ_CHECK(strcmp(back, v) == 0);
      if (ranged) {
        FUZZ_CHECK((double)x >= o->min);
        FUZZ_CHECK(o->max >= 1.8e19 || x <= (uint64_t)o->max);
      }
      break;
    }
    case TASKFARM_OPT_INTEGER: {
      long long x = strtoll(v, &end, 10);
      FUZZ_CHECK(end != v && *end == '\0');
      snprintf(back, sizeof(back), "%lld", x);
      FUZZ_CHECK(strcmp(back, v) == 0);
      if (ranged) FUZZ_CHECK((double)x >= o->min && (double)x <= o->max);
      break;
    }
    case TASKFARM_OPT_REAL: {
      double x = strtod(v, &end);
      FUZZ_CHECK(end != v && *end == '\0' && isfinite(x));
      snprintf(back, sizeof(back), "%.17g", x);
      FUZZ_CHECK(strcmp(back, v) == 0);
      if (ranged) FUZZ_CHECK(x >= o->min && x <= o->max);
      break;
    }
    case TASKFARM_OPT_CHOICE: {
      int found = 0;
      for (int i = 0; o->choices[i] != NULL; i++)
        found |= strcmp(o->choices[i], v) == 0;
      FUZZ_CHECK(found);
      break;
    }
    case TASKFARM_OPT_INPUT:
    case TASKFARM_OPT_OUTPUT:
      FUZZ_CHECK(v[0] != '\0');
      break;
    default:
      break;
  }
}

/* The canonical value v means what text (as given, or the default) says. */
static void check_meaning(const taskfarm_option_t* o, const char* text,
                          const char* v) {
  switch (o->type) {
    case TASKFARM_OPT_COUNT: {
      uint64_t a = 0, b = 0;
      FUZZ_CHECK(jobs_parse_count(text, UINT64_MAX, &a) == 0);
      FUZZ_CHECK(jobs_parse_count(v, UINT64_MAX, &b) == 0 && a == b);
      break;
    }
    case TASKFARM_OPT_INTEGER:
      FUZZ_CHECK(strtoll(text, NULL, 10) == strtoll(v, NULL, 10));
      break;
    case TASKFARM_OPT_REAL: {
      double a = strtod(text, NULL), b = strtod(v, NULL);
      FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
      break;
    }
    default:
      FUZZ_CHECK(strcmp(text, v) == 0);
      break;
  }
}

static const char* option_value(const void* ctx, const char* name) {
  return jobs_value((const jobs_task_t*)ctx, name);
}

/* The options of a resolved job: bound to the declaration, canonical,
 * meaning what was given; the files they name; what the kernel's own
 * functions see (jobs_value, jobs_args). */
static void check_values(const cli_job_t* job, const cli_job_t* parsed) {
  const jobs_task_t* task = &job->task;
  const taskfarm_kernel_t* d = task->entry->kernel;
  FUZZ_CHECK(task->nvalues >= 0 && task->nvalues <= JOBS_VALUES_MAX);
  if (task->spec.declares && d != NULL) {
    int count = 0;
    for (const taskfarm_option_t* o = d->options; o->name != NULL; o++) {
      FUZZ_CHECK(count < task->nvalues);
      const jobs_value_t* v = &task->value[count++];
      FUZZ_CHECK(strcmp(v->key, o->name) == 0 && v->type == o->type);
      FUZZ_CHECK(terminated(v->value, sizeof(v->value)));
      const char* text = given(parsed, o->name);
      if (text == NULL) text = o->def;
      FUZZ_CHECK(v->set == (text != NULL));
      if (!v->set) continue;
      check_canonical(o, v->value);
      check_meaning(o, text, v->value);
    }
    FUZZ_CHECK(count == task->nvalues);
  } else if (!task->spec.declares) {
    /* Undeclared: passed on as given, in order. */
    FUZZ_CHECK(task->nvalues == parsed->task.nvalues);
    for (int i = 0; i < task->nvalues; i++) {
      FUZZ_CHECK(strcmp(task->value[i].key, parsed->task.value[i].key) == 0);
      FUZZ_CHECK(strcmp(task->value[i].value, parsed->task.value[i].value) ==
                 0);
      FUZZ_CHECK(task->value[i].set == 1 && task->value[i].type == 0);
    }
  }
  taskfarm_arg_t args[JOBS_VALUES_MAX];
  FUZZ_CHECK(jobs_args(task, args) == task->nvalues);
  int inputs = 0;
  for (int i = 0; i < task->nvalues; i++) {
    const jobs_value_t* v = &task->value[i];
    FUZZ_CHECK(args[i].key == v->key);
    FUZZ_CHECK(args[i].value == (v->set ? v->value : NULL));
    FUZZ_CHECK(jobs_value(task, v->key) == (v->set ? v->value : NULL));
    if (v->type != TASKFARM_OPT_INPUT || !v->set) continue;
    /* The input's identity is the file's that the option names. */
    FUZZ_CHECK(inputs < task->ninputs);
    const jobs_input_t* in = &task->input[inputs++];
    FUZZ_CHECK(terminated(in->path, sizeof(in->path)) && in->path[0] == '/');
    struct stat st;
    FUZZ_CHECK(stat(v->value, &st) == 0 && S_ISREG(st.st_mode));
    FUZZ_CHECK(in->size == (uint64_t)st.st_size);
    FUZZ_CHECK(in->ino == (uint64_t)st.st_ino);
    FUZZ_CHECK(in->dev == (uint64_t)st.st_dev);
  }
  FUZZ_CHECK(inputs == task->ninputs && inputs <= JOBS_INPUTS_MAX);
}

/* Each job's own limits, for the jobs this harness knows (by the name
 * their kernel declares). */
static void check_known(const cli_job_t* job) {
  const jobs_task_t* task = &job->task;
  const char* name = task->spec.name;
  if (strcmp(name, "pi") == 0) {
    FUZZ_CHECK(task->spec.align == PI_GRAIN);
    FUZZ_CHECK(job->n >= 1 && job->n <= (uint64_t)1 << 50);
  } else if (strcmp(name, "dot") == 0) {
    FUZZ_CHECK(job->n >= 1 && job->n <= DOT_N_MAX);
  } else if (strcmp(name, "dot-files") == 0) {
    FUZZ_CHECK(task->ninputs == 2);
    FUZZ_CHECK(job->n >= 1 && task->input[0].size == task->input[1].size);
    FUZZ_CHECK(task->input[0].size == 8 * job->n);
  } else if (strcmp(name, "hello") == 0) {
    FUZZ_CHECK(job->n == 0);
  } else if (strcmp(name, "mandelbrot") == 0) {
    /* --size WxH, read here independently: n is its pixels. */
    const char* size = jobs_value(task, "size");
    FUZZ_CHECK(size != NULL && strchr(size, '-') == NULL);
    char* end;
    unsigned long w = strtoul(size, &end, 10);
    FUZZ_CHECK(end != size && *end == 'x');
    const char* hs = end + 1;
    unsigned long h = strtoul(hs, &end, 10);
    FUZZ_CHECK(end != hs && *end == '\0');
    FUZZ_CHECK(w >= 1 && w <= 1000000 && h >= 1 && h <= 1000000);
    FUZZ_CHECK(job->n == (uint64_t)w * h);
    const char* region = jobs_value(task, "region");
    FUZZ_CHECK(region != NULL);
    double r[4];
    const char* at = region;
    for (int k = 0; k < 4; k++) {
      r[k] = strtod(at, &end);
      FUZZ_CHECK(end != at && *end == (k < 3 ? ',' : '\0'));
      FUZZ_CHECK(isfinite(r[k]) && fabs(r[k]) <= 1e6);
      at = end + 1;
    }
    FUZZ_CHECK(r[0] < r[2] && r[1] < r[3]);
    const char* iter = jobs_value(task, "max-iter");
    FUZZ_CHECK(iter != NULL);
    unsigned long long it = strtoull(iter, NULL, 10);
    FUZZ_CHECK(it >= 1 && it <= 1000000000);
  } else if (strcmp(name, "loop") == 0) {
    const char* cost = jobs_value(task, "cost");
    FUZZ_CHECK(cost != NULL);
    loop_cost_t c = LOOP_COST_CONSTANT;
    while (c < LOOP_COST_COUNT && strcmp(loop_cost_name(c), cost) != 0) c++;
    FUZZ_CHECK(c < LOOP_COST_COUNT);
    const char* mean_text = jobs_value(task, "mean");
    FUZZ_CHECK(mean_text != NULL);
    double mean = strtod(mean_text, NULL);
    const char* spread_text = jobs_value(task, "spread");
    double spread = spread_text != NULL ? strtod(spread_text, NULL) : mean / 2;
    FUZZ_CHECK(mean >= 1 && mean <= 1e9);
    FUZZ_CHECK(spread >= 0 && spread <= 1e9);
    if (c == LOOP_COST_UNIFORM || c == LOOP_COST_INCREASING ||
        c == LOOP_COST_DECREASING || c == LOOP_COST_BIMODAL)
      FUZZ_CHECK(spread <= mean); /* no cost below 0 */
    if (c == LOOP_COST_GAMMA) FUZZ_CHECK(spread > 0);
  } else if (strcmp(name, "integrate") == 0) {
    const char* from = jobs_value(task, "from");
    const char* to = jobs_value(task, "to");
    FUZZ_CHECK(from != NULL && to != NULL);
    FUZZ_CHECK(strtod(from, NULL) < strtod(to, NULL));
  }
}

/* A job as cli_job_resolve leaves it; parsed is the job before. */
static void check_resolved(const cli_job_t* job, const cli_job_t* parsed) {
  const jobs_task_t* task = &job->task;
  const jobs_spec_t* spec = &task->spec;
  const jobs_entry_t* e = task->entry;
  /* Resolve writes the task, n and the chunks, and nothing else. */
  static cli_job_t rest;
  memcpy(&rest, job, sizeof(rest));
  memcpy(&rest.task, &parsed->task, sizeof(rest.task));
  rest.n = parsed->n;
  rest.chunk = parsed->chunk;
  rest.min_chunk = parsed->min_chunk;
  FUZZ_CHECK(memcmp(&rest, parsed, sizeof(rest)) == 0);
  FUZZ_CHECK(e == parsed->task.entry);
  FUZZ_CHECK(strcmp(task->kernel_path, parsed->task.kernel_path) == 0);
  /* The spec: the entry's descriptor, as data. */
  FUZZ_CHECK(terminated(spec->name, sizeof(spec->name)) &&
             spec->name[0] != '\0');
  FUZZ_CHECK(terminated(spec->n_what, sizeof(spec->n_what)));
  FUZZ_CHECK(spec->align >= 1 && spec->n_max >= 1 && spec->chunk_max >= 1);
  if (e->kernel != NULL) {
    static jobs_spec_t want;
    char why[256];
    FUZZ_CHECK(jobs_spec_of(e->kernel, &want, why, sizeof(why)) == 0);
    FUZZ_CHECK(memcmp(&want, spec, sizeof(want)) == 0);
  }
  /* n: given, or the kernel's; never beyond its maximum. */
  if (job->n_given) {
    FUZZ_CHECK(job->n == parsed->n);
    FUZZ_CHECK(!(spec->hooks & JOBS_HOOK_SIZE));
  } else {
    FUZZ_CHECK(spec->hooks & JOBS_HOOK_SIZE);
  }
  FUZZ_CHECK(job->n <= spec->n_max);
  if (e->flags & JOBS_RANGELESS)
    FUZZ_CHECK(job->n == 0);
  else
    FUZZ_CHECK(job->n >= 1);
  /* Chunks on the alignment: the given size rounded up, no further. */
  const uint64_t* now[2] = {&job->chunk, &job->min_chunk};
  const uint64_t* was[2] = {&parsed->chunk, &parsed->min_chunk};
  for (int k = 0; k < 2; k++) {
    FUZZ_CHECK(*now[k] % spec->align == 0);
    FUZZ_CHECK((*now[k] == 0) == (*was[k] == 0));
    FUZZ_CHECK(*now[k] >= *was[k] && *now[k] - *was[k] < spec->align);
  }
  /* Slices on the alignment too, from the first on. */
  uint64_t slice = kernel_first_slice(spec);
  FUZZ_CHECK(slice >= 1 && slice % spec->align == 0);
  static const uint64_t took[] = {0, 1, 1000, 1000000, 1000000000};
  for (size_t k = 0; k < sizeof(took) / sizeof(took[0]); k++) {
    uint64_t next = kernel_next_slice(spec, slice, took[k]);
    FUZZ_CHECK(next >= 1 && next % spec->align == 0);
  }
  check_values(job, parsed);
  /* The reference, when the kernel has one. */
  if (task->has_reference) {
    FUZZ_CHECK(task->has_reference == 1);
    FUZZ_CHECK(spec->hooks & JOBS_HOOK_REFERENCE);
    FUZZ_CHECK(terminated(task->reference_text, sizeof(task->reference_text)));
    FUZZ_CHECK(terminated(task->reference_what, sizeof(task->reference_what)));
  }
  /* The result lines: each a template that formats. */
  FUZZ_CHECK(spec->nlines >= 0 && spec->nlines <= JOBS_LINES_MAX);
  jobs_result_t r;
  memset(&r, 0, sizeof(r));
  r.value = task->has_reference ? task->reference : 0.5;
  r.sum = (unsigned __int128)job->n * 3;
  r.has_reference = task->has_reference;
  r.reference = task->reference;
  r.n = job->n;
  r.chunks = 3;
  r.ranks = 2;
  r.option = option_value;
  r.ctx = task;
  for (int i = 0; i < spec->nlines; i++) {
    char why[256], out[512];
    FUZZ_CHECK(terminated(spec->line[i], JOBS_LINE_MAX));
    FUZZ_CHECK(jobs_check_line(spec->line[i], why, sizeof(why)) == 0);
    FUZZ_CHECK(jobs_format_line(spec->line[i], &r, out, sizeof(out)) == 0);
    FUZZ_CHECK(terminated(out, sizeof(out)));
  }
  if (!(e->flags & JOBS_LOADS))
    FUZZ_CHECK(cli_job_fingerprint(job) == cli_job_results_fingerprint(job));
  check_shared(job);
  check_known(job);
}

/* The job written back from its canonical values parses and resolves to
 * the same values and fingerprints. */
static void check_reparse(const cli_job_t* job) {
  const jobs_task_t* task = &job->task;
  char* argv[8 + 2 * JOBS_VALUES_MAX];
  char nbuf[32];
  int argc = 0;
  argv[argc++] = "taskfarm";
  argv[argc++] = (char*)task->entry->command;
  int loads = (task->entry->flags & JOBS_LOADS) != 0;
  if (loads) {
    argv[argc++] = "--kernel";
    argv[argc++] = (char*)task->kernel_path;
  }
  if (job->n_given) {
    snprintf(nbuf, sizeof(nbuf), "%llu", (unsigned long long)job->n);
    argv[argc++] = "--n";
    argv[argc++] = nbuf;
  }
  char* made[JOBS_VALUES_MAX];
  int nmade = 0;
  for (int i = 0; i < task->nvalues; i++) {
    const jobs_value_t* v = &task->value[i];
    if (!v->set) continue;
    size_t len = strlen(v->key) + strlen(v->value) + 8;
    char* a = malloc(len);
    if (a == NULL) abort();
    if (loads) {
      argv[argc++] = "--arg";
      snprintf(a, len, "%s=%s", v->key, v->value);
    } else {
      snprintf(a, len, "--%s=%s", v->key, v->value);
    }
    argv[argc++] = made[nmade++] = a;
  }
  argv[argc] = NULL;
  static cli_job_t back;
  char err[512];
  int rc = cli_job_parse(&back, argc, argv, err, sizeof(err));
  for (int i = 0; i < nmade; i++) free(made[i]);
  if (rc != 0) fprintf(stderr, "reparsed: %s\n", err);
  FUZZ_CHECK(rc == 0 && !back.help);
  FUZZ_CHECK(back.task.entry == task->entry);
  rc = cli_job_resolve(&back, 0, NULL, err, sizeof(err));
  if (rc != 0) fprintf(stderr, "reparsed: %s\n", err);
  FUZZ_CHECK(rc == 0);
  FUZZ_CHECK(back.n == job->n);
  FUZZ_CHECK(memcmp(&back.task.spec, &task->spec, sizeof(task->spec)) == 0);
  FUZZ_CHECK(back.task.nvalues == task->nvalues);
  FUZZ_CHECK(memcmp(back.task.value, task->value,
                    (size_t)task->nvalues * sizeof(task->value[0])) == 0);
  FUZZ_CHECK(back.task.ninputs == task->ninputs);
  FUZZ_CHECK(memcmp(back.task.input, task->input,
                    (size_t)task->ninputs * sizeof(task->input[0])) == 0);
  FUZZ_CHECK(back.task.has_reference == task->has_reference);
  FUZZ_CHECK(memcmp(&back.task.reference, &task->reference,
                    sizeof(task->reference)) == 0);
  FUZZ_CHECK(cli_job_fingerprint(&back) == cli_job_fingerprint(job));
  FUZZ_CHECK(cli_job_results_fingerprint(&back) ==
             cli_job_results_fingerprint(job));
}

/* Points a bare file name at the harness's folder; 0 when path names
 * anything else (then the job is not resolved). */
static int in_folder(char* path, size_t cap) {
  if (path[0] == '\0') return 1;
  if (strchr(path, '/') != NULL) return 0;
  char full[CLI_PATH_MAX];
  int n = snprintf(full, sizeof(full), "%s/%s", folder, path);
  if (n < 0 || (size_t)n >= sizeof(full) || (size_t)n >= cap) return 0;
  memcpy(path, full, (size_t)n + 1);
  return 1;
}

/* Every file the job reads, in the folder; 0 when one is not. */
static int files_in_folder(cli_job_t* job) {
  jobs_task_t* task = &job->task;
  if (!in_folder(task->kernel_path, sizeof(task->kernel_path))) return 0;
  for (int i = 0; i < task->nvalues; i++) {
    const taskfarm_option_t* o = option_of(task->entry->kernel,
                                           task->value[i].key);
    if (o != NULL && o->type == TASKFARM_OPT_INPUT &&
        !in_folder(task->value[i].value, sizeof(task->value[i].value)))
      return 0;
  }
  return 1;
}

/* --help: the usage text of the job (or the general one). A --kernel
 * object's help is read by loading it in a child: never done here. */
static void check_help(const cli_job_t* job, const char* command) {
  const jobs_entry_t* e = job->task.entry;
  if (e != NULL) {
    check_entry(e, command);
    if ((e->flags & JOBS_LOADS) && job->task.kernel_path[0] != '\0') return;
  }
  char* text = NULL;
  size_t len = 0;
  FILE* out = open_memstream(&text, &len);
  if (out == NULL) abort();
  char err[512] = "";
  FUZZ_CHECK(cli_usage(job, out, err, sizeof(err)) == 0);
  fclose(out);
  FUZZ_CHECK(strncmp(text, "usage:", 6) == 0);
  if (e != NULL) FUZZ_CHECK(strstr(text, e->command) != NULL);
  free(text);
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
  static cli_job_t job, again, parsed;
  char* argv[ARGS_MAX + 1];
  char err[512], err2[512];
  int argc = split(data, size, argv);
  /* Parsing is deterministic: the same argv gives the same job, byte for
   * byte (the struct is zeroed first, padding included), and the same
   * error. */
  int rc = cli_job_parse(&job, argc, argv, err, sizeof(err));
  int rc2 = cli_job_parse(&again, argc, argv, err2, sizeof(err2));
  FUZZ_CHECK(rc == rc2);
  FUZZ_CHECK(strcmp(err, err2) == 0);
  FUZZ_CHECK(memcmp(&job, &again, sizeof(job)) == 0);
  char command[JOBS_NAME_MAX] = "";
  if (argc > 1) snprintf(command, sizeof(command), "%s", argv[1]);
  int long_command = argc > 1 && strlen(argv[1]) >= sizeof(command);
  for (int i = 0; i < argc; i++) free(argv[i]);
  if (rc < 0) {
    FUZZ_CHECK(rc == PROTO_EINVAL || rc == PROTO_ERANGE);
    FUZZ_CHECK(err[0] != '\0' && terminated(err, sizeof(err)));
    return 0;
  }
  FUZZ_CHECK(rc == 0 && err[0] == '\0');
  FUZZ_CHECK(job.task.entry == NULL || !long_command);
  if (job.help) {
    check_help(&job, command);
    return 0;
  }
  check_parsed(&job, command);

  if (!files_in_folder(&job)) return 0;
  /* Resolving is deterministic too, and touches no file it was not
   * given. */
  memcpy(&parsed, &job, sizeof(job));
  memcpy(&again, &job, sizeof(job));
  rc = cli_job_resolve(&job, 0, NULL, err, sizeof(err));
  rc2 = cli_job_resolve(&again, 0, NULL, err2, sizeof(err2));
  FUZZ_CHECK(rc == rc2);
  if (rc < 0) {
    FUZZ_CHECK(rc == PROTO_EINVAL || rc == PROTO_ERANGE || rc == PROTO_EFILE);
    FUZZ_CHECK(err[0] != '\0' && terminated(err, sizeof(err)));
    FUZZ_CHECK(strcmp(err, err2) == 0);
    return 0;
  }
  FUZZ_CHECK(memcmp(&job, &again, sizeof(job)) == 0);
  check_resolved(&job, &parsed);
  check_reparse(&job);
  return 0;
}
