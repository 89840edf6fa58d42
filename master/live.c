/* The progress line, /status and /metrics of live.h. */
#include "master/live.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* "1:02:03" for seconds, "?" when unknown. */
static void clock_text(double s, char* out, size_t len) {
  if (s < 0 || s > 1e9) {
    snprintf(out, len, "?");
    return;
  }
  unsigned long t = (unsigned long)(s + 0.5);
  snprintf(out, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
}

/* text as a JSON string. */
static void json_str(status_buf_t* b, const char* text) {
  char buf[6 * CLI_PATH_MAX + 3];
  master_json_quote(text, buf, sizeof(buf));
  status_printf(b, "%s", buf);
}

static double percent(const master_run_stats_t* st, const master_live_t* l) {
  return st->job->n > 0 ? 100.0 * (double)l->done_iters / (double)st->job->n
                        : 100.0;
}

void master_progress_line(const master_run_stats_t* st,
                          const master_live_t* live, char* out, size_t len) {
  char eta[32], rate[32] = "?";
  clock_text(live->eta_s, eta, sizeof(eta));
  if (live->rate > 0) snprintf(rate, sizeof(rate), "%.3g", live->rate);
  snprintf(out, len,
           "%s %5.1f%% %.3g/%.3g it  %s it/s  ETA %s  workers %d (%d lost)%s",
           cli_job_name(st->job), percent(st, live),
           (double)live->done_iters, (double)st->job->n, rate, eta, live->alive,
           live->lost, live->stopping ? "  stopping" : "");
}

void master_render_status(const master_run_stats_t* st,
                          const master_live_t* live, status_buf_t* b) {
  const cli_job_t* job = st->job;
  uint64_t chunks = 0, iters = 0, timeouts = 0, dups = 0;
  for (int i = 0; i < st->workers; i++) {
    chunks += st->rank[i].chunks;
    iters += st->rank[i].iters;
    timeouts += st->rank[i].timeouts;
    dups += st->rank[i].duplicates;
  }
  status_printf(b,
                "{\"job\": {\"kind\": \"%s\", \"n\": %llu, \"schedule\": "
                "\"%s\", \"workers\": %d},\n",
                cli_job_name(job), (unsigned long long)job->n,
                cli_sched_name(job->schedule), st->workers);
  status_printf(b,
                " \"progress\": {\"done_iterations\": %llu, \"percent\": "
                "%.6f, \"resumed_iterations\": %llu, "
                "\"master_iterations\": %llu, \"chunks_cut\": %llu, "
                "\"chunks_in_flight\": %llu, \"elapsed_s\": %.3f, "
                "\"rate\": %.6g, \"eta_s\": %.3f, \"stopping\": %s},\n",
                (unsigned long long)live->done_iters, percent(st, live),
                (unsigned long long)st->resumed_iters,
                (unsigned long long)st->master_iters,
                (unsigned long long)st->chunks,
                (unsigned long long)live->inflight, live->elapsed_s, live->rate,
                live->eta_s, live->stopping ? "true" : "false");
  status_printf(b, " \"workers\": {\"alive\": %d, \"lost\": %d},\n",
                live->alive, live->lost);
  status_printf(b,
                " \"faults\": {\"reissued\": %llu, \"speculative\": %llu, "
                "\"timeouts\": %llu, \"duplicates\": %llu, "
                "\"iterations_twice\": %llu},\n",
                (unsigned long long)st->reissues,
                (unsigned long long)st->speculative,
                (unsigned long long)timeouts, (unsigned long long)dups,
                (unsigned long long)st->wasted_iters);
  status_printf(
      b,
      " \"checks\": {\"verify\": %g, \"issued\": %llu, "
      "\"passed\": %llu, \"free\": %llu, \"mismatches\": %llu, "
      "\"ranks_refused\": %llu, \"iterations_withdrawn\": %llu, "
      "\"kernel_deaths\": %llu, \"poisoned_chunks\": %llu},\n",
      st->verify, (unsigned long long)st->checks_issued,
      (unsigned long long)st->checks_passed,
      (unsigned long long)st->free_checks, (unsigned long long)st->mismatches,
      (unsigned long long)st->liars, (unsigned long long)st->revoked_iters,
      (unsigned long long)st->kernel_deaths, (unsigned long long)st->poisoned);
  if (live->journal) {
    status_printf(b, " \"journal\": {\"path\": ");
    json_str(b, live->journal);
    status_printf(b, ", \"records_appended\": %llu},\n",
                  (unsigned long long)live->journal_records);
  }
  status_printf(b, " \"ranks\": [");
  for (int i = 0; i < st->workers; i++) {
    const master_rank_stats_t* r = &st->rank[i];
    status_printf(b, "%s\n  {\"rank\": %d, \"host\": ", i ? "," : "", r->rank);
    json_str(b, r->host);
    status_printf(
        b,
        ", \"state\": \"%s\", \"speed\": %.6g, \"chunks\": "
        "%llu, \"iterations\": %llu, \"busy_s\": %.3f, "
        "\"timeouts\": %llu, \"reissued\": %llu, "
        "\"duplicates\": %llu, \"cancelled\": %llu, \"refused\": ",
        r->state ? r->state : "?", r->speed, (unsigned long long)r->chunks,
        (unsigned long long)r->iters, r->busy_s,
        (unsigned long long)r->timeouts, (unsigned long long)r->reissued,
        (unsigned long long)r->duplicates, (unsigned long long)r->cancels);
    if (r->refused_why[0] != '\0')
      json_str(b, r->refused_why);
    else
      status_printf(b, "null");
    status_printf(b, "}");
  }
  status_printf(b,
                "\n ],\n \"totals\": {\"rank_chunks\": %llu, "
                "\"rank_iterations\": %llu}\n}\n",
                (unsigned long long)chunks, (unsigned long long)iters);
}

static void header(status_buf_t* b, const char* name, const char* type,
                   const char* help) {
  /* Prometheus' rule: a counter's name ends in _total. */
  assert(strcmp(type, "counter") != 0 ||
         (strlen(name) > 6 && strcmp(name + strlen(name) - 6, "_total") == 0));
  status_printf(b, "# HELP taskfarm_%s %s\n# TYPE taskfarm_%s %s\n", name, help,
                name, type);
}

/* One unlabelled sample; %.17g prints whole numbers below 2^53 exactly. */
static void metric(status_buf_t* b, const char* name, const char* type,
                   const char* help, double value) {
  header(b, name, type, help);
  status_printf(b, "taskfarm_%s %.17g\n", name, value);
}

typedef enum {
  RANK_ITERS,
  RANK_CHUNKS,
  RANK_SPEED,
  RANK_TIMEOUTS,
  RANK_UP,
  RANK_REFUSED
} rank_field_t;

static double rank_value(const master_rank_stats_t* r, rank_field_t f) {
  switch (f) {
    case RANK_ITERS:
      return (double)r->iters;
    case RANK_CHUNKS:
      return (double)r->chunks;
    case RANK_SPEED:
      return r->speed;
    case RANK_TIMEOUTS:
      return (double)r->timeouts;
    case RANK_UP:
      return r->state && strcmp(r->state, "active") == 0;
    case RANK_REFUSED:
      return r->refused_why[0] != '\0';
  }
  return 0;
}

/* One sample per worker rank, labelled rank="R". */
static void rank_metric(status_buf_t* b, const master_run_stats_t* st,
                        const char* name, const char* type, const char* help,
                        rank_field_t f) {
  header(b, name, type, help);
  for (int i = 0; i < st->workers; i++)
    status_printf(b, "taskfarm_%s{rank=\"%d\"} %.17g\n", name, st->rank[i].rank,
                  rank_value(&st->rank[i], f));
}

void master_render_metrics(const master_run_stats_t* st,
                           const master_live_t* live, status_buf_t* b) {
  metric(b, "iterations_target", "gauge", "Iterations of the whole job (n).",
         (double)st->job->n);
  metric(b, "iterations_done", "gauge",
         "Iterations of accepted chunks, journal included.",
         (double)live->done_iters);
  metric(b, "iterations_resumed", "gauge",
         "Iterations taken from the journal at start.",
         (double)st->resumed_iters);
  metric(b, "progress_ratio", "gauge", "Fraction of the job done.",
         percent(st, live) / 100.0);
  metric(b, "rate_iterations_per_second", "gauge",
         "Iterations per second over the last seconds.", live->rate);
  metric(b, "eta_seconds", "gauge",
         "Seconds to go at the current rate (-1: unknown).",
         live->eta_s >= 0 ? live->eta_s : -1.0);
  metric(b, "elapsed_seconds", "gauge", "Seconds since the run started.",
         live->elapsed_s);
  metric(b, "chunks_cut_total", "counter", "Chunks cut so far.",
         (double)st->chunks);
  metric(b, "reissued_chunks_total", "counter",
         "Chunks put back in line after a fault.", (double)st->reissues);
  metric(b, "speculative_copies_total", "counter",
         "Backup copies of stragglers' chunks.", (double)st->speculative);
  metric(b, "checks_issued_total", "counter",
         "Copies issued to compute a result a second time (--verify).",
         (double)st->checks_issued);
  metric(b, "checks_passed_total", "counter",
         "Results another rank's computation confirmed bit for bit.",
         (double)st->checks_passed);
  metric(b, "mismatches_total", "counter",
         "Computations of a chunk that contradicted another.",
         (double)st->mismatches);
  metric(b, "ranks_refused_total", "counter",
         "Ranks refused for lying or computing wrong results.",
         (double)st->liars);
  metric(b, "iterations_withdrawn_total", "counter",
         "Iterations withdrawn from refused ranks and computed again.",
         (double)st->revoked_iters);
  metric(b, "kernel_deaths_total", "counter",
         "Computations that killed or froze a kernel's process.",
         (double)st->kernel_deaths);
  metric(b, "poisoned_chunks", "gauge",
         "Chunks never handed out again (--poison-after).",
         (double)st->poisoned);
  header(b, "workers", "gauge", "Workers by state.");
  status_printf(b, "taskfarm_workers{state=\"alive\"} %d\n", live->alive);
  status_printf(b, "taskfarm_workers{state=\"lost\"} %d\n", live->lost);
  rank_metric(b, st, "rank_iterations_total", "counter",
              "Iterations of accepted chunks per worker rank.", RANK_ITERS);
  rank_metric(b, st, "rank_chunks_total", "counter",
              "Accepted chunks per worker rank.", RANK_CHUNKS);
  rank_metric(b, st, "rank_speed", "gauge",
              "Smoothed iterations per second per worker rank (0: unknown).",
              RANK_SPEED);
  rank_metric(b, st, "rank_timeouts_total", "counter",
              "Deadlines missed per worker rank.", RANK_TIMEOUTS);
  rank_metric(b, st, "rank_up", "gauge", "1 while the worker rank takes work.",
              RANK_UP);
  rank_metric(b, st, "rank_refused", "gauge",
              "1 when the worker rank was refused for lying or wrong "
              "results (the reason is in /status).",
              RANK_REFUSED);
}
