/* cli/job.h: cli_job_resolve, where the job's kernel is described and
 * what its options name is read. */
#include "cli/job.h"

#include "kernel/inputs.h"
#include "kernel/probe.h"
#include "proto/error.h"

static uint64_t round_up(uint64_t v, uint64_t align) {
  return align > 1 && v > 0 ? (v + align - 1) / align * align : v;
}

int cli_job_resolve(cli_job_t* job, int calibrate, uint64_t* scale,
                    char* err, size_t errlen) {
  jobs_task_t* task = &job->task;
  uint64_t none;
  if (scale == NULL) scale = &none;
  *scale = 0;
  if (task->entry == NULL)
    return proto_fail(err, errlen, PROTO_EINVAL, "no job given");
  if (task->entry->flags & JOBS_LOADS) {
    int rc = kernel_input_hash(task->kernel_path, "--kernel",
                               &task->kernel_hash, err, errlen);
    if (rc < 0) return rc;
  }
  int rc = kernel_probe(task, job->n_given, &job->n, calibrate, scale,
                        job->master_timeout, err, errlen);
  if (rc < 0) return rc;
  /* Chunks fall on the kernel's alignment. */
  job->chunk = round_up(job->chunk, task->spec.align);
  job->min_chunk = round_up(job->min_chunk, task->spec.align);
  return 0;
}
