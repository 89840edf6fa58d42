/* worker/mandel.h. */
#include "worker/mandel.h"

#include <math.h>

uint32_t mandel_pixel(const proto_job_t* job, uint64_t i) {
  uint64_t row = i / job->width, col = i % job->width;
  double x0 = job->region[0], y0 = job->region[1];
  double x1 = job->region[2], y1 = job->region[3];
  double cr = x0 + ((double)col + 0.5) * ((x1 - x0) / (double)job->width);
  double ci = y1 - ((double)row + 0.5) * ((y1 - y0) / (double)job->height);
  double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
  uint32_t k = 0;
  while (k < job->max_iter && zr2 + zi2 <= 4.0) {
    zi = 2.0 * zr * zi + ci;
    zr = zr2 - zi2 + cr;
    zr2 = zr * zr;
    zi2 = zi * zi;
    k++;
  }
  return k;
}

uint8_t mandel_gray(uint32_t count, uint32_t max_iter) {
  if (count >= max_iter) return 0;
  double g = 255.0 * sqrt((double)count / (double)max_iter);
  return g < 1.0 ? 1 : (uint8_t)g;
}
