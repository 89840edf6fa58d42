/* base/log.h: one line per call, written with one fprintf so lines from
 * the ranks that mpiexec merges do not interleave mid-line. */
#include "base/log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int quiet;
static FILE* out;
static void (*hook)(void* ctx);
static void* hook_ctx;

void base_log_set_quiet(int q) { quiet = q; }

void base_log_set_hook(void (*before)(void* ctx), void* ctx) {
  hook = before;
  hook_ctx = ctx;
}

void base_log(base_log_level_t level, const char* fmt, ...) {
  if (level == BASE_LOG_INFO && quiet) return;
  if (hook != NULL) hook(hook_ctx);
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  fprintf(stderr, "taskfarm: %s\n", line);
  fflush(stderr);
}

int base_out_private(void) {
  if (out != NULL) return 0;
  fflush(stdout);
  int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return -1;
  FILE* f = fdopen(fd, "w");
  if (f == NULL || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    if (f != NULL)
      fclose(f);
    else
      close(fd);
    return -1;
  }
  out = f;
  return 0;
}

FILE* base_out(void) { return out != NULL ? out : stdout; }
