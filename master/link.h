/* The master's MPI edge: one posted receive per worker, tested together
 * with MPI_Testsome; a handful of non-blocking send slots per worker. Every
 * MPI error is about one peer: a failed send, a failed receive or a
 * truncated (oversized) message is reported for that rank and the farm goes
 * on; nothing here ends the run. The communicator must have
 * MPI_ERRORS_RETURN. No decisions live here: received bytes are decoded and
 * handed on, sends are queued or refused. */
#ifndef TASKFARM_MASTER_LINK_H_
#define TASKFARM_MASTER_LINK_H_

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  MASTER_LINK_SENDS = 8,  /* sends in flight per worker */
  MASTER_LINK_BUSY = 1,   /* master_link_send(): every slot still in flight */
  MASTER_LINK_WHAT = 256, /* bytes of an error description */
};

/* What master_link_poll() hands on. */
typedef struct master_link_cbs_s master_link_cbs_t;
struct master_link_cbs_s {
  void* ctx;
  /* A message from rank, decoded. */
  void (*message)(void* ctx, int rank, const proto_msg_t* msg);
  /* A message from rank that does not decode (proto_decode's rc, the
   * sender's version for PROTO_EVERSION) or did not fit (PROTO_EMSGSIZE). */
  void (*bad)(void* ctx, int rank, int rc, int tag, size_t len,
              uint32_t version);
  /* The link to rank failed; what names the call and MPI's error text. */
  void (*error)(void* ctx, int rank, const char* what);
};

typedef struct master_link_peer_s master_link_peer_t;
struct master_link_peer_s {
  uint8_t rbuf[PROTO_MAX_BYTES];           /* posted receive's buffer */
  MPI_Request send_req[MASTER_LINK_SENDS]; /* sends in flight */
  uint8_t send_buf[MASTER_LINK_SENDS]
                  [PROTO_TO_WORKER_MAX_BYTES]; /* their buffers */
  int broken;                                  /* no more MPI calls */
  int bye;     /* said its last word: nothing more is received from it */
  int unasked; /* no FIN was sent to it (lost, broken): none awaited */
};

typedef struct master_link_s master_link_t;
struct master_link_s {
  MPI_Comm comm;
  int nworkers;
  master_link_peer_t* peer;    /* peer[i] is rank i + 1 */
  MPI_Request* req;            /* req[i]: posted receive from rank i + 1 */
  int* index;                  /* MPI_Testsome scratch */
  MPI_Status* status;          /* MPI_Testsome scratch */
  uint64_t polls;              /* MPI_Testsome calls */
  proto_tag_t last_word;       /* BYE; FIN once master_link_fin() runs */
  char what[MASTER_LINK_WHAT]; /* the last error, described */
};

/* Sets l up for the nworkers worker ranks of comm and posts a receive from
 * each. Returns 0, PROTO_ENOMEM, or PROTO_EMPI with l->what saying why (l is
 * then closed). */
int master_link_open(master_link_t* l, MPI_Comm comm, int nworkers);

/* Tests every posted receive once and hands on what arrived. Returns the
 * number of messages (good or bad) handed on. */
int master_link_poll(master_link_t* l, const master_link_cbs_t* cbs);

/* Sends msg to rank without waiting. Returns 0; MASTER_LINK_BUSY when all
 * of rank's send slots are still in flight (nothing sent); or PROTO_EMPI
 * when MPI failed for that rank (l->what says how; the rank is broken from
 * then on). */
int master_link_send(master_link_t* l, int rank, const proto_msg_t* msg);

/* The end of the job: waits until every worker rank has said BYE (see
 * proto.h), polling and dropping whatever else still arrives, or until
 * until_ns (proto_now_ns()); a rank whose link broke is not waited for.
 * Returns the number of ranks that have not said BYE (broken ones
 * included): 0 means every rank waits for FIN. */
int master_link_farewell(master_link_t* l, uint64_t until_ns);

/* Sends FIN with how (PROTO_FIN_FINALIZE or PROTO_FIN_LEAVE) and waits until
 * until_ns for each rank sent it to answer FIN, its last word before it
 * finalizes or leaves. PROTO_FIN_FINALIZE goes to every worker (after a
 * complete farewell); PROTO_FIN_LEAVE only to those that said BYE over a
 * link that works. Returns the number of those that did not answer. After
 * PROTO_FIN_FINALIZE the caller calls MPI_Finalize, a little after them
 * (see master_end_job). */
int master_link_fin(master_link_t* l, int how, uint64_t until_ns);

/* Cancels the posted receives and gives the sends in flight until
 * grace_ns to complete. Buffers of sends that did not complete (a frozen
 * or dead peer) are left allocated on purpose: MPI may still read them, and
 * the process ends soon after. */
void master_link_close(master_link_t* l, uint64_t grace_ns);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_LINK_H_ */
