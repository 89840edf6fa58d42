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
  char buf[6 * PROTO_PATH_MAX + 3];
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

int master_write_report(FILE* f, const master_run_stats_t* st) {
  const proto_job_t* job = st->job;
  master_balance_t b;
  master_balance(st, &b);
  fprintf(f, "{\n  \"format\": \"taskfarm-report-1\",\n");
  fprintf(f,
          "  \"job\": {\"kind\": \"%s\", \"n\": %llu, \"schedule\": \"%s\", "
          "\"workers\": %d, \"chunk\": %llu, \"min_chunk\": %llu, "
          "\"speculate\": %s",
          proto_job_name(job->kind), (unsigned long long)job->n,
          proto_sched_name(job->schedule), st->workers,
          (unsigned long long)st->chunk_size, (unsigned long long)st->min_chunk,
          proto_job_speculates(job) ? "true" : "false");
  if (job->nweights > 0) {
    fprintf(f, ", \"weights\": [");
    for (int i = 0; i < job->nweights; i++)
      fprintf(f, "%s%.17g", i ? ", " : "", job->weight[i]);
    fprintf(f, "]");
  }
  if (job->a_path[0]) {
    fprintf(f, ", \"a\": ");
    master_json_string(f, job->a_path);
    fprintf(f, ", \"b\": ");
    master_json_string(f, job->b_path);
  }
  fprintf(f, "},\n  \"result\": {\"value\": ");
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
  fprintf(f, "  \"ranks\": [");
  for (int i = 0; i < st->workers; i++) {
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
  snprintf(out, len,
           "verify: %g of the chunks; %llu checked by a second rank (%llu "
           "copies issued, %llu free), %llu mismatches, %llu rank%s refused "
           "for lies or wrong results, %llu iterations withdrawn; %llu kernel "
           "deaths, %llu poisoned chunk%s",
           st->verify, (unsigned long long)st->checks_passed,
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
          proto_job_name(st->job->kind), (unsigned long long)st->job->n,
          proto_sched_name(st->job->schedule), st->workers,
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

unsigned __int128 master_dot_closed_form(uint64_t n) {
  unsigned __int128 f[3] = {n, (unsigned __int128)n + 1,
                            (unsigned __int128)n + 2};
  /* One of three consecutive numbers is a multiple of 3, one of the first
   * two a multiple of 2. */
  for (int i = 0; i < 3; i++)
    if (f[i] % 3 == 0) {
      f[i] /= 3;
      break;
    }
  if (f[0] % 2 == 0)
    f[0] /= 2;
  else
    f[1] /= 2;
  return f[0] * f[1] * f[2];
}
