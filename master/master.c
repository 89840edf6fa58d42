/* The master's wiring: the farm (decisions) is driven by the loop (libuv)
 * with what the link (MPI) receives; what the farm wants sent, journaled,
 * logged or traced goes back out through the callbacks here; the console
 * shows it. The master's own computing, when no worker can, happens here
 * too, one slice per loop iteration, so the loop stays responsive. */
/* getifaddrs() and the interface flags are BSD and GNU, not POSIX. */
#define _DEFAULT_SOURCE
#include "master/master.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "master/chunks.h"
#include "master/console.h"
#include "master/farm.h"
#include "master/journal.h"
#include "master/link.h"
#include "master/loop.h"
#include "master/report.h"
#include "master/schedule.h"
#include "master/solo.h"
#include "proto/clock.h"
#include "proto/error.h"
#include "proto/log.h"
#include "proto/watchdog.h"

enum {
  END_PAUSE_NS = 100000000,   /* let mpiexec forward output before the abort,
                                 at most (drain_output) */
  DRAINED_PAUSE_NS = 2000000, /* ... and this long once it has read it */
  SEND_GRACE_NS = 200000000,  /* sends in flight may complete this long */
  FAREWELL_NS = 2000000000,   /* every worker says BYE within this */
  HURRIED_FAREWELL_NS = 500000000, /* ... after a second signal */
  FINALIZE_NS = 10000000000ull,    /* MPI_Finalize returns within this */
  FINALIZE_LAG_NS = 20000000,      /* the master finalizes this long after */
};

typedef struct master_s {
  const proto_job_t* job;
  master_options_t* opts;
  farm_t* farm;
  master_link_t link;
  master_loop_t loop;
  master_console_t console;
  master_journal_t journal;
  int journaling;
  master_log_t trace;   /* --trace events */
  master_solo_t solo;   /* the master's own computing */
  int end_now;          /* a second signal: end without waiting */
  int stop_signal;      /* the signal that stopped the run; 0 = none */
  uint64_t t0_ns;       /* when the farm was set up */
  char host[PROTO_HOST_MAX]; /* this host's name */
} master_t;

/* hydra interrupts sleeps with SIGUSR1: sleep until the clock says so. */
static void pause_ns(uint64_t ns) {
  uint64_t until = proto_now_ns() + ns;
  for (uint64_t t = proto_now_ns(); t < until; t = proto_now_ns()) {
    struct timespec left = {0, (long)(until - t)};
    nanosleep(&left, NULL);
  }
}

/* Bytes written to fd that its reader has not taken yet: a pipe's
 * contents, a socket's unsent queue; 0 for anything else. */
static int unread_bytes(int fd) {
  struct stat st;
  int n = 0;
  if (fstat(fd, &st) != 0) return 0;
  if (S_ISFIFO(st.st_mode) && ioctl(fd, FIONREAD, &n) == 0) return n;
  if (S_ISSOCK(st.st_mode) && ioctl(fd, TIOCOUTQ, &n) == 0) return n;
  return 0;
}

/* Waits until the launcher has read what this process wrote to stdout and
 * stderr (hydra's proxy reads them from pipes and forwards them ahead of
 * the abort that follows), for at most bound_ns. A fixed pause cost every
 * aborted run 0.1 s: long enough that a second Ctrl-C 50 ms after the
 * first reached mpiexec, which then kills the job with status 255. */
static void drain_output(uint64_t bound_ns) {
  uint64_t until = proto_now_ns() + bound_ns;
  while (proto_now_ns() < until &&
         (unread_bytes(STDOUT_FILENO) > 0 || unread_bytes(STDERR_FILENO) > 0))
    pause_ns(200000);
  pause_ns(DRAINED_PAUSE_NS);
}

void master_end_job(MPI_Comm* comm, int status, master_ending_t ending) {
  fflush(proto_out());
  fflush(stdout);
  fflush(stderr);
  if (ending == MASTER_END_LEAVE) _exit(status);
  if (ending == MASTER_END_FINALIZE) {
    /* Every worker is in MPI_Finalize: join them. The watchdog covers a
     * rank that died after its BYE (MPI_Finalize would wait for it). */
    char what[160];
    snprintf(what, sizeof(what),
             "MPI_Finalize did not return within %.0f s; ending with status %d",
             FINALIZE_NS / 1e9, status);
    proto_watchdog_arm(proto_now_ns() + FINALIZE_NS, status, what);
    /* Over UCX's TCP transport MPI_Finalize (MPICH 4.0.2) hangs in its
     * disconnects unless the workers are already inside it when the master
     * enters: they are, a moment after their FIN (docs/fault-tolerance.md). */
    pause_ns(FINALIZE_LAG_NS);
    MPI_Comm_free(comm);
    MPI_Finalize();
    proto_watchdog_disarm();
    return;
  }
  drain_output(END_PAUSE_NS);
  int devnull = open("/dev/null", O_WRONLY);
  if (devnull >= 0) dup2(devnull, STDERR_FILENO);
  /* MPICH 4.0.2 spins in MPI_Abort on a duplicated communicator; on
   * MPI_COMM_WORLD it ends the job at once. */
  MPI_Abort(MPI_COMM_WORLD, status);
  _exit(status);
}

/* ---- the farm's callbacks ---------------------------------------------- */

static int io_send(void* ctx, int rank, const proto_msg_t* msg) {
  master_t* m = ctx;
  int rc = master_link_send(&m->link, rank, msg);
  if (rc == MASTER_LINK_BUSY) return FARM_SEND_BUSY;
  if (rc < 0) proto_log(PROTO_LOG_WARN, "%s", m->link.what);
  return rc;
}

static int io_record(void* ctx, const master_record_t* r) {
  master_t* m = ctx;
  if (!m->journaling) return 0;
  return master_journal_append(&m->journal, r) < 0 ? PROTO_ENOMEM : 0;
}

static void io_log(void* ctx, farm_log_level_t level, const char* line) {
  (void)ctx;
  proto_log(level == FARM_LOG_WARN ? PROTO_LOG_WARN : PROTO_LOG_INFO, "%s",
            line);
}

static void io_event(void* ctx, const master_event_t* e) {
  master_t* m = ctx;
  master_log_add(&m->trace, e);
}

/* ---- the link's callbacks ---------------------------------------------- */

static void on_message(void* ctx, int rank, const proto_msg_t* msg) {
  master_t* m = ctx;
  farm_message(m->farm, rank, msg, proto_now_ns());
}

static void on_bad(void* ctx, int rank, int rc, int tag, size_t len,
                   uint32_t version) {
  master_t* m = ctx;
  farm_bad_message(m->farm, rank, rc, tag, len, version, proto_now_ns());
}

static void on_link_error(void* ctx, int rank, const char* what) {
  master_t* m = ctx;
  proto_log(PROTO_LOG_WARN, "%s", what);
  farm_link_error(m->farm, rank, what, proto_now_ns());
}

/* ---- the loop's callbacks ---------------------------------------------- */

static int op_poll(void* ctx) {
  master_t* m = ctx;
  master_link_cbs_t cbs = {m, on_message, on_bad, on_link_error};
  return master_link_poll(&m->link, &cbs);
}

static void op_tick(void* ctx) {
  master_t* m = ctx;
  farm_tick(m->farm, proto_now_ns());
}

static int op_done(void* ctx) {
  master_t* m = ctx;
  return farm_done(m->farm) || m->end_now;
}

static int op_solo(void* ctx) {
  master_t* m = ctx;
  return master_solo_step(&m->solo, proto_now_ns());
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
    proto_log(PROTO_LOG_WARN, "second signal: ending at once");
    m->end_now = 1;
    return;
  }
  if (signum == SIGINT)
    proto_log(PROTO_LOG_WARN,
              "SIGINT: stopping now; the chunks in flight are computed again "
              "on resume (SIGTERM waits up to %.0f s for them)",
              FARM_STOP_GRACE_MS / 1e3);
  else
    proto_log(PROTO_LOG_WARN,
              "%s: handing out no more work; waiting up to %.0f s for the "
              "chunks in flight (a second signal ends at once)",
              master_signal_name(signum), FARM_STOP_GRACE_MS / 1e3);
  m->stop_signal = signum;
  farm_stop(f, signum == SIGINT ? FARM_STOP_NOW : FARM_STOP_DRAIN,
            proto_now_ns());
}

static void op_live(void* ctx) {
  master_t* m = ctx;
  master_console_tick(&m->console, proto_now_ns());
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
  master_console_figures(&m->console, proto_now_ns(), &st, &live);
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
    farm_death_report(m->farm, &d, proto_now_ns());
}

static void clear_progress(void* ctx) {
  master_t* m = ctx;
  master_console_clear(&m->console);
}

/* ---- set-up ------------------------------------------------------------ */

/* Says what reading a journal left out, and what that costs. */
static void report_load(const char* path, const master_journal_load_t* l) {
  if (l->damaged > 0 && l->damaged_records > 0)
    proto_log(PROTO_LOG_WARN,
              "journal '%s': %llu damaged stretch%s of %llu bytes left out "
              "(%llu record%s recognisable in them); the chunks they held "
              "are computed again",
              path, (unsigned long long)l->damaged, l->damaged == 1 ? "" : "es",
              (unsigned long long)l->damaged_bytes,
              (unsigned long long)l->damaged_records,
              l->damaged_records == 1 ? "" : "s");
  else if (l->damaged > 0)
    proto_log(PROTO_LOG_WARN,
              "journal '%s': %llu damaged stretch%s of %llu bytes left out; "
              "the chunks they held are computed again",
              path, (unsigned long long)l->damaged, l->damaged == 1 ? "" : "es",
              (unsigned long long)l->damaged_bytes);
  if (l->repeated > 0)
    proto_log(PROTO_LOG_INFO,
              "journal '%s': %llu record%s of a range recorded before "
              "ignored (nothing to compute again)",
              path, (unsigned long long)l->repeated,
              l->repeated == 1 ? "" : "s");
  if (l->overlapping > 0)
    proto_log(PROTO_LOG_WARN,
              "journal '%s': %llu record%s overlapping others left out; "
              "what no other record covers is computed again",
              path, (unsigned long long)l->overlapping,
              l->overlapping == 1 ? "" : "s");
  if (l->torn_bytes > 0)
    proto_log(PROTO_LOG_WARN,
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
          !(i->ifa_flags & IFF_UP) || !!(i->ifa_flags & IFF_LOOPBACK) != loopback)
        continue;
      addr[n++] = ((struct sockaddr_in*)i->ifa_addr)->sin_addr.s_addr;
    }
  freeifaddrs(list);
}

/* What the farm is told of this process: the work scale sent with every
 * chunk, the master's host name (asked once), and a key drawn at random
 * for this run that no worker ever sees (the digests of results and the
 * picks of --verify). */
static void farm_config(const master_t* m, farm_config_t* config,
                        char* host, size_t len) {
  memset(host, 0, len);
  gethostname(host, len - 1);
  config->scale = m->opts->scale;
  config->host = host;
  config->death_port = master_loop_death_port(&m->loop);
  own_addresses(config->death_addr);
  if (getrandom(config->key, sizeof(config->key), 0) !=
      (ssize_t)sizeof(config->key)) {
    /* No entropy source: the clock and the pid are a weak but varying key. */
    config->key[0] = proto_now_ns() ^ ((uint64_t)getpid() << 32);
    config->key[1] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
  }
}

/* Opens --journal and sets the farm up with the chunks it holds as done. */
static int open_farm(master_t* m, int nworkers) {
  const proto_job_t* job = m->job;
  uint64_t chunks = master_fixed_chunk_count(job, nworkers);
  if (chunks > MASTER_CHUNKS_MAX) {
    proto_log(PROTO_LOG_WARN,
              "--n %llu in chunks of %llu makes %llu chunks; the master keeps "
              "%zu bytes per chunk and takes at most %llu chunks: use "
              "--chunk %llu or more",
              (unsigned long long)job->n,
              (unsigned long long)master_chunk_size(job, nworkers),
              (unsigned long long)chunks, sizeof(master_chunk_t),
              (unsigned long long)MASTER_CHUNKS_MAX,
              (unsigned long long)((job->n + MASTER_CHUNKS_MAX - 1) /
                                   MASTER_CHUNKS_MAX));
    return PROTO_EINVAL;
  }
  farm_io_t io = {m, io_send, io_record, io_log,
                  job->trace[0] != '\0' ? io_event : NULL};
  farm_config_t config;
  farm_config(m, &config, m->host, sizeof(m->host));
  m->t0_ns = proto_now_ns();
  if (job->journal[0] == '\0' || job->kind == PROTO_JOB_HELLO)
    return farm_open(&m->farm, job, nworkers, &io, NULL, &config, m->t0_ns);
  master_journal_load_t load;
  char err[PROTO_PATH_MAX + 256];
  int rc = master_journal_open(&m->journal, job->journal, job, job->resume,
                               &load, err, sizeof(err));
  if (rc < 0) {
    proto_log(PROTO_LOG_WARN, "%s", err);
    return rc;
  }
  m->journaling = 1;
  rc = farm_open(&m->farm, job, nworkers, &io, &load.done, &config,
                 m->t0_ns);
  if (rc == 0 && load.existed)
    proto_log(
        PROTO_LOG_INFO,
        "resuming from journal '%s': %zu chunks, %llu of %llu "
        "iterations (%.1f%%) already done",
        job->journal, load.done.count, (unsigned long long)load.done.iters,
        (unsigned long long)job->n,
        job->n ? 100.0 * (double)load.done.iters / (double)job->n : 100.0);
  if (rc == 0) report_load(job->journal, &load);
  master_journal_free_load(&load);
  return rc;
}

/* The "known gone" of master/ending.h: the rank's guard reported its
 * death, or its MPI process ran on this host (its HELLO said so) and no
 * process has its pid any more. A rank on another host whose guard said
 * nothing, or one that never greeted, may be frozen rather than dead. */
static int rank_gone(void* ctx, int rank) {
  const master_t* m = ctx;
  farm_peer_info_t p;
  farm_peer_info(m->farm, rank, &p);
  if (p.died) return 1;
  if (p.pid == 0 || strcmp(p.host, m->host) != 0) return 0;
  return kill((pid_t)p.pid, 0) != 0 && errno == ESRCH;
}

/* How the job ends (master/ending.h), once the farewell is over. */
static master_ending_t choose_ending(master_t* m, int status) {
  int* missing = calloc((size_t)m->link.nworkers + 1, sizeof(*missing));
  int nmissing = 0;
  for (int i = 0; i < m->link.nworkers; i++)
    if (!m->link.peer[i].bye || m->link.peer[i].broken) {
      if (missing != NULL) missing[nmissing] = i + 1;
      nmissing++;
    }
  master_ending_facts_t facts = {
      .launcher = m->opts->launch.kind,
      .ucx_tls = getenv("UCX_TLS"),
      .hosts = farm_host_count(m->farm),
      .missing = missing,
      .nmissing = missing != NULL ? nmissing : 0,
      .status = status,
      .gone = rank_gone,
      .ctx = m,
  };
  char why[256];
  master_ending_t ending = master_choose_ending(&facts, why, sizeof(why));
  /* Without the list, nobody is known gone: the safe ending. */
  if (missing == NULL && nmissing > 0) ending = MASTER_END_ABORT;
  free(missing);
  if (why[0] != '\0') proto_log(PROTO_LOG_INFO, "%s", why);
  return ending;
}

/* What the run printed and wrote at its end; returns the run's outcome. */
static int finish(master_t* m, int rc) {
  const proto_job_t* job = m->job;
  farm_t* f = m->farm;
  uint64_t now = proto_now_ns();
  double wall = (double)(now - m->t0_ns) / 1e9;
  /* A finished result is printed whatever signal came after it. */
  int complete = job->kind == PROTO_JOB_HELLO ? farm_done(f) : farm_finished(f);
  if (rc == 0 && complete) {
    rc = master_console_print_result(&m->console, now, wall);
    master_console_print_summary(&m->console, now, wall);
    int orc = master_console_write_outputs(&m->console, &m->trace, wall, now);
    return rc == 0 ? orc : rc;
  }
  if (farm_stopping(f) != FARM_STOP_NONE &&
      (rc == 0 || rc == PROTO_ESTOPPED)) {
    master_console_print_stop(&m->console, now, m->stop_signal,
                              &m->opts->launch, m->opts->argc, m->opts->argv);
    master_console_write_outputs(&m->console, &m->trace, wall, now);
    m->opts->stopped_by = m->stop_signal;
    return PROTO_ESTOPPED;
  }
  if (rc == PROTO_EPOISON) {
    char line[1024];
    uint64_t poisoned = 0;
    for (; farm_describe_poison(f, poisoned, line, sizeof(line)) == 0;
         poisoned++)
      if (poisoned < 10) proto_log(PROTO_LOG_WARN, "%s", line);
    if (poisoned > 10)
      proto_log(PROTO_LOG_WARN, "... and %llu more such chunks",
                (unsigned long long)(poisoned - 10));
    proto_log(PROTO_LOG_WARN,
              "run failed: %llu chunk%s killed or froze %d computations "
              "each; every other chunk is done%s",
              (unsigned long long)poisoned, poisoned == 1 ? "" : "s",
              job->poison_after,
              m->journaling ? " and in the journal: fix the kernel and run "
                              "again with --resume"
                            : " (run with --journal FILE to keep it)");
    return rc;
  }
  if (rc == 0) rc = PROTO_ECANCELED;
  if (rc != PROTO_EJOURNAL)
    proto_log(PROTO_LOG_WARN, "run failed: %s", proto_strerror(rc));
  return rc;
}

int master_run(const proto_job_t* job, MPI_Comm comm, master_options_t* opts) {
  static master_t m; /* large, and one per process */
  memset(&m, 0, sizeof(m));
  m.job = job;
  m.opts = opts;
  m.journal.fd = -1;
  m.trace.on = job->trace[0] != '\0';
  proto_log_set_quiet(job->quiet);
  int size = 1;
  MPI_Comm_size(comm, &size);
  master_loop_ops_t ops = {&m,        op_poll,   op_tick,  op_done,
                           op_solo,   op_min_chunk_ns,     op_signal,
                           op_live,   op_fail,   op_render, op_death};
  /* The status port is bound before the journal is created. */
  int rc = master_loop_init(&m.loop, job, &ops);
  if (rc < 0) return rc;
  /* Output files are checked, then the journal created: a bad path costs
   * nothing and leaves nothing behind. */
  rc = master_console_check_outputs(job);
  if (rc == 0) rc = master_console_prepare_image(job);
  if (rc == 0) rc = open_farm(&m, size - 1);
  if (rc < 0) goto out_close_loop;
  rc = master_console_init(&m.console, m.farm, job);
  if (rc < 0) goto out_close_farm;
  master_solo_init(&m.solo, m.farm, opts->argv, opts->scale,
                   job->timeout_floor);
  if (m.journaling) {
    m.console.journal = job->journal;
    m.console.journal_records = &m.journal.appended;
  }
  proto_log_set_hook(clear_progress, &m);
  rc = master_link_open(&m.link, comm, size - 1);
  if (rc < 0) {
    proto_log(PROTO_LOG_WARN, "%s", m.link.what);
    goto out_close_console;
  }
  rc = master_loop_run(&m.loop, m.journaling ? &m.journal : NULL);
  master_console_clear(&m.console);
  /* Every worker that may still wait for work is released, including
   * those whose HELLO had not arrived when the last chunk finished. */
  farm_release(m.farm, proto_now_ns());
  /* A rank whose guard reported its death says nothing more: it is not
   * waited for, and no MPI call is made about it. */
  for (int i = 0; i < m.link.nworkers; i++) {
    farm_peer_info_t p;
    farm_peer_info(m.farm, i + 1, &p);
    if (p.died) m.link.peer[i].broken = 1;
  }
  uint64_t bound = m.end_now ? HURRIED_FAREWELL_NS : FAREWELL_NS;
  int missing = master_link_farewell(&m.link, proto_now_ns() + bound);
  int slurm = opts->launch.kind == PROTO_LAUNCH_SLURM;
  const char* then = slurm ? "" : ": the job ends with MPI_Abort";
  for (int i = 0; i < m.link.nworkers && missing > 0; i++) {
    if (m.link.peer[i].bye) continue;
    farm_peer_info_t p;
    farm_peer_info(m.farm, i + 1, &p);
    if (p.died)
      proto_log(PROTO_LOG_INFO,
                "rank %d is gone (its guard reported its death)%s", i + 1,
                then);
    else if (m.link.peer[i].broken)
      proto_log(PROTO_LOG_INFO, "rank %d cannot answer STOP (its link broke)%s",
                i + 1, then);
    else
      proto_log(PROTO_LOG_INFO,
                "rank %d did not answer STOP within %.1f s (lost, frozen or "
                "of another build)%s",
                i + 1, bound / 1e9, then);
  }
  int jrc = master_journal_close(&m.journal);
  if (rc == 0) rc = farm_rc(m.farm);
  if (rc == 0) rc = jrc;
  rc = finish(&m, rc);
  /* Only success or not matters to the ending (hydra reports 0 after a
   * finalize whatever rank 0 returns). */
  master_ending_t ending = choose_ending(&m, rc == 0 ? 0 : 1);
  /* FIN last: the workers finalize or leave on it, and the master's
   * MPI_Finalize must follow theirs closely (proto.h). A rank that does
   * not answer would keep MPI_Finalize (or srun) waiting for good: then the
   * job is aborted, the others with it. */
  if (ending != MASTER_END_ABORT &&
      master_link_fin(&m.link,
                      ending == MASTER_END_LEAVE ? PROTO_FIN_LEAVE
                                                 : PROTO_FIN_FINALIZE,
                      proto_now_ns() + FAREWELL_NS) > 0) {
    proto_log(PROTO_LOG_INFO,
              "a rank did not answer FIN within %.1f s: the job ends with "
              "MPI_Abort",
              FAREWELL_NS / 1e9);
    ending = MASTER_END_ABORT;
  }
  opts->ending = ending;
  master_link_close(&m.link, SEND_GRACE_NS);
out_close_console:
  proto_log_set_hook(NULL, NULL);
  master_solo_close(&m.solo);
  master_console_close(&m.console);
out_close_farm:
  farm_close(m.farm);
out_close_loop:
  master_loop_close(&m.loop);
  master_journal_close(&m.journal);
  master_log_close(&m.trace);
  return rc;
}
