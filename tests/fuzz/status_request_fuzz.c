/* The status server's request parser (master/status_request.h) on any
 * bytes. Input: one byte that picks the buffer (even: the server's own,
 * STATUS_REQUEST_MAX + 1 bytes; odd: exactly the request plus its
 * terminator, a full buffer), then what the client sent. The bytes past the
 * terminator are poisoned for AddressSanitizer, so a read beyond it is
 * caught even inside the server's larger buffer.
 * Properties: the answer is one the server knows; a NUL byte is a 400; no
 * blank line is PARTIAL with room left and 431 without; a 200 is a GET or
 * HEAD whose first line ends in HTTP/1.0 or 1.1, its path starts with '/'
 * and holds no '?' and lies in the buffer (or is the static "/"); a 405's
 * method is a token other than GET and HEAD. */
#include <string.h>

#include "master/status_request.h"
#include "tests/fuzz/fuzz.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static int token(const uint8_t* p, size_t n) {
  static const char extra[] = "!#$%&'*+-.^_`|~";
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || (c != 0 && memchr(extra, c, 15))))
      return 0;
  }
  return 1;
}

static int ends_with(const uint8_t* p, size_t n, const char* s) {
  size_t k = strlen(s);
  return n >= k && memcmp(p + n - k, s, k) == 0;
}

static int contains(const uint8_t* p, size_t n, const char* s) {
  size_t k = strlen(s);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(p + i, s, k) == 0) return 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  int full = data[0] & 1;
  const uint8_t* in = data + 1;
  size_t len = size - 1;
  if (len > STATUS_REQUEST_MAX) len = STATUS_REQUEST_MAX;
  size_t cap = full ? len + 1 : STATUS_REQUEST_MAX + 1;
  char* buf = malloc(cap);
  if (buf == NULL) abort();
  memcpy(buf, in, len);
  POISON(buf + len + 1, cap - len - 1);
  status_request_t req;
  int code = status_request_parse(buf, len, cap, &req);

  FUZZ_CHECK(code == STATUS_REQUEST_PARTIAL || code == 200 || code == 400 ||
             code == 405 || code == 431);
  FUZZ_CHECK(buf[len] == '\0');
  int nul = memchr(in, '\0', len) != NULL;
  int complete = contains(in, len, "\r\n\r\n") || contains(in, len, "\n\n");
  if (nul) {
    FUZZ_CHECK(code == 400);
  } else if (!complete) {
    FUZZ_CHECK(code == (len + 1 == cap ? 431 : STATUS_REQUEST_PARTIAL));
  } else {
    FUZZ_CHECK(code == 200 || code == 400 || code == 405);
  }
  if (code != 200) FUZZ_CHECK(req.path == NULL && req.head == 0);

  /* The request line: the bytes before the first CR or LF. */
  size_t line = 0;
  while (line < len && in[line] != '\r' && in[line] != '\n') line++;
  const uint8_t* sp = memchr(in, ' ', line);
  if (code == 200) {
    FUZZ_CHECK(ends_with(in, line, " HTTP/1.1") ||
               ends_with(in, line, " HTTP/1.0"));
    FUZZ_CHECK(req.head == (line > 5 && memcmp(in, "HEAD ", 5) == 0));
    FUZZ_CHECK(req.head || (line > 4 && memcmp(in, "GET ", 4) == 0));
    FUZZ_CHECK(req.path != NULL && req.path[0] == '/');
    FUZZ_CHECK(strchr(req.path, '?') == NULL);
    FUZZ_CHECK(strchr(req.path, ' ') == NULL);
    if (strcmp(req.path, "/") != 0 || (req.path >= buf && req.path < buf + len))
      FUZZ_CHECK(req.path > buf && req.path < buf + len &&
                 req.path + strlen(req.path) <= buf + len);
  }
  if (code == 405) {
    FUZZ_CHECK(sp != NULL && token(in, (size_t)(sp - in)));
    size_t m = (size_t)(sp - in);
    FUZZ_CHECK(!(m == 3 && memcmp(in, "GET", 3) == 0));
    FUZZ_CHECK(!(m == 4 && memcmp(in, "HEAD", 4) == 0));
  }
  UNPOISON(buf + len + 1, cap - len - 1);
  free(buf);
  return 0;
}
