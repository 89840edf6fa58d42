/* --inject's faults: RANK:KIND[@WHEN] (cli/job.h, cli_fault_parse). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/job.h"
#include "proto/error.h"

/* RANK:KIND[@WHEN], see the usage text. */
int cli_fault_parse(const char* text, cli_fault_t* f) {
  memset(f, 0, sizeof(*f));
  char* end;
  long rank = strtol(text, &end, 10);
  if (end == text || *end != ':' || rank < 1 || rank > 1000000)
    return PROTO_EINVAL;
  f->rank = (int)rank;
  const char* kind = end + 1;
  const char* at = strchr(kind, '@');
  size_t klen = at ? (size_t)(at - kind) : strlen(kind);
  if (klen == 4 && strncmp(kind, "exit", 4) == 0) {
    f->kind = CLI_FAULT_EXIT;
  } else if (klen == 5 && strncmp(kind, "abort", 5) == 0) {
    f->kind = CLI_FAULT_ABORT;
  } else if (klen == 6 && strncmp(kind, "freeze", 6) == 0) {
    f->kind = CLI_FAULT_FREEZE;
  } else if (strncmp(kind, "speed=", 6) == 0) {
    /* speed=P@T,P@T,...: the whole rest is the timeline, no WHEN. */
    f->kind = CLI_FAULT_SPEED;
    const char* at = kind + 6;
    for (;;) {
      if (f->nsteps == CLI_SPEED_STEPS) return PROTO_EINVAL;
      errno = 0;
      double pct = strtod(at, &end);
      if (end == at || *end != '@' || errno != 0 || !(pct >= 1) ||
          !(pct <= 100))
        return PROTO_EINVAL;
      at = end + 1;
      double t = strtod(at, &end);
      if (end == at || errno != 0 || !(t >= 0) || t > CLI_SECONDS_MAX ||
          (f->nsteps > 0 && !(t > f->step_at[f->nsteps - 1])))
        return PROTO_EINVAL;
      f->step_pct[f->nsteps] = pct;
      f->step_at[f->nsteps] = t;
      f->nsteps++;
      if (*end == '\0') return 0;
      if (*end != ',') return PROTO_EINVAL;
      at = end + 1;
    }
  } else if (klen > 8 && strncmp(kind, "corrupt=", 8) == 0) {
    f->kind = CLI_FAULT_CORRUPT;
    errno = 0;
    f->factor = strtod(kind + 8, &end);
    if (end != kind + klen || errno != 0 || !(f->factor > 0) || f->factor > 1)
      return PROTO_EINVAL;
  } else if (klen > 5 && strncmp(kind, "slow=", 5) == 0) {
    f->kind = CLI_FAULT_SLOW;
    errno = 0;
    f->factor = strtod(kind + 5, &end);
    if (end != kind + klen || errno != 0 || !(f->factor > 1) || f->factor > 1e6)
      return PROTO_EINVAL;
  } else {
    return PROTO_EINVAL;
  }
  if (at == NULL) return 0;
  const char* when = at + 1;
  size_t wlen = strlen(when);
  if (wlen < 2 || !(when[0] >= '0' && when[0] <= '9')) return PROTO_EINVAL;
  errno = 0;
  if (when[wlen - 1] == 'c') {
    unsigned long long c = strtoull(when, &end, 10);
    if (end != when + wlen - 1 || errno != 0) return PROTO_EINVAL;
    f->after_chunks = c;
  } else if (when[wlen - 1] == 's') {
    f->after_seconds = strtod(when, &end);
    if (end != when + wlen - 1 || errno != 0 || !(f->after_seconds >= 0) ||
        f->after_seconds > CLI_SECONDS_MAX)
      return PROTO_EINVAL;
  } else {
    return PROTO_EINVAL;
  }
  return 0;
}
