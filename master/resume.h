/* The command that resumes a stopped run, written the way the run was
 * launched: srun for Slurm, mpiexec.mpich for hydra (with the environment
 * settings MPI reads, which mpiexec passed to every rank), the bare binary
 * alone. What the ranks cannot know (the hostfile or host list given to
 * mpiexec) is said in words on a second line. Pure: the caller passes the
 * environment and the facts. */
#ifndef TASKFARM_MASTER_RESUME_H_
#define TASKFARM_MASTER_RESUME_H_

#include <stdio.h>

#include "proto/launch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct master_resume_s master_resume_t;
struct master_resume_s {
  proto_launch_t launch; /* how this run was started */
  int argc;              /* its command line; argv[0] as given */
  char** argv;
  const char* exe; /* the binary's absolute path, for an argv[0] found
                      through PATH (NULL: keep argv[0]) */
  char** env;      /* NULL-terminated NAME=VALUE list (environ) */
  int hosts;       /* distinct hosts the ranks ran on */
};

/* Writes the resume command (one line, starting with two spaces) and, when
 * needed, a line of advice to out. Adds --resume unless argv has it. */
void master_resume_write(FILE* out, const master_resume_t* r);

/* 1 when NAME=VALUE is a setting the resumed run needs too: UCX_*,
 * MPIR_CVAR_* (not the per-host interface name hydra sets), HYDRA_*,
 * FI_*, OMP_*, TASKFARM_PI_PATH. */
int master_resume_keeps(const char* assignment);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_RESUME_H_ */
