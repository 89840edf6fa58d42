/* Writes the seed corpora of tests/fuzz/corpus from real inputs: messages
 * encoded by proto_encode, journals written by master_journal_open and
 * master_journal_append for the journal fuzzer's jobs, and the command
 * lines, requests, hostfiles and --limit/--inject values the docs and tests
 * use, with edge cases of each. Run it again when a format changes:
 *   bazel run //tests/fuzz:make_seeds -- "$PWD/tests/fuzz/corpus"
 * Each seed has a stable name; files are overwritten, never added at
 * random. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/job.h"
#include "master/journal.h"
#include "proto/exact.h"
#include "proto/proto.h"
#include "tests/fuzz/journal_jobs.h"

static const char* root;

static void put(const char* dir, const char* name, const void* data,
                size_t len) {
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s", root, dir);
  if (mkdir(path, 0755) != 0 && errno != EEXIST) {
    perror(path);
    exit(1);
  }
  snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
  FILE* f = fopen(path, "wb");
  if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

static void put_text(const char* dir, const char* name, const char* text) {
  put(dir, name, text, strlen(text));
}

/* ---- proto_decode: tag byte, then the message. */

static void put_msg(const char* name, const proto_msg_t* m, int tag) {
  uint8_t buf[1 + PROTO_MAX_BYTES];
  size_t n = proto_encode(m, buf + 1, sizeof(buf) - 1);
  if (n == 0) abort();
  buf[0] = (uint8_t)tag;
  put("proto_decode", name, buf, n + 1);
}

static void proto_seeds(void) {
  proto_msg_t m;
  memset(&m, 0, sizeof(m));
  m.kind = PROTO_TAG_HELLO;
  m.fingerprint = 0x1234567890abcdefull;
  m.pid = 4242;
  m.cpus = 2;
  snprintf(m.host, sizeof(m.host), "node1.cluster.example");
  put_msg("hello", &m, m.kind);
  memset(m.host, 'h', PROTO_HOST_MAX - 1);
  m.host[PROTO_HOST_MAX - 1] = '\0';
  put_msg("hello-longest-host", &m, m.kind);

  memset(&m, 0, sizeof(m));
  m.kind = PROTO_TAG_REFUSE;
  m.code = -8; /* PROTO_EJOB */
  put_msg("refuse", &m, m.kind);

  memset(&m, 0, sizeof(m));
  m.kind = PROTO_TAG_WORK;
  m.chunk = 17;
  m.attempt = 1;
  m.begin = 17408;
  m.end = 18432;
  m.scale = 0;
  put_msg("work", &m, m.kind);
  m.begin = UINT64_MAX - 1;
  m.end = UINT64_MAX;
  m.scale = 3500;
  put_msg("work-last-index", &m, m.kind);
  put_msg("work-wrong-tag", &m, PROTO_TAG_RESULT);

  memset(&m, 0, sizeof(m));
  m.kind = PROTO_TAG_RESULT;
  m.chunk = 3;
  m.attempt = 2;
  m.begin = 3000;
  m.end = 4000;
  m.busy_ns = 1500000;
  m.isum = (unsigned __int128)1 << 100 | 12345;
  proto_exact_init(&m.fsum);
  put_msg("result-int", &m, m.kind);
  for (int i = 0; i < 1000; i++)
    proto_exact_add(&m.fsum, (i % 2 ? -4.0 : 4.0) / (2.0 * i + 1));
  proto_exact_add(&m.fsum, 1e300);
  proto_exact_add(&m.fsum, 4.9e-324);
  m.isum = 0;
  put_msg("result-float", &m, m.kind);
  proto_exact_init(&m.fsum);
  proto_exact_add(&m.fsum, -2.5);
  put_msg("result-negative", &m, m.kind);
  m.fsum.flags = PROTO_EXACT_POS_INF | PROTO_EXACT_NAN;
  put_msg("result-flags", &m, m.kind);

  memset(&m, 0, sizeof(m));
  m.kind = PROTO_TAG_STOP;
  put_msg("stop", &m, m.kind);
  m.kind = PROTO_TAG_PING;
  put_msg("ping", &m, m.kind);
  m.kind = PROTO_TAG_BYE;
  put_msg("bye", &m, m.kind);
  m.kind = PROTO_TAG_FIN;
  m.code = PROTO_FIN_LEAVE;
  put_msg("fin-leave", &m, m.kind);
  m.code = PROTO_FIN_FINALIZE;
  put_msg("fin-finalize", &m, m.kind);

  memset(&m, 0, sizeof(m));
  m.kind = PROTO_TAG_CANCEL;
  m.chunk = 9;
  m.attempt = 1;
  put_msg("cancel", &m, m.kind);
  m.kind = PROTO_TAG_FAIL;
  m.code = -16; /* PROTO_EKERNEL */
  m.detail = 11;
  put_msg("fail", &m, m.kind);
  m.detail = -1;
  put_msg("fail-negative-detail", &m, m.kind);
  m.kind = PROTO_TAG_PROGRESS;
  m.done = 512;
  m.busy_ns = 100000000;
  put_msg("progress", &m, m.kind);

  memset(&m, 0, sizeof(m));
  m.kind = PROTO_TAG_WELCOME;
  m.token = 0x0123456789abcdefull;
  m.port = 40000;
  m.addr[0] = 0x0100007f; /* 127.0.0.1 in network order */
  m.addr[1] = 0x0a0a000a;
  put_msg("welcome", &m, m.kind);

  /* A guard's death report (first byte 0x44: proto_death_decode). */
  proto_death_t d = {.token = 0x0123456789abcdefull,
                     .rank = 3,
                     .pid = 4242,
                     .signal = 9,
                     .status = 0};
  uint8_t death[1 + PROTO_DEATH_BYTES] = {0x44};
  proto_death_encode(&d, death + 1);
  put("proto_decode", "death", death, sizeof(death));

  /* Another version's PING; a message cut short. */
  uint8_t old[9] = {PROTO_TAG_PING, 0x31, 0x4d, 0x46, 0x54, 5, 0,
                    PROTO_TAG_PING, 0};
  put("proto_decode", "ping-version-5", old, sizeof(old));
  put("proto_decode", "short", old, 5);
}

/* ---- job_parse: argv after the program's name, NUL-separated. */

static void put_argv(const char* name, const char* const* args) {
  char buf[2048];
  size_t len = 0;
  for (int i = 0; args[i] != NULL; i++) {
    size_t n = strlen(args[i]);
    if (i > 0) buf[len++] = '\0';
    memcpy(buf + len, args[i], n);
    len += n;
  }
  put("job_parse", name, buf, len);
}

static void job_seeds(void) {
#define ARGV(name, ...)                                 \
  do {                                                  \
    static const char* const a[] = {__VA_ARGS__, NULL}; \
    put_argv(name, a);                                  \
  } while (0)
  ARGV("hello", "hello");
  ARGV("pi", "pi", "--n", "1e10");
  ARGV("pi-experiment", "pi", "--n=1000000", "--chunk", "4096", "--schedule",
       "af", "--report", "r.json", "--trace", "t.json", "--quiet");
  ARGV("pi-long-run", "pi", "--n", "1e13", "--journal", "pi.journal",
       "--resume", "--progress", "--status-port", "8080", "--status-bind",
       "::1", "--min-chunk", "100");
  ARGV("pi-faults", "pi", "--n", "1e9", "--timeout", "2", "--timeout-factor",
       "4", "--timeout-floor", "0.5", "--lost-after", "1", "--master-timeout",
       "30", "--speculate", "off", "--inject", "2:freeze@3c", "--inject",
       "1:speed=100@0,25@1,100@2");
  ARGV("pi-wf", "pi", "--n", "1e9", "--schedule", "wf", "--weights", "1,2,0.5");
  ARGV("pi-verify", "pi", "--n", "1e11", "--verify", "all", "--poison-after",
       "3", "--inject", "2:corrupt=0.2");
  ARGV("pi-verify-fraction", "pi", "--n", "1e11", "--verify", "0.1");
  ARGV("pi-fraction", "pi", "--n", "2.5");
  ARGV("pi-too-big", "pi", "--n", "1e99");
  ARGV("pi-help", "pi", "--help");
  ARGV("help", "--help");
  ARGV("dot", "dot", "--n", "1.2e13");
  ARGV("dot-files", "dot", "--a", "a.f64", "--b", "b.f64", "--output", "o.txt");
  ARGV("dot-files-unequal", "dot", "--a", "a.f64", "--b", "c.f64");
  ARGV("dot-files-odd", "dot", "--a", "odd.bin", "--b", "odd.bin");
  ARGV("dot-files-fifo", "dot", "--a", "fifo", "--b", "b.f64");
  ARGV("dot-files-folder", "dot", "--a", "dir", "--b", "b.f64");
  ARGV("dot-files-empty", "dot", "--a", "empty", "--b", "empty");
  ARGV("noop", "noop", "--n", "1000", "--quiet", "--output", "o.txt");
  ARGV("loop", "loop", "--n", "3e6", "--cost", "gamma", "--mean", "2000",
       "--spread", "500", "--seed", "7");
  ARGV("loop-negative-cost", "loop", "--n", "1e6", "--cost", "uniform",
       "--spread", "2000", "--mean", "1000");
  ARGV("mandelbrot", "mandelbrot", "--size", "2048x1536", "--region",
       "-2,-1,1,1", "--max-iter", "2000", "--image", "m.pgm");
  ARGV("run", "run", "--kernel", "k.so", "--n", "1e8", "--arg", "power=2",
       "--arg", "q=1");
  ARGV("run-missing-kernel", "run", "--kernel", "nothere.so", "--n", "10");
  ARGV("run-help", "run", "--kernel", "k.so", "--help");
  ARGV("run-arg-twice", "run", "--kernel", "k.so", "--n", "10", "--arg",
       "a=1", "--arg", "a=2");
  ARGV("hello-quiet", "hello", "--quiet", "--master-timeout", "10");
  ARGV("pi-chunk-rounded", "pi", "--n", "1e6", "--chunk", "1000",
       "--min-chunk", "1");
  ARGV("noop-chunks", "noop", "--n", "1e6", "--chunk", "7", "--min-chunk",
       "3", "--schedule", "guided");
  ARGV("dot-files-equals", "dot", "--a=a.f64", "--b=b.f64");
  ARGV("dot-both-forms", "dot", "--n", "10", "--a", "a.f64", "--b", "b.f64");
  ARGV("dot-files-help", "dot", "--a", "a.f64", "--help");
  ARGV("loop-forms", "loop", "--n", "1000", "--cost", "bimodal", "--mean",
       "2.50e2", "--spread", "0100.0", "--seed", "1e3");
  ARGV("loop-seed-max", "loop", "--n", "10", "--seed", "18446744073709551615");
  ARGV("mandelbrot-defaults", "mandelbrot");
  ARGV("mandelbrot-forms", "mandelbrot", "--size=+16x 9", "--region",
       "-1e0,-.5,1.,0.5", "--max-iter", "1e3");
  ARGV("mandelbrot-empty-region", "mandelbrot", "--size", "8x8", "--region",
       "1,1,1,2");
  ARGV("mandelbrot-n", "mandelbrot", "--n", "100");
  ARGV("integrate", "integrate", "--n", "1e6");
  ARGV("integrate-gauss", "integrate", "--n", "1e9", "--function", "gauss",
       "--from", "-3", "--to", "3.0e0", "--chunk", "1e5");
  ARGV("integrate-empty", "integrate", "--n", "10", "--from", "1", "--to",
       "1");
  ARGV("integrate-out-of-range", "integrate", "--n", "10", "--to", "1e7");
  ARGV("option-of-other-job", "pi", "--n", "10", "--size", "8x8");
#undef ARGV
}

/* ---- inject and limit: one value each. */

static void value_seeds(void) {
  static const char* const inject[][2] = {
      {"exit", "2:exit"},
      {"abort-after-chunks", "1:abort@5c"},
      {"freeze-after-seconds", "3:freeze@2.5s"},
      {"slow", "2:slow=4"},
      {"slow-after", "2:slow=4@10c"},
      {"speed", "2:speed=100@0,25@1,100@2"},
      {"speed-one-step", "1:speed=50@0.5"},
      {"speed-eight-steps", "2:speed=1@1,2@2,3@3,4@4,5@5,6@6,7@7,8@8"},
      {"rank-zero", "0:exit"},
      {"slow-one", "2:slow=1"},
      {"speed-falling", "2:speed=50@2,25@1"},
      {"corrupt", "2:corrupt=0.2"},
      {"corrupt-after", "2:corrupt=1@3c"},
  };
  for (size_t i = 0; i < sizeof(inject) / sizeof(inject[0]); i++)
    put_text("inject", inject[i][0], inject[i][1]);
  static const char* const limit[][2] = {
      {"plain", "2:25"},
      {"leading-zeros", "02:050"},
      {"full-core", "2:100"},
      {"timeline", "2:100@0,25@1,100@2"},
      {"timeline-late-start", "1:20@0.3"},
      {"timeline-bare-points", "3:50@.5,60@1."},
      {"zero-percent", "1:0"},
      {"times-falling", "2:50@2,25@1"},
      {"nine-steps", "2:1@1,2@2,3@3,4@4,5@5,6@6,7@7,8@8,9@9"},
  };
  for (size_t i = 0; i < sizeof(limit) / sizeof(limit[0]); i++)
    put_text("limit", limit[i][0], limit[i][1]);
}

/* ---- hostfile and status_request: text. */

static void text_seeds(void) {
  put_text("hostfile", "plain", "node1:2\nnode2:4\nnode3\n");
  put_text("hostfile", "comments",
           "# the login host first\nlogin:1 # rank 0\n\n  node1:08\t\n"
           "node2:abc extra\r\nnode3");
  put_text("hostfile", "bad-option-host", "node1\n-oProxyCommand=x:2\n");
  put_text("hostfile", "bad-slots", "node1:0\nnode2:1000001\n");

  static const char* const req[][2] = {
      {"get", "\x00GET /status HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"},
      {"head", "\x00HEAD /metrics HTTP/1.0\n\n"},
      {"absolute",
       "\x00GET http://127.0.0.1:8080/metrics?x=1 HTTP/1.1\r\n"
       "User-Agent: curl/7.88\r\nAccept: */*\r\n\r\n"},
      {"absolute-no-path", "\x00GET http://host HTTP/1.1\r\n\r\n"},
      {"post", "\x00POST /status HTTP/1.1\r\nContent-Length: 0\r\n\r\n"},
      {"bad-header", "\x00GET /status HTTP/1.1\r\nBad Name: x\r\n\r\n"},
      {"bad-version", "\x00GET /status HTTP/2.0\r\n\r\n"},
      {"partial", "\x00GET /sta"},
      {"partial-full-buffer", "\x01GET /status HTTP/1.1\r\nHost: x\r\n"},
  };
  for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
    put("status_request", req[i][0], req[i][1], 1 + strlen(req[i][1] + 1));
  static const char nul[] = "\x00GET /st\x00us HTTP/1.1\r\n\r\n";
  put("status_request", "nul-byte", nul, sizeof(nul) - 1);
}

/* ---- journal: a mode byte, then a journal file (or, with mode bit 3, the
 * records after the header). */

static char folder[64];
static cli_job_t jobs[JOURNAL_JOBS];

static void make_jobs(void) {
  char err[640];
  if (journal_jobs_make(folder, jobs, err, sizeof(err)) != 0) {
    fprintf(stderr, "make_seeds: %s\n", err);
    exit(1);
  }
}

/* A record of chunk [begin, end) of job k with a plausible partial. */
static master_record_t record(int k, uint64_t begin, uint64_t end, int rank) {
  master_record_t r;
  memset(&r, 0, sizeof(r));
  r.begin = begin;
  r.end = end;
  r.rank = rank;
  r.attempt = 1;
  proto_exact_init(&r.fsum);
  if (k == 0 || k == JOURNAL_JOB_DOTF) {
    for (uint64_t i = begin; i < end && i < begin + 64; i++)
      proto_exact_add(&r.fsum, (i % 2 ? -4.0 : 4.0) / (2.0 * (double)i + 1));
  } else {
    for (uint64_t i = begin; i < end; i++)
      r.isum += (unsigned __int128)(i + 1) * (i + 7);
  }
  return r;
}

/* The journal of job k with the given records, read back whole. */
static size_t journal(int k, const master_record_t* r, int count, uint8_t* out,
                      size_t cap, size_t* hsize) {
  char path[128], err[512];
  snprintf(path, sizeof(path), "%s/j", folder);
  unlink(path);
  master_journal_t j;
  master_journal_load_t load;
  if (master_journal_open(&j, path, &jobs[k], 0, &load, err, sizeof(err))) {
    fprintf(stderr, "make_seeds: %s\n", err);
    exit(1);
  }
  for (int i = 0; i < count; i++) master_journal_append(&j, &r[i]);
  master_journal_close(&j);
  master_journal_free_load(&load);
  int fd = open(path, O_RDONLY);
  ssize_t n = read(fd, out, cap);
  close(fd);
  unlink(path);
  if (n < 16) exit(1);
  uint32_t h;
  memcpy(&h, out + 12, 4);
  *hsize = h;
  return (size_t)n;
}

static void put_journal(const char* name, int mode, const uint8_t* bytes,
                        size_t len) {
  static uint8_t buf[1 << 16];
  buf[0] = (uint8_t)mode;
  memcpy(buf + 1, bytes, len);
  put("journal", name, buf, len + 1);
}

static void journal_seeds(void) {
  /* As long as the journal fuzzer's folder name, so that the dot of
   * files' header has the length of the fuzzer's. */
  snprintf(folder, sizeof(folder), "/tmp/taskfarm-fuzz-journal.%010ld",
           (long)getpid());
  if (mkdir(folder, 0755) != 0) {
    perror(folder);
    exit(1);
  }
  make_jobs();
  static const char* const names[JOURNAL_JOBS] = {"pi", "dot", "loop",
                                                  "mandelbrot", "dotf"};
  static uint8_t bytes[1 << 15];
  for (int k = 0; k < JOURNAL_JOBS; k++) {
    uint64_t n = jobs[k].n, a = jobs[k].task.spec.align;
    uint64_t step = (n / 8 + a - 1) / a * a; /* eight chunks */
    master_record_t r[6];
    int count = 0;
    for (uint64_t b = 0; b < n && count < 4; b += step, count++)
      r[count] = record(k, b, b + step < n ? b + step : n, 1 + count % 2);
    size_t hsize;
    size_t len = journal(k, r, count, bytes, sizeof(bytes), &hsize);
    /* The dot of files is valid only with the fuzzer's own header. */
    int dotf = k == JOURNAL_JOB_DOTF;
    const uint8_t* from = dotf ? bytes + hsize : bytes;
    size_t size = dotf ? len - hsize : len;
    int base = k | (dotf ? 8 : 0);
    char name[64];
    snprintf(name, sizeof(name), "%s-clean", names[k]);
    put_journal(name, base, from, size);
    snprintf(name, sizeof(name), "%s-torn", names[k]);
    put_journal(name, base, from, size - 30);
    snprintf(name, sizeof(name), "%s-fixed-crcs", names[k]);
    put_journal(name, base | 16 | 32, from, size);
    /* The fuzzer's real header with nothing XORed onto it (zeros), then
     * the records: mutations of the zeros change the header's fields. */
    static uint8_t overlay[sizeof(bytes)];
    memset(overlay, 0, hsize);
    memcpy(overlay + hsize, bytes + hsize, len - hsize);
    snprintf(name, sizeof(name), "%s-header-overlay", names[k]);
    put_journal(name, k | 8 | 32 | 128, overlay, len);
    if (dotf) {
      /* The input files' part of that header (from byte 128: size,
       * times, device, inode, path length, path), changed. */
      overlay[128 + 8] = 1; /* --a's modification time */
      put_journal("dotf-header-file-changed", k | 8 | 32 | 128, overlay, len);
      overlay[128 + 8] = 0;
      overlay[128 + 44 + 3] = 1; /* a byte of --a's path */
      put_journal("dotf-header-other-path", k | 8 | 32 | 128, overlay, len);
    }
    if (k == 0) {
      /* A damaged record in the middle: its CRC no longer matches. */
      static uint8_t damaged[sizeof(bytes)];
      memcpy(damaged, bytes, len);
      damaged[hsize + 70] ^= 0x40;
      put_journal("pi-damaged-middle", 0, damaged, len);
      put_journal("pi-header-only", 0, bytes, hsize);
      put_journal("pi-template-no-records", 8, bytes, 0);
      put_journal("pi-padded", 64, bytes, len);
      /* Repeated and overlapping ranges. */
      master_record_t rep[5] = {r[0], r[1], r[0], record(0, 1024, 3072, 2),
                                r[2]};
      len = journal(k, rep, 5, bytes, sizeof(bytes), &hsize);
      put_journal("pi-repeat-overlap", 0, bytes, len);
      /* A withdrawal: record 1's rank was refused, its range computed
       * again by another. */
      master_record_t w = r[1];
      w.revoked = 1;
      master_record_t again = record(0, r[1].begin, r[1].end, 2);
      master_record_t wd[5] = {r[0], r[1], r[2], w, again};
      len = journal(k, wd, 5, bytes, sizeof(bytes), &hsize);
      put_journal("pi-withdrawal", 0, bytes, len);
    }
    if (k == 1) {
      /* More records than the fuzz build's 4 KiB read window holds. */
      master_record_t many[100];
      for (int i = 0; i < 100; i++)
        many[i] = record(k, 50 * (uint64_t)i, 50 * (uint64_t)i + 50, 1);
      len = journal(k, many, 100, bytes, sizeof(bytes), &hsize);
      put_journal("dot-many", 0, bytes, len);
    }
  }
  char a[128];
  snprintf(a, sizeof(a), "%s/a.f64", folder);
  unlink(a);
  snprintf(a, sizeof(a), "%s/b.f64", folder);
  unlink(a);
  rmdir(folder);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_seeds CORPUS_DIR (tests/fuzz/corpus)\n");
    return 2;
  }
  root = argv[1];
  proto_seeds();
  job_seeds();
  value_seeds();
  text_seeds();
  journal_seeds();
  return 0;
}
