/* master/event_loop.h. Each loop iteration costs an epoll_wait system call, so
 * while traffic is hot the idle handle polls MPI many times per iteration
 * and gives up only after a run of empty polls; then the timer takes over
 * and the core is free for the workers. */
#include "master/event_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>

#include "base/clock.h"
#include "proto/error.h"
#include "base/log.h"
#include "proto/proto.h"

enum {
  POLL_MIN_MS = 1,      /* timer period right after a message */
  POLL_MAX_MS = 16,     /* longest timer period while traffic is quiet */
  HOT_NS = 50000,       /* keep polling continuously this long after a msg */
  HOT_ROUNDS = 256,     /* most MPI polls per idle callback */
  HOT_EMPTY = 16,       /* ... ending after this many empty ones in a row */
  LIVE_MS = 250,        /* progress and rate samples */
  SYNC_NS = 1000000000, /* the journal is made durable this often */
  JOURNAL_WRITE_BYTES = 1 << 16, /* queued records are written at this */
};

static void stop_if_done(master_loop_t* l) {
  if (!l->ops.done(l->ops.ctx)) return;
  uv_timer_stop(&l->timer);
  uv_idle_stop(&l->hot);
  uv_stop(&l->loop);
}

static void solo(master_loop_t* l) {
  if (!l->ops.done(l->ops.ctx)) l->solo_on = l->ops.solo(l->ops.ctx);
}

static void on_synced(uv_fs_t* req) {
  master_loop_t* l = req->data;
  if (req->result < 0) {
    base_log(BASE_LOG_WARN, "cannot sync journal '%s': %s", l->journal->path,
              uv_strerror((int)req->result));
    l->ops.fail(l->ops.ctx, PROTO_EIO);
  }
  uv_fs_req_cleanup(req);
  l->sync_busy = 0;
}

/* Writes queued records in batches and starts an fdatasync every SYNC_NS
 * on the thread pool, so a slow disk never stalls the loop. */
static void journal_tick(master_loop_t* l) {
  master_journal_t* j = l->journal;
  if (j == NULL) return;
  uint64_t now = base_now_ns();
  int due = now - l->synced_ns >= SYNC_NS;
  if (j->len >= JOURNAL_WRITE_BYTES || (due && j->len > 0))
    if (master_journal_flush(j, 0) < 0) l->ops.fail(l->ops.ctx, PROTO_EIO);
  if (!due || l->sync_busy || j->unsynced == 0) return;
  l->sync_req.data = l;
  if (uv_fs_fdatasync(&l->loop, &l->sync_req, j->fd, on_synced) == 0) {
    l->sync_busy = 1;
    j->unsynced = 0; /* the sync in flight covers them */
  }
  l->synced_ns = now;
}

static void hot_cb(uv_idle_t* handle) {
  master_loop_t* l = handle->data;
  int got = 0;
  for (int round = 0, empty = 0;
       round < HOT_ROUNDS && empty < HOT_EMPTY && !l->ops.done(l->ops.ctx);
       round++) {
    int n = l->ops.poll(l->ops.ctx);
    got += n;
    empty = n > 0 ? 0 : empty + 1;
  }
  if (got > 0) {
    l->last_msg_ns = base_now_ns();
  } else if (base_now_ns() - l->last_msg_ns > HOT_NS) {
    /* Traffic went quiet: let the timer take over and free the core. */
    uv_idle_stop(&l->hot);
    l->hot_on = 0;
  }
  stop_if_done(l);
}

/* The quiet-traffic period: doubled after every empty poll, but never above
 * a quarter of the shortest chunk seen, so a worker's prefetched chunk always
 * outlasts the master's reaction time. */
static uint64_t next_period(const master_loop_t* l, int got_messages) {
  if (got_messages || l->solo_on) return POLL_MIN_MS;
  uint64_t cap = l->ops.min_chunk_ns(l->ops.ctx) / 4000000u;
  if (cap > POLL_MAX_MS) cap = POLL_MAX_MS;
  if (cap < POLL_MIN_MS) cap = POLL_MIN_MS;
  uint64_t next = l->poll_ms * 2;
  return next < cap ? next : cap;
}

static void timer_cb(uv_timer_t* handle) {
  master_loop_t* l = handle->data;
  journal_tick(l);
  int got = l->ops.poll(l->ops.ctx) > 0;
  if (got) {
    l->last_msg_ns = base_now_ns();
    if (!l->hot_on) {
      uv_idle_start(&l->hot, hot_cb);
      l->hot_on = 1;
    }
  }
  if (!l->ops.done(l->ops.ctx)) l->ops.tick(l->ops.ctx);
  solo(l);
  l->poll_ms = next_period(l, got);
  if (!l->ops.done(l->ops.ctx))
    uv_timer_start(&l->timer, timer_cb, l->poll_ms, 0);
  stop_if_done(l);
}

static void death_alloc_cb(uv_handle_t* handle, size_t suggested,
                           uv_buf_t* buf) {
  (void)handle, (void)suggested;
  static char space[PROTO_DEATH_BYTES + 1]; /* larger ones are cut */
  buf->base = space;
  buf->len = sizeof(space);
}

static void death_cb(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                     const struct sockaddr* addr, unsigned flags) {
  master_loop_t* l = handle->data;
  if (nread <= 0 || addr == NULL || (flags & UV_UDP_PARTIAL)) return;
  l->ops.death(l->ops.ctx, (const uint8_t*)buf->base, (size_t)nread);
  stop_if_done(l);
}

/* Binds the death-report socket on every interface, on a port the system
 * picks; a failure costs only the reports (deadlines still find deaths). */
static void open_deaths(master_loop_t* l) {
  struct sockaddr_in any;
  if (uv_udp_init(&l->loop, &l->deaths) != 0) return;
  l->deaths.data = l;
  l->deaths_on = 1;
  if (uv_ip4_addr("0.0.0.0", 0, &any) != 0 ||
      uv_udp_bind(&l->deaths, (const struct sockaddr*)&any, 0) != 0 ||
      uv_udp_recv_start(&l->deaths, death_alloc_cb, death_cb) != 0) {
    uv_close((uv_handle_t*)&l->deaths, NULL);
    l->deaths_on = 0;
    return;
  }
  uv_unref((uv_handle_t*)&l->deaths);
}

uint16_t master_loop_death_port(const master_loop_t* l) {
  if (!l->deaths_on) return 0;
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  if (uv_udp_getsockname(&l->deaths, (struct sockaddr*)&ss, &len) != 0 ||
      ss.ss_family != AF_INET)
    return 0;
  return ntohs(((struct sockaddr_in*)&ss)->sin_port);
}

static void live_cb(uv_timer_t* handle) {
  master_loop_t* l = handle->data;
  l->ops.live(l->ops.ctx);
}

static void signal_cb(uv_signal_t* handle, int signum) {
  master_loop_t* l = handle->data;
  l->ops.signal(l->ops.ctx, signum);
  /* A stop is under way: look at it at once and often, not after a quiet
   * period's 16 ms (a user's second Ctrl-C may follow in 50 ms). */
  l->poll_ms = POLL_MIN_MS;
  if (!l->ops.done(l->ops.ctx))
    uv_timer_start(&l->timer, timer_cb, l->poll_ms, 0);
  stop_if_done(l);
}

int master_loop_init(master_loop_t* l, const cli_job_t* job,
                     const master_loop_ops_t* ops) {
  memset(l, 0, sizeof(*l));
  l->ops = *ops;
  if (uv_loop_init(&l->loop) != 0) return PROTO_EUV;
  l->open = 1;
  uv_timer_init(&l->loop, &l->timer);
  uv_idle_init(&l->loop, &l->hot);
  uv_timer_init(&l->loop, &l->live);
  uv_signal_init(&l->loop, &l->sigint);
  uv_signal_init(&l->loop, &l->sigterm);
  l->timer.data = l->hot.data = l->live.data = l;
  l->sigint.data = l->sigterm.data = l;
  l->poll_ms = POLL_MIN_MS;
  if (ops->death != NULL) open_deaths(l);
  if (job->status_port > 0) {
    int urc = status_start(&l->http, &l->loop, job->status_bind,
                           job->status_port, ops->render, ops->ctx);
    if (urc != 0) {
      base_log(BASE_LOG_WARN,
                "cannot serve --status-port on %s:%d: %s (choose another "
                "port or --status-bind address)",
                job->status_bind, job->status_port, uv_strerror(urc));
      master_loop_close(l);
      /* The command line asks for what cannot be had: a usage error, which
       * a supervisor does not retry. */
      return PROTO_EINVAL;
    }
    base_log(BASE_LOG_INFO, "status at http://%s:%d/status and /metrics",
              job->status_bind, job->status_port);
  }
  return 0;
}

int master_loop_run(master_loop_t* l, master_journal_t* journal) {
  l->journal = journal;
  l->synced_ns = base_now_ns();
  uv_signal_start(&l->sigint, signal_cb, SIGINT);
  uv_signal_start(&l->sigterm, signal_cb, SIGTERM);
  uv_timer_start(&l->live, live_cb, LIVE_MS, LIVE_MS);
  uv_unref((uv_handle_t*)&l->live);
  uv_unref((uv_handle_t*)&l->sigint);
  uv_unref((uv_handle_t*)&l->sigterm);
  if (uv_timer_start(&l->timer, timer_cb, l->poll_ms, 0) != 0) return PROTO_EUV;
  solo(l);
  stop_if_done(l);
  if (!l->ops.done(l->ops.ctx)) uv_run(&l->loop, UV_RUN_DEFAULT);
  return 0;
}

void master_loop_close(master_loop_t* l) {
  if (!l->open) return;
  status_stop(&l->http);
  uv_close((uv_handle_t*)&l->timer, NULL);
  uv_close((uv_handle_t*)&l->hot, NULL);
  uv_close((uv_handle_t*)&l->live, NULL);
  uv_close((uv_handle_t*)&l->sigint, NULL);
  uv_close((uv_handle_t*)&l->sigterm, NULL);
  if (l->deaths_on) uv_close((uv_handle_t*)&l->deaths, NULL);
  l->deaths_on = 0;
  /* Runs the close callbacks, and a journal sync still in flight. */
  uv_run(&l->loop, UV_RUN_DEFAULT);
  uv_loop_close(&l->loop);
  l->open = 0;
}
