/* master/link.h. MPI_Testsome reports a failed request through
 * MPI_ERR_IN_STATUS and the request's own status; any other failure is
 * traced to its request by testing each one alone, so one bad peer is
 * always found and dropped, never the run. */
#include "master/link.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/clock.h"
#include "proto/error.h"

/* Describes a failed MPI call into l->what: "MPI_Isend to rank 2: <text>". */
static void describe(master_link_t* l, const char* call, const char* dir,
                     int rank, int code) {
  char text[MPI_MAX_ERROR_STRING] = "";
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) len = 0;
  text[len < (int)sizeof(text) ? len : (int)sizeof(text) - 1] = '\0';
  /* MPICH's texts are a stack, one call a line: the first line names the
   * error class, the last one the cause ("... Endpoint timeout"). */
  char* nl = strchr(text, '\n');
  const char* cause = "";
  if (nl != NULL) {
    *nl = '\0';
    char* last = strrchr(nl + 1, '\n');
    while (last != NULL && last[1] == '\0') {
      *last = '\0';
      last = strrchr(nl + 1, '\n');
    }
    cause = last != NULL ? last + 1 : nl + 1;
  }
  snprintf(l->what, sizeof(l->what), "%s %s rank %d failed: %s%s%s", call, dir,
           rank, text[0] ? text : "unknown MPI error", cause[0] ? " ... " : "",
           cause);
}

static int post(master_link_t* l, int i) {
  int rc = MPI_Irecv(l->peer[i].rbuf, PROTO_MAX_BYTES, MPI_BYTE, i + 1,
                     MPI_ANY_TAG, l->comm, &l->req[i]);
  if (rc != MPI_SUCCESS) {
    describe(l, "MPI_Irecv", "from", i + 1, rc);
    l->req[i] = MPI_REQUEST_NULL;
    l->peer[i].broken = 1;
    return PROTO_EMPI;
  }
  return 0;
}

int master_link_open(master_link_t* l, MPI_Comm comm, int nworkers) {
  memset(l, 0, sizeof(*l));
  l->comm = comm;
  l->last_word = PROTO_TAG_BYE;
  l->nworkers = nworkers;
  if (nworkers == 0) return 0;
  size_t n = (size_t)nworkers;
  l->peer = calloc(n, sizeof(*l->peer));
  l->req = calloc(n, sizeof(*l->req));
  l->index = calloc(n, sizeof(*l->index));
  l->status = calloc(n, sizeof(*l->status));
  if (!l->peer || !l->req || !l->index || !l->status) {
    master_link_close(l, 0);
    return PROTO_ENOMEM;
  }
  for (int i = 0; i < nworkers; i++) {
    for (int k = 0; k < MASTER_LINK_SENDS; k++)
      l->peer[i].send_req[k] = MPI_REQUEST_NULL;
    l->req[i] = MPI_REQUEST_NULL;
  }
  for (int i = 0; i < nworkers; i++) {
    if (post(l, i) < 0) {
      master_link_close(l, 0);
      return PROTO_EMPI;
    }
  }
  return 0;
}

/* Hands on the message that completed receive i with status st, then posts
 * the receive again (unless the link broke). */
static void deliver(master_link_t* l, int i, const MPI_Status* st,
                    const master_link_cbs_t* cbs) {
  int rank = i + 1;
  int err = st->MPI_ERROR, cls = MPI_SUCCESS;
  if (err != MPI_SUCCESS) MPI_Error_class(err, &cls);
  if (cls == MPI_ERR_TRUNCATE) {
    /* A message larger than any this protocol has: its bytes are gone,
     * the receive is complete, the peer is judged by the farm. */
    cbs->bad(cbs->ctx, rank, PROTO_EMSGSIZE, st->MPI_TAG, PROTO_MAX_BYTES + 1,
             0);
  } else if (err != MPI_SUCCESS) {
    describe(l, "MPI_Irecv", "from", rank, err);
    l->peer[i].broken = 1;
    l->req[i] = MPI_REQUEST_NULL;
    cbs->error(cbs->ctx, rank, l->what);
    return;
  } else {
    int len = 0;
    MPI_Get_count(st, MPI_BYTE, &len);
    proto_msg_t msg;
    int rc = proto_decode(l->peer[i].rbuf, (size_t)len, st->MPI_TAG, &msg);
    /* Nothing follows a rank's last word (BYE, then FIN): its receive is
     * not posted again. */
    if (rc == 0 && msg.kind == l->last_word) l->peer[i].bye = 1;
    if (rc < 0)
      cbs->bad(cbs->ctx, rank, rc, st->MPI_TAG, (size_t)len, msg.version);
    else
      cbs->message(cbs->ctx, rank, &msg);
  }
  if (!l->peer[i].broken && !l->peer[i].bye && post(l, i) < 0)
    cbs->error(cbs->ctx, rank, l->what);
}

/* Testsome failed without saying which request: test each one alone. */
static int poll_each(master_link_t* l, const master_link_cbs_t* cbs) {
  int count = 0;
  for (int i = 0; i < l->nworkers; i++) {
    if (l->req[i] == MPI_REQUEST_NULL) continue;
    int done = 0;
    MPI_Status st;
    memset(&st, 0, sizeof(st));
    int rc = MPI_Test(&l->req[i], &done, &st);
    if (rc != MPI_SUCCESS) {
      int cls = MPI_SUCCESS;
      MPI_Error_class(rc, &cls);
      if (cls == MPI_ERR_TRUNCATE) {
        st.MPI_ERROR = rc;
        done = 1;
      } else {
        describe(l, "MPI_Test", "of the receive from", i + 1, rc);
        l->peer[i].broken = 1;
        l->req[i] = MPI_REQUEST_NULL;
        cbs->error(cbs->ctx, i + 1, l->what);
        count++;
        continue;
      }
    } else {
      st.MPI_ERROR = MPI_SUCCESS;
    }
    if (!done) continue;
    deliver(l, i, &st, cbs);
    count++;
  }
  return count;
}

int master_link_poll(master_link_t* l, const master_link_cbs_t* cbs) {
  if (l->nworkers == 0) return 0;
  int count = 0;
  l->polls++;
  int rc = MPI_Testsome(l->nworkers, l->req, &count, l->index, l->status);
  if (rc != MPI_SUCCESS && rc != MPI_ERR_IN_STATUS) {
    int cls = MPI_SUCCESS;
    MPI_Error_class(rc, &cls);
    if (cls != MPI_ERR_IN_STATUS) return poll_each(l, cbs);
  }
  if (count == MPI_UNDEFINED) return 0;
  int in_status = rc != MPI_SUCCESS;
  for (int k = 0; k < count; k++) {
    if (!in_status) l->status[k].MPI_ERROR = MPI_SUCCESS;
    deliver(l, l->index[k], &l->status[k], cbs);
  }
  return count;
}

int master_link_send(master_link_t* l, int rank, const proto_msg_t* msg) {
  master_link_peer_t* p = &l->peer[rank - 1];
  if (p->broken) {
    snprintf(l->what, sizeof(l->what), "rank %d's link broke earlier", rank);
    return PROTO_EMPI;
  }
  int free_slot = -1;
  for (int k = 0; k < MASTER_LINK_SENDS && free_slot < 0; k++) {
    if (p->send_req[k] != MPI_REQUEST_NULL) {
      int done = 0;
      int rc = MPI_Test(&p->send_req[k], &done, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS) {
        describe(l, "MPI_Isend", "to", rank, rc);
        p->broken = 1;
        return PROTO_EMPI;
      }
    }
    if (p->send_req[k] == MPI_REQUEST_NULL) free_slot = k;
  }
  if (free_slot < 0) return MASTER_LINK_BUSY;
  size_t len =
      proto_encode(msg, p->send_buf[free_slot], sizeof(p->send_buf[free_slot]));
  /* The slots hold every message a master sends (link.h). */
  assert(len > 0);
  int rc = MPI_Isend(p->send_buf[free_slot], (int)len, MPI_BYTE, rank,
                     (int)msg->kind, l->comm, &p->send_req[free_slot]);
  if (rc != MPI_SUCCESS) {
    describe(l, "MPI_Isend", "to", rank, rc);
    p->send_req[free_slot] = MPI_REQUEST_NULL;
    p->broken = 1;
    return PROTO_EMPI;
  }
  return 0;
}

static void nap(void) {
  struct timespec pause = {0, 100000};
  nanosleep(&pause, NULL);
}

static void ignore_message(void* ctx, int rank, const proto_msg_t* msg) {
  (void)ctx, (void)rank, (void)msg;
}

static void ignore_bad(void* ctx, int rank, int rc, int tag, size_t len,
                       uint32_t version) {
  (void)ctx, (void)rank, (void)rc, (void)tag, (void)len, (void)version;
}

static void ignore_error(void* ctx, int rank, const char* what) {
  (void)ctx, (void)rank, (void)what;
}

/* Polls, dropping everything else, until every rank asked has said its
 * last word (deliver() marks it), or can no longer (its link broke), or
 * until until_ns. Returns the ranks asked that have not said it. */
static int await_last_words(master_link_t* l, uint64_t until_ns) {
  master_link_cbs_t cbs = {l, ignore_message, ignore_bad, ignore_error};
  for (;;) {
    int missing = 0, waiting = 0;
    for (int i = 0; i < l->nworkers; i++) {
      if (l->peer[i].unasked || l->peer[i].bye) continue;
      missing++;
      waiting += !l->peer[i].broken; /* a broken link says nothing more */
    }
    if (waiting == 0 || proto_now_ns() >= until_ns) return missing;
    if (master_link_poll(l, &cbs) == 0) nap();
  }
}

int master_link_farewell(master_link_t* l, uint64_t until_ns) {
  return await_last_words(l, until_ns);
}

int master_link_fin(master_link_t* l, int how, uint64_t until_ns) {
  proto_msg_t fin = {.kind = PROTO_TAG_FIN, .code = how};
  l->last_word = PROTO_TAG_FIN;
  for (int i = 0; i < l->nworkers; i++) {
    if (how == PROTO_FIN_LEAVE && (!l->peer[i].bye || l->peer[i].broken)) {
      l->peer[i].unasked = 1;
      continue;
    }
    l->peer[i].bye = 0; /* from here: 1 once its FIN came back */
    if (l->peer[i].broken || post(l, i) < 0) return l->nworkers;
    while (master_link_send(l, i + 1, &fin) == MASTER_LINK_BUSY &&
           proto_now_ns() < until_ns)
      nap();
  }
  return await_last_words(l, until_ns);
}

/* 1 when every send of p has completed (or can never be tested again). */
static int sends_done(master_link_peer_t* p) {
  int all = 1;
  for (int k = 0; k < MASTER_LINK_SENDS; k++) {
    if (p->send_req[k] == MPI_REQUEST_NULL) continue;
    int done = 0;
    if (MPI_Test(&p->send_req[k], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
      p->broken = 1;
      return 1;
    }
    if (!done) all = 0;
  }
  return all;
}

void master_link_close(master_link_t* l, uint64_t grace_ns) {
  int leak = 0;
  if (l->req != NULL) {
    for (int i = 0; i < l->nworkers; i++) {
      if (l->req[i] == MPI_REQUEST_NULL) continue;
      /* Cancelling a receive is local in MPICH; one that fails stays
       * posted, and its buffer is then left allocated. */
      if (MPI_Cancel(&l->req[i]) != MPI_SUCCESS ||
          MPI_Wait(&l->req[i], MPI_STATUS_IGNORE) != MPI_SUCCESS)
        leak = 1;
    }
  }
  uint64_t until = proto_now_ns() + grace_ns;
  for (int i = 0; l->peer != NULL && i < l->nworkers; i++) {
    while (!l->peer[i].broken && !sends_done(&l->peer[i]) &&
           proto_now_ns() < until)
      nap();
    if (!sends_done(&l->peer[i])) leak = 1;
  }
  if (!leak) free(l->peer);
  l->peer = NULL;
  free(l->req);
  free(l->index);
  free(l->status);
  l->req = NULL;
  l->index = NULL;
  l->status = NULL;
}
