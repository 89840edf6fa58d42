/* The injected faults of inject.h. */
#include "worker/inject.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/text.h"

void worker_inject_init(worker_inject_t* w, const cli_job_t* job, int rank,
                        uint64_t start_ns) {
  memset(w, 0, sizeof(*w));
  w->job = job;
  w->rank = rank;
  w->start_ns = start_ns;
  w->slow_factor = 1;
  w->random = start_ns ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
}

void worker_inject_fire(worker_inject_t* w, uint64_t chunks_done) {
  for (int f = 0; f < w->job->nfaults; f++) {
    const cli_fault_t* fault = &w->job->fault[f];
    if (fault->rank != w->rank || (w->fired >> f) & 1) continue;
    double t = (double)(base_now_ns() - w->start_ns) / 1e9;
    int due = fault->after_seconds > 0 ? t >= fault->after_seconds
                                       : chunks_done >= fault->after_chunks;
    if (!due) continue;
    w->fired |= 1u << f;
    static const char* const names[] = {"?",    "exit",  "abort",  "freeze",
                                        "slow", "speed", "corrupt"};
    base_log(BASE_LOG_WARN, "worker %d: injected fault '%s' fires", w->rank,
             names[fault->kind <= CLI_FAULT_CORRUPT ? fault->kind : 0]);
    switch (fault->kind) {
      case CLI_FAULT_EXIT:
        _exit(3);
      case CLI_FAULT_ABORT:
        abort();
      case CLI_FAULT_FREEZE:
        raise(SIGSTOP);
        break;
      case CLI_FAULT_SLOW:
        w->slow_factor = fault->factor;
        break;
      case CLI_FAULT_SPEED:
        w->speed = fault;
        break;
      case CLI_FAULT_CORRUPT:
        w->corrupt = fault;
        break;
    }
  }
}

/* An injected slowdown: idle for (factor - 1) times the slice's time; with
 * a speed timeline, the factor is 100 / the percent of the moment. */
void worker_inject_pace(const worker_inject_t* w, uint64_t slice_ns) {
  double factor = w->slow_factor;
  if (w->speed != NULL) {
    double t = (double)(base_now_ns() - w->start_ns) / 1e9, pct = 100;
    for (int k = 0; k < w->speed->nsteps && t >= w->speed->step_at[k]; k++)
      pct = w->speed->step_pct[k];
    factor *= 100.0 / pct;
  }
  if (factor <= 1) return;
  uint64_t ns = (uint64_t)((factor - 1) * (double)slice_ns);
  struct timespec pause = {(time_t)(ns / 1000000000u),
                           (long)(ns % 1000000000u)};
  nanosleep(&pause, NULL);
}

static uint64_t next_random(worker_inject_t* w) {
  uint64_t x = w->random;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return w->random = x;
}

/* --inject R:corrupt=P: with probability P, one bit of the partial flips,
 * as a silently faulty core would do it: in the highest non-zero digit of
 * the float sum, else in the integer sum. The digits stay normalised, so
 * the master cannot tell by looking. */
void worker_inject_corrupt(worker_inject_t* w, proto_msg_t* res) {
  if (w->corrupt == NULL) return;
  if ((double)(next_random(w) >> 11) * 0x1p-53 >= w->corrupt->factor) return;
  if (w->corrupted < WORKER_SPOILED_MAX) {
    w->spoiled[w->corrupted] = res->chunk;
    w->spoiled_copy[w->corrupted] = res->attempt > 1;
  }
  w->corrupted++;
  w->corrupted_copies += res->attempt > 1;
  int bit = (int)(next_random(w) % 32);
  for (int j = PROTO_EXACT_DIGITS - 2; j >= 0; j--) {
    if (res->fsum.digit[j] == 0) continue;
    res->fsum.digit[j] ^= (int64_t)1 << bit;
    return;
  }
  res->isum ^= (unsigned __int128)1 << (next_random(w) % 64);
}

void worker_inject_report(const worker_inject_t* w, uint64_t chunks_done,
                          int refused) {
  if (w->corrupt == NULL) return;
  base_log(BASE_LOG_WARN,
           "worker %d: --inject corrupt flipped a bit in %llu of the %llu "
           "partials it sent (%llu for a first attempt, %llu for a later "
           "one)%s",
           w->rank, (unsigned long long)w->corrupted,
           (unsigned long long)chunks_done,
           (unsigned long long)(w->corrupted - w->corrupted_copies),
           (unsigned long long)w->corrupted_copies,
           refused ? "; it was refused" : "");
  char list[WORKER_SPOILED_MAX * 24 + 8] = "";
  size_t at = 0;
  uint64_t listed = w->corrupted < WORKER_SPOILED_MAX ? w->corrupted
                                                      : WORKER_SPOILED_MAX;
  for (uint64_t i = 0; i < listed; i++)
    base_appendf(list, sizeof(list), &at, "%s%llu%s", i ? " " : "",
                 (unsigned long long)w->spoiled[i],
                 w->spoiled_copy[i] ? "+" : "");
  if (listed < w->corrupted) base_appendf(list, sizeof(list), &at, " ...");
  base_log(BASE_LOG_WARN, "worker %d: spoiled chunks, in order: %s", w->rank,
           list);
}
