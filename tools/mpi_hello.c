/* The plainest MPI program: every rank prints one line and finalizes.
 * tools/bench times taskfarm's hello against it: start-up and ending. */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  printf("rank %d of %d says hello\n", rank, size);
  MPI_Finalize();
  return 0;
}
