/* The --report and --trace files of report.h. Plain fprintf: every string
 * that did not come from this file goes through master_json_string. */
#include "master/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/error.h"

void master_log_add(master_log_t* log, const master_event_t* e) {
  if (!log->on || log->full) return;
  if (log->count == log->cap) {
    size_t cap = log->cap ? 2 * log->cap : 1024;
    master_event_t* grown = realloc(log->ev, cap * sizeof(*grown));
    if (grown == NULL) {
      log->full = 1;
      return;
    }
    log->ev = grown;
    log->cap = cap;
  }
  log->ev[log->count++] = *e;
}

void master_log_close(master_log_t* log) {
  free(log->ev);
  log->ev = NULL;
  log->count = log->cap = 0;
}

/* The length of the well-formed UTF-8 sequence at p (1 to 4 bytes), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static int utf8_len(const unsigned char* p) {
  if (p[0] < 0x80) return 1;
  int len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
  if (len == 0 || p[0] > 0xf4) return 0;
  for (int k = 1; k < len; k++)
    if ((p[k] & 0xc0) != 0x80) return 0;
  if (len == 3 && p[0] == 0xe0 && p[1] < 0xa0) return 0;  /* overlong */
  if (len == 3 && p[0] == 0xed && p[1] >= 0xa0) return 0; /* surrogate */
  if (len == 4 && p[0] == 0xf0 && p[1] < 0x90) return 0;  /* overlong */
  if (len == 4 && p[0] == 0xf4 && p[1] >= 0x90) return 0; /* > U+10FFFF */
  return len;
}

size_t master_json_quote(const char* text, char* out, size_t cap) {
  size_t n = 0;
#define PUT(...) \
  n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__)
  PUT("\"");
  for (const unsigned char* p = (const unsigned char*)text; *p;) {
    int len = utf8_len(p);
    if (len == 0) {
      PUT("\\ufffd"); /* not UTF-8: the replacement character */
      p++;
    } else if (*p == '"' || *p == '\\') {
      PUT("\\%c", *p++);
    } else if (*p < 0x20 || *p == 0x7f) {
      PUT("\\u%04x", *p++);
    } else {
      PUT("%.*s", len, (const char*)p);
      p += len;
    }
  }
  PUT("\"");
#undef PUT
  return n;
}

void master_json_string(FILE* f, const char* text) {
  char buf[6 * CLI_PATH_MAX + 3];
  size_t n = master_json_quote(text, buf, sizeof(buf));
  fwrite(buf, 1, n < sizeof(buf) ? n : sizeof(buf) - 1, f);
}

void master_balance(const master_run_stats_t* st, master_balance_t* out) {
  memset(out, 0, sizeof(*out));
  double sum = 0, sum2 = 0, busy = 0, speed = 0, work = 0;
  int counted = 0;
  for (int i = 0; i < st->workers; i++) {
    const master_rank_stats_t* r = &st->rank[i];
    busy += r->busy_s;
    work += (double)r->iters;
    if (r->busy_s > 0) speed += (double)r->iters / r->busy_s;
    if (r->chunks == 0) continue;
    counted++;
    sum += r->finish_s;
    sum2 += r->finish_s * r->finish_s;
    if (r->finish_s > out->finish_max_s) out->finish_max_s = r->finish_s;
  }
  if (counted > 0) {
    out->finish_mean_s = sum / counted;
    double var = sum2 / counted - out->finish_mean_s * out->finish_mean_s;
    out->finish_cov = out->finish_mean_s > 0
                          ? sqrt(var > 0 ? var : 0) / out->finish_mean_s
                          : 0;
    out->imbalance =
        out->finish_mean_s > 0 ? out->finish_max_s / out->finish_mean_s : 1;
  }
  double capacity = st->workers * st->wall_s;
  out->efficiency = capacity > 0 ? busy / capacity : 0;
  out->ideal_s = speed > 0 ? work / speed : 0;
  out->overhead_per_chunk_s =
      st->chunks > 0 && capacity > busy ? (capacity - busy) / st->chunks : 0;
}

static const char* const kEventName[MASTER_EV_KINDS] = {
    "accepted", "duplicate", "cancelled", "abandoned", "timeout",
    "reissue",  "lost",      "back",      "speculate", "cancel",
};

/* The "job" object: what was asked for, the job's own options included. */
static void write_job(FILE* f, const master_run_stats_t* st) {
  const cli_job_t* job = st->job;
  fprintf(f,
          "  \"job\": {\"kind\": \"%s\", \"n\": %llu, \"schedule\": \"%s\", "
          "\"workers\": %d, \"chunk\": %llu, \"min_chunk\": %llu, "
          "\"speculate\": %s",
          cli_job_name(job), (unsigned long long)job->n,
          cli_sched_name(job->schedule), st->workers,
          (unsigned long long)st->chunk_size, (unsigned long long)st->min_chunk,
          cli_job_speculates(job) ? "true" : "false");
  if (job->nweights > 0) {
    fprintf(f, ", \"weights\": [");
    for (int i = 0; i < job->nweights; i++)
      fprintf(f, "%s%.17g", i ? ", " : "", job->weight[i]);
    fprintf(f, "]");
  }
  /* The job's own options, by name ("a" and "b" of a file dot product),
   * under "options" so that no name can shadow the farm's. */
  int opened = 0;
  for (int i = 0; i < job->task.nvalues; i++) {
    const jobs_value_t* v = &job->task.value[i];
    if (!v->set) continue;
    fprintf(f, "%s", opened++ ? ", " : ", \"options\": {");
    master_json_string(f, v->key);
    fprintf(f, ": ");
    master_json_string(f, v->value);
  }
  if (opened) fprintf(f, "}");
  fprintf(f, "},\n");
}

/* The "result" object: the value, and how far it is from the reference. */
static void write_result(FILE* f, const master_run_stats_t* st) {
  fprintf(f, "  \"result\": {\"value\": ");
  master_json_string(f, st->result ? st->result : "");
  if (st->bits) {
    fprintf(f, ", \"bits\": ");
    master_json_string(f, st->bits);
  }
  if (st->has_reference) {
    fprintf(f, ", \"reference\": ");
    master_json_string(f, st->reference_text);
    fprintf(f, ", \"reference_kind\": ");
    master_json_string(f, st->reference_kind);
    fprintf(f, ", \"error\": %.17g", fabs(st->value - st->reference));
  }
  fprintf(f, ", \"complete\": %s},\n", st->stopped ? "false" : "true");
}

/* The run's totals: time, messages, balance, faults and checks. */
static void write_totals(FILE* f, const master_run_stats_t* st) {
  master_balance_t b;
  master_balance(st, &b);
  fprintf(f,
          "  \"wall_s\": %.9f,\n  \"master_cpu_s\": %.6f,\n"
          "  \"messages\": %llu,\n  \"chunks\": %llu,\n",
          st->wall_s, st->master_cpu_s, (unsigned long long)st->messages,
          (unsigned long long)st->chunks);
  fprintf(f,
          "  \"balance\": {\"finish_max_s\": %.9f, \"finish_mean_s\": %.9f, "
          "\"imbalance\": %.6f, \"finish_cov\": %.6f, \"efficiency\": %.6f, "
          "\"ideal_s\": %.9f, \"overhead_per_chunk_s\": %.9g, "
          "\"master_cpu_per_chunk_s\": %.9g},\n",
          b.finish_max_s, b.finish_mean_s, b.imbalance, b.finish_cov,
          b.efficiency, b.ideal_s, b.overhead_per_chunk_s,
          st->chunks > 0 ? st->master_cpu_s / st->chunks : 0.0);
  fprintf(f,
          "  \"faults\": {\"reissued\": %llu, \"speculative\": %llu, "
          "\"iterations_twice\": %llu, \"recovery_max_s\": %.6f, "
          "\"recovery_mean_s\": %.6f},\n",
          (unsigned long long)st->reissues, (unsigned long long)st->speculative,
          (unsigned long long)st->wasted_iters, st->recovery_max_s,
          st->recovery_mean_s);
  fprintf(
      f,
      "  \"checks\": {\"verify\": %g, \"issued\": %llu, \"passed\": "
      "%llu, \"free\": %llu, \"mismatches\": %llu, \"ranks_refused\": "
      "%llu, \"iterations_withdrawn\": %llu, \"kernel_deaths\": %llu, "
      "\"poisoned_chunks\": %llu},\n",
      st->verify, (unsigned long long)st->checks_issued,
      (unsigned long long)st->checks_passed,
      (unsigned long long)st->free_checks, (unsigned long long)st->mismatches,
      (unsigned long long)st->liars, (unsigned long long)st->revoked_iters,
      (unsigned long long)st->kernel_deaths, (unsigned long long)st->poisoned);
  fprintf(f,
          "  \"master_iterations\": %llu,\n  \"resumed_iterations\": %llu,\n",
          (unsigned long long)st->master_iters,
          (unsigned long long)st->resumed_iters);
}

/* One entry of "ranks": worker i's work, faults and learned speed. */
static void write_rank(FILE* f, const master_run_stats_t* st, int i) {
  const master_rank_stats_t* r = &st->rank[i];
  double idle = st->wall_s - r->busy_s;
  fprintf(f, "%s\n    {\"rank\": %d, \"host\": ", i ? "," : "", r->rank);
  master_json_string(f, r->host);
  fprintf(f,
          ", \"pid\": %llu, \"chunks\": %llu, \"iterations\": %llu, "
          "\"busy_s\": %.9f, \"idle_s\": %.9f, \"finish_s\": %.9f, "
          "\"speed\": %.6g, \"timeouts\": %llu, \"reissued\": %llu, "
          "\"duplicates\": %llu, \"cancelled\": %llu, \"rejected\": %llu, "
          "\"lost\": %s, \"learned\": {\"chunks\": %llu, "
          "\"mean_s_per_iteration\": %.6g, "
          "\"recent_mean_s_per_iteration\": %.6g, "
          "\"sd_s_per_iteration\": %.6g, \"weight\": %.6g}, "
          "\"checked\": %llu, \"checks_done\": %llu, \"withdrawn\": %llu, "
          "\"refused\": ",
          (unsigned long long)r->pid, (unsigned long long)r->chunks,
          (unsigned long long)r->iters, r->busy_s, idle > 0 ? idle : 0,
          r->finish_s, r->busy_s > 0 ? (double)r->iters / r->busy_s : 0.0,
          (unsigned long long)r->timeouts, (unsigned long long)r->reissued,
          (unsigned long long)r->duplicates, (unsigned long long)r->cancels,
          (unsigned long long)r->rejected, r->lost ? "true" : "false",
          (unsigned long long)r->learned.chunks, r->learned.mean_s,
          r->learned.recent_mean_s, r->learned.sd_s, r->learned.weight,
          (unsigned long long)r->checked, (unsigned long long)r->checks_done,
          (unsigned long long)r->revoked);
  if (r->refused_why[0] != '\0')
    master_json_string(f, r->refused_why);
  else
    fputs("null", f);
  fputs("}", f);
}

int master_write_report(FILE* f, const master_run_stats_t* st) {
  /* 2: the job's own options under "job"."options" (1 had dot's a and b
   * beside the farm's). */
  fprintf(f, "{\n  \"format\": \"taskfarm-report-2\",\n");
  write_job(f, st);
  write_result(f, st);
  write_totals(f, st);
  fprintf(f, "  \"ranks\": [");
  for (int i = 0; i < st->workers; i++) write_rank(f, st, i);
  fprintf(f, "\n  ]\n}\n");
  return ferror(f) ? PROTO_EIO : 0;
}

void master_faults_line(const master_run_stats_t* st, char* out, size_t len) {
  snprintf(out, len,
           "faults: %llu chunks re-issued, %llu speculative copies, %llu "
           "iterations computed twice; recovery %.3f s max, %.3f s mean over "
           "%llu chunks",
           (unsigned long long)st->reissues,
           (unsigned long long)st->speculative,
           (unsigned long long)st->wasted_iters, st->recovery_max_s,
           st->recovery_mean_s, (unsigned long long)st->recoveries);
}

void master_checks_line(const master_run_stats_t* st, char* out, size_t len) {
  char share[40];
  if (st->verify >= 1)
    snprintf(share, sizeof(share), "every chunk");
  else if (st->verify <= 0)
    snprintf(share, sizeof(share), "off");
  else
    snprintf(share, sizeof(share), "%g of the chunks", st->verify);
  snprintf(out, len,
           "verify: %s; %llu checked by a second rank (%llu "
           "copies issued, %llu free), %llu mismatches, %llu rank%s refused "
           "for lies or wrong results, %llu iterations withdrawn; %llu kernel "
           "deaths, %llu poisoned chunk%s",
           share, (unsigned long long)st->checks_passed,
           (unsigned long long)st->checks_issued,
           (unsigned long long)st->free_checks,
           (unsigned long long)st->mismatches, (unsigned long long)st->liars,
           st->liars == 1 ? "" : "s", (unsigned long long)st->revoked_iters,
           (unsigned long long)st->kernel_deaths,
           (unsigned long long)st->poisoned, st->poisoned == 1 ? "" : "s");
}

static double us(uint64_t ns) { return (double)ns / 1000.0; }

int master_write_trace(FILE* f, const master_run_stats_t* st,
                       const master_log_t* log) {
  fprintf(f,
          "{\"displayTimeUnit\": \"ms\", \"otherData\": {\"job\": \"%s\", "
          "\"n\": %llu, \"schedule\": \"%s\", \"workers\": %d, "
          "\"events_dropped\": %s},\n\"traceEvents\": [\n",
          cli_job_name(st->job), (unsigned long long)st->job->n,
          cli_sched_name(st->job->schedule), st->workers,
          log->full ? "true" : "false");
  fprintf(f,
          "{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": 1, "
          "\"args\": {\"name\": \"taskfarm\"}},\n"
          "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": 1, \"tid\": 0, "
          "\"args\": {\"name\": \"rank 0 (master)\"}}");
  for (int i = 0; i < st->workers; i++) {
    char name[PROTO_HOST_MAX + 32];
    snprintf(name, sizeof(name), "rank %d (%s)", st->rank[i].rank,
             st->rank[i].host[0] ? st->rank[i].host : "?");
    fprintf(f,
            ",\n{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": 1, "
            "\"tid\": %d, \"args\": {\"name\": ",
            st->rank[i].rank);
    master_json_string(f, name);
    fprintf(f, "}}");
  }
  for (size_t k = 0; k < log->count; k++) {
    const master_event_t* e = &log->ev[k];
    const char* what = kEventName[e->kind];
    if (e->kind <= MASTER_EV_ABANDONED) {
      fprintf(f,
              ",\n{\"ph\": \"X\", \"name\": \"chunk %llu\", \"cat\": \"%s\", "
              "\"pid\": 1, \"tid\": %d, \"ts\": %.3f, \"dur\": %.3f, "
              "\"args\": {\"chunk\": %llu, \"attempt\": %llu, "
              "\"begin\": %llu, \"end\": %llu, \"size\": %llu, "
              "\"outcome\": \"%s\"}}",
              (unsigned long long)e->chunk, what, e->rank, us(e->t0_ns),
              us(e->t1_ns - e->t0_ns), (unsigned long long)e->chunk,
              (unsigned long long)e->attempt, (unsigned long long)e->begin,
              (unsigned long long)e->end,
              (unsigned long long)(e->end - e->begin), what);
    } else {
      fprintf(f,
              ",\n{\"ph\": \"i\", \"s\": \"t\", \"name\": \"%s\", "
              "\"cat\": \"fault\", \"pid\": 1, \"tid\": %d, \"ts\": %.3f, "
              "\"args\": {\"chunk\": %llu, \"attempt\": %llu}}",
              what, e->rank, us(e->t0_ns), (unsigned long long)e->chunk,
              (unsigned long long)e->attempt);
    }
  }
  fprintf(f, "\n]}\n");
  return ferror(f) ? PROTO_EIO : 0;
}
