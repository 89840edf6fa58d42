/* Command-line parsing for the job every rank runs (no MPI, no files, so
 * it behaves the same on every rank and in the unit tests). The options
 * every job shares are the table below (their help is cli/usage.c's); the
 * options a job's kernel declares are found through the job table and
 * kept as given, to be checked against their declaration when the job is
 * resolved. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "cli/job.h"
#include "cli/flags.h"
#include "jobs/options.h"
#include "proto/error.h"
#include "proto/proto.h"

static const char* const kSchedName[CLI_SCHED_COUNT] = {
    [CLI_SCHED_DYNAMIC] = "dynamic",     [CLI_SCHED_STATIC] = "static",
    [CLI_SCHED_CYCLIC] = "cyclic",       [CLI_SCHED_GUIDED] = "guided",
    [CLI_SCHED_TRAPEZOID] = "trapezoid", [CLI_SCHED_FACTORING] = "factoring",
    [CLI_SCHED_WF] = "wf",               [CLI_SCHED_AWF_B] = "awf-b",
    [CLI_SCHED_AWF_C] = "awf-c",         [CLI_SCHED_AF] = "af",
};

const char* cli_sched_name(cli_sched_t sched) {
  return (unsigned)sched < CLI_SCHED_COUNT ? kSchedName[sched] : NULL;
}

int cli_sched_parse(const char* text, cli_sched_t* out) {
  for (int i = 0; i < CLI_SCHED_COUNT; i++)
    if (strcmp(text, kSchedName[i]) == 0) {
      *out = (cli_sched_t)i;
      return 0;
    }
  return PROTO_EINVAL;
}

int cli_job_speculates(const cli_job_t* job) {
  if (job->speculate >= 0) return job->speculate;
  return job->schedule != CLI_SCHED_STATIC &&
         job->schedule != CLI_SCHED_CYCLIC;
}

const char* cli_job_name(const cli_job_t* job) {
  return job->task.entry != NULL ? job->task.entry->command : "none";
}

int cli_job_has_range(const cli_job_t* job) {
  return job->task.entry != NULL && !(job->task.entry->flags & JOBS_RANGELESS);
}

/* The class of job an option is for. */
static unsigned class_of(const jobs_entry_t* e) {
  if (e->flags & JOBS_RANGELESS) return CLI_FOR_ALL;
  if (e->flags & JOBS_LOADS) return CLI_FOR_ALL | CLI_FOR_RANGE | CLI_FOR_RUN;
  return CLI_FOR_ALL | CLI_FOR_RANGE;
}

/* The entries of command, in variant order; returns their number. */
static int variants(const char* command, const jobs_entry_t** out, int max) {
  size_t count;
  const jobs_entry_t* const* t = jobs_table(&count);
  int n = 0;
  for (size_t i = 0; i < count && n < max; i++)
    if (strcmp(t[i]->command, command) == 0) out[n++] = t[i];
  return n;
}

/* 1 when some variant of command's kernel declares key. */
static int declared_by(const char* command, const char* key) {
  const jobs_entry_t* v[8];
  int n = variants(command, v, 8);
  for (int i = 0; i < n; i++)
    if (v[i]->kernel != NULL && jobs_declares(v[i]->kernel, key)) return 1;
  return 0;
}

/* The job whose kernel declares key, when it is not this one's. */
static const char* owner_of(const char* key) {
  size_t count;
  const jobs_entry_t* const* t = jobs_table(&count);
  for (size_t i = 0; i < count; i++)
    if (t[i]->kernel != NULL && jobs_declares(t[i]->kernel, key))
      return t[i]->command;
  return NULL;
}

/* Keeps a kernel's option as given, for resolve to bind. */
static int keep(cli_parse_t* p, const char* key, const char* value) {
  jobs_task_t* task = &p->job->task;
  if (task->nvalues == JOBS_VALUES_MAX)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "at most %d options of the job's kernel",
                      JOBS_VALUES_MAX);
  jobs_value_t* v = &task->value[task->nvalues];
  if (strlen(key) >= sizeof(v->key) || strlen(value) >= sizeof(v->value))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "option %.40s is longer than the %d bytes of a name or "
                      "%d of a value",
                      key, JOBS_KEY_MAX - 1, JOBS_VALUE_MAX - 1);
  for (int i = 0; i < task->nvalues; i++)
    if (strcmp(task->value[i].key, key) == 0)
      return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                        "%s%s is given more than once", p->dash, key);
  memset(v, 0, sizeof(*v));
  memcpy(v->key, key, strlen(key) + 1);
  memcpy(v->value, value, strlen(value) + 1);
  v->set = 1;
  task->nvalues++;
  return 0;
}

int cli_keep_arg(cli_parse_t* p, const char* opt, const char* v) {
  const char* eq = strchr(v, '=');
  if (eq == NULL || eq == v)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes KEY=VALUE, got '%s'", opt, v);
  char key[JOBS_KEY_MAX];
  if ((size_t)(eq - v) >= sizeof(key))
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s key '%.40s...' is longer than %d bytes", opt, v,
                      JOBS_KEY_MAX - 1);
  memcpy(key, v, (size_t)(eq - v));
  key[eq - v] = '\0';
  return keep(p, key, eq + 1);
}

/* The command of the job that loads a user's kernel ("run"). */
static const char* loading_command(void) {
  size_t count;
  const jobs_entry_t* const* t = jobs_table(&count);
  for (size_t i = 0; i < count; i++)
    if (t[i]->flags & JOBS_LOADS) return t[i]->command;
  return "?";
}

/* Why an option this job does not take was refused. */
static int refuse(cli_parse_t* p, const char* arg, const cli_option_t* o,
                  const char* key) {
  const char* job = p->job->task.entry->command;
  if (o != NULL && o->jobs == CLI_FOR_RUN)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s is an option of the %s job only", o->name,
                      loading_command());
  if (o != NULL)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s is not an option of %s, which computes no range",
                      o->name, job);
  const char* owner = key != NULL ? owner_of(key) : NULL;
  if (owner != NULL)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s is an option of the %s job only", arg, owner);
  return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                    "unknown option '%s' for job %s (see taskfarm %s --help)",
                    arg, job, job);
}

/* One option at argv[*i]: --opt VALUE or --opt=VALUE; no option is
 * abbreviated, none but the repeatable ones given twice. */
static int parse_one(cli_parse_t* p, int argc, char** argv, int* i,
                     unsigned char* seen) {
  const char* arg = argv[*i];
  const char* eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
  size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
  const cli_option_t* o = cli_option_find(arg, len);
  const jobs_entry_t* e = p->job->task.entry;
  char key[JOBS_KEY_MAX] = "";
  int kernel_option = 0;
  if (o == NULL && len > 2 && strncmp(arg, "--", 2) == 0 &&
      len - 2 < sizeof(key)) {
    memcpy(key, arg + 2, len - 2);
    key[len - 2] = '\0';
    kernel_option = !(e->flags & JOBS_LOADS) && declared_by(e->command, key);
  }
  if (!kernel_option && (o == NULL || !(o->jobs & class_of(e))))
    return refuse(p, arg, o, key[0] ? key : NULL);
  if (o != NULL && seen[o - cli_options()]++ && !o->repeats)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s is given more than once", o->name);
  const char* value = NULL;
  if (kernel_option || o->takes_value) {
    if (eq != NULL) {
      value = eq + 1;
    } else if (*i + 1 < argc) {
      value = argv[++*i];
    } else {
      return proto_fail(p->err, p->errlen, PROTO_EINVAL, "%.*s needs a value",
                        (int)len, arg);
    }
  } else if (eq != NULL) {
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s takes no value, got '%s'", o->name, arg);
  }
  if (kernel_option) return keep(p, key, value);
  return o->parse(p, o->name, value);
}

/* Of the entries of the command, the first whose kernel takes every
 * option given (and --n, when given). */
static int choose_variant(cli_parse_t* p) {
  cli_job_t* job = p->job;
  const jobs_entry_t* v[8];
  int n = variants(job->task.entry->command, v, 8);
  if (n < 2) return 0;
  for (int k = 0; k < n; k++) {
    const taskfarm_kernel_t* d = v[k]->kernel;
    int fits = !(job->n_given && d->size != NULL);
    for (int i = 0; fits && i < job->task.nvalues; i++)
      fits = jobs_declares(d, job->task.value[i].key);
    if (fits) {
      job->task.entry = v[k];
      return 0;
    }
  }
  char forms[512] = "";
  size_t at = 0;
  for (int k = 0; k < n; k++) {
    const taskfarm_kernel_t* d = v[k]->kernel;
    base_appendf(forms, sizeof(forms), &at, "%s%s",
        k == 0 ? "" : k + 1 == n ? " or" : ",",
        d->size == NULL ? " --n N" : "");
    for (const taskfarm_option_t* o = d->options; o && o->name; o++)
      base_appendf(forms, sizeof(forms), &at, " --%s %s", o->name,
          o->value ? o->value : "VALUE");
  }
  return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                    "%s takes either%s, not options of both forms",
                    job->task.entry->command, forms);
}

/* What is checked once every option is known. */
static int finish(cli_parse_t* p) {
  cli_job_t* job = p->job;
  if ((job->task.entry->flags & JOBS_LOADS) && job->task.kernel_path[0] == 0)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "%s needs --kernel FILE, a shared object built against "
                      "taskfarm_kernel.h",
                      job->task.entry->command);
  int rc = choose_variant(p);
  if (rc < 0) return rc;
  if (job->schedule == CLI_SCHED_WF && job->nweights == 0)
    return proto_fail(
        p->err, p->errlen, PROTO_EINVAL,
        "--schedule wf needs --weights W1,W2,... (one per worker)");
  if (job->nweights > 0 && job->schedule != CLI_SCHED_WF)
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--weights is for --schedule wf (the adaptive schedules "
                      "learn the weights)");
  if (job->resume && job->journal[0] == '\0')
    return proto_fail(p->err, p->errlen, PROTO_EINVAL,
                      "--resume needs --journal FILE, the journal of the run "
                      "to resume");
  return 0;
}

static void defaults(cli_job_t* job) {
  memset(job, 0, sizeof(*job));
  job->timeout_factor = 3.0;
  job->timeout_floor = 1.0;
  job->lost_after = 3.0;
  job->master_timeout = 60.0;
  job->speculate = -1;
  job->verify = CLI_VERIFY_DEFAULT;
  job->poison_after = CLI_POISON_DEFAULT;
  job->progress = -1;
  memcpy(job->status_bind, "127.0.0.1", sizeof("127.0.0.1"));
}

/* With --help, only --kernel matters: the usage of run names the object's
 * options. */
static void kernel_for_help(cli_job_t* job, int argc, char** argv) {
  for (int i = 2; i < argc; i++) {
    const char* v = NULL;
    if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) v = argv[i + 1];
    if (strncmp(argv[i], "--kernel=", 9) == 0) v = argv[i] + 9;
    if (v != NULL && strlen(v) < sizeof(job->task.kernel_path))
      memcpy(job->task.kernel_path, v, strlen(v) + 1);
  }
}

int cli_job_parse(cli_job_t* job, int argc, char** argv, char* err,
                  size_t errlen) {
  defaults(job);
  err[0] = '\0';
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      job->help = 1;
  char names[256];
  jobs_commands(names, sizeof(names), ", ");
  if (argc < 2 || (job->help && argv[1][0] == '-')) {
    if (job->help) return 0;
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "no job given: use one of %s (see --help)", names);
  }
  job->task.entry = jobs_find(argv[1]);
  if (job->task.entry == NULL)
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "unknown job '%s': use one of %s (see --help)", argv[1],
                      names);
  if (job->help) {
    kernel_for_help(job, argc, argv);
    return 0;
  }
  cli_parse_t p = {job, argv[1], NULL, NULL, err, errlen,
                   (job->task.entry->flags & JOBS_LOADS) ? "--arg " : "--"};
  unsigned char seen[CLI_OPTIONS_MAX] = {0};
  for (int i = 2; i < argc; i++) {
    int rc = parse_one(&p, argc, argv, &i, seen);
    if (rc < 0) return rc;
  }
  int rc = finish(&p);
  if (rc == 0 && p.n_text != NULL)
    rc = cli_parse_count(&p, "--n", p.n_text, UINT64_MAX / 2, &job->n);
  if (rc == 0 && p.chunk_text != NULL)
    rc = cli_parse_count(&p, "--chunk", p.chunk_text, UINT64_MAX / 2,
                         &job->chunk);
  return rc;
}
