/* The status server's HTTP/1.x request parser (status.h), apart from the
 * libuv that feeds it bytes: a pure function of a buffer and its size, so
 * a fuzzer and the unit tests can drive it directly. It accepts only what
 * the server answers: a request line "METHOD TARGET HTTP/1.1" (or 1.0) with
 * a token method and a target in origin or absolute form, then header lines
 * "name: value" with a token name and no control characters but tab in the
 * value, up to the blank line. It never reads a byte past the one it writes
 * at buf[len]. */
#ifndef TASKFARM_MASTER_STATUS_REQUEST_H_
#define TASKFARM_MASTER_STATUS_REQUEST_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  STATUS_REQUEST_PARTIAL = 0, /* not complete yet: wait for more bytes */
  STATUS_REQUEST_MAX = 8192,  /* bytes of request line and headers the
                                 status server reads at most */
};

/* A complete, valid request. */
typedef struct status_request_s status_request_t;
struct status_request_s {
  int head;         /* a HEAD request: answer with the headers only */
  const char* path; /* the target's path without its query ("/status"),
                       NUL-terminated: inside the parsed buffer, or a
                       static "/" for an absolute target without a path
                       ("http://host") */
};

/* Parses the len bytes received so far in buf, which holds cap bytes
 * (cap > len): writes a NUL at buf[len] and, once the request is complete,
 * more NULs inside it. Returns STATUS_REQUEST_PARTIAL while the blank line
 * that ends the headers has not arrived and buf has room for more; else the
 * HTTP status to answer: 200 with *req filled (req->path points into buf),
 * 400 for a malformed request or one holding a NUL byte, 405 for a method
 * other than GET and HEAD, 431 when buf is full (len == cap - 1) and the
 * request is still incomplete. */
int status_request_parse(char* buf, size_t len, size_t cap,
                         status_request_t* req);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_STATUS_REQUEST_H_ */
