/* The benchmark's baseline: the tutorial's static split, with taskfarm's
 * own kernels. Rank r computes the r-th equal block of [0, n) (cut on the pi
 * grain, so the bits match the farm's), the exact partial results are
 * gathered on rank 0 and combined, and rank 0 prints the same result lines
 * as taskfarm. One MPI_Gather of fixed-size records stands in for
 * MPI_Reduce, since the partials are exact accumulators, not doubles.
 * Also writes float64 test files for the file dot product: `gen FILE N`. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/job.h"
#include "jobs/options.h"
#include "kernel/kernel.h"
#include "proto/proto.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* `gen FILE N`: N float64 values 1 + frac(i * 0.618...), finite with full
 * 53-bit mantissas, so every product rounds and the kernel adds both the
 * product and its error term, as it would for measured data. */
static int generate(const char* path, const char* count) {
  uint64_t n;
  if (jobs_parse_count(count, (uint64_t)1 << 40, &n) < 0) return 2;
  FILE* f = fopen(path, "wb");
  if (f == NULL) return 1;
  double block[4096];
  for (uint64_t at = 0; at < n; at += 4096) {
    size_t k = n - at < 4096 ? (size_t)(n - at) : 4096;
    for (size_t i = 0; i < k; i++)
      block[i] = 1.0 + fmod((double)(at + i) * 0.6180339887498949, 1.0);
    if (fwrite(block, sizeof(double), k, f) != k) return 1;
  }
  return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc >= 4 && strcmp(argv[1], "gen") == 0)
    return generate(argv[2], argv[3]);
  static cli_job_t job;
  char err[512];
  if (cli_job_parse(&job, argc, argv, err, sizeof(err)) < 0 || job.help ||
      cli_job_resolve(&job, 0, NULL, err, sizeof(err)) < 0 ||
      !cli_job_has_range(&job)) {
    fprintf(stderr,
            "static_baseline: %s\nusage: static_baseline pi|dot|noop "
            "--n N | dot --a A --b B | gen FILE N\n",
            err[0] ? err : "a job is needed");
    return 2;
  }
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  static kernel_t kernel;
  if (kernel_init(&kernel, &job.task, job.n) < 0) MPI_Abort(MPI_COMM_WORLD, 1);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = now_s();
  /* Block r of the grain grid: the same cuts for every rank count. */
  uint64_t align = job.task.spec.align;
  uint64_t grains = (job.n + align - 1) / align;
  uint64_t begin = grains * (uint64_t)rank / (uint64_t)size * align;
  uint64_t end = grains * (uint64_t)(rank + 1) / (uint64_t)size * align;
  if (end > job.n) end = job.n;
  /* A rank with an empty block still sends a (zero) record; the range is
   * only there to make it a well-formed RESULT. */
  proto_msg_t part;
  memset(&part, 0, sizeof(part));
  part.kind = PROTO_TAG_RESULT;
  part.begin = begin;
  part.end = end > begin ? end : begin + 1;
  proto_exact_init(&part.fsum);
  if (end > begin &&
      kernel_add(&kernel, begin, end, &part.fsum, &part.isum) < 0)
    MPI_Abort(MPI_COMM_WORLD, 1);
  uint8_t mine[PROTO_MAX_BYTES];
  size_t len = proto_encode(&part, mine, sizeof(mine));
  uint8_t* all = rank == 0 ? malloc(len * (size_t)size) : NULL;
  MPI_Gather(mine, (int)len, MPI_BYTE, all, (int)len, MPI_BYTE, 0,
             MPI_COMM_WORLD);
  if (rank == 0) {
    proto_exact_t fsum;
    proto_exact_init(&fsum);
    unsigned __int128 isum = 0;
    for (int r = 0; r < size; r++) {
      proto_msg_t m;
      if (proto_decode(all + len * (size_t)r, len, PROTO_TAG_RESULT, &m) < 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
      proto_exact_merge(&fsum, &m.fsum);
      isum += m.isum;
    }
    double wall = now_s() - t0;
    double v = proto_exact_to_double(&fsum);
    if (job.task.spec.result & TASKFARM_RESULT_FLOAT)
      printf("Bits = %a\n", v);
    else
      printf("Integer low 64 bits = %llu\n", (unsigned long long)isum);
    printf("Time = %.6f sec\n", wall);
    fflush(stdout);
    free(all);
  }
  kernel_close(&kernel);
  MPI_Finalize();
  return 0;
}
