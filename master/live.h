/* What a running farm shows: the progress line on stderr, and the bodies of
 * GET /status (JSON) and GET /metrics (Prometheus text format 0.0.4). All
 * three are rendered from the same snapshot (report.h's run statistics plus
 * the live figures below), so they always agree with each other and with
 * the final report. */
#ifndef TASKFARM_MASTER_LIVE_H_
#define TASKFARM_MASTER_LIVE_H_

#include <stddef.h>
#include <stdint.h>

#include "master/report.h"
#include "master/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct master_live_s master_live_t;
struct master_live_s {
  uint64_t done_iters; /* iterations of accepted chunks, journal included */
  uint64_t inflight;   /* chunks issued and not yet done */
  double elapsed_s;
  double rate;              /* iterations per second over the last seconds */
  double eta_s;             /* seconds to go at that rate; < 0: unknown */
  int alive;                /* workers taking work */
  int lost;                 /* workers lost */
  int stopping;             /* a signal asked the run to stop */
  const char* journal;      /* its path, or NULL */
  uint64_t journal_records; /* records appended by this run */
};

/* The one-line progress text (no line ending), e.g.
 * "pi  42.0% 4.20e9/1.00e10 it  1.37e10 it/s  ETA 0:00:03  workers 2 (0 lost)"
 */
void master_progress_line(const master_run_stats_t* st,
                          const master_live_t* live, char* out, size_t len);

/* The GET /status body. */
void master_render_status(const master_run_stats_t* st,
                          const master_live_t* live, status_buf_t* b);

/* The GET /metrics body. */
void master_render_metrics(const master_run_stats_t* st,
                           const master_live_t* live, status_buf_t* b);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_LIVE_H_ */
