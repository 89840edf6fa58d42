/* taskfarm's entry point: parse the job, start MPI, run the master on rank 0
 * and a worker everywhere else, finish. The command line is checked before
 * MPI starts, identically on every rank, so bad input ends every rank at once
 * with one message (from rank 0) and exit status 2. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/isa.h"
#include "base/launch.h"
#include "base/log.h"
#include "base/watchdog.h"
#include "cli/job.h"
#include "jobs/taskfarm_kernel.h"
#include "kernel/sandbox.h"
#include "master/journal.h"
#include "master/master.h"
#include "proto/error.h"
#include "proto/proto.h"
#include "worker/guard.h"
#include "worker/worker.h"

#define TASKFARM_VERSION "0.3.0"

enum {
  EXIT_BAD_USAGE = 2,
  PROTO_ARGV_MAX = 4096, /* arguments kept for the kernel's processes */
};

/* taskfarm --version: what a bug report needs. MPI_Get_library_version
 * may be called before MPI_Init. */
static void print_version(void) {
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = "";
  int len = 0;
  MPI_Get_library_version(mpi, &len);
  char* nl = strchr(mpi, '\n');
  if (nl != NULL) *nl = '\0';
  printf("taskfarm %s\n", TASKFARM_VERSION);
  printf(
      "protocol %d, journal format %d (reads %d to %d), kernel interface "
      "%d (loads %d to %d)\n",
      PROTO_VERSION, MASTER_JOURNAL_VERSION, MASTER_JOURNAL_OLDEST,
      MASTER_JOURNAL_VERSION, TASKFARM_KERNEL_ABI, TASKFARM_KERNEL_ABI_OLDEST,
      TASKFARM_KERNEL_ABI);
  printf("kernels: the %s path on this CPU\n", base_isa_name(base_isa()));
  printf("MPI: %s\n", mpi);
}

/* What the job cannot run under, found before MPI starts: a launcher
 * that would run every task alone, MPICH's fault-tolerance switch, weights
 * for another number of workers. Returns 0 or PROTO_EINVAL with a
 * sentence in err. */
static int check_launch(const cli_job_t* job, const base_launch_t* launch,
                        char* err, size_t len) {
  if (launch->kind == BASE_LAUNCH_SLURM_NOPMI) {
    snprintf(err, len,
             "srun started %d tasks without a PMI that MPICH can use, so each "
             "would run alone: run srun --mpi=pmi2 (or set MpiDefault=pmi2 in "
             "slurm.conf), or mpiexec.mpich inside the allocation",
             launch->size);
    return PROTO_EINVAL;
  }
  /* MPICH's fault-tolerance switch belongs to its ch3 device; Debian's
   * MPICH 4.0.2 is ch4 with UCX, where it makes MPI_Test assert once a
   * peer dies (measured: exit 1, no result). The farm needs none of it. */
  static const char* const ft_vars[] = {
      "MPIR_CVAR_ENABLE_FT", "MPIR_PARAM_ENABLE_FT", "MPICH_ENABLE_FT"};
  for (size_t i = 0; i < sizeof(ft_vars) / sizeof(ft_vars[0]); i++) {
    const char* v = getenv(ft_vars[i]);
    if (v == NULL || *v == '\0' || strcmp(v, "0") == 0) continue;
    snprintf(err, len,
             "%s=%s makes MPICH 4.0.2 (ch4, UCX) abort in MPI_Test when a "
             "rank dies, which ends the run; taskfarm survives dead ranks "
             "without it: unset it",
             ft_vars[i], v);
    return PROTO_EINVAL;
  }
  /* The launcher gives the world size: --weights must name every worker. */
  int workers = launch->size - 1;
  if (job->schedule == CLI_SCHED_WF && workers > 0 &&
      job->nweights != workers) {
    snprintf(err, len,
             "--weights has %d values but the run has %d workers (one weight "
             "per worker rank, in rank order)",
             job->nweights, workers);
    return PROTO_EINVAL;
  }
  return 0;
}

/* The job of this command line, ready to run on this rank: parsed, its
 * kernel described and tried (a user's in a child process, so a bad
 * option or object is a usage error before MPI starts), and the launch
 * checked. Rank 0 speaks for everyone. With --help, the usage. The master
 * also measures the work scale its kernel may ask for (*scale): every
 * rank does the same work for an index, so a slower rank takes longer, as
 * on a real uneven cluster. Returns -1 to go on, or the exit status. */
static int prepare(cli_job_t* job, int argc, char** argv,
                   const base_launch_t* launch, uint64_t* scale) {
  char err[512];
  int first = launch->rank == 0;
  int rc = cli_job_parse(job, argc, argv, err, sizeof(err));
  if (rc == 0 && job->help) {
    if (first)
      rc = cli_usage(job->task.entry ? job : NULL, stdout, err, sizeof(err));
    if (rc == 0) return 0;
  }
  if (rc == 0 && !job->help)
    rc = cli_job_resolve(job, first, scale, err, sizeof(err));
  base_log_set_quiet(rc == 0 && job->quiet);
  if (rc == 0) rc = check_launch(job, launch, err, sizeof(err));
  if (rc < 0) {
    if (first) fprintf(stderr, "taskfarm: %s\n", err);
    return EXIT_BAD_USAGE;
  }
  return -1;
}

/* MPI started, its errors returned rather than fatal, and the farm's own
 * communicator. */
static MPI_Comm start_mpi(int* argc, char*** argv) {
  MPI_Init(argc, argv);
  /* No MPI error is fatal by itself: one about a peer costs that peer.
   * MPICH reports errors of MPI_Testsome and other calls on several
   * requests through MPI_COMM_WORLD's handler, so it returns too. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm comm;
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  return comm;
}

int main(int argc, char** argv) {
  /* A kernel's own process (kernel/sandbox.h) is this binary again. */
  if (getenv(SANDBOX_ENV) != NULL) sandbox_main();
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    print_version();
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "--options") == 0) {
    cli_list_options(stdout);
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "--jobs") == 0) {
    cli_list_jobs(stdout);
    return 0;
  }
  static cli_job_t job;
  base_launch_t launch = base_launch_self();
  uint64_t scale = 0;
  int early = prepare(&job, argc, argv, &launch, &scale);
  if (early >= 0) return early;

  worker_guard(argv, &launch);
  /* MPI_Init may rearrange argv: the kernel's processes get it as given. */
  static char* given[PROTO_ARGV_MAX + 1];
  for (int i = 0; i < argc && i < PROTO_ARGV_MAX; i++) given[i] = argv[i];
  /* Standard output carries the result lines alone: UCX writes its own log
   * lines to stdout, and they go to stderr from here on. */
  base_out_private();
  worker_arm_startup_watchdog(&job, launch.rank);
  MPI_Comm comm = start_mpi(&argc, &argv);
  int rank = 0, size = 1, stopped_by = 0, leave = 0, rc = 0;
  master_ending_t ending = MASTER_END_ABORT;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);

  if (job.task.entry->greet != NULL)
    job.task.entry->greet(rank, size, base_out());
  if (rank == 0) {
    base_watchdog_disarm(); /* start-up is over; the loop is watched */
    master_options_t opts = {
        .argc = argc, .argv = given, .launch = launch, .scale = scale};
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
