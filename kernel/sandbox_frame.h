/* The frames the two sides of kernel/sandbox.h exchange. Both sides are
 * the same binary on the same host, so a frame is the struct's bytes. */
#ifndef TASKFARM_KERNEL_SANDBOX_FRAME_H_
#define TASKFARM_KERNEL_SANDBOX_FRAME_H_

#include <stdint.h>

#include "jobs/jobs.h"
#include "proto/exact.h"
#include "kernel/sandbox.h"

typedef enum {
  FRAME_SETUP = 6,   /* parent, first: the job's computation (setup_t) */
  FRAME_COMPUTE = 1, /* parent: compute [begin, end) with scale */
  FRAME_CANCEL,      /* parent: give the range up */
  FRAME_PROGRESS,    /* child: done indices of the range so far */
  FRAME_RESULT,      /* child: the range's partial, or rc < 0 and what */
  FRAME_CANCELLED,   /* child: the range was given up */
} frame_kind_t;

typedef struct frame_s frame_t;
struct frame_s {
  uint32_t kind;   /* frame_kind_t */
  int32_t rc;      /* RESULT: 0, or the kernel's failure */
  uint64_t begin;  /* COMPUTE */
  uint64_t end;    /* COMPUTE */
  uint64_t scale;  /* COMPUTE: the kernel's work units per 1000 ns */
  uint64_t done;   /* PROGRESS */
  uint64_t busy_ns; /* RESULT */
  unsigned __int128 isum; /* RESULT */
  proto_exact_t fsum;     /* RESULT, normalised */
  char what[SANDBOX_WHAT]; /* RESULT with rc < 0 */
};

/* The first frame: what the child's kernel computes. The entry travels by
 * its command and variant (the same binary has the same table). */
typedef struct setup_s setup_t;
struct setup_s {
  uint32_t kind; /* FRAME_SETUP */
  int32_t variant;
  char command[32];
  uint64_t n;
  jobs_task_t task;
};

#endif /* TASKFARM_KERNEL_SANDBOX_FRAME_H_ */
