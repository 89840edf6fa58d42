/* The usage texts of --help, made from the tables: the jobs from the job
 * table and their kernels' declarations, the options from cli/flags.c.
 * A new job or option appears here, and in the man page made from this
 * text, without a line written for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "cli/flags.h"
#include "cli/job.h"
#include "jobs/options.h"
#include "kernel/probe.h"
#include "proto/error.h"

static const char kHead[] =
    "usage: mpiexec.mpich -disable-auto-cleanup -n P taskfarm JOB [options]\n"
    "       taskfarm JOB [options]          (no mpiexec: the master computes "
    "alone)\n"
    "       taskfarm --version | --options | --jobs\n"
    "\n"
    "Rank 0 is the master: it splits [0, n) into chunks and hands them out on\n"
    "demand; every other rank is a worker. Results are exact and do not "
    "depend\n"
    "on the rank count, chunk size or the order results arrive.\n"
    "`taskfarm JOB --help` explains one job and its own options.\n";

static const char kTail[] =
    "SIGINT or SIGTERM stops the run cleanly (exit 128+signal), flushes the\n"
    "journal and prints the command that resumes; a second one ends at once.\n"
    "\n"
    "The first result for a chunk counts; later copies are compared with it\n"
    "and counted. A rank that sends what can only be a lie (a result for a\n"
    "range or attempt it was not given, progress past its chunk) is refused\n"
    "and everything it delivered is computed again. The result is bitwise\n"
    "the same whatever failed.\n"
    "\n"
    "Exit status: 0 done (also when ranks were lost), 1 run-time failure,\n"
    "2 bad command line, an input or output file that cannot be used, a\n"
    "journal this run must not use or a --status-port that cannot be bound,\n"
    "128+signal when stopped by SIGINT or SIGTERM.\n";

/* One option: its name and value, then its help, wrapped. */
static void option_help(FILE* out, const cli_option_t* o) {
  char head[64];
  snprintf(head, sizeof(head), "  %s%s%s", o->name, o->value ? " " : "",
           o->value ? o->value : "");
  if (strlen(head) < 24)
    fprintf(out, "%-24s", head);
  else
    fprintf(out, "%s\n%24s", head, "");
  jobs_wrap(out, o->help, 24, 24);
}

/* The options of the sections in mask of the job classes in jobs. */
static void sections(FILE* out, unsigned jobs) {
  size_t count;
  const cli_option_t* t = cli_options_table(&count);
  for (int s = 0; s < CLI_SECTIONS; s++) {
    int any = 0;
    for (size_t k = 0; k < count; k++) {
      if (t[k].section != (cli_section_t)s || !(t[k].jobs & jobs)) continue;
      if (!any++) fprintf(out, "\n%s:\n", cli_section_title((cli_section_t)s));
      option_help(out, &t[k]);
    }
  }
}

void cli_list_jobs(FILE* out) {
  size_t count;
  const jobs_entry_t* const* t = jobs_table(&count);
  for (size_t i = 0; i < count; i++) {
    if (i > 0 && strcmp(t[i]->command, t[i - 1]->command) == 0) continue;
    fprintf(out, "  %-12s %s\n", t[i]->command, t[i]->summary);
  }
}

void cli_list_options(FILE* out) {
  fputs("--help\n--version\n--options\n--jobs\n", out);
  size_t count;
  const cli_option_t* t = cli_options_table(&count);
  for (size_t k = 0; k < count; k++) {
    fprintf(out, "%s", t[k].name);
    if (t[k].jobs == CLI_FOR_RUN) fputs(" run", out);
    fputc('\n', out);
  }
  /* The options jobs' kernels declare, with the jobs that take each. */
  size_t n;
  const jobs_entry_t* const* e = jobs_table(&n);
  for (size_t i = 0; i < n; i++) {
    if (e[i]->kernel == NULL || e[i]->kernel->options == NULL) continue;
    for (const taskfarm_option_t* o = e[i]->kernel->options; o->name; o++) {
      int first = 1;
      for (size_t j = 0; j < i && first; j++)
        first = e[j]->kernel == NULL || !jobs_declares(e[j]->kernel, o->name);
      if (!first) continue;
      fprintf(out, "--%s", o->name);
      for (size_t j = i; j < n; j++)
        if (e[j]->kernel != NULL && jobs_declares(e[j]->kernel, o->name) &&
            (j == i || strcmp(e[j]->command, e[j - 1]->command) != 0 ||
             !jobs_declares(e[j - 1]->kernel, o->name)))
          fprintf(out, " %s", e[j]->command);
      fputc('\n', out);
    }
  }
}

/* The usage line of one form of a job ("taskfarm dot --a FILE --b FILE
 * [options]"); the first form's starts with "usage:", the others line up
 * under it. An INPUT option without a default is required; the others are
 * shown in brackets. */
static void form_line(FILE* out, const jobs_entry_t* e, int first) {
  const taskfarm_kernel_t* d = e->kernel;
  char line[1024];
  size_t at = 0;
  if (e->flags & JOBS_LOADS) {
    base_appendf(line, sizeof(line), &at,
                 "taskfarm %s --kernel FILE --n N [--arg KEY=VALUE ...]",
                 e->command);
  } else {
    base_appendf(
        line, sizeof(line), &at, "taskfarm %s%s", e->command,
        (e->flags & JOBS_RANGELESS) || d->size != NULL ? "" : " --n N");
    for (const taskfarm_option_t* o = d->options; o && o->name; o++) {
      int needed = o->type == TASKFARM_OPT_INPUT && o->def == NULL;
      base_appendf(line, sizeof(line), &at, " %s--%s %s%s", needed ? "" : "[",
                   o->name, o->value ? o->value : "VALUE", needed ? "" : "]");
    }
  }
  base_appendf(line, sizeof(line), &at, " [options]");
  fputs(first ? "usage: mpiexec.mpich -n P " : "       mpiexec.mpich -n P ",
        out);
  jobs_wrap(out, line, 28, 26);
}

/* A result line's template as the help shows it: each field named by
 * what it holds ("Dot product is <integer>"). */
static void show_template(FILE* out, const char* t) {
  static const struct {
    const char* field;
    const char* shown;
  } kShown[] = {{"float", "<number>"},   {"error", "<number>"},
                {"bits", "<hex float>"}, {"int", "<integer>"},
                {"uint", "<integer>"},   {"n", "<n>"},
                {"chunks", "<chunks>"},  {"ranks", "<ranks>"}};
  fputs("  ", out);
  while (*t) {
    const char* close = *t == '{' ? strchr(t, '}') : NULL;
    if (close == NULL) {
      fputc(*t++, out);
      continue;
    }
    size_t len = strcspn(t + 1, ":}");
    const char* shown = NULL;
    for (size_t k = 0; k < sizeof(kShown) / sizeof(kShown[0]); k++)
      if (strlen(kShown[k].field) == len &&
          strncmp(t + 1, kShown[k].field, len) == 0)
        shown = kShown[k].shown;
    if (shown != NULL)
      fputs(shown, out);
    else if (len == 3 && strncmp(t + 1, "opt", 3) == 0)
      fprintf(out, "<%.*s>", (int)(close - t - 5), t + 5);
    else
      fwrite(t, 1, (size_t)(close - t + 1), out);
    t = close + 1;
  }
  fputc('\n', out);
}

/* One form of a job after the usage lines: its help, its options and
 * what it prints. */
static int form_text(FILE* out, const jobs_entry_t* e, const cli_job_t* job,
                     char* err, size_t errlen) {
  static jobs_task_t task;
  memset(&task, 0, sizeof(task));
  task.entry = e;
  if (job != NULL)
    memcpy(task.kernel_path, job->task.kernel_path, sizeof(task.kernel_path));
  const taskfarm_kernel_t* d = e->kernel;
  if ((e->flags & JOBS_LOADS) && task.kernel_path[0] == '\0') {
    if (e->about != NULL) fputs(e->about, out);
    return 0;
  }
  static char help[JOBS_HELP_MAX];
  int rc = kernel_help(&task, help, sizeof(help),
                       job != NULL ? job->master_timeout : 60, err, errlen);
  if (rc < 0) return rc;
  fputs(help, out);
  if (d != NULL && d->lines != NULL) {
    fputs("\nIt prints:\n", out);
    for (int i = 0; d->lines[i] != NULL; i++) show_template(out, d->lines[i]);
    if (!(e->flags & JOBS_RANGELESS)) fputs("  Time = <seconds> sec\n", out);
  }
  return 0;
}

static int usage(const cli_job_t* job, FILE* out, char* err, size_t errlen) {
  if (job == NULL || job->task.entry == NULL) {
    fputs(kHead, out);
    fputs("\njobs:\n", out);
    cli_list_jobs(out);
    sections(out, CLI_FOR_ALL | CLI_FOR_RANGE | CLI_FOR_RUN);
    fputc('\n', out);
    fputs(kTail, out);
    return 0;
  }
  size_t count;
  const jobs_entry_t* const* t = jobs_table(&count);
  const char* command = job->task.entry->command;
  int forms = 0;
  for (size_t i = 0; i < count; i++)
    if (strcmp(t[i]->command, command) == 0) form_line(out, t[i], !forms++);
  for (size_t i = 0; i < count; i++) {
    if (strcmp(t[i]->command, command) != 0) continue;
    fputc('\n', out);
    int rc = form_text(out, t[i], job, err, errlen);
    if (rc < 0) return rc;
  }
  unsigned jobs = job->task.entry->flags & JOBS_RANGELESS ? CLI_FOR_ALL
                  : job->task.entry->flags & JOBS_LOADS
                      ? CLI_FOR_ALL | CLI_FOR_RANGE | CLI_FOR_RUN
                      : CLI_FOR_ALL | CLI_FOR_RANGE;
  sections(out, jobs);
  return 0;
}

int cli_usage(const cli_job_t* job, FILE* out, char* err, size_t errlen) {
  /* Written whole or not at all: a user's kernel that cannot be loaded
   * is one sentence on stderr, with no half of a usage before it. */
  char* text = NULL;
  size_t size = 0;
  FILE* mem = open_memstream(&text, &size);
  if (mem == NULL) return usage(job, out, err, errlen);
  int rc = usage(job, mem, err, errlen);
  if (fclose(mem) != 0 && rc == 0)
    rc = proto_fail(err, errlen, PROTO_ENOMEM, "out of memory for the usage");
  if (rc == 0) fwrite(text, 1, size, out);
  free(text);
  return rc;
}
