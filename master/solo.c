/* master/solo.h. */
#include "master/solo.h"

#include <stdio.h>
#include <string.h>

#include "proto/error.h"
#include "base/log.h"

void master_solo_init(master_solo_t* s, farm_t* f, const cli_job_t* job,
                      char** argv, uint64_t scale, double frozen_s) {
  memset(s, 0, sizeof(*s));
  s->farm = f;
  s->scale = scale;
  s->frozen_ns = (uint64_t)(frozen_s * 1e9);
  sandbox_init(&s->sandbox, argv, &job->task, job->n);
}

/* The chunk in hand failed with rc (detail as in a FAIL). */
static void failed(master_solo_t* s, int rc, int64_t detail, const char* what,
                   uint64_t now) {
  s->on = 0;
  if (!proto_error_is_death(rc))
    base_log(BASE_LOG_WARN, "master: chunk [%llu, %llu) fails: %s",
              (unsigned long long)s->chunk.begin,
              (unsigned long long)s->chunk.end,
              what != NULL && what[0] ? what : proto_strerror(rc));
  farm_solo_failed(s->farm, &s->chunk, rc, detail, now);
}

/* Hands the child the next chunk the farm wants the master to compute. */
static void start(master_solo_t* s, uint64_t now) {
  farm_t* f = s->farm;
  if (!farm_solo_wanted(f)) return;
  int got = farm_solo_take(f, &s->chunk);
  if (got < 0) farm_fail(f, got);
  if (got <= 0) return;
  s->on = 1;
  s->life_ns = now;
  s->chunks++;
  char what[SANDBOX_WHAT];
  int rc = sandbox_compute(&s->sandbox, s->chunk.begin, s->chunk.end, s->scale,
                           what, sizeof(what));
  if (rc < 0) failed(s, rc, 0, what, now);
}

int master_solo_step(master_solo_t* s, uint64_t now) {
  farm_t* f = s->farm;
  if (!s->on) start(s, now);
  if (!s->on) return 0;
  if (farm_stopping(f) != FARM_STOP_NONE || farm_done(f)) {
    /* Computed again on resume; the child is not waited for. */
    sandbox_kill(&s->sandbox);
    s->on = 0;
    farm_solo_drop(f, &s->chunk, now);
    return 0;
  }
  static sandbox_event_t ev; /* large */
  int got;
  while (s->on && (got = sandbox_wait(&s->sandbox, 0, &ev)) != 0) {
    if (got < 0) {
      failed(s, PROTO_EEXITED, -1, NULL, now);
    } else if (ev.kind == SANDBOX_EV_PROGRESS) {
      s->life_ns = now;
    } else if (ev.kind == SANDBOX_EV_RESULT && ev.rc < 0) {
      failed(s, ev.rc, 0, ev.what, now);
    } else if (ev.kind == SANDBOX_EV_RESULT) {
      s->on = 0;
      farm_solo_done(f, &s->chunk, &ev.result, now);
    } else if (ev.kind == SANDBOX_EV_CANCELLED) {
      s->on = 0;
      farm_solo_drop(f, &s->chunk, now);
    } else if (ev.kind == SANDBOX_EV_DIED) {
      failed(s, ev.rc, ev.detail, NULL, now);
    }
  }
  if (s->on && now - s->life_ns > s->frozen_ns) {
    sandbox_kill(&s->sandbox);
    failed(s, PROTO_EFROZE, (int64_t)((now - s->life_ns) / 1000000), NULL, now);
  }
  /* The next chunk goes out at once. */
  if (!s->on) start(s, now);
  return s->on;
}

void master_solo_close(master_solo_t* s) { sandbox_close(&s->sandbox); }
