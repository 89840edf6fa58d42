/* An example kernel for taskfarm: zeta(p) = sum_{i>=1} 1/i^p, truncated at
 * n terms, and the exact integer sum_{i<n} i^2 = (n-1)n(2n-1)/6 beside it.
 *
 *   gcc -O2 -shared -fPIC -I worker -o libzeta.so examples/zeta.c
 *   mpiexec.mpich -n 3 bazel-bin/taskfarm run --kernel ./libzeta.so \
 *       --n 1e8 --arg power=2
 *
 * Each index adds its own term, so any cut of [0, n) into chunks adds the
 * same values: the farm's exact accumulator makes the result the same bits
 * for every rank count and schedule. --arg fail_at=K makes every chunk
 * holding index K fail (for trying what the farm does with a failing
 * kernel). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskfarm_kernel.h"

#ifndef ZETA_VERSION
#define ZETA_VERSION 1
#endif

typedef struct zeta_s {
  int power;
  long long fail_at; /* -1: never */
} zeta_t;

static int zeta_init(void** state, uint64_t n, const taskfarm_arg_t* args,
                     int nargs, char* err, size_t errlen) {
  (void)n;
  zeta_t* z = malloc(sizeof(*z));
  if (z == NULL) {
    snprintf(err, errlen, "out of memory");
    return 1;
  }
  z->power = 2;
  z->fail_at = -1;
  for (int i = 0; i < nargs; i++) {
    char* end;
    if (strcmp(args[i].key, "power") == 0) {
      long p = strtol(args[i].value, &end, 10);
      if (*end != '\0' || p < 1 || p > 16) {
        snprintf(err, errlen,
                 "power must be a whole number from 1 to 16, "
                 "got '%s'",
                 args[i].value);
        free(z);
        return 1;
      }
      z->power = (int)p;
    } else if (strcmp(args[i].key, "fail_at") == 0) {
      z->fail_at = strtoll(args[i].value, &end, 10);
    } else {
      snprintf(err, errlen,
               "unknown argument '%s' (this kernel takes power "
               "and fail_at)",
               args[i].key);
      free(z);
      return 1;
    }
  }
  *state = z;
  return 0;
}

static int zeta_compute(void* state, uint64_t begin, uint64_t end,
                        const taskfarm_out_t* out, char* err, size_t errlen) {
  const zeta_t* z = state;
  if (z->fail_at >= 0 && (uint64_t)z->fail_at >= begin &&
      (uint64_t)z->fail_at < end) {
    snprintf(err, errlen, "index %lld is where this kernel was told to fail",
             z->fail_at);
    return 1;
  }
  for (uint64_t i = begin; i < end; i++) {
    double x = (double)(i + 1);
    out->add_double(out->ctx, 1.0 / pow(x, z->power));
    unsigned __int128 sq = (unsigned __int128)i * i;
    out->add_uint128(out->ctx, (uint64_t)(sq >> 64), (uint64_t)sq);
  }
  return 0;
}

static void zeta_close(void* state) { free(state); }

static const taskfarm_kernel_t kZeta = {
    .abi = TASKFARM_KERNEL_ABI,
    .name = "zeta",
    .version = ZETA_VERSION,
    .result = TASKFARM_RESULT_FLOAT | TASKFARM_RESULT_INT,
    .align = 1,
    .n_max = (uint64_t)1 << 40, /* i^2 summed stays below 2^128 */
    .init = zeta_init,
    .compute = zeta_compute,
    .close = zeta_close,
};

const taskfarm_kernel_t* taskfarm_kernel(void) { return &kZeta; }
