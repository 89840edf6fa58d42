/* The journal file of journal.h. */
#include "master/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/error.h"

static const char kMagic[8] = {'T', 'F', 'J', 'O', 'U', 'R', 'N', 'L'};
static const uint32_t kRecordMagic = 0x43455254; /* "TREC" */
enum {
  DESC_AT = 40,  /* the description's offset in the header */
  DESC_LEN = 80, /* its bytes, NUL-padded */
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
  else
    snprintf(text, sizeof(text), "%s n=%llu", proto_job_name(job->kind),
             (unsigned long long)job->n);
  size_t n = strlen(text) < len - 1 ? strlen(text) : len - 1;
  memcpy(out, text, n);
  out[n] = '\0';
}

static uint64_t job_align(const proto_job_t* job) {
  return job->kind == PROTO_JOB_PI ? PROTO_PI_GRAIN : 1;
}

static void encode_header(const proto_job_t* job, uint8_t* h) {
  memset(h, 0, MASTER_JOURNAL_HEADER);
  memcpy(h, kMagic, 8);
  put32(h + 8, MASTER_JOURNAL_VERSION);
  put32(h + 12, MASTER_JOURNAL_HEADER);
  put64(h + 16, proto_job_fingerprint(job));
  put32(h + 24, (uint32_t)job->kind);
  put32(h + 28, (uint32_t)job_align(job));
  put64(h + 32, job->n);
  char desc[DESC_LEN + 1];
  describe(job, desc, sizeof(desc));
  memcpy(h + DESC_AT, desc, strlen(desc));
  put32(h + MASTER_JOURNAL_HEADER - 4,
        master_crc32c(0, h, MASTER_JOURNAL_HEADER - 4));
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
  put32(out, kRecordMagic);
  put32(out + 4, (uint32_t)size);
  put64(out + 8, r->begin);
  put64(out + 16, r->end);
  put32(out + 24, (uint32_t)r->rank);
  put32(out + 28, r->attempt);
  put64(out + 32, (uint64_t)r->isum);
  put64(out + 40, (uint64_t)(r->isum >> 64));
  put32(out + 48, f->flags);
  uint16_t range[2] = {(uint16_t)first, (uint16_t)count};
  memcpy(out + 52, range, 4);
  for (int k = 0; k < count; k++)
    put64(out + 56 + 8 * k, (uint64_t)f->digit[first + k]);
  put32(out + size - 4, master_crc32c(0, out, size - 4));
  return size;
}

/* Decodes the record at p (avail bytes): its size, or 0 if it is not a
 * whole, checksummed, plausible record of a job over [0, n). */
static size_t decode_record(const uint8_t* p, size_t avail, uint64_t n,
                            uint64_t align, master_record_t* r) {
  if (avail < MASTER_JOURNAL_RECORD_MIN || get32(p) != kRecordMagic) return 0;
  size_t size = get32(p + 4);
  if (size < MASTER_JOURNAL_RECORD_MIN || size > RECORD_MAX || size > avail ||
      (size - MASTER_JOURNAL_RECORD_MIN) % 8 != 0)
    return 0;
  if (get32(p + size - 4) != master_crc32c(0, p, size - 4)) return 0;
  uint16_t range[2];
  memcpy(range, p + 52, 4);
  size_t count = (size - MASTER_JOURNAL_RECORD_MIN) / 8;
  if (range[1] != count || range[0] + count > PROTO_EXACT_DIGITS) return 0;
  memset(r, 0, sizeof(*r));
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
  for (size_t k = 0; k < count; k++)
    r->fsum.digit[range[0] + k] = (int64_t)get64(p + 56 + 8 * k);
  return size;
}

static int cmp_begin(const void* a, const void* b) {
  const master_record_t* x = a;
  const master_record_t* y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Reads the records of an open journal of job (file of `size` bytes) into
 * load; sets *valid_end to the end of the last trusted byte. */
static int read_records(const uint8_t* data, size_t size,
                        const proto_job_t* job, master_journal_load_t* load,
                        size_t* valid_end, char* err, size_t errlen) {
  size_t cap = 0;
  size_t at = MASTER_JOURNAL_HEADER;
  *valid_end = at;
  uint64_t align = job_align(job);
  while (at < size) {
    master_record_t r;
    size_t used = decode_record(data + at, size - at, job->n, align, &r);
    if (used == 0) {
      /* Damaged: look for the next record that checks out. None: the tail
       * was torn (or damaged) and is dropped. */
      size_t next = at + 1;
      while (next < size &&
             decode_record(data + next, size - next, job->n, align, &r) == 0)
        next++;
      if (next >= size) break;
      load->skipped++;
      at = next;
      continue;
    }
    if (load->count == cap) {
      cap = cap ? 2 * cap : 256;
      master_record_t* grown = realloc(load->rec, cap * sizeof(*grown));
      if (grown == NULL)
        return proto_fail(err, errlen, PROTO_ENOMEM,
                          "out of memory reading the journal");
      load->rec = grown;
    }
    load->rec[load->count++] = r;
    at += used;
    *valid_end = at;
  }
  load->torn_bytes = size - *valid_end;
  /* Sorted by range; a record overlapping an earlier one cannot come from
   * one run's exactly-once accounting and is left out. */
  qsort(load->rec, load->count, sizeof(*load->rec), cmp_begin);
  size_t kept = 0;
  for (size_t i = 0; i < load->count; i++) {
    if (kept > 0 && load->rec[i].begin < load->rec[kept - 1].end) {
      load->skipped++;
      continue;
    }
    load->rec[kept++] = load->rec[i];
    load->iters += load->rec[i].end - load->rec[i].begin;
  }
  load->count = kept;
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
  if (size >= 12 && get32(h + 8) < MASTER_JOURNAL_VERSION)
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "journal '%s' has format version %u, written by an older "
        "taskfarm; this one reads version %d (finish it with the older "
        "build, or start afresh with another --journal file)",
        path, get32(h + 8), MASTER_JOURNAL_VERSION);
  if (size < MASTER_JOURNAL_HEADER || get32(h + 12) != MASTER_JOURNAL_HEADER ||
      get32(h + MASTER_JOURNAL_HEADER - 4) !=
          master_crc32c(0, h, MASTER_JOURNAL_HEADER - 4))
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "journal '%s' has a damaged header (checksum); it is left as "
        "it is",
        path);
  if (get64(h + 16) != proto_job_fingerprint(job) || get64(h + 32) != job->n) {
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
  return 0;
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
  uint8_t h[MASTER_JOURNAL_HEADER];
  encode_header(job, h);
  int ok = write(fd, h, sizeof(h)) == (ssize_t)sizeof(h) && fsync(fd) == 0;
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
  int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
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
  size_t size = (size_t)st.st_size;
  uint8_t* data = malloc(size > 0 ? size : 1);
  size_t got = 0;
  while (data != NULL && got < size) {
    ssize_t n = pread(fd, data + got, size - got, (off_t)got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  int rc = 0;
  size_t valid_end = MASTER_JOURNAL_HEADER;
  if (data == NULL) {
    rc = proto_fail(err, errlen, PROTO_ENOMEM,
                    "out of memory reading journal '%s'", path);
  } else if (got != size) {
    rc = proto_fail(err, errlen, PROTO_EIO, "cannot read journal '%s'", path);
  } else {
    rc = check_header(data, size, job, path, err, errlen);
    if (rc == 0)
      rc = read_records(data, size, job, load, &valid_end, err, errlen);
  }
  free(data);
  /* Appends follow the last trusted record: a torn tail is cut off. */
  if (rc == 0 && valid_end < size &&
      (ftruncate(fd, (off_t)valid_end) != 0 || fsync(fd) != 0))
    rc = proto_fail(err, errlen, PROTO_EIO,
                    "cannot cut the damaged tail of "
                    "journal '%s': %s",
                    path, strerror(errno));
  if (rc == 0 && lseek(fd, 0, SEEK_END) < 0)
    rc =
        proto_fail(err, errlen, PROTO_EIO, "cannot seek in journal '%s'", path);
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
  free(load->rec);
  load->rec = NULL;
  load->count = 0;
}
