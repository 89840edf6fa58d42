/* The journal file of journal.h. */
#include "master/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/error.h"

static const char kMagic[8] = {'T', 'F', 'J', 'O', 'U', 'R', 'N', 'L'};
static const uint32_t kRecordMagic = 0x43455254; /* "TREC" */
static const uint32_t kRevokeMagic = 0x56455254; /* "TREV" */
enum {
  DESC_AT = 40,    /* the description's offset in the header */
  DESC_LEN = 80,   /* its bytes, NUL-padded */
  INPUTS_AT = 120, /* the number of input files */
  RECORD_MAX = MASTER_JOURNAL_RECORD_MIN + 8 * PROTO_EXACT_DIGITS,
};

/* CRC-32C with the SSE4.2 instruction, 8 bytes at a time. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc,
                                                            const uint8_t* p,
                                                            size_t len) {
  uint64_t c = crc;
  for (; len >= 8; len -= 8, p += 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
  }
  uint32_t c32 = (uint32_t)c;
  for (; len > 0; len--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}

uint32_t master_crc32c(uint32_t crc, const void* data, size_t len) {
  static uint32_t table[256];
  static int hw = -1;
  if (hw < 0) {
    hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = c & 1 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
  }
  const uint8_t* p = data;
  crc = ~crc;
  if (hw) {
    crc = crc32c_hw(crc, p, len);
  } else {
    for (size_t i = 0; i < len; i++)
      crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  }
  return ~crc;
}

static void put32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t* p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static uint64_t get64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* "pi n=1000", what error messages call the job. */
static void describe(const proto_job_t* job, char* out, size_t len) {
  char text[2 * PROTO_PATH_MAX + 64];
  if (job->kind == PROTO_JOB_DOTF)
    snprintf(text, sizeof(text), "dot n=%llu a=%s b=%s",
             (unsigned long long)job->n, job->a_path, job->b_path);
  else if (job->kind == PROTO_JOB_RUN)
    snprintf(text, sizeof(text), "run n=%llu kernel %s version %u",
             (unsigned long long)job->n, job->kernel_name, job->kernel_version);
  else if (job->kind == PROTO_JOB_LOOP)
    snprintf(text, sizeof(text), "loop n=%llu %s mean %g spread %g seed %llu",
             (unsigned long long)job->n, proto_cost_name(job->cost),
             job->cost_mean_ns, job->cost_spread_ns,
             (unsigned long long)job->seed);
  else
    snprintf(text, sizeof(text), "%s n=%llu", proto_job_name(job->kind),
             (unsigned long long)job->n);
  size_t n = strlen(text) < len - 1 ? strlen(text) : len - 1;
  memcpy(out, text, n);
  out[n] = '\0';
}

enum { INPUT_FIXED = 44 }; /* an input file's bytes before its path */

static int job_inputs(const proto_job_t* job) {
  return job->kind == PROTO_JOB_DOTF ? 2 : 0;
}

/* Encodes the header of job into h (MASTER_JOURNAL_HEADER_MAX bytes);
 * returns its size. */
static size_t encode_header(const proto_job_t* job, uint8_t* h) {
  memset(h, 0, MASTER_JOURNAL_HEADER_MAX);
  memcpy(h, kMagic, 8);
  put32(h + 8, MASTER_JOURNAL_VERSION);
  put64(h + 16, proto_job_results_fingerprint(job));
  put32(h + 24, (uint32_t)job->kind);
  put32(h + 28, (uint32_t)proto_job_align(job));
  put64(h + 32, job->n);
  char desc[DESC_LEN + 1];
  describe(job, desc, sizeof(desc));
  memcpy(h + DESC_AT, desc, strlen(desc));
  int inputs = job_inputs(job);
  put32(h + INPUTS_AT, (uint32_t)inputs);
  size_t at = MASTER_JOURNAL_HEADER;
  for (int k = 0; k < inputs; k++) {
    const proto_input_t* in = &job->input[k];
    uint32_t len = (uint32_t)strlen(in->path);
    put64(h + at, in->size);
    put64(h + at + 8, in->mtime_ns);
    put64(h + at + 16, in->ctime_ns);
    put64(h + at + 24, in->dev);
    put64(h + at + 32, in->ino);
    put32(h + at + 40, len);
    memcpy(h + at + INPUT_FIXED, in->path, len);
    at += INPUT_FIXED + len;
  }
  size_t size = at + 4;
  put32(h + 12, (uint32_t)size);
  put32(h + at, master_crc32c(0, h, at));
  return size;
}

size_t master_record_encode(const master_record_t* r, uint8_t* out) {
  /* Results arrive normalised; only a pending one needs a copy. */
  const proto_exact_t* f = &r->fsum;
  proto_exact_t normalised;
  if (f->pending != 0) {
    normalised = *f;
    proto_exact_normalize(&normalised);
    f = &normalised;
  }
  int first = 0, last = PROTO_EXACT_DIGITS - 1;
  while (first < PROTO_EXACT_DIGITS && f->digit[first] == 0) first++;
  while (last >= first && f->digit[last] == 0) last--;
  int count = first <= last ? last - first + 1 : 0;
  if (count == 0) first = 0;
  size_t size = MASTER_JOURNAL_RECORD_MIN + 8 * (size_t)count;
  if (r->revoked) {
    count = first = 0;
    size = MASTER_JOURNAL_RECORD_MIN;
  }
  put32(out, r->revoked ? kRevokeMagic : kRecordMagic);
  put32(out + 4, (uint32_t)size);
  put64(out + 8, r->begin);
  put64(out + 16, r->end);
  put32(out + 24, (uint32_t)r->rank);
  put32(out + 28, r->attempt);
  put64(out + 32, r->revoked ? 0 : (uint64_t)r->isum);
  put64(out + 40, r->revoked ? 0 : (uint64_t)(r->isum >> 64));
  put32(out + 48, r->revoked ? 0 : f->flags);
  uint16_t range[2] = {(uint16_t)first, (uint16_t)count};
  memcpy(out + 52, range, 4);
  for (int k = 0; k < count; k++)
    put64(out + 56 + 8 * k, (uint64_t)f->digit[first + k]);
  put32(out + size - 4, master_crc32c(0, out, size - 4));
  return size;
}

/* Decodes the record at p (avail bytes): its size, or 0 if it is not a
 * whole, checksummed, plausible record of a job over [0, n). Plausible
 * includes normalised digits and known flags, as proto_decode demands of a
 * RESULT: the CRC stops accidents, not a crafted file, and digits out of
 * range would overflow the accumulator a resume adds them to. */
static size_t decode_record(const uint8_t* p, size_t avail, uint64_t n,
                            uint64_t align, master_record_t* r) {
  if (avail < MASTER_JOURNAL_RECORD_MIN) return 0;
  uint32_t magic = get32(p);
  if (magic != kRecordMagic && magic != kRevokeMagic) return 0;
  size_t size = get32(p + 4);
  if (size < MASTER_JOURNAL_RECORD_MIN || size > RECORD_MAX || size > avail ||
      (size - MASTER_JOURNAL_RECORD_MIN) % 8 != 0)
    return 0;
  if (get32(p + size - 4) != master_crc32c(0, p, size - 4)) return 0;
  uint16_t range[2];
  memcpy(range, p + 52, 4);
  size_t count = (size - MASTER_JOURNAL_RECORD_MIN) / 8;
  if (range[1] != count || range[0] + count > PROTO_EXACT_DIGITS) return 0;
  if (magic == kRevokeMagic && size != MASTER_JOURNAL_RECORD_MIN) return 0;
  memset(r, 0, sizeof(*r));
  r->revoked = magic == kRevokeMagic;
  r->begin = get64(p + 8);
  r->end = get64(p + 16);
  if (r->begin >= r->end || r->end > n || r->begin % align != 0 ||
      (r->end % align != 0 && r->end != n))
    return 0;
  r->rank = (int32_t)get32(p + 24);
  r->attempt = get32(p + 28);
  r->isum = (unsigned __int128)get64(p + 40) << 64 | get64(p + 32);
  proto_exact_init(&r->fsum);
  r->fsum.flags = get32(p + 48);
  if (r->fsum.flags &
      ~(uint32_t)(PROTO_EXACT_POS_INF | PROTO_EXACT_NEG_INF | PROTO_EXACT_NAN))
    return 0;
  for (size_t k = 0; k < count; k++) {
    size_t j = range[0] + k;
    int64_t d = (int64_t)get64(p + 56 + 8 * k);
    if (d > 0xffffffffll ||
        d < (j == PROTO_EXACT_DIGITS - 1 ? -0xffffffffll : 0))
      return 0;
    r->fsum.digit[j] = d;
  }
  return size;
}

static int cmp_begin(const void* a, const void* b) {
  const uint64_t* x = a;
  const uint64_t* y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* By range, then by offset. */
static int cmp_range(const void* a, const void* b) {
  const uint64_t* x = a;
  const uint64_t* y = b;
  for (int k = 0; k < 3; k++)
    if (x[k] != y[k]) return x[k] < y[k] ? -1 : 1;
  return 0;
}

static int cmp_offset(const void* a, const void* b) {
  const uint64_t* x = a;
  const uint64_t* y = b;
  return x[2] < y[2] ? -1 : x[2] > y[2];
}

/* Sorts n (begin, end, offset) triples. qsort's array may not be NULL even
 * for no element (C11 7.22.5), and t is NULL when the journal holds no
 * record. */
static void sort_triples(uint64_t* t, size_t n,
                         int (*cmp)(const void*, const void*)) {
  if (n > 1) qsort(t, n, 3 * sizeof(*t), cmp);
}

/* Sequential reads of a file through a window, so that reading a journal
 * takes the same memory whatever its size. The fuzz build (tools/fuzz)
 * shrinks it to 4 KiB, so that inputs of a few KiB cross its edges. */
#ifndef JOURNAL_WINDOW
#define JOURNAL_WINDOW (1 << 20)
#endif
enum { WINDOW = JOURNAL_WINDOW };
_Static_assert((int)WINDOW >= (int)RECORD_MAX, "a window holds a record");
typedef struct window_s window_t;
struct window_s {
  int fd;
  uint64_t size; /* the file's */
  uint64_t base; /* offset of buf[0] */
  size_t len;    /* bytes in buf */
  int failed;    /* a read failed */
  uint8_t buf[WINDOW];
};

/* The bytes at offset at, with *avail of them (at least a whole record's
 * worth, or up to the end of the file); NULL after a read error. */
static const uint8_t* window_at(window_t* w, uint64_t at, size_t* avail) {
  if (at < w->base || at + RECORD_MAX > w->base + w->len) {
    if (at >= w->base && at + RECORD_MAX > w->base + w->len &&
        w->base + w->len == w->size) {
      /* the tail is in the window already */
    } else {
      w->base = at;
      w->len = 0;
      while (w->len < WINDOW && w->base + w->len < w->size) {
        ssize_t n = pread(w->fd, w->buf + w->len, WINDOW - w->len,
                          (off_t)(w->base + w->len));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          w->failed = 1;
          return NULL;
        }
        w->len += (size_t)n;
      }
    }
  }
  *avail = (size_t)(w->base + w->len - at);
  return w->buf + (at - w->base);
}

/* A damaged stretch [from, to): how many records' framing survives in it. */
static uint64_t framed_records(window_t* w, uint64_t from, uint64_t to) {
  uint64_t count = 0;
  uint64_t at = from;
  while (at + MASTER_JOURNAL_RECORD_MIN <= to) {
    size_t avail;
    const uint8_t* p = window_at(w, at, &avail);
    if (p == NULL) break;
    size_t size = get32(p + 4);
    if ((get32(p) == kRecordMagic || get32(p) == kRevokeMagic) &&
        size >= MASTER_JOURNAL_RECORD_MIN && size <= RECORD_MAX &&
        at + size <= to) {
      count++;
      at += size;
    } else {
      at++;
    }
  }
  return count;
}

/* Offsets fit in 63 bits: the top one marks a withdrawal in read_records. */
static const uint64_t kWithdrawal = (uint64_t)1 << 63;

/* Each withdrawal voids the latest record of its range written before it
 * (one not voided already); the withdrawals and the records they void are
 * removed from seen (count entries). Returns the entries left. */
static size_t apply_withdrawals(uint64_t* seen, size_t count,
                                master_journal_load_t* load) {
  /* By range, then offset (the flag sorts a withdrawal after the records
   * of its range at any offset, so the offset is compared without it). */
  for (size_t i = 0; i < count; i++) {
    uint64_t off = seen[3 * i + 2];
    seen[3 * i + 2] = (off & ~kWithdrawal) << 1 | (off >> 63);
  }
  sort_triples(seen, count, cmp_range);
  size_t i = 0;
  while (i < count) {
    size_t j = i;
    while (j < count && seen[3 * j] == seen[3 * i] &&
           seen[3 * j + 1] == seen[3 * i + 1])
      j++;
    /* [i, j): one range, in file order. A withdrawal voids the nearest
     * live record before it. */
    for (size_t k = i; k < j; k++) {
      if (!(seen[3 * k + 2] & 1)) continue;
      for (size_t m = k; m-- > i;) {
        if (seen[3 * m + 2] & 1 || seen[3 * m + 2] == UINT64_MAX) continue;
        seen[3 * m + 2] = UINT64_MAX;
        load->revoked++;
        break;
      }
    }
    i = j;
  }
  size_t kept = 0;
  for (size_t k = 0; k < count; k++) {
    uint64_t off = seen[3 * k + 2];
    if (off == UINT64_MAX || (off & 1)) continue;
    seen[3 * kept] = seen[3 * k];
    seen[3 * kept + 1] = seen[3 * k + 1];
    seen[3 * kept + 2] = off >> 1;
    kept++;
  }
  return kept;
}

/* Reads the records after the header (hsize bytes) of an open journal of
 * job into load; sets *valid_end to the end of the last trusted byte.
 * Pass 1 keeps each valid record's range and offset (24 bytes), pass 2
 * reads the kept ones again, in file order, to sum their results. */
static int read_records(window_t* w, uint64_t hsize, const proto_job_t* job,
                        master_journal_load_t* load, uint64_t* valid_end,
                        char* err, size_t errlen) {
  uint64_t* seen = NULL; /* begin, end, offset; withdrawals flagged */
  size_t count = 0, cap = 0, withdrawals = 0;
  uint64_t at = hsize;
  *valid_end = at;
  uint64_t align = proto_job_align(job);
  master_record_t r;
  while (at < w->size) {
    size_t avail;
    const uint8_t* p = window_at(w, at, &avail);
    if (p == NULL) break;
    size_t used = decode_record(p, avail, job->n, align, &r);
    if (used == 0) {
      /* Damaged: look for the next record that checks out. None: the tail
       * was torn (or damaged) and is dropped. */
      uint64_t next = at + 1;
      for (; next < w->size; next++) {
        p = window_at(w, next, &avail);
        if (p == NULL || decode_record(p, avail, job->n, align, &r) != 0) break;
      }
      if (p == NULL || next >= w->size) break;
      load->damaged++;
      load->damaged_bytes += next - at;
      load->damaged_records += framed_records(w, at, next);
      at = next;
      continue;
    }
    if (count == cap) {
      cap = cap ? 2 * cap : 1024;
      uint64_t* grown = realloc(seen, cap * 3 * sizeof(*grown));
      if (grown == NULL) {
        free(seen);
        return proto_fail(err, errlen, PROTO_ENOMEM,
                          "out of memory reading the journal");
      }
      seen = grown;
    }
    seen[3 * count] = r.begin;
    seen[3 * count + 1] = r.end;
    seen[3 * count + 2] = at | (r.revoked ? kWithdrawal : 0);
    withdrawals += r.revoked != 0;
    count++;
    at += used;
    *valid_end = at;
  }
  if (w->failed) {
    free(seen);
    return proto_fail(err, errlen, PROTO_EIO, "cannot read the journal: %s",
                      strerror(errno));
  }
  load->torn_bytes = w->size - *valid_end;
  if (withdrawals > 0) count = apply_withdrawals(seen, count, load);
  /* Sorted by range; a record overlapping an earlier one cannot come from
   * one run's exactly-once accounting and is left out (a repeat of the
   * same range loses nothing). */
  sort_triples(seen, count, cmp_begin);
  size_t kept = 0;
  for (size_t i = 0; i < count; i++) {
    if (kept > 0 && seen[3 * i] < seen[3 * (kept - 1) + 1]) {
      if (seen[3 * i] == seen[3 * (kept - 1)] &&
          seen[3 * i + 1] == seen[3 * (kept - 1) + 1])
        load->repeated++;
      else
        load->overlapping++;
      continue;
    }
    memmove(seen + 3 * kept, seen + 3 * i, 3 * sizeof(*seen));
    kept++;
  }
  master_done_t* d = &load->done;
  d->range = malloc((2 * kept + 1) * sizeof(*d->range));
  if (d->range == NULL) {
    free(seen);
    return proto_fail(err, errlen, PROTO_ENOMEM,
                      "out of memory reading the journal");
  }
  d->cap = kept;
  for (size_t i = 0; i < kept; i++) {
    d->range[2 * i] = seen[3 * i];
    d->range[2 * i + 1] = seen[3 * i + 1];
    d->iters += seen[3 * i + 1] - seen[3 * i];
  }
  d->count = kept;
  sort_triples(seen, kept, cmp_offset);
  for (size_t i = 0; i < kept; i++) {
    size_t avail;
    const uint8_t* p = window_at(w, seen[3 * i + 2], &avail);
    if (p == NULL || decode_record(p, avail, job->n, align, &r) == 0) {
      free(seen);
      return proto_fail(err, errlen, PROTO_EIO,
                        "the journal changed while it was read");
    }
    d->isum += r.isum;
    proto_exact_merge(&d->fsum, &r.fsum);
  }
  free(seen);
  return 0;
}

static void format_time(uint64_t ns, char* out, size_t len) {
  time_t s = (time_t)(ns / 1000000000u);
  struct tm tm;
  if (gmtime_r(&s, &tm) == NULL ||
      strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
    snprintf(out, len, "%llu", (unsigned long long)s);
  else
    snprintf(out + strlen(out), len - strlen(out), ".%09llu UTC",
             (unsigned long long)(ns % 1000000000u));
}

/* Whether the input files are the ones the journal was written for. */
static int check_inputs(const uint8_t* h, size_t hsize, const proto_job_t* job,
                        const char* path, char* err, size_t errlen) {
  static const char* const opt[2] = {"--a", "--b"};
  size_t at = MASTER_JOURNAL_HEADER;
  int inputs = job_inputs(job);
  if ((int)get32(h + INPUTS_AT) != inputs)
    return proto_fail(err, errlen, PROTO_EJOURNAL,
                      "journal '%s' belongs to another job (its input files "
                      "differ); it is left as it is",
                      path);
  for (int k = 0; k < inputs; k++) {
    if (at + INPUT_FIXED > hsize - 4) break;
    uint32_t len = get32(h + at + 40);
    if (at + INPUT_FIXED + len > hsize - 4 || len >= PROTO_PATH_MAX) break;
    char then[PROTO_PATH_MAX];
    memcpy(then, h + at + INPUT_FIXED, len);
    then[len] = '\0';
    const proto_input_t* now = &job->input[k];
    if (strcmp(then, now->path) != 0)
      return proto_fail(err, errlen, PROTO_EJOURNAL,
                        "journal '%s' belongs to another job: its %s file "
                        "was '%s', this run's is '%s'; it is left as it is",
                        path, opt[k], then, now->path);
    uint64_t size = get64(h + at), mtime = get64(h + at + 8);
    uint64_t ctime = get64(h + at + 16);
    if (size != now->size || mtime != now->mtime_ns || ctime != now->ctime_ns ||
        get64(h + at + 24) != now->dev || get64(h + at + 32) != now->ino) {
      char was[64], is[64];
      format_time(mtime, was, sizeof(was));
      format_time(now->mtime_ns, is, sizeof(is));
      return proto_fail(
          err, errlen, PROTO_EJOURNAL,
          "%s file '%s' changed after journal '%s' was started (then %llu "
          "bytes modified %s, now %llu bytes modified %s%s): its results "
          "would not be this file's; restore the file, or start afresh "
          "with another --journal file",
          opt[k], now->path, path, (unsigned long long)size, was,
          (unsigned long long)now->size, is,
          size == now->size && mtime == now->mtime_ns
              ? ", and its inode was changed or replaced since"
              : "");
    }
    at += INPUT_FIXED + len;
  }
  if (at + 4 != hsize)
    return proto_fail(err, errlen, PROTO_EJOURNAL,
                      "journal '%s' has a damaged header; it is left as it is",
                      path);
  return 0;
}

static int check_header(const uint8_t* h, size_t size, const proto_job_t* job,
                        const char* path, char* err, size_t errlen) {
  if (size < 8 || memcmp(h, kMagic, 8) != 0)
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "'%s' is not a taskfarm journal; it is left as it is (choose "
        "another --journal file)",
        path);
  if (size >= 12 && get32(h + 8) > MASTER_JOURNAL_VERSION)
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "journal '%s' has format version %u, written by a newer "
        "taskfarm; this one reads version %d (use the newer build)",
        path, get32(h + 8), MASTER_JOURNAL_VERSION);
  if (size >= 12 && get32(h + 8) < MASTER_JOURNAL_OLDEST)
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "journal '%s' has format version %u, written by an older "
        "taskfarm; this one reads versions %d to %d (finish it with the "
        "older build, or start afresh with another --journal file)",
        path, get32(h + 8), MASTER_JOURNAL_OLDEST, MASTER_JOURNAL_VERSION);
  size_t hsize = size >= 16 ? get32(h + 12) : 0;
  if (hsize < MASTER_JOURNAL_HEADER + 4 || hsize > size ||
      get32(h + hsize - 4) != master_crc32c(0, h, hsize - 4))
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "journal '%s' has a damaged header (checksum); it is left as "
        "it is",
        path);
  if (get64(h + 16) != proto_job_results_fingerprint(job) ||
      get64(h + 32) != job->n) {
    char mine[DESC_LEN + 1], theirs[DESC_LEN + 1];
    describe(job, mine, sizeof(mine));
    memcpy(theirs, h + DESC_AT, DESC_LEN);
    theirs[DESC_LEN] = '\0';
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "journal '%s' belongs to another job (%s), not this one (%s); "
        "it is left as it is",
        path, theirs, mine);
  }
  return check_inputs(h, hsize, job, path, err, errlen);
}

/* Creates path holding only the header, atomically: written to a temporary
 * file, made durable, then linked into place, which fails if path exists. */
static int create_journal(const char* path, const proto_job_t* job, char* err,
                          size_t errlen) {
  char tmp[PROTO_PATH_MAX + 32];
  snprintf(tmp, sizeof(tmp), "%s.new.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) /* no such folder, no permission: rerunning cannot help */
    return proto_fail(err, errlen, PROTO_EJOURNAL,
                      "cannot create journal '%s': %s", path, strerror(errno));
  uint8_t h[MASTER_JOURNAL_HEADER_MAX];
  size_t hsize = encode_header(job, h);
  int ok = write(fd, h, hsize) == (ssize_t)hsize && fsync(fd) == 0;
  int saved = errno;
  close(fd);
  if (ok && link(tmp, path) != 0) {
    ok = 0;
    saved = errno;
  }
  unlink(tmp);
  if (!ok && saved == EEXIST)
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "journal '%s' already exists: add --resume to continue that "
        "run, or choose another file (it is never overwritten)",
        path);
  if (!ok)
    return proto_fail(err, errlen, PROTO_EIO, "cannot create journal '%s': %s",
                      path, strerror(saved));
  /* The new name must survive a power cut too. */
  char dir[PROTO_PATH_MAX];
  snprintf(dir, sizeof(dir), "%s", path);
  char* slash = strrchr(dir, '/');
  if (slash == NULL)
    snprintf(dir, sizeof(dir), ".");
  else if (slash == dir)
    slash[1] = '\0';
  else
    *slash = '\0';
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return 0;
}

int master_journal_open(master_journal_t* j, const char* path,
                        const proto_job_t* job, int resume,
                        master_journal_load_t* load, char* err, size_t errlen) {
  memset(j, 0, sizeof(*j));
  memset(load, 0, sizeof(*load));
  master_done_init(&load->done);
  j->fd = -1;
  snprintf(j->path, sizeof(j->path), "%s", path);
  struct stat st;
  int exists = stat(path, &st) == 0;
  if (!exists || !resume) {
    int rc = create_journal(path, job, err, errlen);
    if (rc < 0) return rc;
  } else {
    load->existed = 1;
    if (!S_ISREG(st.st_mode))
      return proto_fail(err, errlen, PROTO_EJOURNAL,
                        "journal '%s' is not a regular file", path);
  }
  int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return proto_fail(err, errlen, PROTO_EJOURNAL,
                      "cannot open journal '%s': %s", path, strerror(errno));
  /* One run per journal: a second one appending too would interleave. */
  struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  if (fcntl(fd, F_SETLK, &lock) != 0) {
    int saved = errno;
    close(fd);
    if (saved == EACCES || saved == EAGAIN)
      return proto_fail(err, errlen, PROTO_EJOURNAL,
                        "journal '%s' is in use by another taskfarm run; "
                        "wait for it to end or choose another file",
                        path);
    return proto_fail(err, errlen, PROTO_EIO, "cannot lock journal '%s': %s",
                      path, strerror(saved));
  }
  if (fstat(fd, &st) != 0) {
    close(fd);
    return proto_fail(err, errlen, PROTO_EIO, "cannot stat journal '%s'", path);
  }
  window_t* w = malloc(sizeof(*w));
  if (w == NULL) {
    close(fd);
    return proto_fail(err, errlen, PROTO_ENOMEM,
                      "out of memory reading journal '%s'", path);
  }
  w->fd = fd;
  w->size = (uint64_t)st.st_size;
  w->base = 0;
  w->len = 0;
  w->failed = 0;
  int rc = 0;
  uint64_t valid_end = w->size;
  size_t avail = 0;
  const uint8_t* h = w->size > 0 ? window_at(w, 0, &avail) : NULL;
  if (w->size > 0 && h == NULL) {
    rc = proto_fail(err, errlen, PROTO_EIO, "cannot read journal '%s': %s",
                    path, strerror(errno));
  } else {
    uint8_t head[MASTER_JOURNAL_HEADER_MAX];
    size_t hlen = avail < sizeof(head) ? avail : sizeof(head);
    if (hlen > 0) memcpy(head, h, hlen);
    rc = check_header(head, hlen, job, path, err, errlen);
    if (rc == 0)
      rc =
          read_records(w, get32(head + 12), job, load, &valid_end, err, errlen);
  }
  free(w);
  /* Appends follow the last trusted record: a torn tail is cut off. */
  if (rc == 0 && valid_end < (uint64_t)st.st_size &&
      (ftruncate(fd, (off_t)valid_end) != 0 || fsync(fd) != 0))
    rc = proto_fail(err, errlen, PROTO_EIO,
                    "cannot cut the damaged tail of "
                    "journal '%s': %s",
                    path, strerror(errno));
  if (rc == 0 && lseek(fd, 0, SEEK_END) < 0)
    rc =
        proto_fail(err, errlen, PROTO_EIO, "cannot seek in journal '%s'", path);
  int flags = rc == 0 ? fcntl(fd, F_GETFL) : -1;
  if (rc == 0 && (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0))
    rc = proto_fail(err, errlen, PROTO_EIO, "cannot set up journal '%s': %s",
                    path, strerror(errno));
  if (rc < 0) {
    close(fd);
    master_journal_free_load(load);
    return rc;
  }
  j->fd = fd;
  return 0;
}

int master_journal_append(master_journal_t* j, const master_record_t* r) {
  if (j->len + RECORD_MAX > j->cap) {
    size_t cap = j->cap ? 2 * j->cap : 64 * RECORD_MAX;
    uint8_t* grown = realloc(j->buf, cap);
    if (grown == NULL) return PROTO_ENOMEM;
    j->buf = grown;
    j->cap = cap;
  }
  j->len += master_record_encode(r, j->buf + j->len);
  j->appended++;
  return 0;
}

int master_journal_flush(master_journal_t* j, int sync) {
  if (j->fd < 0 || j->failed) return j->failed ? PROTO_EIO : 0;
  size_t done = 0;
  while (done < j->len) {
    ssize_t n = write(j->fd, j->buf + done, j->len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      fprintf(stderr, "taskfarm: cannot write journal '%s': %s\n", j->path,
              strerror(errno));
      j->failed = 1;
      return PROTO_EIO;
    }
    done += (size_t)n;
  }
  if (j->len > 0) j->unsynced++;
  j->len = 0;
  if (sync && j->unsynced > 0) {
    if (fdatasync(j->fd) != 0) {
      fprintf(stderr, "taskfarm: cannot sync journal '%s': %s\n", j->path,
              strerror(errno));
      j->failed = 1;
      return PROTO_EIO;
    }
    j->unsynced = 0;
  }
  return 0;
}

int master_journal_close(master_journal_t* j) {
  if (j->fd < 0) return 0;
  j->unsynced++; /* a sync may still be in flight elsewhere: sync anyway */
  int rc = master_journal_flush(j, 1);
  close(j->fd);
  j->fd = -1;
  free(j->buf);
  j->buf = NULL;
  j->len = j->cap = 0;
  return rc;
}

void master_journal_free_load(master_journal_load_t* load) {
  master_done_free(&load->done);
}

void master_done_init(master_done_t* d) {
  memset(d, 0, sizeof(*d));
  proto_exact_init(&d->fsum);
}

int master_done_add(master_done_t* d, const master_record_t* r) {
  if (d->count == d->cap) {
    size_t cap = d->cap ? 2 * d->cap : 64;
    uint64_t* grown = realloc(d->range, 2 * cap * sizeof(*grown));
    if (grown == NULL) return PROTO_ENOMEM;
    d->range = grown;
    d->cap = cap;
  }
  d->range[2 * d->count] = r->begin;
  d->range[2 * d->count + 1] = r->end;
  d->count++;
  d->iters += r->end - r->begin;
  d->isum += r->isum;
  proto_exact_merge(&d->fsum, &r->fsum);
  return 0;
}

void master_done_free(master_done_t* d) {
  free(d->range);
  master_done_init(d);
}
