/* The mandelbrot job's pixels: the iteration count of pixel i, and its
 * gray level in the image. Plain IEEE double arithmetic, no FMA (contraction
 * is off in every build), so every rank and path gives the same counts.
 * Pure computation. */
#ifndef TASKFARM_WORKER_MANDEL_H_
#define TASKFARM_WORKER_MANDEL_H_

#include <stdint.h>

#include "proto/job.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Iterations of z = z^2 + c, from z = 0, until |z|^2 > 4 or max_iter, at
 * the centre of pixel i = row * width + col (row 0 at the region's top). */
uint32_t mandel_pixel(const proto_job_t* job, uint64_t i);

/* The gray level of a count: 0 (black) inside the set, else
 * 255 * sqrt(count / max_iter), at least 1. */
uint8_t mandel_gray(uint32_t count, uint32_t max_iter);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_WORKER_MANDEL_H_ */
