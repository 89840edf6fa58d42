/* The small languages of the launch scripts, parsed in C so that they can
 * be fuzzed and unit-tested: a line of an mpiexec hostfile (tools/supervise)
 * and a --limit value of tools/uneven, RANK:PERCENT or the timeline
 * RANK:P1@T1,P2@T2,... The scripts call these through the tools/spec
 * command (tools/spec_main.c). Pure: no I/O, no allocation; every result is
 * a fixed-size struct filled by the caller's call.
 *
 * Grammar (blanks are space, tab, CR, VT and FF, as bash's [[:space:]]):
 *   hostfile line := blanks? (host (':' slots)? rest?)? ('#' comment)?
 *     The first word is the entry; what follows it on the line (hydra's
 *     options) is not looked at. slots is a decimal number 1..1000000;
 *     a word after ':' that is not a number counts as 1 slot (hydra's
 *     default). A host starting with '-' (ssh would read it as an option),
 *     an empty host before ':', control characters and NUL bytes are
 *     refused.
 *   limit := rank ':' percent | rank ':' percent '@' time (',' percent '@'
 *     time)*
 *     rank and percent are decimal digits (leading zeros allowed, read as
 *     decimal), rank 0..1000000 (the script checks it names a worker),
 *     percent 1..100; time is digits with an optional fraction ("2",
 *     "0.25", ".5", "3."), at most 1e9 seconds, strictly rising; at most
 *     SPEC_STEPS_MAX steps, the limit of taskfarm's --inject speed=
 *     timelines, which tools/uneven --fallback hands the same timeline. */
#ifndef TASKFARM_TOOLS_SPEC_H_
#define TASKFARM_TOOLS_SPEC_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  SPEC_EINVAL = -22,   /* the text is refused; err says why */
  SPEC_HOST_MAX = 256, /* bytes of a host name, with its NUL */
  SPEC_SLOTS_MAX = 1000000,
  SPEC_RANK_MAX = 1000000, /* taskfarm's --inject takes ranks up to this */
  SPEC_STEPS_MAX = 8,      /* steps of a timeline (CLI_SPEED_STEPS) */
  SPEC_TIME_CHARS = 24,    /* characters of a time, with its NUL */
};

/* One hostfile line. */
typedef struct spec_host_s spec_host_t;
struct spec_host_s {
  char host[SPEC_HOST_MAX]; /* "" for a blank or comment line */
  int slots;                /* processes it takes; 0 when host is "" */
};

/* Parses one hostfile line of len bytes (without its newline) into *out.
 * Returns 0, or SPEC_EINVAL with one sentence in err (size errlen). */
int spec_host_line(const char* line, size_t len, spec_host_t* out, char* err,
                   size_t errlen);

/* One --limit value. A plain RANK:PERCENT is one step at time 0. */
typedef struct spec_limit_s spec_limit_t;
struct spec_limit_s {
  int rank;     /* the worker it slows, 0..SPEC_RANK_MAX */
  int timeline; /* 1 when given as P@T steps, 0 for a plain PERCENT */
  int nsteps;   /* steps, 1..SPEC_STEPS_MAX */
  int pct[SPEC_STEPS_MAX];                       /* percent of a core, 1..100 */
  double at[SPEC_STEPS_MAX];                     /* from this second on */
  char at_text[SPEC_STEPS_MAX][SPEC_TIME_CHARS]; /* the time as given */
};

/* Parses a --limit value (NUL-terminated) into *out. Returns 0, or
 * SPEC_EINVAL with one sentence in err (size errlen). */
int spec_limit_parse(const char* text, spec_limit_t* out, char* err,
                     size_t errlen);

/* The percent of a core the rank starts at: its first step's when that
 * step is at time 0, else 100. */
int spec_limit_start(const spec_limit_t* l);

/* Writes into buf (cap bytes) the --inject value that slows the same rank
 * inside taskfarm instead (tools/uneven --fallback): RANK:speed=P@T,... for
 * a timeline, RANK:slow=F (F = 100 / PERCENT) for a plain percent below 100.
 * Returns its length, 0 (and "" in buf) when the limit needs none (a plain
 * 100), or SPEC_EINVAL when cap is too small. */
int spec_limit_inject(const spec_limit_t* l, char* buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_TOOLS_SPEC_H_ */
