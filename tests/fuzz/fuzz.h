/* What every fuzz harness here shares: the libFuzzer entry points and the
 * property check. A harness is built two ways from the same source: by
 * clang with -fsanitize=fuzzer (tools/fuzz), whose libFuzzer supplies
 * main(), and by Bazel with replay.c's main(), which runs every file of the
 * harness's seed corpus and regressions through it (tests/fuzz/BUILD). A
 * failed FUZZ_CHECK aborts either way: libFuzzer saves the input as a crash,
 * the replay test fails. */
#ifndef TASKFARM_TESTS_FUZZ_FUZZ_H_
#define TASKFARM_TESTS_FUZZ_FUZZ_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Runs one input; returns 0 (libFuzzer's contract). */
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/* Optional set-up before the first input; harnesses that need none do not
 * define it. */
int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

/* Prints the failed property with its place and aborts. */
__attribute__((noreturn)) static inline void fuzz_fail(const char* file,
                                                       int line,
                                                       const char* what) {
  fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
  abort();
}

/* A property of the code under test: it must hold for every input. */
#define FUZZ_CHECK(cond) \
  ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_TESTS_FUZZ_FUZZ_H_ */
