/* The regression driver: runs every file named on the command line through
 * the harness it is linked with, once, in order, and prints how many it
 * ran. Bazel passes the files of tests/fuzz/corpus/NAME and
 * tests/fuzz/regressions/NAME; a harness's FUZZ_CHECK (or a sanitizer, in a
 * sanitizer build) aborts on the input that breaks it, and the test fails
 * naming it. No file at all is a failure too: a glob that matched nothing
 * must not pass for a run. */
#include <errno.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

/* The whole file at path into a malloc'ed buffer of exactly its size (so a
 * sanitizer build sees a read past the input); NULL on failure. */
static uint8_t* slurp(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return NULL;
  uint8_t* data = NULL;
  size_t len = 0;
  uint8_t chunk[65536];
  size_t got;
  while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    uint8_t* grown = realloc(data, len + got);
    if (grown == NULL) {
      free(data);
      fclose(f);
      return NULL;
    }
    data = grown;
    memcpy(data + len, chunk, got);
    len += got;
  }
  int failed = ferror(f);
  fclose(f);
  if (failed) {
    free(data);
    return NULL;
  }
  *size = len;
  return data != NULL ? data : malloc(1); /* an empty file is an input too */
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "replay: no input files given\n");
    return 1;
  }
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    size_t size = 0;
    uint8_t* data = slurp(argv[i], &size);
    if (data == NULL) {
      fprintf(stderr, "replay: cannot read %s: %s\n", argv[i], strerror(errno));
      return 1;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", argv[i], size);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
  }
  printf("replay: %d inputs, every property held\n", argc - 1);
  return 0;
}
