/* The journal reader: master_journal_open with resume on a file holding the
 * input, through the public API only. The file is a memfd opened by its
 * /proc/self/fd path, so nothing touches a disk. Input: one mode byte, then
 * the file's bytes.
 *   bits 0-2  the job (journal_jobs.h, modulo 5)
 *   bit 3     the file starts with the job's real header, written by this
 *             build at start-up; the input is what follows it
 *   bit 7     (with bit 3) the input's first bytes are XORed onto that
 *             header, so mutations change a real header's fields
 *   bit 4     every framed record's CRC-32C is made right
 *   bit 5     the header's CRC-32C is made right
 *   bit 6     4000 zero bytes come before the records: a damaged stretch,
 *             and records that straddle the edge of the reader's window
 *             (tools/fuzz builds journal.c with a 4 KiB one)
 * The CRC fix-ups let mutations reach the checks behind the checksums.
 * Properties: open returns 0 or PROTO_EJOURNAL with a sentence (a stable
 * file never gives "changed while it was read"); the done ranges are
 * sorted, disjoint, within [0, n), aligned like the job's chunks, and sum
 * to iters; the file is cut to exactly its trusted bytes; a second resume
 * of the cut file finds the same ranges, sums and counts and nothing torn;
 * and a record appended after the resume is found by the next one. */
#define _GNU_SOURCE /* memfd_create */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/job.h"
#include "master/journal.h"
#include "proto/error.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/journal_jobs.h"

enum {
  JOBS = JOURNAL_JOBS,
  PAD = 4000, /* mode bit 6 */
  RECORD_MAX = MASTER_JOURNAL_RECORD_MIN + 8 * PROTO_EXACT_DIGITS,
  INPUT_MAX = 64 * 1024,
};

static cli_job_t jobs[JOBS];
static uint8_t header[JOBS][MASTER_JOURNAL_HEADER_MAX];
static size_t header_len[JOBS];
static int memfd = -1;
static char path[64];
static char folder[64];

static void put32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static void cleanup(void) {
  char f[128];
  for (int k = 0; k < JOBS; k++) {
    snprintf(f, sizeof(f), "%s/h%d", folder, k);
    unlink(f);
  }
  snprintf(f, sizeof(f), "%s/a.f64", folder);
  unlink(f);
  snprintf(f, sizeof(f), "%s/b.f64", folder);
  unlink(f);
  rmdir(folder);
}

/* The jobs of journal_jobs.h, their vector files in folder. */
static void make_jobs(void) {
  char err[640];
  if (journal_jobs_make(folder, jobs, err, sizeof(err)) != 0) {
    fprintf(stderr, "journal_fuzz: %s\n", err);
    abort();
  }
  /* pi's chunks fall on multiples of 1024: without an alignment above 1
   * the alignment checks below would check nothing. */
  if (jobs[0].task.spec.align < 2) abort();
}

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc, (void)argv;
  /* A name of fixed length: the dot of files' header holds the paths, and
   * seeds that overlay it (mode bit 7) must line up with it. */
  snprintf(folder, sizeof(folder), "/tmp/taskfarm-fuzz-journal.%010ld",
           (long)getpid());
  if (mkdir(folder, 0755) != 0) abort();
  atexit(cleanup);
  make_jobs();
  /* Each job's header, as this build writes it. */
  for (int k = 0; k < JOBS; k++) {
    char f[128], err[512];
    snprintf(f, sizeof(f), "%s/h%d", folder, k);
    master_journal_t j;
    master_journal_load_t load;
    if (master_journal_open(&j, f, &jobs[k], 0, &load, err, sizeof(err)) != 0)
      abort();
    master_journal_close(&j);
    master_journal_free_load(&load);
    int fd = open(f, O_RDONLY);
    ssize_t n = read(fd, header[k], sizeof(header[k]));
    close(fd);
    if (n <= 0) abort();
    header_len[k] = (size_t)n;
  }
  memfd = memfd_create("taskfarm-fuzz-journal", 0);
  if (memfd < 0) abort();
  snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
  return 0;
}

/* Makes every framed record's CRC right, walking the file as the reader's
 * resync does: a record's magic and plausible size, else one byte on. */
static void fix_records(uint8_t* f, size_t len, size_t from) {
  size_t at = from;
  while (at + MASTER_JOURNAL_RECORD_MIN <= len) {
    uint32_t size = get32(f + at + 4);
    uint32_t magic = get32(f + at); /* "TREC", or "TREV" (a withdrawal) */
    if ((magic == 0x43455254 || magic == 0x56455254) &&
        size >= MASTER_JOURNAL_RECORD_MIN && size <= RECORD_MAX &&
        (size - MASTER_JOURNAL_RECORD_MIN) % 8 == 0 && at + size <= len) {
      put32(f + at + size - 4, master_crc32c(0, f + at, size - 4));
      at += size;
    } else {
      at++;
    }
  }
}

static void fix_header(uint8_t* f, size_t len) {
  if (len < 16) return;
  uint32_t hsize = get32(f + 12);
  if (hsize < MASTER_JOURNAL_HEADER + 4 || hsize > len ||
      hsize > MASTER_JOURNAL_HEADER_MAX)
    return;
  put32(f + hsize - 4, master_crc32c(0, f, hsize - 4));
}

typedef struct {
  int rc;
  master_journal_load_t load;
  uint64_t size_after; /* the file's size after the open */
} opened_t;

static void open_journal(const cli_job_t* job, opened_t* o,
                         master_journal_t* j) {
  char err[1024];
  err[0] = '\0';
  o->rc = master_journal_open(j, path, job, 1, &o->load, err, sizeof(err));
  FUZZ_CHECK(o->rc == 0 || o->rc == PROTO_EJOURNAL);
  if (o->rc != 0) FUZZ_CHECK(err[0] != '\0');
  struct stat st;
  FUZZ_CHECK(fstat(memfd, &st) == 0);
  o->size_after = (uint64_t)st.st_size;
}

static void check_done(const cli_job_t* job, const master_done_t* d) {
  uint64_t align = job->task.spec.align, iters = 0;
  FUZZ_CHECK(d->count <= d->cap || d->count == 0);
  for (size_t i = 0; i < d->count; i++) {
    uint64_t b = d->range[2 * i], e = d->range[2 * i + 1];
    FUZZ_CHECK(b < e && e <= job->n);
    FUZZ_CHECK(b % align == 0 && (e % align == 0 || e == job->n));
    if (i > 0) FUZZ_CHECK(d->range[2 * i - 1] <= b);
    iters += e - b;
  }
  FUZZ_CHECK(iters == d->iters);
}

static int same_sum(const proto_exact_t* x, const proto_exact_t* y) {
  proto_exact_t a = *x, b = *y;
  proto_exact_normalize(&a);
  proto_exact_normalize(&b);
  return a.flags == b.flags && memcmp(a.digit, b.digit, sizeof(a.digit)) == 0;
}

/* The first gap in the done ranges, as a record's aligned range; 0 when
 * the whole of [0, n) is done. */
static int first_gap(const cli_job_t* job, const master_done_t* d,
                     uint64_t* begin, uint64_t* end) {
  uint64_t at = 0, align = job->task.spec.align;
  for (size_t i = 0; i < d->count && d->range[2 * i] <= at; i++)
    at = d->range[2 * i + 1];
  if (at >= job->n) return 0;
  uint64_t next = job->n;
  for (size_t i = 0; i < d->count; i++)
    if (d->range[2 * i] > at) {
      next = d->range[2 * i];
      break;
    }
  *begin = at;
  *end = at + align < next ? at + align : next;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > INPUT_MAX) return 0;
  int mode = data[0];
  int k = (mode & 7) % JOBS;
  const cli_job_t* job = &jobs[k];
  const uint8_t* in = data + 1;
  size_t body = size - 1;
  /* The header: the job's real one (bit 3), with input bytes XORed onto it
   * (bit 7), or the input's own first bytes when they declare a plausible
   * header size. */
  uint8_t head[MASTER_JOURNAL_HEADER_MAX];
  size_t hsize;
  if (mode & 8) {
    hsize = header_len[k];
    memcpy(head, header[k], hsize);
    size_t over = (mode & 128) ? (body < hsize ? body : hsize) : 0;
    for (size_t i = 0; i < over; i++) head[i] ^= in[i];
    in += over;
    body -= over;
  } else {
    hsize = body >= 16 ? get32(in + 12) : 0;
    if (hsize > body || hsize > sizeof(head)) hsize = 0;
    memcpy(head, in, hsize);
    in += hsize;
    body -= hsize;
  }
  size_t pad = (mode & 64) ? PAD : 0;
  size_t len = hsize + pad + body;
  uint8_t* f = calloc(1, len + 1);
  if (f == NULL) abort();
  memcpy(f, head, hsize);
  memcpy(f + hsize + pad, in, body);
  if (mode & 32) fix_header(f, len);
  if (mode & 16) fix_records(f, len, hsize);

  FUZZ_CHECK(ftruncate(memfd, 0) == 0);
  FUZZ_CHECK(pwrite(memfd, f, len, 0) == (ssize_t)len);
  free(f);

  master_journal_t j;
  opened_t first;
  open_journal(job, &first, &j);
  if (first.rc != 0) {
    FUZZ_CHECK(first.size_after == len); /* a refused journal is untouched */
    return 0;
  }
  const master_done_t* d = &first.load.done;
  check_done(job, d);
  FUZZ_CHECK(first.load.torn_bytes <= len);
  FUZZ_CHECK(first.size_after == len - first.load.torn_bytes);
  FUZZ_CHECK(master_journal_close(&j) == 0);

  /* Resuming the cut file again finds the same, and nothing torn. */
  opened_t second;
  open_journal(job, &second, &j);
  FUZZ_CHECK(second.rc == 0);
  const master_done_t* d2 = &second.load.done;
  FUZZ_CHECK(second.load.torn_bytes == 0);
  FUZZ_CHECK(second.size_after == first.size_after);
  FUZZ_CHECK(d2->count == d->count && d2->iters == d->iters);
  FUZZ_CHECK(d->count == 0 ||
             memcmp(d2->range, d->range, 2 * d->count * sizeof(uint64_t)) == 0);
  FUZZ_CHECK(d2->isum == d->isum);
  FUZZ_CHECK(same_sum(&d2->fsum, &d->fsum));
  FUZZ_CHECK(second.load.damaged == first.load.damaged);
  FUZZ_CHECK(second.load.damaged_bytes == first.load.damaged_bytes);
  FUZZ_CHECK(second.load.damaged_records == first.load.damaged_records);
  FUZZ_CHECK(second.load.repeated == first.load.repeated);
  FUZZ_CHECK(second.load.overlapping == first.load.overlapping);

  /* A record appended now is found by the next resume. */
  uint64_t begin, end;
  int gap = first_gap(job, d, &begin, &end);
  if (gap) {
    master_record_t r;
    memset(&r, 0, sizeof(r));
    r.begin = begin;
    r.end = end;
    r.rank = 1;
    r.attempt = 1;
    r.isum = 7;
    proto_exact_init(&r.fsum);
    proto_exact_add(&r.fsum, 0.5);
    FUZZ_CHECK(master_journal_append(&j, &r) == 0);
  }
  FUZZ_CHECK(master_journal_close(&j) == 0);
  opened_t third;
  open_journal(job, &third, &j);
  FUZZ_CHECK(third.rc == 0);
  FUZZ_CHECK(third.load.torn_bytes == 0);
  const master_done_t* d3 = &third.load.done;
  check_done(job, d3);
  FUZZ_CHECK(d3->count == d->count + (size_t)gap);
  FUZZ_CHECK(d3->iters == d->iters + (gap ? end - begin : 0));
  FUZZ_CHECK(d3->isum == d->isum + (gap ? 7 : 0));
  FUZZ_CHECK(master_journal_close(&j) == 0);
  master_journal_free_load(&first.load);
  master_journal_free_load(&second.load);
  master_journal_free_load(&third.load);
  return 0;
}
