/* The end of a job, master.h's side of it: the farewell (every worker told
 * STOP and given a moment to say BYE), the ending chosen from what is
 * known (master/ending.h) and told to the workers (FIN), and carried out
 * once the output has reached the launcher. */
#include "master/end.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "master/master.h"
#include "proto/clock.h"
#include "proto/log.h"
#include "proto/watchdog.h"

enum {
  END_PAUSE_NS = 100000000,     /* let mpiexec forward output before the abort,
                                   at most (drain_output) */
  DRAINED_PAUSE_NS = 2000000,   /* ... and this long once it has read it */
  FINALIZE_NS = 10000000000ull, /* MPI_Finalize returns within this */
  FINALIZE_LAG_NS = 20000000,   /* the master finalizes this long after */
};

/* The "known gone" of master/ending.h: the rank's guard reported its
 * death, or its MPI process ran on this host (its HELLO said so) and no
 * process has its pid any more. A rank on another host whose guard said
 * nothing, or one that never greeted, may be frozen rather than dead. */
typedef struct {
  const farm_t* farm;
  const char* host;
} gone_ctx_t;

static int rank_gone(void* ctx, int rank) {
  const gone_ctx_t* g = ctx;
  farm_peer_info_t p;
  farm_peer_info(g->farm, rank, &p);
  if (p.died) return 1;
  if (p.pid == 0 || strcmp(p.host, g->host) != 0) return 0;
  return kill((pid_t)p.pid, 0) != 0 && errno == ESRCH;
}

/* How the job ends (master/ending.h), once the farewell is over. */
static master_ending_t choose_ending(const master_link_t* link,
                                     const farm_t* farm,
                                     const proto_launch_t* launch,
                                     const char* host, int status) {
  int* missing = calloc((size_t)link->nworkers + 1, sizeof(*missing));
  int nmissing = 0;
  for (int i = 0; i < link->nworkers; i++)
    if (!link->peer[i].bye || link->peer[i].broken) {
      if (missing != NULL) missing[nmissing] = i + 1;
      nmissing++;
    }
  gone_ctx_t gone = {farm, host};
  master_ending_facts_t facts = {
      .launcher = launch->kind,
      .ucx_tls = getenv("UCX_TLS"),
      .hosts = farm_host_count(farm),
      .missing = missing,
      .nmissing = missing != NULL ? nmissing : 0,
      .status = status,
      .gone = rank_gone,
      .ctx = &gone,
  };
  char why[256];
  master_ending_t ending = master_choose_ending(&facts, why, sizeof(why));
  /* Without the list, nobody is known gone: the safe ending. */
  if (missing == NULL && nmissing > 0) ending = MASTER_END_ABORT;
  free(missing);
  if (why[0] != '\0') proto_log(PROTO_LOG_INFO, "%s", why);
  return ending;
}

/* The run is over: every worker that may still wait for work is released
 * (including those whose HELLO came after the last chunk), and each is
 * given a moment to say BYE; those that do not are named. */
void master_farewell(master_link_t* link, farm_t* farm,
                     const proto_launch_t* launch, uint64_t bound) {
  farm_release(farm, proto_now_ns());
  /* A rank whose guard reported its death says nothing more: it is not
   * waited for, and no MPI call is made about it. */
  for (int i = 0; i < link->nworkers; i++) {
    farm_peer_info_t p;
    farm_peer_info(farm, i + 1, &p);
    if (p.died) link->peer[i].broken = 1;
  }
  int missing = master_link_farewell(link, proto_now_ns() + bound);
  int slurm = launch->kind == PROTO_LAUNCH_SLURM;
  const char* then = slurm ? "" : ": the job ends with MPI_Abort";
  for (int i = 0; i < link->nworkers && missing > 0; i++) {
    if (link->peer[i].bye) continue;
    farm_peer_info_t p;
    farm_peer_info(farm, i + 1, &p);
    if (p.died)
      proto_log(PROTO_LOG_INFO,
                "rank %d is gone (its guard reported its death)%s", i + 1,
                then);
    else if (link->peer[i].broken)
      proto_log(PROTO_LOG_INFO, "rank %d cannot answer STOP (its link broke)%s",
                i + 1, then);
    else
      proto_log(PROTO_LOG_INFO,
                "rank %d did not answer STOP within %.1f s (lost, frozen or "
                "of another build)%s",
                i + 1, bound / 1e9, then);
  }
}

/* How the job ends, the workers told: FIN last, since they finalize or
 * leave on it and the master's MPI_Finalize must follow theirs closely
 * (proto.h). A rank that does not answer FIN would keep MPI_Finalize (or
 * srun) waiting for good: then the job is aborted, the others with it.
 * Only success or not matters (hydra reports 0 after a finalize whatever
 * rank 0 returns). */
master_ending_t master_settle_ending(master_link_t* link, const farm_t* farm,
                                     const proto_launch_t* launch,
                                     const char* host, int rc, uint64_t bound) {
  master_ending_t ending =
      choose_ending(link, farm, launch, host, rc == 0 ? 0 : 1);
  if (ending != MASTER_END_ABORT &&
      master_link_fin(
          link,
          ending == MASTER_END_LEAVE ? PROTO_FIN_LEAVE : PROTO_FIN_FINALIZE,
          proto_now_ns() + bound) > 0) {
    proto_log(PROTO_LOG_INFO,
              "a rank did not answer FIN within %.1f s: the job ends with "
              "MPI_Abort",
              bound / 1e9);
    ending = MASTER_END_ABORT;
  }
  return ending;
}

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
