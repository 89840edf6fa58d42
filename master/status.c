/* The status server of status.h. Each connection reads into a fixed buffer
 * until the blank line that ends the headers (status_request.h parses it),
 * answers once and closes; a timer per connection drops the slow ones. */
#include "master/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/status_request.h"

typedef struct status_conn_s conn_t;
struct status_conn_s {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_write_t write;
  status_server_t* server;
  conn_t* next; /* the server's list of open connections */
  char in[STATUS_REQUEST_MAX + 1];
  size_t len;
  status_buf_t out;
  int handles; /* handles not yet closed */
  int closing;
  int head; /* a HEAD request: headers only */
};

void status_printf(status_buf_t* b, const char* fmt, ...) {
  if (b->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->failed = 1;
      return;
    }
    if ((size_t)n < room) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = b->cap ? 2 * b->cap : 4096;
    while (cap - b->len <= (size_t)n) cap *= 2;
    char* grown = realloc(b->data, cap);
    if (grown == NULL) {
      b->failed = 1;
      return;
    }
    b->data = grown;
    b->cap = cap;
  }
}

static void on_closed(uv_handle_t* h) {
  conn_t* c = h->data;
  if (--c->handles > 0) return;
  free(c->out.data);
  free(c);
}

static void close_conn(conn_t* c) {
  if (c->closing) return;
  c->closing = 1;
  c->server->open--;
  for (conn_t** p = &c->server->conns; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t*)&c->timer, on_closed);
  uv_close((uv_handle_t*)&c->tcp, on_closed);
}

static void on_written(uv_write_t* w, int status) {
  (void)status;
  close_conn(w->data);
}

static const char* reason(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Internal Server Error";
  }
}

static void respond(conn_t* c, int code, const char* type,
                    const status_buf_t* body) {
  uv_read_stop((uv_stream_t*)&c->tcp);
  uv_timer_stop(&c->timer);
  if (code == 200)
    c->server->requests++;
  else
    c->server->rejected++;
  status_buf_t* out = &c->out;
  status_printf(out,
                "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                code, reason(code), type,
                body ? body->len : strlen(reason(code)) + 1,
                code == 405 ? "Allow: GET, HEAD\r\n" : "");
  if (c->head) {
    /* HEAD: the same headers, no body. */
  } else if (body) {
    if (body->len > 0) status_printf(out, "%.*s", (int)body->len, body->data);
  } else {
    status_printf(out, "%s\n", reason(code));
  }
  if (out->failed) {
    close_conn(c);
    return;
  }
  uv_buf_t buf = uv_buf_init(out->data, (unsigned)out->len);
  c->write.data = c;
  if (uv_write(&c->write, (uv_stream_t*)&c->tcp, &buf, 1, on_written) != 0)
    close_conn(c);
}

/* The request is complete in c->in: answer it. */
static void handle(conn_t* c, const status_request_t* req) {
  c->head = req->head;
  status_server_t* s = c->server;
  uint64_t now = uv_now(s->loop);
  if (now - s->window_ms >= 1000) {
    s->window_ms = now;
    s->window_count = 0;
  }
  if (++s->window_count > STATUS_RATE) {
    respond(c, 429, "text/plain", NULL);
    return;
  }
  status_buf_t body = {0};
  const char* type = "text/plain";
  int code = c->server->render(c->server->ctx, req->path, &body, &type);
  if (body.failed) code = 500;
  if (code == 200) {
    respond(c, 200, type, &body);
  } else {
    respond(c, code, "text/plain", NULL);
  }
  free(body.data);
}

static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  (void)suggested;
  conn_t* c = h->data;
  *buf = uv_buf_init(c->in + c->len, (unsigned)(STATUS_REQUEST_MAX - c->len));
}

static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  (void)buf;
  conn_t* c = s->data;
  if (nread < 0) {
    if (c->len > 0) c->server->rejected++;
    close_conn(c);
    return;
  }
  c->len += (size_t)nread;
  status_request_t req;
  int code = status_request_parse(c->in, c->len, sizeof(c->in), &req);
  if (code == 200) {
    handle(c, &req);
  } else if (code != STATUS_REQUEST_PARTIAL) {
    c->head = req.head;
    respond(c, code, "text/plain", NULL);
  }
}

static void on_timeout(uv_timer_t* t) {
  conn_t* c = t->data;
  c->server->rejected++;
  close_conn(c);
}

static void on_connection(uv_stream_t* server, int status) {
  status_server_t* s = server->data;
  if (status < 0) return;
  conn_t* c = calloc(1, sizeof(*c));
  if (c == NULL) return;
  c->server = s;
  uv_tcp_init(s->loop, &c->tcp);
  uv_timer_init(s->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->handles = 2;
  s->open++;
  c->next = s->conns;
  s->conns = c;
  if (uv_accept(server, (uv_stream_t*)&c->tcp) != 0) {
    close_conn(c);
    return;
  }
  if (s->open > STATUS_CONNECTIONS) {
    s->rejected++;
    close_conn(c);
    return;
  }
  uv_timer_start(&c->timer, on_timeout, STATUS_REQUEST_MS, 0);
  if (uv_read_start((uv_stream_t*)&c->tcp, on_alloc, on_read) != 0)
    close_conn(c);
}

int status_start(status_server_t* s, uv_loop_t* loop, const char* addr,
                 int port, status_render_cb render, void* ctx) {
  memset(s, 0, sizeof(*s));
  s->loop = loop;
  s->render = render;
  s->ctx = ctx;
  struct sockaddr_storage sa;
  int rc = strchr(addr, ':')
               ? uv_ip6_addr(addr, port, (struct sockaddr_in6*)&sa)
               : uv_ip4_addr(addr, port, (struct sockaddr_in*)&sa);
  if (rc != 0) return rc;
  uv_tcp_init(loop, &s->tcp);
  s->tcp.data = s;
  s->listening = 1;
  rc = uv_tcp_bind(&s->tcp, (const struct sockaddr*)&sa, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t*)&s->tcp, 64, on_connection);
  if (rc != 0) status_stop(s);
  return rc;
}

void status_stop(status_server_t* s) {
  if (!s->listening) return;
  s->listening = 0;
  uv_close((uv_handle_t*)&s->tcp, NULL);
  while (s->conns != NULL) close_conn(s->conns);
}
