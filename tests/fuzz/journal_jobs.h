/* The jobs the journal fuzzer opens journals for, shared with the seed
 * generator so that the seed journals are journals of these very jobs:
 * pi (chunks aligned to 1024), dot --n, loop, mandelbrot, and a dot of two
 * 8-element files A and B (whose identity enters the header, so its seeds
 * use the fuzzer's own header, mode bit 3). */
#ifndef TASKFARM_TESTS_FUZZ_JOURNAL_JOBS_H_
#define TASKFARM_TESTS_FUZZ_JOURNAL_JOBS_H_

enum { JOURNAL_JOBS = 5, JOURNAL_JOB_DOTF = 4 };

/* argv of job k; "A" and "B" stand for the two vector files. */
static const char* const kJournalJobArgv[JOURNAL_JOBS][7] = {
    {"taskfarm", "pi", "--n", "1000000", NULL},
    {"taskfarm", "dot", "--n", "5000", NULL},
    {"taskfarm", "loop", "--n", "3000", "--cost", "exponential", NULL},
    {"taskfarm", "mandelbrot", "--size", "64x48", NULL},
    {"taskfarm", "dot", "--a", "A", "--b", "B", NULL},
};

#endif /* TASKFARM_TESTS_FUZZ_JOURNAL_JOBS_H_ */
