/* A kernel's declared options: values checked against their types and
 * ranges and written in one canonical form, and their help. Also the count
 * syntax every count of the command line uses (jobs/options.h). */
#include "jobs/options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "proto/error.h"

int jobs_parse_count(const char* text, uint64_t max, uint64_t* out) {
  const char* p = text;
  if (*p == '\0') return PROTO_EINVAL;
  /* Collect the significant digits and the decimal exponent they carry. */
  char digits[64];
  int ndigits = 0, seen_digit = 0;
  long exp10 = 0;
  /* Zeros after the first significant digit wait here until a non-zero
   * digit follows; trailing ones ("1.000...0") never take a place. */
  long zeros = 0;
  int point = 0;
  for (;; p++) {
    if (*p == '.' && !point) {
      point = 1;
      continue;
    }
    if (!(*p >= '0' && *p <= '9')) break;
    seen_digit = 1;
    if (point) exp10--;
    if (*p == '0') {
      if (ndigits > 0) zeros++;
      continue;
    }
    if (ndigits + zeros + 1 > (long)sizeof(digits)) return PROTO_ERANGE;
    for (; zeros > 0; zeros--) digits[ndigits++] = '0';
    digits[ndigits++] = *p;
  }
  exp10 += zeros;
  if (!seen_digit) return PROTO_EINVAL;
  if (*p == 'e' || *p == 'E') {
    p++;
    int eneg = 0;
    if (*p == '+' || *p == '-') eneg = *p++ == '-';
    if (!(*p >= '0' && *p <= '9')) return PROTO_EINVAL;
    long e = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
      if (e > 100000) return PROTO_ERANGE;
      e = e * 10 + (*p - '0');
    }
    exp10 += eneg ? -e : e;
  }
  if (*p != '\0') return PROTO_EINVAL;
  /* Digits below the decimal point must all be zero for a whole number. */
  while (exp10 < 0 && ndigits > 0) {
    if (digits[ndigits - 1] != '0') return PROTO_EINVAL;
    ndigits--;
    exp10++;
  }
  if (ndigits == 0) {
    *out = 0;
    return 0;
  }
  uint64_t v = 0;
  for (int i = 0; i < ndigits; i++) {
    uint64_t d = (uint64_t)(digits[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return PROTO_ERANGE;
    v = v * 10 + d;
  }
  for (long i = 0; i < exp10; i++) {
    if (v > UINT64_MAX / 10) return PROTO_ERANGE;
    v *= 10;
  }
  if (v > max) return PROTO_ERANGE;
  *out = v;
  return 0;
}

static int ranged(const taskfarm_option_t* o) {
  return !(o->min == 0 && o->max == 0);
}

/* x as a whole number of [type_lo, type_hi], rounded up (a lower bound)
 * or down (an upper one); end and beyond stand for the type's ends. */
static __int128 whole(double x, int up, double end, __int128 type_lo,
                      __int128 type_hi) {
  if (!(x < end)) return type_hi;
  if (!(x > -end)) return type_lo;
  __int128 w = (__int128)(up ? ceil(x) : floor(x));
  return w < type_lo ? type_lo : w > type_hi ? type_hi : w;
}

jobs_whole_range_t jobs_whole_range(const taskfarm_option_t* o) {
  int count = o->type == TASKFARM_OPT_COUNT;
  double end = count ? 1.8e19 : 9.2e18;
  __int128 type_lo = count ? 0 : INT64_MIN;
  __int128 type_hi = count ? (__int128)UINT64_MAX : INT64_MAX;
  jobs_whole_range_t r = {type_lo, type_hi};
  if (ranged(o)) {
    r.lo = whole(o->min, 1, end, type_lo, type_hi);
    r.hi = whole(o->max, 0, end, type_lo, type_hi);
  }
  return r;
}

/* "from MIN to MAX" or "" for an option of any value (or of a type that
 * takes no range); whole numbers as jobs_whole_range has them, which is
 * what the checks take. */
static void range_text(const taskfarm_option_t* o, char* buf, size_t len) {
  if (len > 0) buf[0] = '\0';
  if (!ranged(o)) return;
  if (o->type == TASKFARM_OPT_REAL) {
    snprintf(buf, len, " from %.17g to %.17g", o->min, o->max);
  } else if (o->type == TASKFARM_OPT_COUNT) {
    jobs_whole_range_t r = jobs_whole_range(o);
    snprintf(buf, len, " from %llu to %llu", (unsigned long long)r.lo,
             (unsigned long long)r.hi);
  } else if (o->type == TASKFARM_OPT_INTEGER) {
    jobs_whole_range_t r = jobs_whole_range(o);
    snprintf(buf, len, " from %lld to %lld", (long long)r.lo, (long long)r.hi);
  }
}

static int check_count(const taskfarm_option_t* o, const char* text,
                       const char* dash, char* canon, char* err,
                       size_t errlen) {
  uint64_t v = 0;
  jobs_whole_range_t r = jobs_whole_range(o);
  int rc = *text == '-' ? PROTO_EINVAL : jobs_parse_count(text, UINT64_MAX, &v);
  char range[96];
  range_text(o, range, sizeof(range));
  if (rc < 0 || v < r.lo || v > r.hi)
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "%s%s takes a whole number%s (such as 1000000 or 1e6), "
                      "got '%s'",
                      dash, o->name, range[0] ? range : " >= 0", text);
  snprintf(canon, JOBS_VALUE_MAX, "%llu", (unsigned long long)v);
  return 0;
}

static int check_integer(const taskfarm_option_t* o, const char* text,
                         const char* dash, char* canon, char* err,
                         size_t errlen) {
  char* end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  jobs_whole_range_t r = jobs_whole_range(o);
  char range[96];
  range_text(o, range, sizeof(range));
  if (end == text || *end != '\0' || errno != 0 || v < r.lo || v > r.hi)
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "%s%s takes a whole number%s, got '%s'", dash, o->name,
                      range, text);
  snprintf(canon, JOBS_VALUE_MAX, "%lld", v);
  return 0;
}

static int check_real(const taskfarm_option_t* o, const char* text,
                      const char* dash, char* canon, char* err,
                      size_t errlen) {
  char* end;
  double v = strtod(text, &end);
  char range[96];
  range_text(o, range, sizeof(range));
  /* strtod's ERANGE says nothing here: an overflow is infinite, refused
   * below, and an underflow (a subnormal number, or one that rounds to
   * zero) is the number written, rounded as every other. */
  if (end == text || *end != '\0' || !isfinite(v) ||
      (ranged(o) && !(v >= o->min && v <= o->max)))
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "%s%s takes a number%s, got '%s'", dash, o->name,
                      range[0] ? range : " (finite)", text);
  /* %.17g reads back as the same double: one value, one form. */
  snprintf(canon, JOBS_VALUE_MAX, "%.17g", v);
  return 0;
}

static int check_choice(const taskfarm_option_t* o, const char* text,
                        const char* dash, char* canon, char* err,
                        size_t errlen) {
  for (int i = 0; o->choices[i] != NULL; i++)
    if (strcmp(o->choices[i], text) == 0) {
      snprintf(canon, JOBS_VALUE_MAX, "%s", text);
      return 0;
    }
  char words[512] = "";
  size_t at = 0;
  for (int i = 0; o->choices[i] != NULL; i++)
    base_appendf(words, sizeof(words), &at, "%s%s",
                 i == 0                       ? ""
                 : o->choices[i + 1] == NULL ? " or "
                                             : ", ",
                 o->choices[i]);
  return proto_fail(err, errlen, PROTO_EINVAL,
                    "unknown %s%s '%s': use %s", dash, o->name, text, words);
}

/* The longest TEXT value, as taskfarm_kernel.h promises kernels. */
enum { TEXT_MAX = 255 };

/* Checks text against o and writes its canonical form into canon. */
static int check_value(const taskfarm_option_t* o, const char* text,
                       const char* dash, char* canon, char* err,
                       size_t errlen) {
  size_t len = strlen(text);
  if (len >= JOBS_VALUE_MAX)
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "%s%s takes at most %d bytes, got %zu", dash, o->name,
                      JOBS_VALUE_MAX - 1, len);
  switch (o->type) {
    case TASKFARM_OPT_COUNT:
      return check_count(o, text, dash, canon, err, errlen);
    case TASKFARM_OPT_INTEGER:
      return check_integer(o, text, dash, canon, err, errlen);
    case TASKFARM_OPT_REAL:
      return check_real(o, text, dash, canon, err, errlen);
    case TASKFARM_OPT_CHOICE:
      return check_choice(o, text, dash, canon, err, errlen);
    case TASKFARM_OPT_TEXT:
      if (len > TEXT_MAX)
        return proto_fail(err, errlen, PROTO_EINVAL,
                          "%s%s takes at most %d bytes of text, got %zu", dash,
                          o->name, TEXT_MAX, len);
      break;
    case TASKFARM_OPT_INPUT:
    case TASKFARM_OPT_OUTPUT:
      if (len == 0)
        return proto_fail(err, errlen, PROTO_EINVAL,
                          "%s%s needs a file name, got an empty one", dash,
                          o->name);
      break;
    default:
      break;
  }
  memcpy(canon, text, len + 1);
  return 0;
}

static const taskfarm_option_t* declared(const taskfarm_kernel_t* d,
                                         const char* key) {
  if (d->abi < 2 || d->options == NULL) return NULL;
  for (const taskfarm_option_t* o = d->options; o->name != NULL; o++)
    if (strcmp(o->name, key) == 0) return o;
  return NULL;
}

int jobs_declares(const taskfarm_kernel_t* d, const char* key) {
  return declared(d, key) != NULL;
}

/* Without declared options (ABI 1, or none declared), every KEY=VALUE
 * goes to the kernel as given, in order. */
static int bind_undeclared(const char* const* keys, const char* const* texts,
                           int count, const char* dash, jobs_task_t* task,
                           char* err, size_t errlen) {
  if (count > JOBS_VALUES_MAX)
    return proto_fail(err, errlen, PROTO_EINVAL, "at most %d %s options",
                      JOBS_VALUES_MAX, dash);
  for (int i = 0; i < count; i++) {
    jobs_value_t* v = &task->value[i];
    if (strlen(keys[i]) >= sizeof(v->key) ||
        strlen(texts[i]) >= sizeof(v->value))
      return proto_fail(err, errlen, PROTO_EINVAL,
                        "%s%.40s is longer than the %d bytes a key or %d a "
                        "value may have",
                        dash, keys[i], JOBS_KEY_MAX - 1, JOBS_VALUE_MAX - 1);
    snprintf(v->key, sizeof(v->key), "%s", keys[i]);
    snprintf(v->value, sizeof(v->value), "%s", texts[i]);
    v->set = 1;
  }
  task->nvalues = count;
  return 0;
}

int jobs_bind(const taskfarm_kernel_t* d, const char* const* keys,
              const char* const* texts, int count, const char* dash,
              jobs_task_t* task, char* err, size_t errlen) {
  task->nvalues = 0;
  for (int i = 0; i < count; i++)
    for (int j = 0; j < i; j++)
      if (strcmp(keys[i], keys[j]) == 0)
        return proto_fail(err, errlen, PROTO_EINVAL,
                          "%s%s is given more than once", dash, keys[i]);
  if (d->abi < 2 || d->options == NULL)
    return bind_undeclared(keys, texts, count, dash, task, err, errlen);
  for (int i = 0; i < count; i++)
    if (declared(d, keys[i]) == NULL) {
      char names[512] = "";
      size_t at = 0;
      for (const taskfarm_option_t* o = d->options; o->name && at < 500; o++)
        base_appendf(names, sizeof(names), &at, "%s%s%s", at ? ", " : "",
                     dash, o->name);
      return proto_fail(err, errlen, PROTO_EINVAL,
                        "%s takes no option %s%s (it takes %s)", d->name,
                        dash, keys[i], at ? names : "none");
    }
  for (const taskfarm_option_t* o = d->options; o->name != NULL; o++) {
    jobs_value_t* v = &task->value[task->nvalues++];
    memset(v, 0, sizeof(*v));
    snprintf(v->key, sizeof(v->key), "%s", o->name);
    v->type = o->type;
    const char* text = o->def;
    for (int i = 0; i < count; i++)
      if (strcmp(keys[i], o->name) == 0) text = texts[i];
    if (text == NULL) continue;
    int rc = check_value(o, text, dash, v->value, err, errlen);
    if (rc < 0) return rc;
    v->set = 1;
  }
  return 0;
}

static const char* type_value(const taskfarm_option_t* o) {
  if (o->value != NULL) return o->value;
  switch (o->type) {
    case TASKFARM_OPT_COUNT:
      return "N";
    case TASKFARM_OPT_INTEGER:
      return "I";
    case TASKFARM_OPT_REAL:
      return "X";
    case TASKFARM_OPT_INPUT:
    case TASKFARM_OPT_OUTPUT:
      return "FILE";
    default:
      return "VALUE";
  }
}

void jobs_wrap(FILE* out, const char* text, int indent, int at) {
  const int width = 79;
  int col = at;
  for (const char* p = text; *p != '\0';) {
    if (p[0] == '\n' && p[1] == ' ' && p[2] == ' ') { /* a table line */
      const char* nl = strchr(p + 1, '\n');
      int len = nl != NULL ? (int)(nl - p - 1) : (int)strlen(p + 1);
      fprintf(out, "\n%*s%.*s", indent, "", len, p + 1);
      col = indent + len;
      p += 1 + len;
      continue;
    }
    while (*p == ' ' || *p == '\n') p++;
    size_t word = strcspn(p, " \n");
    if (word == 0) break;
    if (col > indent && col + 1 + (int)word > width) {
      fprintf(out, "\n%*s", indent, "");
      col = indent;
    } else if (col > at || (col > indent && col == at)) {
      fputc(' ', out);
      col++;
    }
    fprintf(out, "%.*s", (int)word, p);
    col += (int)word;
    p += word;
  }
  fputc('\n', out);
}

void jobs_options_help(const taskfarm_kernel_t* d, const char* dash,
                       FILE* out) {
  if (d->abi < 2 || d->options == NULL) return;
  for (const taskfarm_option_t* o = d->options; o->name != NULL; o++) {
    char head[96];
    /* --size WxH, or --arg size=WxH */
    int arg = dash[0] != '\0' && dash[strlen(dash) - 1] == ' ';
    snprintf(head, sizeof(head), "  %s%s%s%s", dash, o->name, arg ? "=" : " ",
             type_value(o));
    char text[1024];
    size_t at = 0;
    base_appendf(text, sizeof(text), &at, "%s",
                 o->help != NULL ? o->help : "");
    if (o->type == TASKFARM_OPT_CHOICE)
      for (int i = 0; o->choices[i] != NULL; i++)
        base_appendf(text, sizeof(text), &at, "%s%s%s", i ? ", " : " (",
                     o->choices[i], o->choices[i + 1] ? "" : ")");
    char range[96];
    range_text(o, range, sizeof(range));
    if (range[0] != '\0') base_appendf(text, sizeof(text), &at, ";%s", range);
    if (o->def != NULL)
      base_appendf(text, sizeof(text), &at, "; default %s", o->def);
    if (strlen(head) < 24) {
      fprintf(out, "%-24s", head);
      jobs_wrap(out, text, 24, 24);
    } else {
      fprintf(out, "%s\n%24s", head, "");
      jobs_wrap(out, text, 24, 24);
    }
  }
}

void jobs_options_list(const taskfarm_kernel_t* d, const char* dash,
                       FILE* out) {
  if (d->abi < 2 || d->options == NULL) return;
  for (const taskfarm_option_t* o = d->options; o->name != NULL; o++)
    fprintf(out, "%s%s\n", dash, o->name);
}
