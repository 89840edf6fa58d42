/* taskfarm's entry point: parse the job, start MPI, run the master on rank 0
 * and a worker everywhere else, finish. The command line is checked before
 * MPI starts, identically on every rank, so bad input ends every rank at once
 * with one message (from rank 0) and exit status 2. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/master.h"
#include "proto/error.h"
#include "proto/job.h"
#include "proto/launch.h"
#include "proto/log.h"
#include "proto/watchdog.h"
#include "worker/kernel.h"
#include "worker/loop.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

enum {
  EXIT_BAD_USAGE = 2,
  PROTO_ARGV_MAX = 4096, /* arguments kept for the kernel's processes */
};

int main(int argc, char** argv) {
  /* A kernel's own process (worker/sandbox.h) is this binary again. */
  if (getenv(SANDBOX_ENV) != NULL) sandbox_main(argc, argv);
  static proto_job_t job;
  char err[512];
  /* Rank 0 speaks for everyone before MPI is up. */
  proto_launch_t launch = proto_launch_self();
  int first = launch.rank == 0;
  int rc = proto_job_parse(&job, argc, argv, err, sizeof(err));
  if (rc == 0 && job.help) {
    if (first) fputs(proto_job_usage(job.kind), stdout);
    return 0;
  }
  if (rc == 0) rc = proto_job_resolve(&job, err, sizeof(err));
  /* A user's kernel is loaded and tried on every rank before MPI starts:
   * a bad object is a usage error, said once. */
  if (rc == 0) rc = kernel_probe(&job, err, sizeof(err));
  proto_log_set_quiet(rc == 0 && job.quiet);
  if (rc == 0 && launch.kind == PROTO_LAUNCH_SLURM_NOPMI) {
    snprintf(err, sizeof(err),
             "srun started %d tasks without a PMI that MPICH can use, so each "
             "would run alone: run srun --mpi=pmi2 (or set MpiDefault=pmi2 in "
             "slurm.conf), or mpiexec.mpich inside the allocation",
             launch.size);
    rc = PROTO_EINVAL;
  }
  /* MPICH's fault-tolerance switch belongs to its ch3 device; Debian's
   * MPICH 4.0.2 is ch4 with UCX, where it makes MPI_Test assert once a
   * peer dies (measured: exit 1, no result). The farm needs none of it. */
  static const char* const ft_vars[] = {
      "MPIR_CVAR_ENABLE_FT", "MPIR_PARAM_ENABLE_FT", "MPICH_ENABLE_FT"};
  for (size_t i = 0; rc == 0 && i < sizeof(ft_vars) / sizeof(ft_vars[0]);
       i++) {
    const char* v = getenv(ft_vars[i]);
    if (v == NULL || *v == '\0' || strcmp(v, "0") == 0) continue;
    snprintf(err, sizeof(err),
             "%s=%s makes MPICH 4.0.2 (ch4, UCX) abort in MPI_Test when a "
             "rank dies, which ends the run; taskfarm survives dead ranks "
             "without it: unset it",
             ft_vars[i], v);
    rc = PROTO_EINVAL;
  }
  /* The launcher gives the world size: --weights must name every worker. */
  int workers = launch.size - 1;
  if (rc == 0 && job.schedule == PROTO_SCHED_WF && workers > 0 &&
      job.nweights != workers) {
    snprintf(err, sizeof(err),
             "--weights has %d values but the run has %d workers (one weight "
             "per worker rank, in rank order)",
             job.nweights, workers);
    rc = PROTO_EINVAL;
  }
  if (rc < 0) {
    if (first) fprintf(stderr, "taskfarm: %s\n", err);
    return EXIT_BAD_USAGE;
  }

  worker_guard(argv, &launch);
  /* MPI_Init may rearrange argv: the kernel's processes get it as given. */
  static char* given[PROTO_ARGV_MAX + 1];
  for (int i = 0; i < argc && i < PROTO_ARGV_MAX; i++) given[i] = argv[i];
  /* Standard output carries the result lines alone: UCX writes its own log
   * lines to stdout, and they go to stderr from here on. */
  proto_out_private();
  worker_arm_startup_watchdog(&job, launch.rank);
  MPI_Init(&argc, &argv);
  /* No MPI error is fatal by itself: one about a peer costs that peer.
   * MPICH reports errors of MPI_Testsome and other calls on several
   * requests through MPI_COMM_WORLD's handler, so it returns too. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm comm;
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  int rank = 0, size = 1, stopped_by = 0, leave = 0;
  master_ending_t ending = MASTER_END_ABORT;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);

  if (job.kind == PROTO_JOB_HELLO) worker_say_hello(rank, size);
  if (rank == 0) {
    proto_watchdog_disarm(); /* start-up is over; the loop is watched */
    /* The loop job's work per nanosecond is this core's, sent with every
     * chunk: every rank does the same work for an iteration, so a slower
     * rank takes longer, as on a real uneven cluster. */
    master_options_t opts = {
        .argc = argc,
        .argv = given,
        .launch = launch,
        .scale = job.kind == PROTO_JOB_LOOP ? loop_calibrate() : 0};
    rc = master_run(&job, comm, &opts);
    if (rc == PROTO_ESTOPPED) stopped_by = opts.stopped_by;
    ending = opts.ending;
  } else {
    rc = worker_run(&job, comm, given, &leave);
  }

  /* 0 done; 2 bad input found once MPI is up (an output file that cannot
   * be written, a journal this run must not touch: rerunning cannot help);
   * 128 + signal when stopped by one; 1 anything else. */
  int status = rc == 0                                      ? EXIT_SUCCESS
               : rc == PROTO_EJOURNAL || rc == PROTO_EINVAL ? EXIT_BAD_USAGE
               : rc == PROTO_ESTOPPED                       ? 128 + stopped_by
                                                            : EXIT_FAILURE;
  /* The job ends through MPI_Finalize on every rank when every worker said
   * BYE, so mpiexec and srun both exit with the master's status and Slurm
   * records what happened; otherwise the master aborts the job (see
   * master_end_job). A worker that could not say BYE waits for that. */
  if (rank == 0 && size > 1) {
    master_end_job(&comm, status, ending);
    return status;
  }
  if (rank > 0 && (rc == 0 || rc == PROTO_EVERSION)) {
    if (leave) worker_leave();
    worker_finalize(&comm);
    return EXIT_SUCCESS;
  }
  if (rank > 0) worker_await_end(&job, status);
  MPI_Comm_free(&comm);
  MPI_Finalize();
  return status;
}
