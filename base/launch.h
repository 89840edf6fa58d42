/* Which launcher started this process, read from its environment before
 * MPI_Init, so every rank can decide the same things alone: who prints a
 * usage error, whether to guard itself, how the world is sized, and how a
 * stopped run is to be resumed.
 *
 *   hydra      mpiexec.mpich: PMI_RANK/PMI_SIZE/PMI_FD, and hydra's own
 *              HYDI_CONTROL_FD (also under sbatch, where hydra's proxies
 *              are started by srun)
 *   slurm      srun --mpi=pmi2: PMI_RANK/PMI_SIZE/PMI_FD with PMI_JOBID
 *              and SLURM_MPI_TYPE=pmi2
 *   slurm-nopmi  srun with a PMI MPICH cannot use (--mpi=none, the default,
 *              or pmix): each task would start as a world of its own, so
 *              the run is refused with a sentence saying what to type
 *   none       no launcher: a world of one process */
#ifndef TASKFARM_BASE_LAUNCH_H_
#define TASKFARM_BASE_LAUNCH_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  BASE_LAUNCH_NONE = 0,
  BASE_LAUNCH_HYDRA = 1,
  BASE_LAUNCH_SLURM = 2,
  BASE_LAUNCH_SLURM_NOPMI = 3,
} base_launcher_t;

typedef struct base_launch_s base_launch_t;
struct base_launch_s {
  base_launcher_t kind;
  int rank; /* this process's rank (SLURM_PROCID without a PMI), 0 alone */
  int size; /* ranks in the job, 1 alone */
};

/* Reads the environment through get (getenv, or a test's table). */
base_launch_t base_launch_detect(const char* (*get)(const char* name));

/* Describes the environment of this process (getenv). */
base_launch_t base_launch_self(void);

/* "hydra", "slurm", "slurm-nopmi" or "none". */
const char* base_launch_name(base_launcher_t kind);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_BASE_LAUNCH_H_ */
