/* master/setup.h. */
/* getifaddrs() and the interface flags are BSD and GNU, not POSIX. */
#define _DEFAULT_SOURCE
#include "master/setup.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "master/chunks.h"
#include "master/schedule.h"
#include "base/clock.h"
#include "proto/error.h"
#include "base/log.h"

/* Says what reading a journal left out, and what that costs. */
static void report_load(const char* path, const master_journal_load_t* l) {
  if (l->damaged > 0 && l->damaged_records > 0)
    base_log(BASE_LOG_WARN,
              "journal '%s': %llu damaged stretch%s of %llu bytes left out "
              "(%llu record%s recognisable in them); the chunks they held "
              "are computed again",
              path, (unsigned long long)l->damaged, l->damaged == 1 ? "" : "es",
              (unsigned long long)l->damaged_bytes,
              (unsigned long long)l->damaged_records,
              l->damaged_records == 1 ? "" : "s");
  else if (l->damaged > 0)
    base_log(BASE_LOG_WARN,
              "journal '%s': %llu damaged stretch%s of %llu bytes left out; "
              "the chunks they held are computed again",
              path, (unsigned long long)l->damaged, l->damaged == 1 ? "" : "es",
              (unsigned long long)l->damaged_bytes);
  if (l->repeated > 0)
    base_log(BASE_LOG_INFO,
              "journal '%s': %llu record%s of a range recorded before "
              "ignored (nothing to compute again)",
              path, (unsigned long long)l->repeated,
              l->repeated == 1 ? "" : "s");
  if (l->overlapping > 0)
    base_log(BASE_LOG_WARN,
              "journal '%s': %llu record%s overlapping others left out; "
              "what no other record covers is computed again",
              path, (unsigned long long)l->overlapping,
              l->overlapping == 1 ? "" : "s");
  if (l->torn_bytes > 0)
    base_log(BASE_LOG_WARN,
              "journal '%s': cut off %llu bytes of a torn or damaged last "
              "record (a write cut short); that chunk is computed again",
              path, (unsigned long long)l->torn_bytes);
}

/* Up to four IPv4 addresses of this host's interfaces that are up, in
 * network order, loopback last: a guard on another host reaches one of the
 * others, one on this host the loopback. */
static void own_addresses(uint32_t addr[4]) {
  memset(addr, 0, 4 * sizeof(*addr));
  struct ifaddrs* list = NULL;
  if (getifaddrs(&list) != 0) return;
  int n = 0;
  for (int loopback = 0; loopback <= 1; loopback++)
    for (struct ifaddrs* i = list; i != NULL && n < 4; i = i->ifa_next) {
      if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
          !(i->ifa_flags & IFF_UP) ||
          !!(i->ifa_flags & IFF_LOOPBACK) != loopback)
        continue;
      addr[n++] = ((struct sockaddr_in*)i->ifa_addr)->sin_addr.s_addr;
    }
  freeifaddrs(list);
}

/* What the farm is told of this process: the work scale sent with every
 * chunk, the master's host name (asked once) and addresses, and a key drawn
 * at random for this run that no worker ever sees (the digests of results,
 * the picks of --verify, the death tokens). */
static void draw_config(master_setup_t* s, farm_config_t* config) {
  memset(config, 0, sizeof(*config));
  memset(s->host, 0, sizeof(s->host));
  gethostname(s->host, sizeof(s->host) - 1);
  config->scale = s->scale;
  config->host = s->host;
  config->death_port = s->death_port;
  own_addresses(config->death_addr);
  if (getrandom(config->key, sizeof(config->key), 0) !=
      (ssize_t)sizeof(config->key)) {
    /* No entropy source: the clock and the pid are a weak but varying key. */
    config->key[0] = base_now_ns() ^ ((uint64_t)getpid() << 32);
    config->key[1] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
  }
}

int master_setup_farm(master_setup_t* s) {
  const cli_job_t* job = s->job;
  uint64_t chunks = master_fixed_chunk_count(job, s->workers);
  if (chunks > MASTER_CHUNKS_MAX) {
    base_log(BASE_LOG_WARN,
              "--n %llu in chunks of %llu makes %llu chunks; the master keeps "
              "%zu bytes per chunk and takes at most %llu chunks: use "
              "--chunk %llu or more",
              (unsigned long long)job->n,
              (unsigned long long)master_chunk_size(job, s->workers),
              (unsigned long long)chunks, sizeof(master_chunk_t),
              (unsigned long long)MASTER_CHUNKS_MAX,
              (unsigned long long)((job->n + MASTER_CHUNKS_MAX - 1) /
                                   MASTER_CHUNKS_MAX));
    return PROTO_EINVAL;
  }
  farm_config_t config;
  draw_config(s, &config);
  if (job->journal[0] == '\0' || !cli_job_has_range(job))
    return farm_open(&s->farm, job, s->workers, &s->io, NULL, &config,
                     s->t0_ns);
  master_journal_load_t load;
  char err[CLI_PATH_MAX + 256];
  int rc = master_journal_open(s->journal, job->journal, job, job->resume,
                               &load, err, sizeof(err));
  if (rc < 0) {
    base_log(BASE_LOG_WARN, "%s", err);
    return rc;
  }
  s->journaling = 1;
  rc = farm_open(&s->farm, job, s->workers, &s->io, &load.done, &config,
                 s->t0_ns);
  if (rc == 0 && load.existed)
    base_log(
        BASE_LOG_INFO,
        "resuming from journal '%s': %zu chunks, %llu of %llu "
        "iterations (%.1f%%) already done",
        job->journal, load.done.count, (unsigned long long)load.done.iters,
        (unsigned long long)job->n,
        job->n ? 100.0 * (double)load.done.iters / (double)job->n : 100.0);
  if (rc == 0) report_load(job->journal, &load);
  master_journal_free_load(&load);
  return rc;
}
