/* The limits an accepted --inject fault keeps, checked by the fuzzers
 * that parse faults: inject (one value) and job_parse (a command line). */
#ifndef TASKFARM_TESTS_FUZZ_FAULT_CHECKS_H_
#define TASKFARM_TESTS_FUZZ_FAULT_CHECKS_H_

#include "cli/job.h"
#include "tests/fuzz/fuzz.h"

/* Rank, kind, WHEN, a slowdown's factor, a corruption's fraction, a speed
 * timeline's steps (and no steps for any other kind). Kinds may be added:
 * the checks leave ones they do not know alone. */
static inline void fuzz_check_fault(const cli_fault_t* f) {
  FUZZ_CHECK(f->rank >= 1 && f->rank <= 1000000);
  FUZZ_CHECK(f->kind >= CLI_FAULT_EXIT);
  FUZZ_CHECK(f->after_seconds >= 0 && f->after_seconds <= CLI_SECONDS_MAX);
  if (f->kind == CLI_FAULT_SLOW)
    FUZZ_CHECK(f->factor > 1 && f->factor <= 1e6);
  if (f->kind == CLI_FAULT_CORRUPT)
    FUZZ_CHECK(f->factor > 0 && f->factor <= 1);
  if (f->kind == CLI_FAULT_SPEED) {
    FUZZ_CHECK(f->nsteps >= 1 && f->nsteps <= CLI_SPEED_STEPS);
    for (int k = 0; k < f->nsteps; k++) {
      FUZZ_CHECK(f->step_pct[k] >= 1 && f->step_pct[k] <= 100);
      FUZZ_CHECK(f->step_at[k] >= 0 && f->step_at[k] <= CLI_SECONDS_MAX);
      if (k > 0) FUZZ_CHECK(f->step_at[k] > f->step_at[k - 1]);
    }
  } else {
    FUZZ_CHECK(f->nsteps == 0);
  }
}

#endif /* TASKFARM_TESTS_FUZZ_FAULT_CHECKS_H_ */
