/* A test-only rank that breaks the protocol, run beside real workers with
 * mpiexec's MPMD syntax. "garbage" sends malformed, misdirected and forged
 * messages, then a HELLO for another job; "version" greets with a future
 * protocol version. Both then wait for the master's answer and print it, so
 * the test can check the master dropped everything and refused the rank.
 * "dup JOB ARGS..." is an honest worker for that job that sends every RESULT
 * twice, plus a heartbeat and a result for a chunk it was never given.
 * "turn JOB ARGS..." answers one order honestly, then speaks another
 * protocol version and answers the rest with wrong partials. "big" sends
 * messages larger than any of the protocol, then a HELLO for another job.
 * "bye JOB ARGS..." greets for that job, says BYE at once and never
 * answers anything again (no FIN either): it must cost the master neither
 * a hang nor a wrong ending. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/job.h"
#include "kernel/kernel.h"
#include "proto/proto.h"
#include "worker/worker.h"

/* The farm talks on a duplicate of MPI_COMM_WORLD; so must the rogue. */
static MPI_Comm comm;

static void send_raw(const uint8_t* buf, int len, int tag) {
  MPI_Send(buf, len, MPI_BYTE, 0, tag, comm);
}

static void send_msg(const proto_msg_t* m) {
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(m, buf, sizeof(buf));
  send_raw(buf, (int)len, (int)m->kind);
}

/* Works like a worker, but misbehaves as mode says:
 * - dup: every RESULT goes out twice;
 * - stray: the same, and after its third result a PROGRESS and a RESULT
 *   for a chunk it was never given (a lie: it must be refused and its
 *   results computed again);
 * - turn: answers its first order, then speaks another protocol version
 *   and keeps sending results with a wrong partial;
 * - liar: answers an order first with a RESULT of a wrong range, and when
 *   it gets the chunk again, with the right range and a wrong partial;
 * - wrong: answers every order with the right range and a wrong partial,
 *   which only a second computation (--verify) can tell. */
static int misbehaving_worker(int argc, char** argv, const char* mode) {
  int turn = strcmp(mode, "turn") == 0, stray = strcmp(mode, "stray") == 0;
  int liar = strcmp(mode, "liar") == 0, wrong = strcmp(mode, "wrong") == 0;
  cli_job_t job;
  char err[256];
  if (cli_job_parse(&job, argc, argv, err, sizeof(err)) < 0) return 1;
  kernel_t kernel;
  if (cli_job_resolve(&job, 0, NULL, err, sizeof(err)) < 0) return 1;
  if (kernel_init(&kernel, &job.task, job.n) < 0) return 1;
  proto_msg_t hello = {.kind = PROTO_TAG_HELLO,
                       .fingerprint = cli_job_fingerprint(&job)};
  send_msg(&hello);
  uint8_t buf[PROTO_MAX_BYTES];
  int sent_stray = 0, results = 0;
  uint64_t seen[64] = {0}; /* liar: chunks it has lied about (id + 1) */
  for (;;) {
    MPI_Status st;
    int len = 0;
    MPI_Recv(buf, PROTO_MAX_BYTES, MPI_BYTE, 0, MPI_ANY_TAG, comm, &st);
    MPI_Get_count(&st, MPI_BYTE, &len);
    proto_msg_t m;
    if (proto_decode(buf, (size_t)len, st.MPI_TAG, &m) < 0) continue;
    if (m.kind == PROTO_TAG_STOP || m.kind == PROTO_TAG_REFUSE) break;
    if (m.kind != PROTO_TAG_WORK) continue;
    proto_msg_t res;
    worker_compute(&kernel, m.begin, m.end, &res);
    res.chunk = m.chunk;
    res.attempt = m.attempt;
    results++;
    if (liar || wrong) {
      int again = 0;
      for (int k = 0; k < 64 && seen[k] != 0; k++)
        again |= seen[k] == m.chunk + 1;
      if (liar && !again) {
        for (int k = 0; k < 64; k++)
          if (seen[k] == 0) {
            seen[k] = m.chunk + 1;
            break;
          }
        res.end = res.end - 1 > res.begin ? res.end - 1 : res.end + 1;
      } else {
        res.isum += 1;
        proto_exact_add(&res.fsum, 1e8);
      }
      send_msg(&res);
      continue;
    }
    if (turn) {
      if (sent_stray) res.isum += 1; /* lies from here on */
      send_msg(&res);
      if (!sent_stray) {
        proto_msg_t hello = {.kind = PROTO_TAG_HELLO};
        uint8_t raw[PROTO_MAX_BYTES];
        size_t len = proto_encode(&hello, raw, sizeof(raw));
        raw[4] = PROTO_VERSION + 1;
        send_raw(raw, (int)len, PROTO_TAG_HELLO);
        sent_stray = 1;
      }
      continue;
    }
    send_msg(&res);
    send_msg(&res);
    if (stray && results == 3 && !sent_stray) {
      /* A heartbeat and a result for a chunk this rank never held. */
      proto_msg_t beat = {.kind = PROTO_TAG_PROGRESS,
                          .chunk = m.chunk + 1,
                          .attempt = 1,
                          .done = 1};
      send_msg(&beat);
      res.chunk = m.chunk + 1;
      send_msg(&res);
      sent_stray = 1;
    }
  }
  /* No output here: it would share mpiexec's stdout with the master's
   * result lines at the same moment. */
  kernel_close(&kernel);
  return 0;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  const char* mode = argc > 1 ? argv[1] : "garbage";
  if (strcmp(mode, "bye") == 0) {
    cli_job_t job;
    char err[256];
    if (cli_job_parse(&job, argc - 1, argv + 1, err, sizeof(err)) < 0)
      return 1;
    proto_msg_t hello = {.kind = PROTO_TAG_HELLO,
                         .fingerprint = cli_job_fingerprint(&job)};
    gethostname(hello.host, sizeof(hello.host) - 1); /* one host: finalize */
    send_msg(&hello);
    proto_msg_t bye = {.kind = PROTO_TAG_BYE};
    send_msg(&bye);
    uint8_t buf[PROTO_MAX_BYTES];
    for (;;) /* until the job is ended around it */
      MPI_Recv(buf, PROTO_MAX_BYTES, MPI_BYTE, 0, MPI_ANY_TAG, comm,
               MPI_STATUS_IGNORE);
  }
  if (strcmp(mode, "dup") == 0 || strcmp(mode, "turn") == 0 ||
      strcmp(mode, "stray") == 0 || strcmp(mode, "liar") == 0 ||
      strcmp(mode, "wrong") == 0) {
    int rc = misbehaving_worker(argc - 1, argv + 1, mode);
    MPI_Finalize();
    return rc;
  }
  uint8_t buf[PROTO_MAX_BYTES];
  memset(buf, 0xab, sizeof(buf));
  if (strcmp(mode, "big") == 0) {
    /* Larger than any message of the protocol: the master's receive
     * truncates it; that must cost this rank, never the run. */
    static uint8_t huge[1 << 16];
    memset(huge, 0xcd, sizeof(huge));
    send_raw(huge, sizeof(huge), PROTO_TAG_RESULT);
    send_raw(huge, PROTO_MAX_BYTES + 1, 99);
    proto_msg_t hello = {.kind = PROTO_TAG_HELLO, .fingerprint = 12345};
    send_msg(&hello); /* another job: the master answers REFUSE */
  }
  if (strcmp(mode, "big") == 0) {
    /* sent above */
  } else if (strcmp(mode, "version") == 0) {
    proto_msg_t hello = {.kind = PROTO_TAG_HELLO};
    size_t len = proto_encode(&hello, buf, sizeof(buf));
    buf[4] = PROTO_VERSION + 1;
    send_raw(buf, (int)len, PROTO_TAG_HELLO);
  } else {
    send_raw(buf, 17, PROTO_TAG_RESULT);                     /* wrong size */
    send_raw(buf, PROTO_WORDS_RESULT * 8, PROTO_TAG_RESULT); /* bad magic */
    send_raw(buf, 8, 99);                                    /* unknown tag */
    proto_msg_t m = {.kind = PROTO_TAG_WORK, .begin = 0, .end = 1};
    send_msg(&m); /* master-only kind */
    proto_msg_t forged = {.kind = PROTO_TAG_RESULT,
                          .chunk = 0,
                          .attempt = 1,
                          .begin = 0,
                          .end = 1};
    proto_exact_init(&forged.fsum);
    proto_exact_add(&forged.fsum, 1e6);
    forged.isum = 1000000;
    send_msg(&forged); /* not its chunk */
    forged.chunk = 1u << 30;
    send_msg(&forged); /* no such chunk */
    proto_msg_t hello = {.kind = PROTO_TAG_HELLO, .fingerprint = 12345};
    send_msg(&hello); /* another job */
  }
  /* The master answers with REFUSE; print what it said. */
  MPI_Status st;
  int len = 0;
  MPI_Recv(buf, PROTO_MAX_BYTES, MPI_BYTE, 0, MPI_ANY_TAG, comm, &st);
  MPI_Get_count(&st, MPI_BYTE, &len);
  proto_msg_t reply;
  int rc = proto_decode(buf, (size_t)len, st.MPI_TAG, &reply);
  printf("rogue got %s (decode %d, code %lld)\n", proto_tag_name(st.MPI_TAG),
         rc, (long long)reply.code);
  fflush(stdout);
  MPI_Comm_free(&comm);
  MPI_Finalize();
  return 0;
}
