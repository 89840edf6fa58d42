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

#include "jobs/options.h"
#include "kernel/describe.h"
#include "kernel/inputs.h"
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
static void help_text(const taskfarm_kernel_t* d, const char* dash,
                      char* text, size_t len) {
  FILE* f = fmemopen(text, len, "w");
  if (f == NULL) return;
  if (d->abi >= 2 && d->help != NULL) fputs(d->help, f);
  if (d->abi >= 2 && d->options != NULL && d->options[0].name == NULL) {
    /* declares that it takes none */
  } else if (d->abi >= 2 && d->options != NULL) {
    fprintf(f, "\nOptions of %s:\n", d->name);
    jobs_options_help(d, dash, f);
  } else {
    fprintf(f, "\nKernel %s declares no options: --arg KEY=VALUE passes any "
            "on to its init as given.\n", d->name);
  }
  fclose(f);
  text[len - 1] = '\0';
}

static void work_help(jobs_task_t* task, int flags, report_t* r) {
  (void)flags;
  void* dl = NULL;
  taskfarm_kernel_t d;
  if (load(task, &dl, &d, r) == 0)
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
  int rc = in_child(task, work_probe, (n_given ? WITH_N : 0) |
                                          (calibrate ? CALIBRATE : 0),
                    &r, limit_s, "it was loaded and initialised", err, errlen);
  if (rc < 0) return rc;
  const jobs_entry_t* entry = task->entry;
  *task = r.task;
  task->entry = entry;
  *n = r.n;
  *scale = r.scale;
  return 0;
}

int kernel_help(const jobs_task_t* task, char* help, size_t len,
                double limit_s, char* err, size_t errlen) {
  if (!loads(task)) {
    help_text(task->entry->kernel, kernel_dash(task), help, len);
    return 0;
  }
  /* dlopen would wait on a FIFO for ever: a regular file, or a sentence. */
  jobs_input_t object;
  int rc = kernel_input_identity(task->kernel_path, "--kernel", &object, err,
                                 errlen);
  if (rc < 0) return rc;
  static report_t r;
  memset(&r, 0, sizeof(r));
  rc = in_child(task, work_help, 0, &r, limit_s, "it was loaded", err, errlen);
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
