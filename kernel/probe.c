/* kernel/probe.h. Each call on a loaded kernel forks: the child loads the
 * object and writes a fixed report into a pipe; the parent reads it under
 * a time limit, and says what happened when none comes whole. */
#include "kernel/probe.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobs/lines.h"
#include "jobs/options.h"
#include "kernel/describe.h"
#include "kernel/kernel.h"
#include "kernel/plugin.h"
#include "proto/error.h"

/* What a child sends back. */
typedef struct report_s report_t;
struct report_s {
  int rc;
  uint64_t n;
  uint64_t scale;
  jobs_task_t task; /* entry is the parent's own pointer again */
  char text[JOBS_HELP_MAX];
  char err[512];
};

/* What a child does: fills r from task (its own copy). */
typedef void (*work_fn)(jobs_task_t* task, int flags, report_t* r);

enum { WITH_N = 1, CALIBRATE = 2, RESUME = 4 };

/* Loads task's object into d; 0, or rc with the sentence in r->err. */
static int load(const jobs_task_t* task, void** dl, taskfarm_kernel_t* d,
                report_t* r) {
  int rc = plugin_load(task->kernel_path, dl, d, r->err, sizeof(r->err));
  r->rc = rc;
  return rc;
}

static void work_probe(jobs_task_t* task, int flags, report_t* r) {
  void* dl = NULL;
  taskfarm_kernel_t d;
  if (load(task, &dl, &d, r) == 0) {
    r->rc = kernel_describe(task, &d, flags & WITH_N, &r->n, r->err,
                            sizeof(r->err));
    if (r->rc == 0 && (flags & CALIBRATE) && d.abi >= 2 && d.calibrate)
      r->scale = d.calibrate();
  }
  plugin_unload(dl);
  r->task = *task;
}

/* d's own help and its options, as text. */
static void help_text(const taskfarm_kernel_t* d, const char* dash, char* text,
                      size_t len) {
  FILE* f = fmemopen(text, len, "w");
  if (f == NULL) return;
  if (d->abi >= 2 && d->help != NULL) fputs(d->help, f);
  if (d->abi >= 2 && d->options != NULL && d->options[0].name == NULL) {
    /* declares that it takes none */
  } else if (d->abi >= 2 && d->options != NULL) {
    fputs("\nIts options:\n", f);
    jobs_options_help(d, dash, f);
  } else {
    fprintf(f,
            "\nKernel %s declares no options: --arg KEY=VALUE passes any "
            "on to its init as given.\n",
            d->name);
  }
  fclose(f);
  text[len - 1] = '\0';
}

static void work_help(jobs_task_t* task, int flags, report_t* r) {
  (void)flags;
  void* dl = NULL;
  taskfarm_kernel_t d;
  jobs_spec_t spec;
  char why[256];
  if (load(task, &dl, &d, r) == 0 &&
      jobs_spec_of(&d, &spec, why, sizeof(why)) < 0)
    r->rc = proto_fail(r->err, sizeof(r->err), PROTO_EINVAL, "--kernel '%s' %s",
                       task->kernel_path, why);
  else if (r->rc == 0)
    help_text(&d, kernel_dash(task), r->text, sizeof(r->text));
  plugin_unload(dl);
}

/* Calls d's prepare with task's values. */
static int prepare_with(const taskfarm_kernel_t* d, const jobs_task_t* task,
                        uint64_t n, int resume, char* err, size_t errlen) {
  if (d->abi < 2 || d->prepare == NULL) return 0;
  taskfarm_arg_t args[JOBS_VALUES_MAX];
  int nargs = jobs_args(task, args);
  char why[512] = "";
  if (d->prepare(args, nargs, n, resume, why, sizeof(why)) == 0) return 0;
  return proto_fail(err, errlen, PROTO_EINVAL, "%s",
                    why[0] ? why : "its prepare failed without saying why");
}

static void work_prepare(jobs_task_t* task, int flags, report_t* r) {
  void* dl = NULL;
  taskfarm_kernel_t d;
  if (load(task, &dl, &d, r) == 0)
    r->rc = prepare_with(&d, task, r->n, (flags & RESUME) != 0, r->err,
                         sizeof(r->err));
  plugin_unload(dl);
}

/* Reads the child's report under the limit; kills it if it is late. */
static size_t read_report(int fd, report_t* r, double limit_s, int* late) {
  size_t got = 0;
  uint64_t limit_ms = (uint64_t)(limit_s * 1e3), waited_ms = 0;
  while (got < sizeof(*r) && waited_ms <= limit_ms) {
    struct pollfd p = {fd, POLLIN, 0};
    int ready = poll(&p, 1, 100);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      waited_ms += 100;
      continue;
    }
    ssize_t n = read(fd, (char*)r + got, sizeof(*r) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  *late = waited_ms > limit_ms;
  return got;
}

/* Runs work in a child on a copy of task; its report in *r. */
static int in_child(const jobs_task_t* task, work_fn work, int flags,
                    report_t* r, double limit_s, const char* doing, char* err,
                    size_t errlen) {
  const char* path = task->kernel_path;
  int pipefd[2];
  if (pipe(pipefd) != 0)
    return proto_fail(err, errlen, PROTO_EINVAL, "cannot try --kernel '%s': %s",
                      path, strerror(errno));
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return proto_fail(err, errlen, PROTO_EINVAL, "cannot try --kernel '%s': %s",
                      path, strerror(errno));
  }
  if (pid == 0) {
    close(pipefd[0]);
    kernel_default_crash_signals();
    static jobs_task_t mine;
    mine = *task;
    work(&mine, flags, r);
    size_t done = 0;
    while (done < sizeof(*r)) {
      ssize_t n = write(pipefd[1], (char*)r + done, sizeof(*r) - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(1);
      done += (size_t)n;
    }
    _exit(0);
  }
  close(pipefd[1]);
  int late = 0;
  size_t got = read_report(pipefd[0], r, limit_s, &late);
  close(pipefd[0]);
  if (got < sizeof(*r)) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got == sizeof(*r)) {
    r->err[sizeof(r->err) - 1] = '\0';
    r->text[sizeof(r->text) - 1] = '\0';
    if (r->rc < 0) return proto_fail(err, errlen, r->rc, "%s", r->err);
    return 0;
  }
  if (late)
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "--kernel '%s' took more than %.0f s while %s "
                      "(--master-timeout)",
                      path, limit_s, doing);
  if (WIFSIGNALED(status))
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "--kernel '%s' crashed while %s (signal %d, %s)", path,
                      doing, WTERMSIG(status), strsignal(WTERMSIG(status)));
  return proto_fail(err, errlen, PROTO_EINVAL,
                    "--kernel '%s' ended the process while %s (exit status "
                    "%d): a kernel must never call exit",
                    path, doing, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static int loads(const jobs_task_t* task) {
  return (task->entry->flags & JOBS_LOADS) != 0;
}

#define TERMINATE(a) ((a)[sizeof(a) - 1] = '\0')

/* Whether what a child sent back is a description the farm can hold: the
 * child ran the user's code, which may have written anywhere in its
 * memory, the report included. Counts within their arrays, every string
 * ended, result lines that format, an alignment and a largest n the farm
 * can cut, n within it. The parent's own path and hash are kept. */
static int trusted(const jobs_task_t* mine, report_t* r, char* why,
                   size_t len) {
  jobs_task_t* t = &r->task;
  jobs_spec_t* spec = &t->spec;
  memcpy(t->kernel_path, mine->kernel_path, sizeof(t->kernel_path));
  t->kernel_hash = mine->kernel_hash;
  TERMINATE(spec->name);
  TERMINATE(spec->n_what);
  TERMINATE(t->reference_text);
  TERMINATE(t->reference_what);
  if (t->nvalues < 0 || t->nvalues > JOBS_VALUES_MAX || t->ninputs < 0 ||
      t->ninputs > JOBS_INPUTS_MAX || spec->nlines < 0 ||
      spec->nlines > JOBS_LINES_MAX) {
    snprintf(why, len,
             "counts out of their bounds (%d options, %d inputs, "
             "%d result lines)",
             t->nvalues, t->ninputs, spec->nlines);
    return -1;
  }
  for (int i = 0; i < t->nvalues; i++) {
    TERMINATE(t->value[i].key);
    TERMINATE(t->value[i].value);
    if (t->value[i].type > TASKFARM_OPT_OUTPUT) {
      snprintf(why, len, "an option of no known type");
      return -1;
    }
  }
  for (int i = 0; i < t->ninputs; i++) TERMINATE(t->input[i].path);
  for (int i = 0; i < spec->nlines; i++) {
    TERMINATE(spec->line[i]);
    char what[200];
    if (jobs_check_line(spec->line[i], what, sizeof(what)) < 0) {
      snprintf(why, len, "a result line that cannot be printed: %s", what);
      return -1;
    }
  }
  if (spec->align == 0 || spec->n_max == 0 ||
      spec->n_max > JOBS_N_MAX_DEFAULT || spec->align > spec->n_max ||
      r->n > spec->n_max || (spec->slice % spec->align) != 0) {
    snprintf(why, len,
             "an alignment of %llu, a largest n of %llu and n = "
             "%llu that do not fit together",
             (unsigned long long)spec->align, (unsigned long long)spec->n_max,
             (unsigned long long)r->n);
    return -1;
  }
  return 0;
}

int kernel_probe(jobs_task_t* task, int n_given, uint64_t* n, int calibrate,
                 uint64_t* scale, double limit_s, char* err, size_t errlen) {
  *scale = 0;
  if (!loads(task)) {
    const taskfarm_kernel_t* d = task->entry->kernel;
    int rc = kernel_describe(task, d, n_given, n, err, errlen);
    if (rc == 0 && calibrate && d->calibrate != NULL) *scale = d->calibrate();
    return rc;
  }
  static report_t r;
  memset(&r, 0, sizeof(r));
  r.n = *n;
  int rc = in_child(task, work_probe,
                    (n_given ? WITH_N : 0) | (calibrate ? CALIBRATE : 0), &r,
                    limit_s, "it was loaded and initialised", err, errlen);
  if (rc < 0) return rc;
  char why[320];
  if (trusted(task, &r, why, sizeof(why)) < 0)
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "--kernel '%s' sent back an impossible description of "
                      "itself (%s): does its init write over its arguments?",
                      task->kernel_path, why);
  const jobs_entry_t* entry = task->entry;
  *task = r.task;
  task->entry = entry;
  *n = r.n;
  *scale = r.scale;
  return 0;
}

int kernel_help(const jobs_task_t* task, char* help, size_t len, double limit_s,
                char* err, size_t errlen) {
  if (!loads(task)) {
    help_text(task->entry->kernel, kernel_dash(task), help, len);
    return 0;
  }
  static report_t r;
  memset(&r, 0, sizeof(r));
  int rc = in_child(task, work_help, 0, &r, limit_s, "it was loaded", err, errlen);
  if (rc == 0) snprintf(help, len, "%s", r.text);
  return rc;
}

int kernel_prepare(const jobs_task_t* task, uint64_t n, int resume,
                   double limit_s, char* err, size_t errlen) {
  if (!(task->spec.hooks & JOBS_HOOK_PREPARE)) return 0;
  if (!loads(task))
    return prepare_with(task->entry->kernel, task, n, resume, err, errlen);
  static report_t r;
  memset(&r, 0, sizeof(r));
  r.n = n;
  return in_child(task, work_prepare, resume ? RESUME : 0, &r, limit_s,
                  "it prepared its output", err, errlen);
}
