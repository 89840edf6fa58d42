/* proto/log.h: one line per call, written with one fprintf so lines from
 * the ranks that mpiexec merges do not interleave mid-line. */
#include "proto/log.h"

#include <stdarg.h>
#include <stdio.h>

static int quiet;
static void (*hook)(void* ctx);
static void* hook_ctx;

void proto_log_set_quiet(int q) { quiet = q; }

void proto_log_set_hook(void (*before)(void* ctx), void* ctx) {
  hook = before;
  hook_ctx = ctx;
}

void proto_log(proto_log_level_t level, const char* fmt, ...) {
  if (level == PROTO_LOG_INFO && quiet) return;
  if (hook != NULL) hook(hook_ctx);
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  fprintf(stderr, "taskfarm: %s\n", line);
  fflush(stderr);
}
