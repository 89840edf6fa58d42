/* The one logging function. Every line a rank prints for the user goes
 * through proto_log(), which prefixes "taskfarm: ", decides what --quiet
 * hides (INFO lines) and lets the master clear its progress line first.
 * Library modules (chunks, schedule, journal, farm) never print: they
 * return errors, or hand lines to their caller. */
#ifndef TASKFARM_PROTO_LOG_H_
#define TASKFARM_PROTO_LOG_H_

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  PROTO_LOG_INFO = 0, /* how the run goes: hidden by --quiet */
  PROTO_LOG_WARN = 1, /* what the user must hear of: always shown */
} proto_log_level_t;

/* Hides INFO lines from now on when quiet is non-zero. */
void proto_log_set_quiet(int quiet);

/* Calls before(ctx) ahead of every line printed (the master clears its
 * progress line there); NULL for none. */
void proto_log_set_hook(void (*before)(void* ctx), void* ctx);

/* Keeps standard output for result lines alone: the process's stdout is
 * duplicated into the stream proto_out() returns, and descriptor 1 then
 * points at stderr, so whatever a library prints on stdout (UCX does) lands
 * on stderr. Call once, early, before any library prints. Returns 0, or -1
 * (stdout is then left as it was). */
int proto_out_private(void);

/* The stream for result lines: stdout, or its private copy. */
FILE* proto_out(void);

/* Prints "taskfarm: <text>\n" on stderr unless level is hidden. */
void proto_log(proto_log_level_t level, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_PROTO_LOG_H_ */
