/* jobs/jobs.h: the table, gathered from the taskfarm_jobs section, and a
 * descriptor copied into data. */
#include "jobs/jobs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "jobs/lines.h"
#include "jobs/options.h"

/* The linker defines these around the section JOBS_REGISTER fills. */
extern const jobs_entry_t* const __start_taskfarm_jobs[];
extern const jobs_entry_t* const __stop_taskfarm_jobs[];

enum { TABLE_MAX = 64 };

static int by_command(const void* a, const void* b) {
  const jobs_entry_t* x = *(const jobs_entry_t* const*)a;
  const jobs_entry_t* y = *(const jobs_entry_t* const*)b;
  int c = strcmp(x->command, y->command);
  return c != 0 ? c : x->variant - y->variant;
}

const jobs_entry_t* const* jobs_table(size_t* count) {
  static const jobs_entry_t* sorted[TABLE_MAX];
  static size_t n = (size_t)-1;
  if (n == (size_t)-1) {
    size_t have = (size_t)(__stop_taskfarm_jobs - __start_taskfarm_jobs);
    n = have < TABLE_MAX ? have : TABLE_MAX;
    for (size_t i = 0; i < n; i++) sorted[i] = __start_taskfarm_jobs[i];
    if (n > 1) qsort(sorted, n, sizeof(sorted[0]), by_command);
  }
  *count = n;
  return sorted;
}

const jobs_entry_t* jobs_find(const char* command) {
  size_t n;
  const jobs_entry_t* const* t = jobs_table(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(t[i]->command, command) == 0) return t[i];
  return NULL;
}

void jobs_commands(char* buf, size_t len, const char* sep) {
  size_t n, at = 0;
  const jobs_entry_t* const* t = jobs_table(&n);
  if (len > 0) buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && strcmp(t[i]->command, t[i - 1]->command) == 0) continue;
    base_appendf(buf, len, &at, "%s%s", at > 0 ? sep : "", t[i]->command);
  }
}

/* 1 when text is [a-z0-9-]+ of fewer than max bytes. */
static int plain_name(const char* text, size_t max) {
  if (text == NULL || text[0] == '\0' || strlen(text) >= max) return 0;
  for (const char* p = text; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
          *p == '_'))
      return 0;
  return 1;
}

static int is_number(uint32_t type) {
  return type == TASKFARM_OPT_COUNT || type == TASKFARM_OPT_INTEGER ||
         type == TASKFARM_OPT_REAL;
}

/* o's range, when it has one: finite bounds in order, none below 0 for a
 * count, and a whole number within them for a count or an integer (the
 * help prints the range the checks take: jobs_whole_range). */
static int check_range(const taskfarm_option_t* o, char* why, size_t len) {
  if (!is_number(o->type) || (o->min == 0 && o->max == 0)) return 0;
  if (!isfinite(o->min) || !isfinite(o->max) || !(o->min <= o->max)) {
    snprintf(why, len,
             "declares option '%s' with the range [%.17g, %.17g]: its "
             "bounds must be finite, the first at most the second",
             o->name, o->min, o->max);
    return -1;
  }
  if (o->type == TASKFARM_OPT_COUNT && o->min < 0) {
    snprintf(why, len,
             "declares count option '%s' with the range [%.17g, %.17g]: a "
             "count's range starts at 0 or above",
             o->name, o->min, o->max);
    return -1;
  }
  if (o->type != TASKFARM_OPT_REAL) {
    jobs_whole_range_t r = jobs_whole_range(o);
    if (r.lo > r.hi) {
      snprintf(why, len,
               "declares option '%s' with the range [%.17g, %.17g], which "
               "holds no whole number",
               o->name, o->min, o->max);
      return -1;
    }
  }
  return 0;
}

static int check_options(const taskfarm_kernel_t* d, char* why, size_t len) {
  int count = 0, inputs = 0;
  for (const taskfarm_option_t* o = d->options; o->name != NULL; o++) {
    if (++count > JOBS_VALUES_MAX) {
      snprintf(why, len, "declares more than %d options", JOBS_VALUES_MAX);
      return -1;
    }
    if (!plain_name(o->name, JOBS_KEY_MAX)) {
      snprintf(why, len,
               "declares an option named '%.40s': names are lower-case "
               "letters, digits, '-' and '_', shorter than %d bytes",
               o->name, JOBS_KEY_MAX);
      return -1;
    }
    if (o->type < TASKFARM_OPT_COUNT || o->type > TASKFARM_OPT_OUTPUT ||
        (o->type == TASKFARM_OPT_CHOICE &&
         (o->choices == NULL || o->choices[0] == NULL))) {
      snprintf(why, len, "declares option '%s' of no known type (%u)%s",
               o->name, o->type,
               o->type == TASKFARM_OPT_CHOICE ? " or a choice of no words"
                                              : "");
      return -1;
    }
    for (const taskfarm_option_t* p = d->options; p < o; p++)
      if (strcmp(p->name, o->name) == 0) {
        snprintf(why, len, "declares option '%s' twice", o->name);
        return -1;
      }
    if (check_range(o, why, len) < 0) return -1;
    /* A job's task holds the identities of this many files. */
    if (o->type == TASKFARM_OPT_INPUT && ++inputs > JOBS_INPUTS_MAX) {
      snprintf(why, len,
               "declares INPUT option '%s' beyond the %d input files a job "
               "reads",
               o->name, JOBS_INPUTS_MAX);
      return -1;
    }
  }
  return 0;
}

/* The largest n: the kernel's, within JOBS_N_MAX_DEFAULT, so that the
 * farm's arithmetic on n (2n, n rounded up to an alignment) never
 * overflows, whatever a kernel declares. */
static uint64_t n_max_of(const taskfarm_kernel_t* d) {
  return d->n_max > 0 && d->n_max < JOBS_N_MAX_DEFAULT ? d->n_max
                                                       : JOBS_N_MAX_DEFAULT;
}

static int check_descriptor(const taskfarm_kernel_t* d, char* why, size_t len) {
  if (d->name == NULL) {
    snprintf(why, len, "has a descriptor without a name");
    return -1;
  }
  if (!plain_name(d->name, JOBS_NAME_MAX)) {
    snprintf(why, len,
             "is named '%.40s': a kernel's name is lower-case letters, "
             "digits, '-' and '_', shorter than %d bytes",
             d->name, JOBS_NAME_MAX);
    return -1;
  }
  if (d->compute == NULL) {
    snprintf(why, len, "has a descriptor without a compute function");
    return -1;
  }
  if (d->result & ~(uint32_t)(TASKFARM_RESULT_FLOAT | TASKFARM_RESULT_INT)) {
    snprintf(why, len,
             "declares a result of %u, not TASKFARM_RESULT_FLOAT (1) and/or "
             "TASKFARM_RESULT_INT (2)",
             d->result);
    return -1;
  }
  /* Chunks are cut on multiples of align, and n_max bounds n: an align
   * past it could never be met (and rounding up to it would overflow). */
  uint64_t n_max = n_max_of(d);
  if (d->align > n_max) {
    snprintf(why, len,
             "declares an alignment of %llu, more than its largest "
             "n, %llu",
             (unsigned long long)d->align, (unsigned long long)n_max);
    return -1;
  }
  if (d->abi < 2) return 0;
  if (d->slice > 0 && d->align > 1 && d->slice % d->align != 0) {
    snprintf(why, len,
             "declares a slice of %llu indices, not a multiple of "
             "its alignment %llu (the farm calls compute on multiples of it)",
             (unsigned long long)d->slice, (unsigned long long)d->align);
    return -1;
  }
  if (d->options != NULL && check_options(d, why, len) < 0) return -1;
  for (int i = 0; d->lines != NULL && d->lines[i] != NULL; i++) {
    char what[256];
    if (i == JOBS_LINES_MAX || strlen(d->lines[i]) >= JOBS_LINE_MAX) {
      snprintf(why, len,
               "declares more than %d result lines or one of %d bytes or "
               "more",
               JOBS_LINES_MAX, JOBS_LINE_MAX);
      return -1;
    }
    /* {opt:NAME} must name a declared option; a kernel that declares
     * none passes every --arg on, and may print any of them. */
    if (jobs_check_line_of(d->lines[i], d->options, what, sizeof(what)) < 0) {
      snprintf(why, len, "has a result line that cannot be printed: %s", what);
      return -1;
    }
  }
  return 0;
}

/* The lines a kernel that declares none prints, by its result. */
static void default_lines(jobs_spec_t* spec) {
  if (spec->result & TASKFARM_RESULT_FLOAT) {
    snprintf(spec->line[spec->nlines++], JOBS_LINE_MAX,
             "Result = {float:.17g}");
    snprintf(spec->line[spec->nlines++], JOBS_LINE_MAX, "Result bits = {bits}");
  }
  if (spec->result & TASKFARM_RESULT_INT)
    snprintf(spec->line[spec->nlines++], JOBS_LINE_MAX,
             "Integer result = {int}");
}

int jobs_spec_of(const taskfarm_kernel_t* d, jobs_spec_t* spec, char* why,
                 size_t len) {
  memset(spec, 0, sizeof(*spec));
  if (check_descriptor(d, why, len) < 0) return -1;
  snprintf(spec->name, sizeof(spec->name), "%s", d->name);
  spec->abi = d->abi;
  spec->version = d->version;
  spec->result = d->result;
  spec->align = d->align > 0 ? d->align : 1;
  spec->n_max = n_max_of(d);
  spec->chunk_max = JOBS_CHUNK_MAX_DEFAULT;
  snprintf(spec->n_what, sizeof(spec->n_what), "indices");
  if (d->abi >= 2) {
    spec->slice = d->slice;
    if (d->chunk_max > 0) spec->chunk_max = d->chunk_max;
    if (d->n_what != NULL)
      snprintf(spec->n_what, sizeof(spec->n_what), "%s", d->n_what);
    spec->hooks = (d->size ? JOBS_HOOK_SIZE : 0u) |
                  (d->prepare ? JOBS_HOOK_PREPARE : 0u) |
                  (d->reference ? JOBS_HOOK_REFERENCE : 0u) |
                  (d->calibrate ? JOBS_HOOK_CALIBRATE : 0u);
    spec->declares = d->options != NULL;
    for (int i = 0; d->lines != NULL && d->lines[i] != NULL; i++)
      snprintf(spec->line[spec->nlines++], JOBS_LINE_MAX, "%s", d->lines[i]);
  }
  if (spec->nlines == 0 && (d->abi < 2 || d->lines == NULL))
    default_lines(spec);
  return 0;
}

const char* jobs_value(const jobs_task_t* task, const char* key) {
  for (int i = 0; i < task->nvalues; i++)
    if (task->value[i].set && strcmp(task->value[i].key, key) == 0)
      return task->value[i].value;
  return NULL;
}

int jobs_args(const jobs_task_t* task, taskfarm_arg_t* args) {
  for (int i = 0; i < task->nvalues; i++) {
    args[i].key = task->value[i].key;
    args[i].value = task->value[i].set ? task->value[i].value : NULL;
  }
  return task->nvalues;
}

int jobs_init_n(void** state, uint64_t n, const taskfarm_arg_t* args,
                int nargs, char* err, size_t errlen) {
  (void)args, (void)nargs, (void)err, (void)errlen;
  *state = (void*)(uintptr_t)n;
  return 0;
}
