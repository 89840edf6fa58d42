/* An example kernel for taskfarm: zeta(p) = sum_{i>=1} 1/i^p, truncated at
 * n terms, and the exact integer sum_{i<n} i^2 = (n-1)n(2n-1)/6 beside it.
 *
 *   cc -O2 -shared -fPIC $(pkg-config --cflags taskfarm) -o libzeta.so zeta.c
 *   mpiexec.mpich -n 3 taskfarm run --kernel ./libzeta.so --n 1e8 \
 *       --arg power=2
 *   taskfarm run --kernel ./libzeta.so --help      (its options)
 *
 * (In the source tree: -I jobs instead of the pkg-config call.)
 *
 * Each index adds its own term, so any cut of [0, n) into chunks adds the
 * same values: the farm's exact accumulator makes the result the same bits
 * for every rank count and schedule. It declares its options: the farm
 * checks --arg power=P against its type and range before any rank starts,
 * lists them in --help, and passes every one to init, defaults filled in.
 * --arg fail_at=K makes every chunk holding index K fail (for trying what
 * the farm does with a failing kernel). */
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
  /* The farm checked both against their declarations below. */
  z->power = (int)taskfarm_arg_integer(args, nargs, "power", 2);
  z->fail_at = taskfarm_arg_integer(args, nargs, "fail_at", -1);
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

/* The value zeta(p) tends to, for p = 2 and 4 (Euler). */
static int zeta_reference(uint64_t n, const taskfarm_arg_t* args, int nargs,
                          taskfarm_reference_t* ref) {
  (void)n;
  const double pi = 3.141592653589793;
  int64_t p = taskfarm_arg_integer(args, nargs, "power", 2);
  if (p != 2 && p != 4) return 1;
  ref->value = p == 2 ? pi * pi / 6 : pi * pi * pi * pi / 90;
  ref->what = p == 2 ? "zeta(2) = pi^2/6" : "zeta(4) = pi^4/90";
  return 0;
}

static const taskfarm_option_t kOptions[] = {
    {"power", TASKFARM_OPT_INTEGER, "P", "the exponent p of zeta(p)", "2", 1,
     16, NULL},
    {"fail_at", TASKFARM_OPT_INTEGER, "K",
     "fail every chunk that holds index K (to try the farm's handling)", NULL,
     0, 9.2e18, NULL},
    {NULL}};

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
    .help = "zeta(p) = sum 1/i^p over the first n terms, and beside it the\n"
            "exact integer sum of i^2 for i < n, (n-1)n(2n-1)/6.\n",
    .options = kOptions,
    .n_what = "terms",
    .reference = zeta_reference,
};

const taskfarm_kernel_t* taskfarm_kernel(void) { return &kZeta; }
