/* run: a user's kernel, loaded from the shared object --kernel names
 * (jobs/taskfarm_kernel.h). Its descriptor is read in a process of its
 * own (kernel/probe.h); its options are given as --arg NAME=VALUE. */
#include "jobs/jobs.h"

JOBS_REGISTER(run, "run",
              "a kernel of your own from a shared object (--kernel FILE)",
              NULL, JOBS_LOADS, 0);
