/* The parsers of spec.h. Each walks its text once, byte by byte, with the
 * length it was given; numbers are read digit by digit with a bound, never
 * through strtol, so a leading zero is decimal ("050" is 50, where bash's
 * arithmetic read it as octal 40) and no value can overflow. */
#include "tools/spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char* err, size_t errlen, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char* err, size_t errlen, const char* fmt, ...) {
  if (errlen > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return SPEC_EINVAL;
}

static int blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int digit(char c) { return c >= '0' && c <= '9'; }

/* The decimal number of the n digits at p, or max + 1 when it exceeds max
 * (max < INT_MAX). */
static long decimal(const char* p, size_t n, long max) {
  long v = 0;
  for (size_t i = 0; i < n; i++) {
    v = v * 10 + (p[i] - '0');
    if (v > max) return max + 1;
  }
  return v;
}

int spec_host_line(const char* line, size_t len, spec_host_t* out, char* err,
                   size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (errlen > 0) err[0] = '\0';
  for (size_t i = 0; i < len; i++)
    if (line[i] == '\0')
      return fail(err, errlen, "a hostfile line holds a NUL byte");
  size_t end = 0;
  while (end < len && line[end] != '#') end++; /* a comment to the end */
  size_t at = 0;
  while (at < end && blank(line[at])) at++;
  size_t word = at;
  while (word < end && !blank(line[word])) word++;
  if (word == at) return 0; /* blank or comment only */
  const char* entry = line + at;
  size_t elen = word - at;
  const char* colon = memchr(entry, ':', elen);
  size_t hlen = colon ? (size_t)(colon - entry) : elen;
  if (hlen == 0)
    return fail(err, errlen, "hostfile entry '%.*s' has no host before ':'",
                (int)(elen > 64 ? 64 : elen), entry);
  if (hlen >= SPEC_HOST_MAX)
    return fail(err, errlen, "host name '%.40s...' is longer than %d bytes",
                entry, SPEC_HOST_MAX - 1);
  for (size_t i = 0; i < hlen; i++)
    if ((unsigned char)entry[i] < 0x20 || entry[i] == 0x7f)
      return fail(err, errlen,
                  "host name '%.*s' holds a control character (byte %d)",
                  (int)hlen, entry, (unsigned char)entry[i]);
  if (entry[0] == '-')
    return fail(err, errlen,
                "host name '%.*s' starts with '-' (ssh would take it for an "
                "option)",
                (int)hlen, entry);
  memcpy(out->host, entry, hlen);
  out->host[hlen] = '\0';
  out->slots = 1;
  if (colon != NULL) {
    const char* s = colon + 1;
    size_t slen = elen - hlen - 1;
    size_t d = 0;
    while (d < slen && digit(s[d])) d++;
    if (slen > 0 && d == slen) {
      long v = decimal(s, slen, SPEC_SLOTS_MAX);
      if (v < 1 || v > SPEC_SLOTS_MAX)
        return fail(err, errlen, "host %s: slots must be 1..%d, got '%.*s'",
                    out->host, SPEC_SLOTS_MAX, (int)(slen > 32 ? 32 : slen), s);
      out->slots = (int)v;
    }
  }
  return 0;
}

/* A time: digits with an optional fraction, at least one digit. Returns
 * the characters it takes, 0 if there is none at p. */
static size_t time_chars(const char* p) {
  size_t n = 0, digits = 0;
  while (digit(p[n])) n++, digits++;
  if (p[n] == '.') {
    n++;
    while (digit(p[n])) n++, digits++;
  }
  return digits > 0 ? n : 0;
}

/* 1 when steps (what follows "RANK:") is PERCENT or PERCENT@T,PERCENT@T,...,
 * with its count of steps and whether it is a timeline; 0 when it is not. */
static int limit_shape(const char* steps, size_t* count, int* timeline) {
  size_t at = 0;
  for (;;) {
    size_t d = 0;
    while (digit(steps[at + d])) d++;
    if (d == 0) return 0;
    at += d;
    ++*count;
    if (steps[at] == '@') {
      size_t t = time_chars(steps + at + 1);
      if (t == 0 || (*count > 1 && !*timeline)) return 0;
      *timeline = 1;
      at += 1 + t;
    } else if (*count > 1 || steps[at] == ',') {
      return 0; /* a step of a timeline without its time */
    }
    if (steps[at] == '\0') return 1;
    if (steps[at] != ',' || !*timeline) return 0;
    at++;
  }
}

/* The time of step k, at *s (its '@'), into out->at_text[k] and out->at[k]:
 * short enough, at most 1e9 s, later than the step before. Moves *s past
 * the '@', the time and the ',' or the end that follows. */
static int limit_time(const char** s, size_t k, const char* steps,
                      spec_limit_t* out, char* err, size_t errlen) {
  const char* at = *s + 1;
  size_t t = time_chars(at);
  if (t >= SPEC_TIME_CHARS)
    return fail(err, errlen,
                "--limit %d: a time has at most %d "
                "characters, got '%.*s'",
                out->rank, SPEC_TIME_CHARS - 1, (int)t, at);
  memcpy(out->at_text[k], at, t);
  out->at_text[k][t] = '\0';
  out->at[k] = strtod(out->at_text[k], NULL);
  if (!(out->at[k] <= 1e9))
    return fail(err, errlen,
                "--limit %d: a time is at most 1e9 s, got "
                "'%s'",
                out->rank, out->at_text[k]);
  if (k > 0 && !(out->at[k] > out->at[k - 1]))
    return fail(err, errlen, "--limit %d: the times must rise, got '%s'",
                out->rank, steps);
  *s = at + t + 1;
  return 0;
}

/* The count steps of a well-formed steps into out: each percent in
 * 1..100, each time judged by limit_time. */
static int limit_steps(const char* steps, size_t count, spec_limit_t* out,
                       char* err, size_t errlen) {
  const char* s = steps;
  for (size_t k = 0; k < count; k++) {
    size_t d = 0;
    while (digit(s[d])) d++;
    long pct = decimal(s, d, 100);
    if (pct < 1 || pct > 100)
      return fail(err, errlen,
                  "--limit percent for rank %d must be 1..100, "
                  "got %.*s",
                  out->rank, (int)(d > 32 ? 32 : d), s);
    out->pct[k] = (int)pct;
    s += d;
    if (out->timeline) {
      int rc = limit_time(&s, k, steps, out, err, errlen);
      if (rc != 0) return rc;
    } else {
      memcpy(out->at_text[k], "0", 2);
      out->at[k] = 0;
    }
  }
  return 0;
}

int spec_limit_parse(const char* text, spec_limit_t* out, char* err,
                     size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (errlen > 0) err[0] = '\0';
  const char* p = text;
  size_t n = 0;
  while (digit(p[n])) n++;
  const char* colon = p + n;
  const char* steps = colon + 1;
  /* The whole shape first, as the script's regular expressions did, so a
   * malformed value is named as such before its numbers are judged. */
  size_t count = 0;
  int timeline = 0;
  if (!(n > 0 && *colon == ':' && limit_shape(steps, &count, &timeline)))
    return fail(err, errlen,
                "--limit takes RANK:PERCENT or RANK:PERCENT@T,PERCENT@T,..., "
                "got '%s'",
                text);
  long rank = decimal(p, n, SPEC_RANK_MAX);
  if (rank > SPEC_RANK_MAX)
    return fail(err, errlen, "--limit rank %.*s is beyond %d", (int)n, p,
                SPEC_RANK_MAX);
  out->rank = (int)rank;
  out->timeline = timeline;
  if (count > SPEC_STEPS_MAX)
    return fail(err, errlen,
                "--limit %d: a timeline has at most %d steps, got "
                "'%s'",
                out->rank, SPEC_STEPS_MAX, steps);
  int rc = limit_steps(steps, count, out, err, errlen);
  if (rc != 0) return rc;
  out->nsteps = (int)count;
  return 0;
}

int spec_limit_start(const spec_limit_t* l) {
  return l->at[0] == 0 ? l->pct[0] : 100;
}

int spec_limit_inject(const spec_limit_t* l, char* buf, size_t cap) {
  if (cap == 0) return SPEC_EINVAL;
  buf[0] = '\0';
  int n;
  if (!l->timeline) {
    if (l->pct[0] == 100) return 0;
    n = snprintf(buf, cap, "%d:slow=%.6g", l->rank, 100.0 / l->pct[0]);
  } else {
    n = snprintf(buf, cap, "%d:speed=", l->rank);
    for (int k = 0; k < l->nsteps && n >= 0 && (size_t)n < cap; k++)
      n += snprintf(buf + n, cap - (size_t)n, "%s%d@%s", k ? "," : "",
                    l->pct[k], l->at_text[k]);
  }
  if (n < 0 || (size_t)n >= cap) {
    buf[0] = '\0';
    return SPEC_EINVAL;
  }
  return n;
}
