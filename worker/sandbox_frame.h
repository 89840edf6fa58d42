/* The frames the two sides of worker/sandbox.h exchange. Both sides are
 * the same binary on the same host, so a frame is the struct's bytes. */
#ifndef TASKFARM_WORKER_SANDBOX_FRAME_H_
#define TASKFARM_WORKER_SANDBOX_FRAME_H_

#include <stdint.h>

#include "proto/exact.h"
#include "worker/sandbox.h"

typedef enum {
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
  uint64_t scale;  /* COMPUTE: the loop job's work units per 1000 ns */
  uint64_t done;   /* PROGRESS */
  uint64_t busy_ns; /* RESULT */
  unsigned __int128 isum; /* RESULT */
  proto_exact_t fsum;     /* RESULT, normalised */
  char what[SANDBOX_WHAT]; /* RESULT with rc < 0 */
};

#endif /* TASKFARM_WORKER_SANDBOX_FRAME_H_ */
