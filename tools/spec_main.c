/* tools/spec: the launch scripts' parsers (spec.h) as a command, so that
 * tools/supervise and tools/uneven judge a hostfile and a --limit value with
 * the same C code the fuzzers and unit tests exercise.
 *
 *   spec hosts < HOSTFILE   one output line per input line (split on
 *                           newlines as bash's mapfile does): "HOST SLOTS",
 *                           or an empty line when the line names no host
 *   spec limit VALUE        "rank R", "start P" (its percent at launch),
 *                           "event T P" for each later step, and
 *                           "inject V" when taskfarm's --inject V slows the
 *                           rank the same way (for --fallback)
 *
 * Exit status 0; 1 with one sentence on stderr when the input is refused
 * (for hosts, "line N: ..."); 2 for a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/spec.h"

static int hosts(void) {
  char* line = NULL;
  size_t size = 0;
  ssize_t got;
  long number = 0;
  int rc = 0;
  while ((got = getline(&line, &size, stdin)) > 0) {
    number++;
    size_t len = (size_t)got;
    if (line[len - 1] == '\n') len--;
    spec_host_t h;
    char err[256];
    if (spec_host_line(line, len, &h, err, sizeof(err)) < 0) {
      fprintf(stderr, "line %ld: %s\n", number, err);
      rc = 1;
      break;
    }
    if (h.host[0] != '\0')
      printf("%s %d\n", h.host, h.slots);
    else
      printf("\n");
  }
  free(line);
  if (fflush(stdout) != 0) rc = 1;
  return rc;
}

static int limit(const char* value) {
  spec_limit_t l;
  char err[256];
  if (spec_limit_parse(value, &l, err, sizeof(err)) < 0) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  printf("rank %d\nstart %d\n", l.rank, spec_limit_start(&l));
  for (int k = 0; k < l.nsteps; k++)
    if (l.at[k] > 0) printf("event %s %d\n", l.at_text[k], l.pct[k]);
  char inject[SPEC_STEPS_MAX * (SPEC_TIME_CHARS + 8) + 32];
  int n = spec_limit_inject(&l, inject, sizeof(inject));
  if (n < 0) {
    fprintf(stderr, "--limit %d: no --inject value fits\n", l.rank);
    return 1;
  }
  if (n > 0) printf("inject %s\n", inject);
  return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "hosts") == 0) return hosts();
  if (argc == 3 && strcmp(argv[1], "limit") == 0) return limit(argv[2]);
  fprintf(stderr, "usage: spec hosts < HOSTFILE | spec limit VALUE\n");
  return 2;
}
