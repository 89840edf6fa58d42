/* jobs/lines.h. A field is {name} or {name:FMT}; FMT is what follows the %
 * of a printf conversion of a double: flags, width, precision and one of
 * f e g a (upper case too), checked before use so that no template can
 * make printf read what is not there. */
#include "jobs/lines.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

char* jobs_u128_str(unsigned __int128 v, char* buf) {
  char tmp[40];
  int len = 0;
  do {
    tmp[len++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v != 0);
  for (int i = 0; i < len; i++) buf[i] = tmp[len - 1 - i];
  buf[len] = '\0';
  return buf;
}

/* 1 when fmt (len bytes) is [-+ #0]*[0-9]*(.[0-9]*)?[fFeEgGaA]. */
static int double_format(const char* fmt, size_t len) {
  size_t i = 0;
  while (i < len && strchr("-+ #0", fmt[i]) != NULL) i++;
  size_t digits = 0;
  while (i < len && fmt[i] >= '0' && fmt[i] <= '9' && digits < 2) i++, digits++;
  if (i < len && fmt[i] == '.') {
    i++;
    digits = 0;
    while (i < len && fmt[i] >= '0' && fmt[i] <= '9' && digits < 2)
      i++, digits++;
  }
  return i + 1 == len && strchr("fFeEgGaA", fmt[i]) != NULL;
}

typedef enum {
  FIELD_FLOAT,
  FIELD_BITS,
  FIELD_INT,
  FIELD_UINT,
  FIELD_ERROR,
  FIELD_N,
  FIELD_CHUNKS,
  FIELD_OPTION,
  FIELD_UNKNOWN,
} field_t;

static field_t field_of(const char* name, size_t len) {
  static const struct {
    const char* name;
    field_t field;
  } kFields[] = {{"float", FIELD_FLOAT}, {"bits", FIELD_BITS},
                 {"int", FIELD_INT},     {"uint", FIELD_UINT},
                 {"error", FIELD_ERROR}, {"n", FIELD_N},
                 {"chunks", FIELD_CHUNKS}};
  for (size_t k = 0; k < sizeof(kFields) / sizeof(kFields[0]); k++)
    if (strlen(kFields[k].name) == len && strncmp(name, kFields[k].name, len) == 0)
      return kFields[k].field;
  if (len > 4 && strncmp(name, "opt:", 4) == 0) return FIELD_OPTION;
  return FIELD_UNKNOWN;
}

/* Walks tmpl; with r NULL only checks it. */
static int walk(const char* tmpl, const jobs_result_t* r, char* out,
                size_t len) {
  size_t at = 0;
#define PUT(...)                                                   \
  do {                                                             \
    int wrote = snprintf(out + at, at < len ? len - at : 0, __VA_ARGS__); \
    if (wrote > 0) at += (size_t)wrote;                            \
  } while (0)
  for (const char* p = tmpl; *p != '\0';) {
    if (*p != '{') {
      const char* brace = strchr(p, '{');
      size_t n = brace != NULL ? (size_t)(brace - p) : strlen(p);
      if (r != NULL) PUT("%.*s", (int)n, p);
      p += n;
      continue;
    }
    const char* close = strchr(p, '}');
    if (close == NULL) {
      snprintf(out, len, "a field opened with { is never closed: '%s'", tmpl);
      return -1;
    }
    const char* name = p + 1;
    size_t nlen = (size_t)(close - name);
    const char* colon = memchr(name, ':', nlen);
    field_t f = field_of(name, colon != NULL && strncmp(name, "opt:", 4) != 0
                                   ? (size_t)(colon - name)
                                   : nlen);
    const char* fmt = NULL;
    size_t flen = 0;
    if (f != FIELD_OPTION && colon != NULL) {
      fmt = colon + 1;
      flen = (size_t)(close - fmt);
      if ((f != FIELD_FLOAT && f != FIELD_ERROR) || !double_format(fmt, flen)) {
        snprintf(out, len, "field {%.*s} has no format '%.*s'",
                 (int)(colon - name), name, (int)flen, fmt);
        return -1;
      }
    }
    if (f == FIELD_UNKNOWN) {
      snprintf(out, len, "no field {%.*s} (fields: float, bits, int, uint, "
               "error, n, chunks, opt:NAME)",
               (int)nlen, name);
      return -1;
    }
    p = close + 1;
    if (r == NULL) continue;
    char conv[24];
    snprintf(conv, sizeof(conv), "%%%.*s", fmt != NULL ? (int)flen : 4,
             fmt != NULL ? fmt : ".17g");
    char digits[48];
    switch (f) {
      case FIELD_FLOAT:
        PUT(conv, r->value);
        break;
      case FIELD_ERROR:
        PUT(conv, r->has_reference ? fabs(r->value - r->reference) : NAN);
        break;
      case FIELD_BITS:
        PUT("%a", r->value);
        break;
      case FIELD_INT:
        if ((__int128)r->sum < 0)
          PUT("-%s", jobs_u128_str(-r->sum, digits));
        else
          PUT("%s", jobs_u128_str(r->sum, digits));
        break;
      case FIELD_UINT:
        PUT("%s", jobs_u128_str(r->sum, digits));
        break;
      case FIELD_N:
        PUT("%llu", (unsigned long long)r->n);
        break;
      case FIELD_CHUNKS:
        PUT("%llu", (unsigned long long)r->chunks);
        break;
      case FIELD_OPTION: {
        char key[64];
        snprintf(key, sizeof(key), "%.*s", (int)(nlen - 4), name + 4);
        const char* v = r->option != NULL ? r->option(r->ctx, key) : NULL;
        PUT("%s", v != NULL ? v : "");
        break;
      }
      case FIELD_UNKNOWN:
        break;
    }
  }
#undef PUT
  return 0;
}

int jobs_format_line(const char* tmpl, const jobs_result_t* r, char* out,
                     size_t len) {
  if (len > 0) out[0] = '\0';
  return walk(tmpl, r, out, len);
}

int jobs_check_line(const char* tmpl, char* why, size_t len) {
  return walk(tmpl, NULL, why, len);
}
