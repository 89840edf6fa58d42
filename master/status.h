/* A small HTTP/1.x server on a libuv loop, for the master's live status
 * (--status-port): it answers GET requests with what a render callback
 * produces and defends the loop it shares with the farm. A request must
 * arrive whole within STATUS_REQUEST_MS and within STATUS_REQUEST_MAX bytes;
 * anything else gets an error status or the connection is closed. At most
 * STATUS_CONNECTIONS are open at once; further ones are closed at once. At
 * most STATUS_RATE requests a second are rendered; the others get 429.
 * Every response closes its connection. */
#ifndef TASKFARM_MASTER_STATUS_H_
#define TASKFARM_MASTER_STATUS_H_

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "master/status_request.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  /* STATUS_REQUEST_MAX (status_request.h): bytes of request line and
   * headers */
  STATUS_REQUEST_MS = 2000,  /* a request must be complete by then */
  STATUS_CONNECTIONS = 16,   /* open connections at most */
  STATUS_RATE = 100,         /* requests rendered per second at most; the
                                rest get 429, so a flood of clients cannot
                                take the master's time from the farm */
};

/* A growable text buffer for responses. */
typedef struct status_buf_s status_buf_t;
struct status_buf_s {
  char* data;
  size_t len;
  size_t cap;
  int failed; /* an allocation failed */
};

/* Appends printf-style text to b. */
void status_printf(status_buf_t* b, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fills body for the request path ("/status"); sets *type to its content
 * type. Returns 200, or 404 when there is no such path. */
typedef int (*status_render_cb)(void* ctx, const char* path, status_buf_t* body,
                                const char** type);

typedef struct status_server_s status_server_t;
struct status_conn_s;
struct status_server_s {
  struct status_conn_s* conns; /* open connections (status.c's list) */
  uv_loop_t* loop;
  uv_tcp_t tcp;
  status_render_cb render;
  void* ctx;
  int open;                    /* connections open */
  int listening;               /* tcp is initialised */
  unsigned long long requests; /* answered with 200 */
  unsigned long long rejected; /* answered with an error or dropped */
  uint64_t window_ms;          /* start of the current one-second window */
  unsigned window_count;       /* requests rendered in it */
};

/* Starts listening on addr:port (IPv4 or IPv6 literal). Returns 0 or a
 * negative libuv error code (e.g. UV_EADDRINUSE). */
int status_start(status_server_t* s, uv_loop_t* loop, const char* addr,
                 int port, status_render_cb render, void* ctx);

/* Stops listening and closes every connection; the loop must run once more
 * to finish the closes. */
void status_stop(status_server_t* s);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_STATUS_H_ */
