/* master/ending.h. */
#include "master/ending.h"

#include <stdio.h>
#include <string.h>

int master_ucx_shared_memory(const char* ucx_tls) {
  if (ucx_tls == NULL || *ucx_tls == '\0') return 1;
  static const char* const shared[] = {"all",  "sm",  "shm",  "posix",
                                       "sysv", "cma", "knem", "xpmem"};
  const char* at = ucx_tls;
  while (*at != '\0') {
    size_t len = strcspn(at, ",");
    /* "^tcp" excludes a transport: the rest, shared memory among it, stays. */
    if (*at == '^') return 1;
    for (size_t k = 0; k < sizeof(shared) / sizeof(shared[0]); k++)
      if (len == strlen(shared[k]) && strncmp(at, shared[k], len) == 0)
        return 1;
    at += len;
    if (*at == ',') at++;
  }
  return 0;
}

master_ending_t master_choose_ending(const master_ending_facts_t* f, char* why,
                                     size_t len) {
  if (len > 0) why[0] = '\0';
  int slurm = f->launcher == PROTO_LAUNCH_SLURM;
  int finalize_returns = f->hosts <= 1 && master_ucx_shared_memory(f->ucx_tls);
  if (f->nmissing == 0 && finalize_returns && (slurm || f->status == 0))
    return MASTER_END_FINALIZE;
  if (!slurm) return MASTER_END_ABORT;
  int gone = 1;
  for (int i = 0; i < f->nmissing && gone; i++)
    gone = f->gone != NULL && f->gone(f->ctx, f->missing[i]);
  if (gone) {
    if (f->nmissing > 0)
      snprintf(why, len,
               "the ranks that did not answer are known gone: the others "
               "leave without MPI_Finalize, so srun keeps the status");
    return MASTER_END_LEAVE;
  }
  snprintf(why, len,
           "a rank that did not answer may still run (it is on another host "
           "and its guard said nothing, or it never greeted): the job ends "
           "with MPI_Abort");
  return MASTER_END_ABORT;
}
