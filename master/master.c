/* The master's wiring: the farm (decisions, master/farm.h) is driven by
 * the loop (libuv, event_loop.h) with what the link (MPI, link.h)
 * receives; what the farm wants sent, journaled, logged or traced goes
 * back out through the callbacks here; the console shows it; solo.h
 * computes when no worker can; setup.h opens the farm and end.c ends the
 * job. */
#include "master/master.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/chunks.h"
#include "master/console.h"
#include "master/end.h"
#include "master/farm.h"
#include "master/journal.h"
#include "master/link.h"
#include "master/event_loop.h"
#include "master/report.h"
#include "master/schedule.h"
#include "master/setup.h"
#include "master/solo.h"
#include "base/clock.h"
#include "proto/error.h"
#include "base/log.h"
#include "base/watchdog.h"

enum {
  SEND_GRACE_NS = 200000000,       /* sends in flight may complete this long */
  FAREWELL_NS = 2000000000,        /* every worker says BYE within this */
  HURRIED_FAREWELL_NS = 500000000, /* ... after a second signal */
};

typedef struct master_s {
  const cli_job_t* job;
  master_options_t* opts;
  farm_t* farm;
  master_link_t link;
  master_loop_t loop;
  master_console_t console;
  master_journal_t journal;
  int journaling;
  master_log_t trace;        /* --trace events */
  master_solo_t solo;        /* the master's own computing */
  int end_now;               /* a second signal: end without waiting */
  int stop_signal;           /* the signal that stopped the run; 0 = none */
  uint64_t t0_ns;            /* when the farm was set up */
  char host[PROTO_HOST_MAX]; /* this host's name */
} master_t;

/* ---- the farm's callbacks ---------------------------------------------- */

static int io_send(void* ctx, int rank, const proto_msg_t* msg) {
  master_t* m = ctx;
  int rc = master_link_send(&m->link, rank, msg);
  if (rc == MASTER_LINK_BUSY) return FARM_SEND_BUSY;
  if (rc < 0) base_log(BASE_LOG_WARN, "%s", m->link.what);
  return rc;
}

static int io_record(void* ctx, const master_record_t* r) {
  master_t* m = ctx;
  if (!m->journaling) return 0;
  return master_journal_append(&m->journal, r) < 0 ? PROTO_ENOMEM : 0;
}

static void io_log(void* ctx, farm_log_level_t level, const char* line) {
  (void)ctx;
  base_log(level == FARM_LOG_WARN ? BASE_LOG_WARN : BASE_LOG_INFO, "%s",
            line);
}

static void io_event(void* ctx, const master_event_t* e) {
  master_t* m = ctx;
  master_log_add(&m->trace, e);
}

/* ---- the link's callbacks ---------------------------------------------- */

static void on_message(void* ctx, int rank, const proto_msg_t* msg) {
  master_t* m = ctx;
  farm_message(m->farm, rank, msg, base_now_ns());
}

static void on_bad(void* ctx, int rank, int rc, int tag, size_t len,
                   uint32_t version) {
  master_t* m = ctx;
  farm_bad_message(m->farm, rank, rc, tag, len, version, base_now_ns());
}

static void on_link_error(void* ctx, int rank, const char* what) {
  master_t* m = ctx;
  base_log(BASE_LOG_WARN, "%s", what);
  farm_link_error(m->farm, rank, what, base_now_ns());
}

/* ---- the loop's callbacks ---------------------------------------------- */

static int op_poll(void* ctx) {
  master_t* m = ctx;
  master_link_cbs_t cbs = {m, on_message, on_bad, on_link_error};
  return master_link_poll(&m->link, &cbs);
}

static void op_tick(void* ctx) {
  master_t* m = ctx;
  farm_tick(m->farm, base_now_ns());
}

static int op_done(void* ctx) {
  master_t* m = ctx;
  return farm_done(m->farm) || m->end_now;
}

static int op_solo(void* ctx) {
  master_t* m = ctx;
  return master_solo_step(&m->solo, base_now_ns());
}

static uint64_t op_min_chunk_ns(void* ctx) {
  master_t* m = ctx;
  return farm_min_chunk_ns(m->farm);
}

static void op_signal(void* ctx, int signum) {
  master_t* m = ctx;
  farm_t* f = m->farm;
  master_console_clear(&m->console);
  if (farm_stopping(f) != FARM_STOP_NONE) {
    /* The second one: end now, without waiting for chunks in flight. */
    base_log(BASE_LOG_WARN, "second signal: ending at once");
    m->end_now = 1;
    return;
  }
  if (signum == SIGINT)
    base_log(BASE_LOG_WARN,
              "SIGINT: stopping now; the chunks in flight are computed again "
              "on resume (SIGTERM waits up to %.0f s for them)",
              FARM_STOP_GRACE_MS / 1e3);
  else
    base_log(BASE_LOG_WARN,
              "%s: handing out no more work; waiting up to %.0f s for the "
              "chunks in flight (a second signal ends at once)",
              master_signal_name(signum), FARM_STOP_GRACE_MS / 1e3);
  m->stop_signal = signum;
  farm_stop(f, signum == SIGINT ? FARM_STOP_NOW : FARM_STOP_DRAIN,
            base_now_ns());
}

static void op_live(void* ctx) {
  master_t* m = ctx;
  master_console_tick(&m->console, base_now_ns());
}

static void op_fail(void* ctx, int rc) {
  master_t* m = ctx;
  farm_fail(m->farm, rc);
}

static int op_render(void* ctx, const char* path, status_buf_t* body,
                     const char** type) {
  master_t* m = ctx;
  master_run_stats_t st;
  master_live_t live;
  master_console_figures(&m->console, base_now_ns(), &st, &live);
  if (strcmp(path, "/status") == 0) {
    master_render_status(&st, &live, body);
    *type = "application/json";
    return 200;
  }
  if (strcmp(path, "/metrics") == 0) {
    master_render_metrics(&st, &live, body);
    *type = "text/plain; version=0.0.4";
    return 200;
  }
  return 404;
}

static void op_death(void* ctx, const uint8_t* buf, size_t len) {
  master_t* m = ctx;
  proto_death_t d;
  if (proto_death_decode(buf, len, &d) == 0)
    farm_death_report(m->farm, &d, base_now_ns());
}

static void clear_progress(void* ctx) {
  master_t* m = ctx;
  master_console_clear(&m->console);
}

/* ---- set-up ------------------------------------------------------------ */

/* Everything the run needs, in an order where a bad path or port costs
 * nothing and leaves nothing behind: the status port is bound before the
 * output files are checked, and they before the journal is created. */
static int start(master_t* m, MPI_Comm comm, int size) {
  const cli_job_t* job = m->job;
  master_loop_ops_t ops = {m,       op_poll,         op_tick,   op_done,
                           op_solo, op_min_chunk_ns, op_signal, op_live,
                           op_fail, op_render,       op_death};
  int rc = master_loop_init(&m->loop, job, &ops);
  if (rc < 0) return rc;
  rc = master_console_check_outputs(job);
  if (rc == 0) rc = master_console_prepare(job);
  master_setup_t setup = {
      .job = job,
      .workers = size - 1,
      .io = {m, io_send, io_record, io_log,
             job->trace[0] != '\0' ? io_event : NULL},
      .scale = m->opts->scale,
      .death_port = master_loop_death_port(&m->loop),
      .t0_ns = base_now_ns(),
      .journal = &m->journal,
  };
  if (rc == 0) rc = master_setup_farm(&setup);
  m->farm = setup.farm;
  m->journaling = setup.journaling;
  m->t0_ns = setup.t0_ns;
  memcpy(m->host, setup.host, sizeof(m->host));
  if (rc == 0) rc = master_console_init(&m->console, m->farm, job);
  if (rc < 0) return rc;
  master_solo_init(&m->solo, m->farm, job, m->opts->argv, m->opts->scale,
                   job->timeout_floor);
  if (m->journaling) {
    m->console.journal = job->journal;
    m->console.journal_records = &m->journal.appended;
  }
  base_log_set_hook(clear_progress, m);
  rc = master_link_open(&m->link, comm, size - 1);
  if (rc < 0) base_log(BASE_LOG_WARN, "%s", m->link.what);
  return rc;
}

int master_run(const cli_job_t* job, MPI_Comm comm, master_options_t* opts) {
  static master_t m; /* large, and one per process */
  memset(&m, 0, sizeof(m));
  m.job = job;
  m.opts = opts;
  m.journal.fd = -1;
  m.trace.on = job->trace[0] != '\0';
  base_log_set_quiet(job->quiet);
  int size = 1;
  MPI_Comm_size(comm, &size);
  int rc = start(&m, comm, size);
  if (rc == 0) {
    rc = master_loop_run(&m.loop, m.journaling ? &m.journal : NULL);
    master_console_clear(&m.console);
    master_farewell(&m.link, m.farm, &opts->launch,
                    m.end_now ? HURRIED_FAREWELL_NS : FAREWELL_NS);
    int jrc = master_journal_close(&m.journal);
    if (rc == 0) rc = farm_rc(m.farm);
    if (rc == 0) rc = jrc;
    master_end_t end = {m.t0_ns,    m.stop_signal, &opts->launch,
                        opts->argc, opts->argv,    &m.trace};
    rc = master_console_end(&m.console, rc, &end);
    if (rc == PROTO_ESTOPPED) opts->stopped_by = m.stop_signal;
    opts->ending = master_settle_ending(&m.link, m.farm, &opts->launch, m.host,
                                        rc, FAREWELL_NS);
    master_link_close(&m.link, SEND_GRACE_NS);
  }
  base_log_set_hook(NULL, NULL);
  master_solo_close(&m.solo);
  master_console_close(&m.console);
  farm_close(m.farm);
  master_loop_close(&m.loop);
  master_journal_close(&m.journal);
  master_log_close(&m.trace);
  return rc;
}
