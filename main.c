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
#include "proto/log.h"
#include "worker/kernel.h"
#include "worker/worker.h"

enum { EXIT_BAD_USAGE = 2 };

/* Rank 0 speaks for everyone before MPI is up: hydra tells each process its
 * rank in PMI_RANK; without mpiexec there is only one process. */
static int is_first_rank(void) {
  const char* r = getenv("PMI_RANK");
  return r == NULL || strcmp(r, "0") == 0;
}

static int compute_local(void* ctx, uint64_t begin, uint64_t end,
                         proto_msg_t* result) {
  return worker_compute(ctx, begin, end, result);
}

int main(int argc, char** argv) {
  static proto_job_t job;
  char err[512];
  int rc = proto_job_parse(&job, argc, argv, err, sizeof(err));
  if (rc == 0 && job.help) {
    if (is_first_rank()) fputs(proto_job_usage(job.kind), stdout);
    return 0;
  }
  if (rc == 0) rc = proto_job_resolve(&job, err, sizeof(err));
  proto_log_set_quiet(rc == 0 && job.quiet);
  /* hydra gives the world size too: --weights must name every worker. */
  const char* world = getenv("PMI_SIZE");
  int workers = world ? atoi(world) - 1 : 0;
  if (rc == 0 && job.schedule == PROTO_SCHED_WF && workers > 0 &&
      job.nweights != workers) {
    snprintf(err, sizeof(err),
             "--weights has %d values but the run has %d workers (one weight "
             "per worker rank, in rank order)",
             job.nweights, workers);
    rc = PROTO_EINVAL;
  }
  if (rc < 0) {
    if (is_first_rank()) fprintf(stderr, "taskfarm: %s\n", err);
    return EXIT_BAD_USAGE;
  }

  worker_guard(argv);
  /* Standard output carries the result lines alone: UCX writes its own log
   * lines to stdout, and they go to stderr from here on. */
  proto_out_private();
  worker_arm_startup_watchdog(&job);
  MPI_Init(&argc, &argv);
  /* No MPI error is fatal by itself: one about a peer costs that peer.
   * MPICH reports errors of MPI_Testsome and other calls on several
   * requests through MPI_COMM_WORLD's handler, so it returns too. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm comm;
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  int rank = 0, size = 1, stopped_by = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);

  if (job.kind == PROTO_JOB_HELLO) worker_say_hello(rank, size);
  if (rank == 0) {
    kernel_t kernel;
    rc = kernel_init(&kernel, &job);
    master_options_t opts = {.compute = compute_local,
                             .compute_ctx = &kernel,
                             .argc = argc,
                             .argv = argv};
    if (rc == 0)
      rc = master_run(&job, comm, &opts);
    else
      fprintf(stderr, "taskfarm: %s\n", proto_strerror(rc));
    kernel_close(&kernel);
    if (rc == PROTO_ESTOPPED) stopped_by = opts.stopped_by;
  } else {
    rc = worker_run(&job, comm);
  }

  /* 0 done; 2 bad input found once MPI is up (an output file that cannot
   * be written, a journal this run must not touch: rerunning cannot help);
   * 128 + signal when stopped by one; 1 anything else. */
  int status = rc == 0                                      ? EXIT_SUCCESS
               : rc == PROTO_EJOURNAL || rc == PROTO_EINVAL ? EXIT_BAD_USAGE
               : rc == PROTO_ESTOPPED                       ? 128 + stopped_by
                                                            : EXIT_FAILURE;
  /* With workers, the master ends the job (see master_end_job); a worker
   * waits for that (worker_await_end). */
  if (rank == 0 && size > 1) master_end_job(comm, status);
  if (rank > 0) worker_await_end(&job, status);
  MPI_Comm_free(&comm);
  MPI_Finalize();
  return status;
}
