/* The request parser of status_request.h. The checks run in the order the
 * status server always ran them: a NUL byte anywhere, then completeness,
 * then the request line, the headers, the method and the target. */
#include "master/status_request.h"

#include <assert.h>
#include <string.h>

/* 1 if c is a token character of RFC 9110 (header names, methods). */
static int tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* 1 if every header line after the request line is "name: value" with a
 * token name and no control characters in the value. */
static int headers_valid(const char* p) {
  while (*p) {
    const char* eol = strpbrk(p, "\r\n");
    if (eol == NULL) eol = p + strlen(p);
    if (eol == p) return 1; /* the blank line that ends the headers */
    const char* colon = p;
    while (colon < eol && tchar(*colon)) colon++;
    if (colon == p || colon == eol || *colon != ':') return 0;
    for (const char* v = colon + 1; v < eol; v++)
      if ((unsigned char)*v < 0x20 && *v != '\t') return 0;
    p = eol;
    if (*p == '\r') p++;
    if (*p == '\n') p++;
  }
  return 1;
}

/* The complete request in the NUL-terminated in: its request line. */
static int parse_complete(char* in, status_request_t* req) {
  char* line_end = strpbrk(in, "\r\n");
  if (line_end == NULL) return 400;
  char* rest = line_end + (line_end[0] == '\r' && line_end[1] == '\n' ? 2 : 1);
  *line_end = '\0';
  char* sp1 = strchr(in, ' ');
  char* sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
  if (sp1 == NULL || sp1 == in || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL ||
      (strcmp(sp2 + 1, "HTTP/1.1") != 0 && strcmp(sp2 + 1, "HTTP/1.0") != 0) ||
      !headers_valid(rest))
    return 400;
  *sp1 = '\0';
  *sp2 = '\0';
  for (const char* p = in; *p; p++)
    if (!tchar(*p)) return 400;
  /* The absolute form (http://host:port/path) names the same resource as
   * its path (RFC 9112, 3.2.2). */
  char* target = sp1 + 1;
  if (strncmp(target, "http://", 7) == 0) {
    char* slash = strchr(target + 7, '/');
    target = slash != NULL ? slash : (char*)"/";
  }
  if (target[0] != '/') return 400;
  req->head = strcmp(in, "HEAD") == 0;
  if (strcmp(in, "GET") != 0 && !req->head) return 405;
  char* query = strchr(target, '?');
  if (query) *query = '\0';
  req->path = target;
  return 200;
}

int status_request_parse(char* buf, size_t len, size_t cap,
                         status_request_t* req) {
  assert(cap > len);
  req->head = 0;
  req->path = NULL;
  buf[len] = '\0';
  if (memchr(buf, '\0', len) != NULL) return 400;
  if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
    return parse_complete(buf, req);
  if (len + 1 >= cap) return 431;
  return STATUS_REQUEST_PARTIAL;
}
