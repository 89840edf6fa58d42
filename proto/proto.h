/* The wire protocol between the master (rank 0) and the workers.
 *
 * Every message is a fixed sequence of little-endian 64-bit words sent as
 * MPI_BYTE with its kind as the MPI tag. Word 0 of every message is the same
 * header in every version: magic 0x54464d31 ("TFM1") in bits 0-31, protocol
 * version in bits 32-47, kind in bits 48-63. So a rank built from another
 * version is recognised and refused, never mis-read.
 *
 *   tag/kind        direction  words  layout after the header
 *   HELLO    1      w -> m      12    job fingerprint, pid, cpu count,
 *                                     host name (64 bytes, NUL-padded)
 *   REFUSE   2      m -> w       3    reason (proto_error_t), master version
 *   WORK     3      m -> w       6    chunk id, attempt, begin, end, scale
 *   RESULT   4      w -> m   9+136    chunk id, attempt, begin, end,
 *                                     busy ns, exact flags, int lo, int hi,
 *                                     136 exact digits (proto/exact.h)
 *   STOP     5      m -> w       1    (none): no more work, finish
 *   CANCEL   6      m -> w       3    chunk id, attempt: drop that chunk
 *   FAIL     7      w -> m       5    chunk id, attempt, error code,
 *                                     detail (signal, exit status, s)
 *   PROGRESS 8      w -> m       5    chunk id, attempt, indices done,
 *                                     busy ns so far
 *   PING     9      m -> w       1    (none): the master is alive
 *   BYE     10      w -> m       1    (none): stopped, nothing in flight
 *   WELCOME 12      m -> w       7    death token, UDP port, the master's IPv4
 *                                     addresses (4 words, 0 = none)
 *   FIN     11      m -> w       2    how the job ends: 0 every rank calls
 *                   w -> m              MPI_Finalize, 1 every rank leaves
 *                                       without it (the answer repeats it)
 *
 * HELLO opens a worker's conversation; the master answers a wrong version or
 * job with REFUSE and never gives that rank work, the right one with
 * WELCOME: where the worker's guard (the parent process that outlives it)
 * reports its death, as a datagram (proto_death_t) carrying this rank's
 * token, so the master learns it at once instead of from silence. WORK orders
one chunk
 * [begin, end) of the index range; a worker may hold several and computes
 * them in order. RESULT returns one chunk's exact partial result: pi and
 * dot-from-files fill the exact digits, dot --n fills the 128-bit integer.
 * FAIL reports a chunk the worker could not compute (e.g. a read error, or
 * PROTO_EQUEUE: its order ring is full). PROGRESS is a worker's heartbeat
 * while it computes (about every 100 ms): it lets the master tell a slow
 * worker (progressing) from a frozen or dead one (silent). An idle worker
 * sends one for attempt 0 (which no order has) every second, so a master
 * that declared it lost hears that it is alive and takes it back. PING keeps
 * idle workers sure that the master is alive; a worker that hears nothing from
 * the master for long exits on its own. BYE answers STOP or REFUSE: the worker
 * has nothing in flight and waits for FIN. Only when every rank has said BYE
 * does the master send FIN to all and call MPI_Finalize with them (it waits for
 * every rank). Where MPI_Finalize cannot be trusted (over TCP, across hosts,
a rank lost) but the launcher keeps each rank's exit status (Slurm), FIN
says "leave": the workers that said BYE answer it and exit 0 without
finalizing, and the master exits with the run's status. Otherwise the
master ends the job with MPI_Abort. A worker must not
 * finalize before FIN: over UCX's TCP transport a rank that finalizes while the
 * master is not yet finalizing leaves the master's MPI_Finalize waiting for
 * good. A BYE during the run is rejected like any message a worker never sends
 * then. The master checks every field of every message it receives against its
 * chunk table and drops what does not fit. */
#ifndef TASKFARM_PROTO_PROTO_H_
#define TASKFARM_PROTO_PROTO_H_

#include <stddef.h>
#include <stdint.h>

#include "proto/exact.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A computing worker reports PROGRESS this often, and the master sends
 * every worker something at least this often (a PING when idle). Silence
 * limits shorter than twice these would take healthy ranks for dead, so
 * --lost-after and --timeout-floor start at 2 x PROTO_BEAT_S and
 * --master-timeout at 2 x PROTO_PING_S. */
#define PROTO_BEAT_S 0.1
#define PROTO_PING_S 1.0

enum {
  PROTO_MAGIC = 0x54464d31, /* "TFM1" */
  PROTO_VERSION = 6,        /* 2: exact partials of 136 digits (proto/exact.h);
                               3: BYE and FIN; 4: WORK carries the job's scale;
                               5: FIN says how the job ends; 6: FAIL
                               carries a detail */
  PROTO_HOST_MAX = 64,      /* host name bytes in HELLO, including the NUL */
};

/* FIN's code: how the job ends. */
enum {
  PROTO_FIN_FINALIZE = 0, /* every rank calls MPI_Finalize */
  PROTO_FIN_LEAVE = 1,    /* every rank exits without it (Slurm keeps each
                             rank's status; hydra would end the job) */
};

typedef enum {
  PROTO_TAG_HELLO = 1,
  PROTO_TAG_REFUSE = 2,
  PROTO_TAG_WORK = 3,
  PROTO_TAG_RESULT = 4,
  PROTO_TAG_STOP = 5,
  PROTO_TAG_CANCEL = 6,
  PROTO_TAG_FAIL = 7,
  PROTO_TAG_PROGRESS = 8,
  PROTO_TAG_PING = 9,
  PROTO_TAG_BYE = 10,
  PROTO_TAG_FIN = 11,
  PROTO_TAG_WELCOME = 12,
  PROTO_TAG_MAX = 12,
} proto_tag_t;

/* Each message's layout after its header word, field by field: the one
 * definition of the wire format. proto.c encodes and decodes every kind from
 * these lists, and the sizes below are computed from them at compile time,
 * so a buffer sized by them cannot be too short for the message. */
#define PROTO_LAYOUT_HELLO(X) X(FINGERPRINT) X(PID) X(CPUS) X(HOST)
#define PROTO_LAYOUT_REFUSE(X) X(CODE) X(VERSION)
#define PROTO_LAYOUT_WORK(X) X(CHUNK) X(ATTEMPT) X(BEGIN) X(END) X(SCALE)
#define PROTO_LAYOUT_RESULT(X) \
  X(CHUNK) X(ATTEMPT) X(BEGIN) X(END) X(BUSY) X(FLAGS) X(ISUM) X(DIGITS)
#define PROTO_LAYOUT_STOP(X)
#define PROTO_LAYOUT_CANCEL(X) X(CHUNK) X(ATTEMPT)
#define PROTO_LAYOUT_FAIL(X) X(CHUNK) X(ATTEMPT) X(CODE) X(DETAIL)
#define PROTO_LAYOUT_PROGRESS(X) X(CHUNK) X(ATTEMPT) X(DONE) X(BUSY)
#define PROTO_LAYOUT_PING(X)
#define PROTO_LAYOUT_BYE(X)
#define PROTO_LAYOUT_FIN(X) X(CODE)
#define PROTO_LAYOUT_WELCOME(X) X(TOKEN) X(PORT) X(ADDRS)

/* Words of each field. */
enum {
  PROTO_WIDTH_FINGERPRINT = 1,
  PROTO_WIDTH_PID = 1,
  PROTO_WIDTH_CPUS = 1,
  PROTO_WIDTH_HOST = PROTO_HOST_MAX / 8,
  PROTO_WIDTH_CODE = 1,
  PROTO_WIDTH_VERSION = 1,
  PROTO_WIDTH_CHUNK = 1,
  PROTO_WIDTH_ATTEMPT = 1,
  PROTO_WIDTH_BEGIN = 1,
  PROTO_WIDTH_END = 1,
  PROTO_WIDTH_SCALE = 1,
  PROTO_WIDTH_BUSY = 1,
  PROTO_WIDTH_FLAGS = 1,
  PROTO_WIDTH_ISUM = 2,
  PROTO_WIDTH_DIGITS = PROTO_EXACT_DIGITS,
  PROTO_WIDTH_DONE = 1,
  PROTO_WIDTH_DETAIL = 1,
  PROTO_WIDTH_TOKEN = 1,
  PROTO_WIDTH_PORT = 1,
  PROTO_WIDTH_ADDRS = 4,
};

#define PROTO_ADD_WIDTH_(field) +PROTO_WIDTH_##field
#define PROTO_MAX_(a, b) ((a) > (b) ? (a) : (b))

/* Words of each message, its header included. */
enum {
  PROTO_WORDS_HELLO = 1 PROTO_LAYOUT_HELLO(PROTO_ADD_WIDTH_),
  PROTO_WORDS_REFUSE = 1 PROTO_LAYOUT_REFUSE(PROTO_ADD_WIDTH_),
  PROTO_WORDS_WORK = 1 PROTO_LAYOUT_WORK(PROTO_ADD_WIDTH_),
  PROTO_WORDS_RESULT = 1 PROTO_LAYOUT_RESULT(PROTO_ADD_WIDTH_),
  PROTO_WORDS_STOP = 1 PROTO_LAYOUT_STOP(PROTO_ADD_WIDTH_),
  PROTO_WORDS_CANCEL = 1 PROTO_LAYOUT_CANCEL(PROTO_ADD_WIDTH_),
  PROTO_WORDS_FAIL = 1 PROTO_LAYOUT_FAIL(PROTO_ADD_WIDTH_),
  PROTO_WORDS_PROGRESS = 1 PROTO_LAYOUT_PROGRESS(PROTO_ADD_WIDTH_),
  PROTO_WORDS_PING = 1 PROTO_LAYOUT_PING(PROTO_ADD_WIDTH_),
  PROTO_WORDS_BYE = 1 PROTO_LAYOUT_BYE(PROTO_ADD_WIDTH_),
  PROTO_WORDS_FIN = 1 PROTO_LAYOUT_FIN(PROTO_ADD_WIDTH_),
  PROTO_WORDS_WELCOME = 1 PROTO_LAYOUT_WELCOME(PROTO_ADD_WIDTH_),
};

enum {
  /* The largest message a worker sends, and so the largest of all. */
  PROTO_MAX_WORDS = PROTO_MAX_(
      PROTO_MAX_(PROTO_MAX_(PROTO_WORDS_HELLO, PROTO_WORDS_RESULT),
                 PROTO_MAX_(PROTO_WORDS_FAIL, PROTO_WORDS_PROGRESS)),
      PROTO_MAX_(PROTO_WORDS_BYE, PROTO_WORDS_FIN)),
  PROTO_MAX_BYTES = PROTO_MAX_WORDS * 8,
  /* The largest message the master sends: what a master's send buffer
   * must hold. */
  PROTO_TO_WORKER_MAX_WORDS = PROTO_MAX_(
      PROTO_MAX_(PROTO_MAX_(PROTO_WORDS_REFUSE, PROTO_WORDS_WORK),
                 PROTO_MAX_(PROTO_WORDS_STOP, PROTO_WORDS_CANCEL)),
      PROTO_MAX_(PROTO_MAX_(PROTO_WORDS_PING, PROTO_WORDS_FIN),
                 PROTO_WORDS_WELCOME)),
  PROTO_TO_WORKER_MAX_BYTES = PROTO_TO_WORKER_MAX_WORDS * 8,
};

/* One decoded message. Only the fields of msg.kind are meaningful. */
typedef struct proto_msg_s proto_msg_t;
struct proto_msg_s {
  proto_tag_t kind;          /* which message */
  uint32_t version;          /* sender's protocol version (from the header) */
  uint64_t chunk;            /* WORK/RESULT/CANCEL/FAIL: chunk id */
  uint64_t attempt;          /* WORK/RESULT/CANCEL/FAIL: attempt number */
  uint64_t begin;            /* WORK/RESULT: first index */
  uint64_t end;              /* WORK/RESULT: one past the last index */
  uint64_t scale;            /* WORK: the kernel's work units per 1000 ns,
                                measured on the master (0: not used) */
  uint64_t busy_ns;          /* RESULT/PROGRESS: time spent computing */
  uint64_t done;             /* PROGRESS: indices of the chunk done so far */
  uint64_t fingerprint;      /* HELLO: cli_job_fingerprint() */
  uint64_t pid;              /* HELLO: the worker's process id */
  uint64_t cpus;             /* HELLO: cores the worker's host reports */
  char host[PROTO_HOST_MAX]; /* HELLO: host name, NUL-terminated */
  int64_t code;              /* REFUSE: reason; FAIL: proto_error_t;
                                FIN: PROTO_FIN_FINALIZE or PROTO_FIN_LEAVE */
  int64_t detail;            /* FAIL: what the code needs said (the signal
                                or exit status of a kernel that died, the
                                seconds a silent one was given); 0: none */
  uint64_t token;            /* WELCOME: the rank's death token */
  uint64_t port;             /* WELCOME: the master's UDP port (0: none) */
  uint32_t addr[4];          /* WELCOME: its IPv4 addresses, network order;
                                0 = none */
  unsigned __int128 isum;    /* RESULT: exact integer partial result */
  proto_exact_t fsum;        /* RESULT: exact float partial result */
};

/* A worker's death, as its guard reports it to the master in one UDP
 * datagram of PROTO_DEATH_BYTES: magic "TFD1" and the protocol version,
 * then the rank's token (from WELCOME), rank, the MPI process's pid, and
 * the signal that killed it or the status it exited with. */
enum { PROTO_DEATH_MAGIC = 0x31444654, PROTO_DEATH_BYTES = 48 };

typedef struct proto_death_s proto_death_t;
struct proto_death_s {
  uint64_t token;  /* the rank's, from WELCOME */
  int64_t rank;
  uint64_t pid;    /* of the process that died */
  int64_t signal;  /* the signal that killed it, or 0 */
  int64_t status;  /* its exit status when no signal killed it */
};

/* Encodes d into buf (PROTO_DEATH_BYTES). */
void proto_death_encode(const proto_death_t* d, uint8_t* buf);

/* Decodes len bytes; returns 0, or PROTO_EBADMSG (wrong size, magic or
 * version). */
int proto_death_decode(const uint8_t* buf, size_t len, proto_death_t* d);

/* Encodes msg into buf, which holds cap bytes. Returns the byte count, or 0
 * (nothing written) when msg's kind is unknown or its size exceeds cap. */
size_t proto_encode(const proto_msg_t* msg, uint8_t* buf, size_t cap);

/* Decodes len bytes received with MPI tag `tag` into msg. Returns 0, or
 * PROTO_EVERSION (msg->version tells which), PROTO_EMSGSIZE or
 * PROTO_EBADMSG; msg is then only partly filled. */
int proto_decode(const uint8_t* buf, size_t len, int tag, proto_msg_t* msg);

/* The fixed size in bytes of a message of kind, or 0 for no such kind. */
size_t proto_size(proto_tag_t kind);

/* The name of kind ("RESULT"), static. */
const char* proto_tag_name(int kind);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_PROTO_PROTO_H_ */
