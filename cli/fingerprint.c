/* cli/job.h: the job's fingerprints, built from the table entry, the
 * kernel's declaration and its options' canonical values; no job is named
 * here. */
#include <string.h>

#include "cli/job.h"

static uint64_t fnv1a(uint64_t h, const void* data, size_t len) {
  const unsigned char* p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

static uint64_t text(uint64_t h, const char* s) {
  return fnv1a(h, s, strlen(s) + 1);
}

/* A kernel object enters by its bytes (by_bytes) or by the name and
 * version it declares, which enter either way. */
static uint64_t fingerprint(const cli_job_t* job, int by_bytes) {
  const jobs_task_t* task = &job->task;
  uint64_t h = 14695981039346656037ull;
  h = text(h, cli_job_name(job));
  h = text(h, task->spec.name);
  uint64_t fields[3] = {task->spec.version, job->n, task->spec.align};
  h = fnv1a(h, fields, sizeof(fields));
  if (task->entry != NULL && (task->entry->flags & JOBS_LOADS) && by_bytes)
    h = fnv1a(h, &task->kernel_hash, sizeof(task->kernel_hash));
  for (int i = 0; i < task->nvalues; i++) {
    const jobs_value_t* v = &task->value[i];
    /* What the kernel writes decides nothing; a file it reads enters by
     * its role (the journal keeps its identity). */
    if (!v->set || v->type == TASKFARM_OPT_OUTPUT) continue;
    h = text(h, v->key);
    if (v->type != TASKFARM_OPT_INPUT) h = text(h, v->value);
  }
  return h;
}

uint64_t cli_job_fingerprint(const cli_job_t* job) {
  return fingerprint(job, 1);
}

uint64_t cli_job_results_fingerprint(const cli_job_t* job) {
  return fingerprint(job, 0);
}
