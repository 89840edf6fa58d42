/* The master's libuv loop: the only place that knows libuv. A timer polls
 * MPI while traffic is quiet (every 1 ms, backing off to a bound set by the
 * shortest chunk seen) and runs the farm's deadlines; an idle handle polls
 * continuously only while messages keep arriving, so the master neither
 * blocks nor spins idly. The master's own computing (master/solo.h) runs
 * in a child process; the timer looks at it every millisecond while it
 * has a chunk out. Journal records are written in
 * batches and made durable every second on libuv's thread pool. What each
 * of these does is the caller's, through master_loop_ops_t. */
#ifndef TASKFARM_MASTER_EVENT_LOOP_H_
#define TASKFARM_MASTER_EVENT_LOOP_H_

#include <stdint.h>
#include <uv.h>

#include "master/journal.h"
#include "master/status.h"
#include "cli/job.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct master_loop_ops_s master_loop_ops_t;
struct master_loop_ops_s {
  void* ctx; /* passed to every callback */
  /* Tests the posted receives once; returns the messages handled. */
  int (*poll)(void* ctx);
  /* Deadlines, pings, re-issues (from the timer). */
  void (*tick)(void* ctx);
  /* 1 once the run is over. */
  int (*done)(void* ctx);
  /* The master's own computing, without blocking: 1 while a chunk of its
   * own is out (the timer then runs every millisecond). */
  int (*solo)(void* ctx);
  /* The shortest compute time of a chunk seen so far (0: none yet). */
  uint64_t (*min_chunk_ns)(void* ctx);
  /* SIGINT or SIGTERM arrived. */
  void (*signal)(void* ctx, int signum);
  /* Four times a second: progress and rate samples. */
  void (*live)(void* ctx);
  /* The journal failed (rc): the run must end. */
  void (*fail)(void* ctx, int rc);
  /* Renders /status and /metrics. */
  status_render_cb render;
  /* A datagram arrived on the death-report socket (len bytes). */
  void (*death)(void* ctx, const uint8_t* buf, size_t len);
};

typedef struct master_loop_s master_loop_t;
struct master_loop_s {
  master_loop_ops_t ops;
  uv_loop_t loop;
  uv_timer_t timer; /* polls and deadlines while traffic is quiet */
  uv_idle_t hot;    /* polls continuously while messages arrive */
  uv_timer_t live;  /* progress line and rate samples */
  uv_signal_t sigint;
  uv_signal_t sigterm;
  status_server_t http; /* --status-port */
  uv_udp_t deaths;      /* guards' death reports (proto_death_t) */
  int deaths_on;        /* deaths is bound */
  int hot_on;
  int solo_on;               /* ops.solo said a chunk of the master's is out */
  uint64_t poll_ms;          /* current timer period */
  uint64_t last_msg_ns;      /* when a poll last found a message */
  master_journal_t* journal; /* NULL without --journal */
  uint64_t synced_ns;        /* when the journal's last sync started */
  uv_fs_t sync_req;          /* fdatasync on libuv's thread pool */
  int sync_busy;             /* sync_req is in flight */
  int open;                  /* uv_loop_init succeeded */
};

/* Sets the loop up and, with --status-port, binds the status server (so a
 * busy port is found before any file is created). Returns 0, or PROTO_EUV
 * after saying why (the loop is then closed). */
int master_loop_init(master_loop_t* l, const cli_job_t* job,
                     const master_loop_ops_t* ops);

/* The UDP port guards report deaths to (bound on every interface by
 * master_loop_init), or 0 when none could be bound. */
uint16_t master_loop_death_port(const master_loop_t* l);

/* Runs until ops->done() says the run is over. journal may be NULL. */
int master_loop_run(master_loop_t* l, master_journal_t* journal);

/* Closes every handle and the loop; safe after a failed init. */
void master_loop_close(master_loop_t* l);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_EVENT_LOOP_H_ */
