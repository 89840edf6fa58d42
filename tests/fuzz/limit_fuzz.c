/* tools/uneven's --limit parser (tools/spec.h, spec_limit_parse) on any
 * text (the input up to its first NUL). Properties: a refusal has a
 * sentence; an accepted limit keeps the grammar's bounds (rank 0..1e6, 1..8
 * steps, percents 1..100, times as given, parsed exactly, from 0 to 1e9 and
 * strictly rising; a plain percent is one step at 0); whatever it accepts,
 * the script's old regular expressions accepted too (the C parser only
 * tightens); and the --inject value it derives for --fallback is accepted
 * by taskfarm's own parser (cli_job_parse) as the same slowdown: the same
 * steps for a timeline, a factor of 100/PERCENT otherwise. */
#include <math.h>
#include <regex.h>
#include <string.h>

#include "cli/job.h"
#include "tests/fuzz/fuzz.h"
#include "tools/spec.h"

static regex_t plain, timeline;

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc, (void)argv;
  setenv("TASKFARM_FAULTS", "1", 1);
  /* tools/uneven's expressions before tools/spec. */
  if (regcomp(&plain, "^[0-9]+:[0-9]+$", REG_EXTENDED | REG_NOSUB) != 0 ||
      regcomp(&timeline, "^[0-9]+:[0-9]+@[0-9.]+(,[0-9]+@[0-9.]+)*$",
              REG_EXTENDED | REG_NOSUB) != 0)
    abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512) return 0;
  char* text = malloc(size + 1);
  if (text == NULL) abort();
  memcpy(text, data, size);
  text[size] = '\0';
  spec_limit_t l;
  char err[256];
  int rc = spec_limit_parse(text, &l, err, sizeof(err));
  FUZZ_CHECK(rc == 0 || rc == SPEC_EINVAL);
  if (rc != 0) {
    FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
    free(text);
    return 0;
  }
  FUZZ_CHECK(regexec(l.timeline ? &timeline : &plain, text, 0, NULL, 0) == 0);
  free(text);
  FUZZ_CHECK(l.rank >= 0 && l.rank <= SPEC_RANK_MAX);
  FUZZ_CHECK(l.nsteps >= 1 && l.nsteps <= SPEC_STEPS_MAX);
  if (!l.timeline) FUZZ_CHECK(l.nsteps == 1 && l.at[0] == 0);
  for (int k = 0; k < l.nsteps; k++) {
    FUZZ_CHECK(l.pct[k] >= 1 && l.pct[k] <= 100);
    FUZZ_CHECK(memchr(l.at_text[k], '\0', SPEC_TIME_CHARS) != NULL);
    FUZZ_CHECK(strtod(l.at_text[k], NULL) == l.at[k]);
    FUZZ_CHECK(l.at[k] >= 0 && l.at[k] <= 1e9);
    if (k > 0) FUZZ_CHECK(l.at[k] > l.at[k - 1]);
  }
  int start = spec_limit_start(&l);
  FUZZ_CHECK(start == (l.at[0] == 0 ? l.pct[0] : 100));

  char inject[512];
  int n = spec_limit_inject(&l, inject, sizeof(inject));
  FUZZ_CHECK(n >= 0 && (size_t)n == strlen(inject));
  if (n == 0) {
    FUZZ_CHECK(!l.timeline && l.pct[0] == 100);
    return 0;
  }
  if (l.rank < 1) return 0; /* the script refuses rank 0: not a worker */
  static cli_job_t job;
  char* argv[] = {"taskfarm", "pi", "--n", "1000000", "--inject", inject, NULL};
  char jerr[512];
  FUZZ_CHECK(cli_job_parse(&job, 6, argv, jerr, sizeof(jerr)) == 0);
  FUZZ_CHECK(job.nfaults == 1 && job.fault[0].rank == l.rank);
  const cli_fault_t* f = &job.fault[0];
  if (l.timeline) {
    FUZZ_CHECK(f->kind == CLI_FAULT_SPEED && f->nsteps == l.nsteps);
    for (int k = 0; k < l.nsteps; k++) {
      FUZZ_CHECK(f->step_pct[k] == l.pct[k]);
      FUZZ_CHECK(f->step_at[k] == l.at[k]);
    }
  } else {
    FUZZ_CHECK(f->kind == CLI_FAULT_SLOW);
    FUZZ_CHECK(fabs(f->factor - 100.0 / l.pct[0]) <= 1e-5 * f->factor);
  }
  return 0;
}
