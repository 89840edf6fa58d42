/* A user's kernel built against version 1 of taskfarm_kernel.h, the one
 * before options, result lines and hooks. It does not include today's
 * header: it carries that version's declarations, copied below, so its
 * descriptor ends at `close` as an old object's does. Right after the
 * descriptor lie bytes that are not zero: a reader that took them for the
 * newer fields (help, options, lines, ...) would find garbage there.
 *
 * ABI1_KERNEL_ABI (default 1) is the interface version it claims: built
 * with 99 (an interface this taskfarm does not know) or 0 (older than any)
 * it must be refused.
 *
 * Index i adds the double i/4 times --arg step (default 1), exact for any
 * n the tests use, and the integer i^3 (as hi, lo): over [0, n) the sums
 * are step n(n-1)/8 and (n(n-1)/2)^2, exactly. Chunks fall on multiples of
 * 4. Its init checks its own --arg list, as a version 1 kernel had to:
 * a key other than step, or a step that is not a whole number, is refused
 * with a sentence. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ABI1_KERNEL_ABI
#define ABI1_KERNEL_ABI 1
#endif

/* ---- version 1 of taskfarm_kernel.h ---- */
enum { V1_RESULT_FLOAT = 1, V1_RESULT_INT = 2 };

typedef struct v1_out_s v1_out_t;
struct v1_out_s {
  void* ctx;
  void (*add_double)(void* ctx, double v);
  void (*add_int)(void* ctx, int64_t v);
  void (*add_uint128)(void* ctx, uint64_t hi, uint64_t lo);
  void (*keep_alive)(void* ctx);
};

typedef struct v1_arg_s v1_arg_t;
struct v1_arg_s {
  const char* key;
  const char* value;
};

typedef struct v1_kernel_s v1_kernel_t;
struct v1_kernel_s {
  uint32_t abi;
  const char* name;
  uint32_t version;
  uint32_t result;
  uint64_t align;
  uint64_t n_max;
  int (*init)(void** state, uint64_t n, const v1_arg_t* args, int nargs,
              char* err, size_t errlen);
  int (*compute)(void* state, uint64_t begin, uint64_t end, const v1_out_t* out,
                 char* err, size_t errlen);
  void (*close)(void* state);
};
/* ---- end of version 1 ---- */

static int init(void** state, uint64_t n, const v1_arg_t* args, int nargs,
                char* err, size_t errlen) {
  (void)n;
  long long step = 1;
  for (int i = 0; i < nargs; i++) {
    if (strcmp(args[i].key, "step") != 0) {
      snprintf(err, errlen, "unknown argument '%s' (abi1 takes step=K)",
               args[i].key);
      return 1;
    }
    char* end;
    step = strtoll(args[i].value, &end, 10);
    if (end == args[i].value || *end != '\0' || step < 1 || step > 1000) {
      snprintf(err, errlen,
               "step takes a whole number from 1 to 1000, got "
               "'%s'",
               args[i].value);
      return 1;
    }
  }
  long long* s = malloc(sizeof(*s));
  if (s == NULL) {
    snprintf(err, errlen, "out of memory");
    return 1;
  }
  *s = step;
  *state = s;
  return 0;
}

static int compute(void* state, uint64_t begin, uint64_t end,
                   const v1_out_t* out, char* err, size_t errlen) {
  (void)err, (void)errlen;
  double step = (double)*(const long long*)state;
  for (uint64_t i = begin; i < end; i++) {
    out->add_double(out->ctx, (double)i * 0.25 * step);
    unsigned __int128 cube = (unsigned __int128)i * i * i;
    out->add_uint128(out->ctx, (uint64_t)(cube >> 64), (uint64_t)cube);
  }
  return 0;
}

static void close_state(void* state) { free(state); }

/* The descriptor, and after it what a version 2 reader must not read. */
static const struct {
  v1_kernel_t k;
  uintptr_t newer[12];
} kObject = {
    {
        .abi = ABI1_KERNEL_ABI,
        .name = "abi1",
        .version = 7,
        .result = V1_RESULT_FLOAT | V1_RESULT_INT,
        .align = 4,
        .n_max = 0, /* the default: 2^60 */
        .init = init,
        .compute = compute,
        .close = close_state,
    },
    {0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull,
     0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull,
     0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull,
     0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull},
};

const v1_kernel_t* taskfarm_kernel(void);
const v1_kernel_t* taskfarm_kernel(void) { return &kObject.k; }
