/* jobs/lines.h. A field is {name} or {name:FMT}; FMT is what follows the %
 * of a printf conversion of a double: flags, width, precision and one of
 * f e g a (upper case too), checked before use so that no template can
 * make printf read what is not there. */
#include "jobs/lines.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/text.h"

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

/* 1 when fmt (len bytes) is [-+ #0]{0,5}[0-9]{0,2}(.[0-9]{0,2})?[fFeEgGaA]:
 * at most 11 bytes, which put_field's conversion holds. */
static int double_format(const char* fmt, size_t len) {
  size_t i = 0;
  while (i < len && i < 5 && strchr("-+ #0", fmt[i]) != NULL) i++;
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
  FIELD_RANKS,
  FIELD_OPTION,
  FIELD_UNKNOWN,
} field_t;

static field_t field_of(const char* name, size_t len) {
  static const struct {
    const char* name;
    field_t field;
  } kFields[] = {{"float", FIELD_FLOAT},   {"bits", FIELD_BITS},
                 {"int", FIELD_INT},       {"uint", FIELD_UINT},
                 {"error", FIELD_ERROR},   {"n", FIELD_N},
                 {"chunks", FIELD_CHUNKS}, {"ranks", FIELD_RANKS}};
  for (size_t k = 0; k < sizeof(kFields) / sizeof(kFields[0]); k++)
    if (strlen(kFields[k].name) == len &&
        strncmp(name, kFields[k].name, len) == 0)
      return kFields[k].field;
  if (len > 4 && strncmp(name, "opt:", 4) == 0) return FIELD_OPTION;
  return FIELD_UNKNOWN;
}

/* One {field} of a template: the field, its name and its format. */
typedef struct {
  field_t field;
  const char* name; /* after the {, nlen bytes */
  size_t nlen;
  const char* fmt; /* after the :, flen bytes; NULL without a format */
  size_t flen;
} ref_t;

/* 1 when options (ended by a NULL name) has one called the len bytes at
 * name. */
static int declared(const taskfarm_option_t* options, const char* name,
                    size_t len) {
  for (const taskfarm_option_t* o = options; o->name != NULL; o++)
    if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return 1;
  return 0;
}

/* Reads the field between name and close into *ref; with options not
 * NULL, an {opt:NAME} must name one of them. Returns 0, or -1 with a
 * sentence in out (len bytes) when there is no such field or format. */
static int parse_field(const char* name, const char* close,
                       const taskfarm_option_t* options, ref_t* ref, char* out,
                       size_t len) {
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
    snprintf(out, len,
             "no field {%.*s} (fields: float, bits, int, uint, "
             "error, n, chunks, ranks, opt:NAME)",
             (int)nlen, name);
    return -1;
  }
  if (f == FIELD_OPTION && options != NULL &&
      !declared(options, name + 4, nlen - 4)) {
    snprintf(out, len, "field {%.*s} names no option the kernel declares",
             (int)nlen, name);
    return -1;
  }
  *ref = (ref_t){f, name, nlen, fmt, flen};
  return 0;
}

/* Appends the value of the field ref takes from r. */
static void put_field(const ref_t* ref, const jobs_result_t* r, char* out,
                      size_t len, size_t* at) {
  char conv[24];
  snprintf(conv, sizeof(conv), "%%%.*s", ref->fmt != NULL ? (int)ref->flen : 4,
           ref->fmt != NULL ? ref->fmt : ".17g");
  char digits[48];
  switch (ref->field) {
    case FIELD_FLOAT:
      base_appendf(out, len, at, conv, r->value);
      break;
    case FIELD_ERROR:
      base_appendf(out, len, at, conv,
                   r->has_reference ? fabs(r->value - r->reference) : NAN);
      break;
    case FIELD_BITS:
      base_appendf(out, len, at, "%a", r->value);
      break;
    case FIELD_INT:
      if ((__int128)r->sum < 0)
        base_appendf(out, len, at, "-%s", jobs_u128_str(-r->sum, digits));
      else
        base_appendf(out, len, at, "%s", jobs_u128_str(r->sum, digits));
      break;
    case FIELD_UINT:
      base_appendf(out, len, at, "%s", jobs_u128_str(r->sum, digits));
      break;
    case FIELD_N:
      base_appendf(out, len, at, "%llu", (unsigned long long)r->n);
      break;
    case FIELD_CHUNKS:
      base_appendf(out, len, at, "%llu", (unsigned long long)r->chunks);
      break;
    case FIELD_RANKS:
      base_appendf(out, len, at, "%llu", (unsigned long long)r->ranks);
      break;
    case FIELD_OPTION: {
      char key[64];
      snprintf(key, sizeof(key), "%.*s", (int)(ref->nlen - 4), ref->name + 4);
      const char* v = r->option != NULL ? r->option(r->ctx, key) : NULL;
      base_appendf(out, len, at, "%s", v != NULL ? v : "");
      break;
    }
    case FIELD_UNKNOWN:
      break;
  }
}

/* Walks tmpl; with r NULL only checks it (its {opt:NAME} against options,
 * when not NULL). */
static int walk(const char* tmpl, const jobs_result_t* r,
                const taskfarm_option_t* options, char* out, size_t len) {
  size_t at = 0;
  for (const char* p = tmpl; *p != '\0';) {
    if (*p != '{') {
      const char* brace = strchr(p, '{');
      size_t n = brace != NULL ? (size_t)(brace - p) : strlen(p);
      if (r != NULL) base_appendf(out, len, &at, "%.*s", (int)n, p);
      p += n;
      continue;
    }
    const char* close = strchr(p, '}');
    if (close == NULL) {
      snprintf(out, len, "a field opened with { is never closed: '%s'", tmpl);
      return -1;
    }
    ref_t ref;
    if (parse_field(p + 1, close, options, &ref, out, len) != 0) return -1;
    p = close + 1;
    if (r != NULL) put_field(&ref, r, out, len, &at);
  }
  return 0;
}

int jobs_format_line(const char* tmpl, const jobs_result_t* r, char* out,
                     size_t len) {
  if (len > 0) out[0] = '\0';
  return walk(tmpl, r, NULL, out, len);
}

int jobs_check_line(const char* tmpl, char* why, size_t len) {
  return walk(tmpl, NULL, NULL, why, len);
}

int jobs_check_line_of(const char* tmpl, const taskfarm_option_t* options,
                       char* why, size_t len) {
  return walk(tmpl, NULL, options, why, len);
}
