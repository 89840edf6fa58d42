/* The farm's state: farm.c's own, and its tests' (the simulator and the
 * unit tests look at it after every call). Everybody else reads it through
 * farm.h's functions and farm_snapshot(). */
#ifndef TASKFARM_MASTER_FARM_PRIVATE_H_
#define TASKFARM_MASTER_FARM_PRIVATE_H_

#include <stddef.h>
#include <stdint.h>

#include "master/chunks.h"
#include "master/farm.h"
#include "master/schedule.h"
#include "proto/exact.h"
#include "cli/job.h"
#include "proto/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct farm_order_s farm_order_t;
struct farm_order_s {
  size_t chunk;       /* chunk table id */
  uint64_t attempt;   /* attempt number given to this worker */
  uint64_t issued_ns; /* when the order was sent */
  int timed_out;      /* its deadline passed and the chunk was requeued */
};

typedef struct farm_peer_s farm_peer_t;
struct farm_peer_s {
  int rank;
  farm_state_t state;
  int greeted;                          /* its HELLO was checked and accepted */
  farm_order_t order[FARM_QUEUE_DEPTH]; /* outstanding, oldest first */
  int norders;
  int fails;                 /* consecutive FAIL messages */
  int strikes;               /* consecutive timeouts */
  int suspect;               /* timed out or backed up: no new work */
  uint64_t pid;              /* from HELLO */
  char host[PROTO_HOST_MAX]; /* from HELLO */
  double speed;              /* indices per ns, smoothed; 0 = unknown */
  uint64_t head_start_ns;    /* when order[0] became the one it works on */
  uint64_t head_done;        /* indices of order[0] done (PROGRESS) */
  uint64_t last_heard_ns;    /* when its last message arrived */
  uint64_t last_sent_ns;     /* when we last sent it anything */
  uint64_t chunks;           /* results accepted */
  uint64_t iters;            /* indices in accepted results */
  uint64_t busy_ns;          /* compute time reported with them */
  uint64_t duplicates;       /* results for chunks already done */
  uint64_t rejected;         /* malformed, forged or misplaced messages */
  uint64_t timeouts;         /* deadlines it missed */
  uint64_t reissued;         /* its chunks put back in line for others */
  uint64_t cancels;          /* orders cancelled because done elsewhere */
  uint64_t losses;           /* times it was declared lost */
  uint64_t readmits;         /* times it came back after being lost */
  uint64_t finish_ns;        /* when its last accepted result arrived */
  size_t* owned;             /* static schedules: its chunks, in order */
  size_t owned_count;
  size_t owned_cap;
  size_t owned_pos;       /* first one not yet looked at */
  farm_peer_t* idle_prev; /* the idle list (active, no orders) */
  farm_peer_t* idle_next;
  int idle;               /* on the idle list */
  int broken;             /* a send to it failed with this code */
  int died;               /* its guard reported its process dead: known gone */
  proto_exact_t* fsum;    /* its accepted float partials summed; NULL
                             until the first */
  unsigned __int128 isum; /* its accepted integer partials summed */
  uint64_t checked;       /* its results another rank confirmed */
  uint64_t checks_done;   /* other ranks' results it confirmed */
  uint64_t mismatches;    /* its results that others contradicted */
  uint64_t revoked;       /* accepted chunks withdrawn when refused */
  char why[FARM_WHY_MAX]; /* why it was refused; "" while it is not */
};

/* Two or more computations of one DONE chunk that disagree, and the
 * computations that decide between them. */
typedef struct farm_dispute_s farm_dispute_t;
struct farm_dispute_s {
  size_t chunk;
  int votes;
  int rank[FARM_VOTES_MAX];        /* who computed it (0: the master) */
  uint64_t digest[FARM_VOTES_MAX]; /* what each got */
};

/* The ranks a chunk's computation killed or froze (--poison-after). */
typedef struct farm_death_s farm_death_t;
struct farm_death_s {
  size_t chunk;
  int count;
  int rank[CLI_POISON_MAX];
  int code[CLI_POISON_MAX];       /* PROTO_EKILLED, EEXITED or EFROZE */
  int64_t detail[CLI_POISON_MAX]; /* signal, status or limit in ms */
};

/* An accepted result that waits for its check before it is journaled: a
 * journal holds only what is trusted, so a run stopped before the check
 * computes that chunk again on resume. */
typedef struct farm_held_s farm_held_t;
struct farm_held_s {
  size_t chunk;
  int rank;
  uint32_t attempt;
  master_record_t* record; /* what the journal gets once it passes */
};

/* A FIFO of chunk ids. */
typedef struct farm_ring_s farm_ring_t;
struct farm_ring_s {
  size_t* id;
  size_t head;
  size_t count;
  size_t cap;
};

typedef struct farm_candidate_s farm_candidate_t;
struct farm_candidate_s {
  farm_peer_t* peer; /* NULL: empty */
  size_t chunk;
  uint64_t attempt;
  uint64_t finish_ns; /* predicted, when last looked at */
};

typedef struct farm_s farm_t;
struct farm_s {
  const cli_job_t* job;
  farm_io_t io;
  int nworkers;
  farm_peer_t* peer; /* peer[i] is rank i + 1 */
  master_table_t table;
  master_sched_t sched;
  int is_static; /* every chunk was cut and assigned up front */
  int speculate; /* backup copies at the end */
  uint64_t fingerprint;
  uint64_t scale; /* sent with every WORK (proto_msg_t.scale); 0 = none */
  uint64_t chunk_size;
  uint64_t min_chunk;
  uint64_t t0_ns;         /* the run's start */
  uint64_t hello_wait_ns; /* a rank silent this long from the start is lost */
  proto_exact_t fsum;     /* the journal's and the master's own float
                             partials (each rank's are in its peer) */
  unsigned __int128 isum; /* ... and integer partials */
  int done;               /* the run is over (finished, stopped or failed) */
  int rc;                 /* the run's outcome: 0 or a negative code */
  int stop;               /* farm_stop_t: how the run was asked to stop */
  uint64_t stop_deadline_ns;
  int takers;             /* peers WAITING or ACTIVE */
  int alive;              /* peers ACTIVE */
  int lost;               /* peers LOST or GONE */
  int inflight;           /* orders held by all peers */
  double speed_sum;       /* sum of the known speeds */
  int speed_known;        /* peers with a known speed */
  farm_peer_t* idle_head; /* active peers with no orders, newest first */
  int broken_any;         /* some peer is broken and not yet dropped */
  size_t scan_pos;        /* farm_tick's cursor */
  uint64_t scanned_ns;    /* when farm_tick last ran */
  farm_candidate_t cand[FARM_CANDIDATES]; /* latest predicted finishes */
  int solo_busy;                          /* the master computes a chunk now */
  size_t solo_chunk;                      /* ... this one */
  size_t solo_scan;      /* chunks before this were looked at for it */
  uint64_t min_chunk_ns; /* shortest compute time reported so far */
  uint64_t msgs;         /* messages received */
  uint64_t reissues;     /* chunks put back in line after a fault */
  uint64_t master_iters; /* indices the master computed itself */
  uint64_t speculative;  /* copies of stragglers' chunks issued */
  uint64_t wasted_iters; /* indices computed more than once */
  uint64_t recoveries;   /* faulted chunks finished by someone */
  double recovery_max_s;
  double recovery_sum_s;
  uint64_t resumed_iters;         /* done before this run, from a journal */
  char self_host[PROTO_HOST_MAX]; /* the master's host */
  int warned_hosts;               /* the no-journal warning was given */
  uint64_t key[2];                /* farm_config_t.key */
  uint16_t death_port;            /* farm_config_t.death_port */
  uint32_t death_addr[4];         /* farm_config_t.death_addr */
  uint64_t rng[4];                /* xoshiro256**, seeded from the key */
  double verify;                  /* fraction of chunks checked */
  farm_ring_t checkq;             /* chunks WANTED: a copy to issue */
  farm_ring_t refq;               /* chunks DISPUTED: a vote to issue */
  int checks_open;                /* chunks WANTED, ISSUED or DISPUTED */
  farm_dispute_t* dispute;        /* open disputes */
  size_t ndisputes;
  size_t disputes_cap;
  farm_held_t* held; /* results held back from the journal */
  size_t nheld;
  size_t held_cap;
  farm_death_t* death; /* chunks whose computation killed a rank */
  size_t ndeaths;
  size_t deaths_cap;
  uint64_t poisoned;       /* chunks poisoned */
  uint64_t poisoned_iters; /* their indices */
  uint64_t checks_issued;  /* copies issued to check a result */
  uint64_t checks_passed;  /* results confirmed by another rank */
  uint64_t free_checks;    /* ... of them by a copy that was out anyway */
  uint64_t mismatches;     /* computations that contradicted another */
  uint64_t liars;          /* ranks refused for lying or computing wrong */
  uint64_t inconsistent;   /* ranks that computed one chunk twice and got
                              different partials */
  uint64_t kernel_deaths;  /* computations that killed or froze a rank */
  uint64_t revoked_iters;  /* indices withdrawn from refused ranks */
};

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_FARM_PRIVATE_H_ */
