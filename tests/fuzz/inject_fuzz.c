/* --inject's parser (RANK:KIND[@WHEN] and the speed=P@T,... timelines),
 * through the public cli_job_parse: the input, up to its first NUL, is
 * the value of one --inject of "pi --n 1e6". Properties: an accepted fault
 * keeps the limits of the usage text (rank 1..1e6; slow's factor in
 * (1, 1e6]; corrupt's fraction in (0, 1]; a timeline of 1..8 steps,
 * percents 1..100, times from 0 to 1e9 strictly rising; WHEN at most 1e9 s), a
 * refused one adds no fault, and an accepted fault written back in canonical
 * form (%.17g) parses to the same fault. */
#include <math.h>
#include <string.h>

#include "cli/job.h"
#include "jobs/jobs.h"
#include "proto/error.h"
#include "tests/fuzz/fault_checks.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc, (void)argv;
  setenv("TASKFARM_FAULTS", "1", 1);
  /* Without the pi job every value would be refused and nothing checked
   * (a build that links jobs/ from an archive has an empty job table). */
  if (jobs_find("pi") == NULL) {
    fprintf(stderr, "inject_fuzz: no job pi: link jobs/*.o whole\n");
    abort();
  }
  return 0;
}

static int parse_inject(const char* value, cli_job_t* job) {
  char* argv[] = {"taskfarm", "pi",         "--n", "1000000",
                  "--inject", (char*)value, NULL};
  char err[512];
  int rc = cli_job_parse(job, 6, argv, err, sizeof(err));
  if (rc < 0) FUZZ_CHECK(err[0] != '\0');
  return rc;
}

/* The fault in canonical form, or "" for a kind this harness does not
 * know (kinds may be added). */
static void canonical(const cli_fault_t* f, char* out, size_t cap) {
  int n = 0;
  switch (f->kind) {
    case CLI_FAULT_EXIT:
      n = snprintf(out, cap, "%d:exit", f->rank);
      break;
    case CLI_FAULT_ABORT:
      n = snprintf(out, cap, "%d:abort", f->rank);
      break;
    case CLI_FAULT_FREEZE:
      n = snprintf(out, cap, "%d:freeze", f->rank);
      break;
    case CLI_FAULT_SLOW:
      n = snprintf(out, cap, "%d:slow=%.17g", f->rank, f->factor);
      break;
    case CLI_FAULT_CORRUPT:
      n = snprintf(out, cap, "%d:corrupt=%.17g", f->rank, f->factor);
      break;
    case CLI_FAULT_SPEED:
      n = snprintf(out, cap, "%d:speed=", f->rank);
      for (int k = 0; k < f->nsteps; k++)
        n += snprintf(out + n, cap - (size_t)n, "%s%.17g@%.17g", k ? "," : "",
                      f->step_pct[k], f->step_at[k]);
      return; /* a timeline takes no WHEN */
    default:
      out[0] = '\0';
      return;
  }
  if (f->after_chunks > 0)
    snprintf(out + n, cap - (size_t)n, "@%lluc",
             (unsigned long long)f->after_chunks);
  else if (f->after_seconds > 0)
    snprintf(out + n, cap - (size_t)n, "@%.17gs", f->after_seconds);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1024) return 0;
  char value[1025];
  memcpy(value, data, size);
  value[size] = '\0';
  static cli_job_t job, again;
  int rc = parse_inject(value, &job);
  if (job.help) return 0; /* "-h" or "--help" as the value asks for help */
  if (rc < 0) {
    FUZZ_CHECK(job.nfaults == 0);
    return 0;
  }
  FUZZ_CHECK(job.nfaults == 1);
  const cli_fault_t* f = &job.fault[0];
  fuzz_check_fault(f);

  char text[1024];
  canonical(f, text, sizeof(text));
  if (text[0] == '\0') return 0;
  FUZZ_CHECK(parse_inject(text, &again) == 0);
  FUZZ_CHECK(again.nfaults == 1);
  FUZZ_CHECK(memcmp(&again.fault[0], f, sizeof(*f)) == 0);
  return 0;
}
