/* base/launch.h. */
#include "base/launch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A non-negative decimal int, or -1. */
static int number(const char* s) {
  if (s == NULL || *s < '0' || *s > '9') return -1;
  errno = 0;
  char* end = NULL;
  long v = strtol(s, &end, 10);
  if (errno != 0 || *end != '\0' || v > 1 << 30) return -1;
  return (int)v;
}

base_launch_t base_launch_detect(const char* (*get)(const char* name)) {
  base_launch_t l = {BASE_LAUNCH_NONE, 0, 1};
  int pmi_rank = number(get("PMI_RANK"));
  int pmi_size = number(get("PMI_SIZE"));
  int has_pmi = pmi_rank >= 0 && pmi_size > 0 &&
                (get("PMI_FD") != NULL || get("PMI_PORT") != NULL);
  if (has_pmi) {
    const char* mpi = get("SLURM_MPI_TYPE");
    int hydra = get("HYDI_CONTROL_FD") != NULL ||
                (get("PMI_JOBID") == NULL && (mpi == NULL || *mpi == '\0'));
    l.kind = hydra ? BASE_LAUNCH_HYDRA : BASE_LAUNCH_SLURM;
    l.rank = pmi_rank;
    l.size = pmi_size;
    return l;
  }
  /* srun's tasks without a PMI: each would be a world of one. A batch
   * script (one task of the allocation's step 'batch') is a plain run. */
  int tasks = number(get("SLURM_STEP_NUM_TASKS"));
  int procid = number(get("SLURM_PROCID"));
  if (tasks > 1 && procid >= 0) {
    l.kind = BASE_LAUNCH_SLURM_NOPMI;
    l.rank = procid;
    l.size = tasks;
  }
  return l;
}

static const char* env(const char* name) { return getenv(name); }

base_launch_t base_launch_self(void) { return base_launch_detect(env); }

const char* base_launch_name(base_launcher_t kind) {
  switch (kind) {
    case BASE_LAUNCH_HYDRA:
      return "hydra";
    case BASE_LAUNCH_SLURM:
      return "slurm";
    case BASE_LAUNCH_SLURM_NOPMI:
      return "slurm-nopmi";
    default:
      return "none";
  }
}
