/* The farm set up for a run: its size checked against what the master can
 * hold, the journal opened (and read on resume, with what it left out
 * said), the config drawn (this host's name and addresses, a random key
 * for the run). Files and the system, no MPI. */
#ifndef TASKFARM_MASTER_SETUP_H_
#define TASKFARM_MASTER_SETUP_H_

#include <stddef.h>
#include <stdint.h>

#include "master/farm.h"
#include "master/journal.h"
#include "cli/job.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct master_setup_s master_setup_t;
struct master_setup_s {
  const cli_job_t* job;
  int workers;         /* worker ranks */
  farm_io_t io;        /* the farm's callbacks */
  uint64_t scale;      /* sent with every chunk (farm_config_t.scale) */
  uint16_t death_port; /* where guards report deaths; 0: nowhere */
  uint64_t t0_ns;      /* now */
  /* out */
  farm_t* farm;
  master_journal_t* journal; /* opened when the job has one (journaling) */
  int journaling;
  char host[PROTO_HOST_MAX]; /* this host's name */
};

/* Sets s->farm up. Returns 0, or a negative code after saying why
 * (PROTO_EINVAL: too many chunks; PROTO_EJOURNAL and others: the journal
 * cannot be used). s->journal must point at a closed journal (fd -1). */
int master_setup_farm(master_setup_t* s);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_SETUP_H_ */
