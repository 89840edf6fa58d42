/* The jobs the journal fuzzer opens journals for, shared with the seed
 * generator so that the seed journals are journals of these very jobs:
 * pi (chunks aligned to 1024), dot --n, loop, mandelbrot, and a dot of two
 * 8-element files A and B (whose identity enters the header, so its seeds
 * use the fuzzer's own header, mode bit 3). */
#ifndef TASKFARM_TESTS_FUZZ_JOURNAL_JOBS_H_
#define TASKFARM_TESTS_FUZZ_JOURNAL_JOBS_H_

#include <stdio.h>
#include <string.h>

#include "cli/job.h"

enum { JOURNAL_JOBS = 5, JOURNAL_JOB_DOTF = 4 };

/* argv of job k; "A" and "B" stand for the two vector files. */
static const char* const kJournalJobArgv[JOURNAL_JOBS][7] = {
    {"taskfarm", "pi", "--n", "1000000", NULL},
    {"taskfarm", "dot", "--n", "5000", NULL},
    {"taskfarm", "loop", "--n", "3000", "--cost", "exponential", NULL},
    {"taskfarm", "mandelbrot", "--size", "64x48", NULL},
    {"taskfarm", "dot", "--a", "A", "--b", "B", NULL},
};

/* Writes the two 8-element vector files into folder and makes the jobs,
 * parsed and resolved as every rank does. Returns 0, or -1 with a sentence
 * in err. */
static inline int journal_jobs_make(const char* folder,
                                    cli_job_t jobs[JOURNAL_JOBS], char* err,
                                    size_t errlen) {
  char a[128], b[128];
  snprintf(a, sizeof(a), "%s/a.f64", folder);
  snprintf(b, sizeof(b), "%s/b.f64", folder);
  static const double v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const char* files[2] = {a, b};
  for (int i = 0; i < 2; i++) {
    FILE* f = fopen(files[i], "wb");
    int ok = f != NULL && fwrite(v, sizeof(v), 1, f) == 1;
    if (f != NULL && fclose(f) != 0) ok = 0;
    if (!ok) {
      snprintf(err, errlen, "cannot write %s", files[i]);
      return -1;
    }
  }
  for (int k = 0; k < JOURNAL_JOBS; k++) {
    char* argv[8] = {0};
    int argc = 0;
    for (; kJournalJobArgv[k][argc] != NULL; argc++) {
      const char* arg = kJournalJobArgv[k][argc];
      argv[argc] = strcmp(arg, "A") == 0   ? a
                   : strcmp(arg, "B") == 0 ? b
                                           : (char*)arg;
    }
    char why[512];
    if (cli_job_parse(&jobs[k], argc, argv, why, sizeof(why)) != 0 ||
        cli_job_resolve(&jobs[k], 0, NULL, why, sizeof(why)) != 0) {
      snprintf(err, errlen, "job %d: %s", k, why);
      return -1;
    }
  }
  return 0;
}

#endif /* TASKFARM_TESTS_FUZZ_JOURNAL_JOBS_H_ */
