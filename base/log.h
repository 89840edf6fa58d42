/* The one logging function. Every line a rank prints for the user goes
 * through base_log(), which prefixes "taskfarm: ", decides what --quiet
 * hides (INFO lines) and lets the master clear its progress line first.
 * Library modules (chunks, schedule, journal, farm) never print: they
 * return errors, or hand lines to their caller. */
#ifndef TASKFARM_BASE_LOG_H_
#define TASKFARM_BASE_LOG_H_

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  BASE_LOG_INFO = 0, /* how the run goes: hidden by --quiet */
  BASE_LOG_WARN = 1, /* what the user must hear of: always shown */
} base_log_level_t;

/* Hides INFO lines from now on when quiet is non-zero. */
void base_log_set_quiet(int quiet);

/* Calls before(ctx) ahead of every line printed (the master clears its
 * progress line there); NULL for none. */
void base_log_set_hook(void (*before)(void* ctx), void* ctx);

/* Keeps standard output for result lines alone: the process's stdout is
 * duplicated into the stream base_out() returns, and descriptor 1 then
 * points at stderr, so whatever a library prints on stdout (UCX does) lands
 * on stderr. Call once, early, before any library prints. Returns 0, or -1
 * (stdout is then left as it was). */
int base_out_private(void);

/* The stream for result lines: stdout, or its private copy. */
FILE* base_out(void);

/* Prints "taskfarm: <text>\n" on stderr unless level is hidden. */
void base_log(base_log_level_t level, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_BASE_LOG_H_ */
