/* The records of a journal (journal.h has their layout): each one
 * encoded and decoded with its checksum, all of them read back as a
 * stream through a window of fixed size (damaged stretches skipped,
 * withdrawals applied, overlaps left out), and the set of done ranges a
 * resume starts from. Pure file I/O, no MPI. */
#include "master/records.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/schedule.h"
#include "proto/error.h"

static const uint32_t kRecordMagic = 0x43455254; /* "TREC" */
static const uint32_t kRevokeMagic = 0x56455254; /* "TREV" */

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
  master_put32(out, r->revoked ? kRevokeMagic : kRecordMagic);
  master_put32(out + 4, (uint32_t)size);
  master_put64(out + 8, r->begin);
  master_put64(out + 16, r->end);
  master_put32(out + 24, (uint32_t)r->rank);
  master_put32(out + 28, r->attempt);
  master_put64(out + 32, r->revoked ? 0 : (uint64_t)r->isum);
  master_put64(out + 40, r->revoked ? 0 : (uint64_t)(r->isum >> 64));
  master_put32(out + 48, r->revoked ? 0 : f->flags);
  uint16_t range[2] = {(uint16_t)first, (uint16_t)count};
  memcpy(out + 52, range, 4);
  for (int k = 0; k < count; k++)
    master_put64(out + 56 + 8 * k, (uint64_t)f->digit[first + k]);
  master_put32(out + size - 4, master_crc32c(0, out, size - 4));
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
  uint32_t magic = master_get32(p);
  if (magic != kRecordMagic && magic != kRevokeMagic) return 0;
  size_t size = master_get32(p + 4);
  if (size < MASTER_JOURNAL_RECORD_MIN || size > MASTER_RECORD_MAX ||
      size > avail || (size - MASTER_JOURNAL_RECORD_MIN) % 8 != 0)
    return 0;
  if (master_get32(p + size - 4) != master_crc32c(0, p, size - 4)) return 0;
  uint16_t range[2];
  memcpy(range, p + 52, 4);
  size_t count = (size - MASTER_JOURNAL_RECORD_MIN) / 8;
  if (range[1] != count || range[0] + count > PROTO_EXACT_DIGITS) return 0;
  if (magic == kRevokeMagic && size != MASTER_JOURNAL_RECORD_MIN) return 0;
  memset(r, 0, sizeof(*r));
  r->revoked = magic == kRevokeMagic;
  r->begin = master_get64(p + 8);
  r->end = master_get64(p + 16);
  if (r->begin >= r->end || r->end > n || r->begin % align != 0 ||
      (r->end % align != 0 && r->end != n))
    return 0;
  r->rank = (int32_t)master_get32(p + 24);
  r->attempt = master_get32(p + 28);
  r->isum =
      (unsigned __int128)master_get64(p + 40) << 64 | master_get64(p + 32);
  proto_exact_init(&r->fsum);
  r->fsum.flags = master_get32(p + 48);
  if (r->fsum.flags &
      ~(uint32_t)(PROTO_EXACT_POS_INF | PROTO_EXACT_NEG_INF | PROTO_EXACT_NAN))
    return 0;
  for (size_t k = 0; k < count; k++) {
    size_t j = range[0] + k;
    int64_t d = (int64_t)master_get64(p + 56 + 8 * k);
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
_Static_assert((int)WINDOW >= (int)MASTER_RECORD_MAX,
               "a window holds a record");
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
  if (at < w->base || at + MASTER_RECORD_MAX > w->base + w->len) {
    if (at >= w->base && at + MASTER_RECORD_MAX > w->base + w->len &&
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
    size_t size = master_get32(p + 4);
    if ((master_get32(p) == kRecordMagic || master_get32(p) == kRevokeMagic) &&
        size >= MASTER_JOURNAL_RECORD_MIN && size <= MASTER_RECORD_MAX &&
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

/* Sorts the (begin, end, offset) triples seen by range and leaves out
 * each record that overlaps an earlier one: it cannot come from one run's
 * exactly-once accounting (a repeat of the same range loses nothing).
 * Returns the triples kept. */
static size_t drop_overlaps(uint64_t* seen, size_t count,
                            master_journal_load_t* load) {
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
  return kept;
}

/* Pass 2: the kept records' ranges into d, and their results read again,
 * in file order, and summed. */
static int sum_kept(window_t* w, uint64_t* seen, size_t kept,
                    const cli_job_t* job, master_done_t* d, char* err,
                    size_t errlen) {
  d->range = malloc((2 * kept + 1) * sizeof(*d->range));
  if (d->range == NULL)
    return proto_fail(err, errlen, PROTO_ENOMEM,
                      "out of memory reading the journal");
  d->cap = kept;
  for (size_t i = 0; i < kept; i++) {
    d->range[2 * i] = seen[3 * i];
    d->range[2 * i + 1] = seen[3 * i + 1];
    d->iters += seen[3 * i + 1] - seen[3 * i];
  }
  d->count = kept;
  sort_triples(seen, kept, cmp_offset);
  uint64_t align = master_chunk_align(job);
  for (size_t i = 0; i < kept; i++) {
    size_t avail;
    master_record_t r;
    const uint8_t* p = window_at(w, seen[3 * i + 2], &avail);
    if (p == NULL || decode_record(p, avail, job->n, align, &r) == 0)
      return proto_fail(err, errlen, PROTO_EIO,
                        "the journal changed while it was read");
    d->isum += r.isum;
    proto_exact_merge(&d->fsum, &r.fsum);
  }
  return 0;
}

/* Reads the records after the header (hsize bytes) of an open journal of
 * job into load; sets *valid_end to the end of the last trusted byte.
 * Pass 1 keeps each valid record's range and offset (24 bytes), pass 2
 * reads the kept ones again, in file order, to sum their results. */
static int read_records(window_t* w, uint64_t hsize, const cli_job_t* job,
                        master_journal_load_t* load, uint64_t* valid_end,
                        char* err, size_t errlen) {
  uint64_t* seen = NULL; /* begin, end, offset; withdrawals flagged */
  size_t count = 0, cap = 0, withdrawals = 0;
  uint64_t at = hsize;
  *valid_end = at;
  uint64_t align = master_chunk_align(job);
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
  size_t kept = drop_overlaps(seen, count, load);
  int rc = sum_kept(w, seen, kept, job, &load->done, err, errlen);
  free(seen);
  return rc;
}

int master_records_read(int fd, uint64_t size, uint64_t hsize,
                        const cli_job_t* job, master_journal_load_t* load,
                        uint64_t* valid_end, char* err, size_t errlen) {
  window_t* w = malloc(sizeof(*w));
  if (w == NULL)
    return proto_fail(err, errlen, PROTO_ENOMEM,
                      "out of memory reading the journal");
  w->fd = fd;
  w->size = size;
  w->base = 0;
  w->len = 0;
  w->failed = 0;
  int rc = read_records(w, hsize, job, load, valid_end, err, errlen);
  free(w);
  return rc;
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
