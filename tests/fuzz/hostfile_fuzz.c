/* The hostfile parser (tools/spec.h, spec_host_line) on any file: the input
 * is split into lines on newlines, as tools/spec hosts and bash's mapfile
 * split it. Each line is parsed in a buffer of exactly its length.
 * Properties: a refusal has a sentence; an accepted host is non-empty,
 * shorter than SPEC_HOST_MAX, free of blanks, '#', ':' and control
 * characters, does not start with '-', and has 1..SPEC_SLOTS_MAX slots
 * (so "HOST SLOTS" splits back into the two); and it is what tools/supervise
 * read before the parser was C (the first word before any '#', its host up
 * to ':', its slots the number after ':' or 1), computed here independently
 * the way the bash did. */
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "tools/spec.h"

static int space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}

/* bash's entry_of: ${l%%#*}, leading [[:space:]] removed, up to the next. */
static void entry_of(const uint8_t* l, size_t n, size_t* at, size_t* len) {
  const uint8_t* hash = memchr(l, '#', n);
  if (hash) n = (size_t)(hash - l);
  size_t a = 0;
  while (a < n && space(l[a])) a++;
  size_t e = a;
  while (e < n && !space(l[e])) e++;
  *at = a;
  *len = e - a;
}

static void check_line(const uint8_t* line, size_t n) {
  char* copy = malloc(n + 1); /* exactly the line: over-reads are caught */
  if (copy == NULL) abort();
  memcpy(copy, line, n);
  spec_host_t h;
  char err[256];
  int rc = spec_host_line(copy, n, &h, err, sizeof(err));
  free(copy);
  FUZZ_CHECK(rc == 0 || rc == SPEC_EINVAL);
  if (rc != 0) {
    FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
    return;
  }
  size_t at, elen;
  entry_of(line, n, &at, &elen);
  if (h.host[0] == '\0') {
    FUZZ_CHECK(h.slots == 0);
    FUZZ_CHECK(elen == 0);
    return;
  }
  size_t hlen = strlen(h.host);
  FUZZ_CHECK(hlen < SPEC_HOST_MAX);
  FUZZ_CHECK(h.host[0] != '-');
  for (size_t i = 0; i < hlen; i++) {
    uint8_t c = (uint8_t)h.host[i];
    FUZZ_CHECK(c >= 0x20 && c != 0x7f && c != ' ' && c != '#' && c != ':');
  }
  FUZZ_CHECK(h.slots >= 1 && h.slots <= SPEC_SLOTS_MAX);
  /* What the bash read: ${entry%%:*} and the digits after ':' or 1. */
  const uint8_t* e = line + at;
  const uint8_t* colon = memchr(e, ':', elen);
  size_t want = colon ? (size_t)(colon - e) : elen;
  FUZZ_CHECK(hlen == want && memcmp(h.host, e, want) == 0);
  long slots = 1;
  if (colon) {
    const uint8_t* s = colon + 1;
    size_t slen = elen - want - 1, d = 0;
    while (d < slen && s[d] >= '0' && s[d] <= '9') d++;
    if (slen > 0 && d == slen) {
      slots = 0;
      for (size_t i = 0; i < slen && slots <= SPEC_SLOTS_MAX; i++)
        slots = slots * 10 + (s[i] - '0');
    }
  }
  FUZZ_CHECK(h.slots == slots);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t at = 0;
  while (at < size) {
    const uint8_t* nl = memchr(data + at, '\n', size - at);
    size_t n = nl ? (size_t)(nl - (data + at)) : size - at;
    check_line(data + at, n);
    at += n + 1;
  }
  return 0;
}
