/* run: a user's kernel, loaded from the shared object --kernel names
 * (jobs/taskfarm_kernel.h). Its descriptor is read in a process of its
 * own (kernel/probe.h); its options are given as --arg NAME=VALUE. */
#include "jobs/jobs.h"

static const jobs_entry_t jobs_entry_run = {
    "run",
    "a kernel of your own from a shared object (--kernel FILE)",
    NULL,
    JOBS_LOADS,
    0,
    NULL,
    "Farms out your own kernel: a shared object exporting\n"
    "`const taskfarm_kernel_t* taskfarm_kernel(void)` as declared in\n"
    "taskfarm_kernel.h (installed under include/taskfarm; `pkg-config\n"
    "--cflags taskfarm` finds it). Every rank loads it in a process of\n"
    "its own; its bytes enter the job's fingerprint. A missing symbol,\n"
    "another interface version, a bad --arg or an init that fails is\n"
    "refused before MPI starts (exit 2). `taskfarm run --kernel FILE\n"
    "--help` lists the options that kernel declares.\n"};
JOBS_ADD(run);
