/* base/isa.h. */
#include "base/isa.h"

#include <stdlib.h>
#include <string.h>

int base_isa_supported(base_isa_t path) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  switch (path) {
    case BASE_ISA_SSE2:
      return 1;
    case BASE_ISA_AVX2:
      /* x86-64-v3, feature by feature: clang 14 knows no level names. */
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("bmi2");
    case BASE_ISA_AVX512:
      /* x86-64-v4 */
      return base_isa_supported(BASE_ISA_AVX2) &&
             __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
    case BASE_ISA_PATHS:
      break;
  }
#else
  (void)path;
#endif
  return 0;
}

const char* base_isa_name(base_isa_t path) {
  static const char* const names[] = {"sse2", "avx2", "avx512"};
  return (unsigned)path < BASE_ISA_PATHS ? names[path] : "?";
}

base_isa_t base_isa(void) {
  static int chosen = -1;
  if (chosen >= 0) return (base_isa_t)chosen;
  const char* want = getenv("TASKFARM_PI_PATH");
  for (int p = BASE_ISA_PATHS - 1; p >= 0 && chosen < 0; p--)
    if (base_isa_supported((base_isa_t)p) &&
        (want == NULL || strcmp(want, base_isa_name((base_isa_t)p)) == 0))
      chosen = p;
  if (chosen < 0) chosen = BASE_ISA_SSE2; /* named a path this CPU lacks */
  return (base_isa_t)chosen;
}
