/* Which x86-64 level this CPU runs: the kernels with a path per level
 * (pi's grains, the exact dot products) take the best one it supports, or
 * the one TASKFARM_PI_PATH names (sse2, avx2, avx512), so that a test or a
 * benchmark can compare paths on one machine. Every path gives the same
 * bits; only the speed differs. */
#ifndef TASKFARM_BASE_ISA_H_
#define TASKFARM_BASE_ISA_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  BASE_ISA_SSE2 = 0,   /* x86-64 baseline */
  BASE_ISA_AVX2 = 1,   /* x86-64-v3 */
  BASE_ISA_AVX512 = 2, /* x86-64-v4 */
  BASE_ISA_PATHS = 3,
} base_isa_t;

/* 1 when this CPU can run path. */
int base_isa_supported(base_isa_t path);

/* The path in use: the best supported one, or TASKFARM_PI_PATH's when it
 * names one this CPU has (chosen once). */
base_isa_t base_isa(void);

/* The name of path ("avx2"), static. */
const char* base_isa_name(base_isa_t path);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_BASE_ISA_H_ */
