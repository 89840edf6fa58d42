/* base/text.h. */
#include "base/text.h"

#include <stdarg.h>
#include <stdio.h>

void base_appendf(char* buf, size_t len, size_t* at, const char* fmt, ...) {
  if (*at >= len) return;
  va_list ap;
  va_start(ap, fmt);
  int wrote = vsnprintf(buf + *at, len - *at, fmt, ap);
  va_end(ap);
  if (wrote > 0) *at += (size_t)wrote;
}
