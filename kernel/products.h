/* The exact dot product of two arrays of doubles, added into an exact
 * accumulator: what a kernel's out->add_products does (the file dot
 * product's blocks, and any user kernel's). A fast path per x86-64 level
 * sums the products in error-free expansions when no product is near the
 * ends of the double range; a block where one is takes the exact path,
 * every product split without rounding. Both give the same bits. */
#ifndef TASKFARM_KERNEL_PRODUCTS_H_
#define TASKFARM_KERNEL_PRODUCTS_H_

#include <stddef.h>
#include <stdint.h>

#include "proto/exact.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  KERNEL_DOT_LANES = 8,                       /* kernel/dot_fast.c */
  KERNEL_DOT_FAST_OUT = 4 * KERNEL_DOT_LANES, /* doubles it writes */
  KERNEL_PRODUCTS_BLOCK = 8192, /* pairs summed by one path at a time */
};

/* How many blocks took each path (for tests and benchmarks). */
typedef struct kernel_products_s kernel_products_t;
struct kernel_products_s {
  uint64_t fast;
  uint64_t exact;
};

/* Adds sum a[i] * b[i], i < count, exactly to fsum; counts the blocks in
 * paths (may be NULL). Infinities and NaN count as IEEE says. */
void kernel_products_add(proto_exact_t* fsum, const double* a,
                         const double* b, size_t count,
                         kernel_products_t* paths);

/* The fast path for one block: 1 with the 32 lane values in out (their
 * exact sum is the exact dot product of the first count / 8 * 8 pairs),
 * or 0 when the block needs the exact path. One symbol per level, the
 * same bits on each; kernel_dot_fast uses base_isa()'s. */
int kernel_dot_fast(const double* a, const double* b, size_t count,
                    double* out);
int kernel_dot_fast_sse2(const double* a, const double* b, size_t count,
                         double* out);
int kernel_dot_fast_avx2(const double* a, const double* b, size_t count,
                         double* out);
int kernel_dot_fast_avx512(const double* a, const double* b, size_t count,
                           double* out);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_KERNEL_PRODUCTS_H_ */
