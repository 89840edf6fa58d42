/* The journal file of journal.h. */
#include "master/journal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/text.h"
#include "master/records.h"
#include "master/schedule.h"
#include "proto/error.h"

static const char kMagic[8] = {'T', 'F', 'J', 'O', 'U', 'R', 'N', 'L'};
enum {
  DESC_AT = 40,    /* the description's offset in the header */
  DESC_LEN = 80,   /* its bytes, NUL-padded */
  INPUTS_AT = 120, /* the number of input files */
};

/* "pi n=1000", what error messages call the job: its name, n and the
 * options that decide its result. */
static void describe(const cli_job_t* job, char* out, size_t len) {
  const jobs_task_t* task = &job->task;
  size_t at = 0;
  base_appendf(out, len, &at, "%s n=%llu", cli_job_name(job),
               (unsigned long long)job->n);
  if (task->entry != NULL && (task->entry->flags & JOBS_LOADS))
    base_appendf(out, len, &at, " kernel %s version %u", task->spec.name,
                 task->spec.version);
  for (int i = 0; i < task->nvalues; i++) {
    const jobs_value_t* v = &task->value[i];
    if (!v->set || v->type == TASKFARM_OPT_OUTPUT) continue;
    base_appendf(out, len, &at, " %s=%s", v->key, v->value);
  }
}

enum { INPUT_FIXED = MASTER_JOURNAL_INPUT_FIXED };

static int job_inputs(const cli_job_t* job) { return job->task.ninputs; }

/* How the command line names input file k ("--a"). */
static void input_option(const cli_job_t* job, int k, char* out, size_t len) {
  snprintf(out, len, "input %d", k + 1);
  for (int i = 0, seen = 0; i < job->task.nvalues; i++) {
    const jobs_value_t* v = &job->task.value[i];
    if (v->type != TASKFARM_OPT_INPUT || !v->set) continue;
    if (seen++ == k) {
      snprintf(out, len, "%s%s",
               job->task.entry->flags & JOBS_LOADS ? "--arg " : "--", v->key);
      return;
    }
  }
}

/* Encodes the header of job into h (MASTER_JOURNAL_HEADER_MAX bytes);
 * returns its size. */
static size_t encode_header(const cli_job_t* job, uint8_t* h) {
  memset(h, 0, MASTER_JOURNAL_HEADER_MAX);
  memcpy(h, kMagic, 8);
  master_put32(h + 8, MASTER_JOURNAL_VERSION);
  master_put64(h + 16, cli_job_results_fingerprint(job));
  master_put32(h + 24, job->task.spec.version);
  master_put32(h + 28, (uint32_t)master_chunk_align(job));
  master_put64(h + 32, job->n);
  char desc[DESC_LEN + 1];
  describe(job, desc, sizeof(desc));
  memcpy(h + DESC_AT, desc, strlen(desc));
  int inputs = job_inputs(job);
  assert(inputs >= 0 && inputs <= JOBS_INPUTS_MAX);
  master_put32(h + INPUTS_AT, (uint32_t)inputs);
  size_t at = MASTER_JOURNAL_HEADER;
  for (int k = 0; k < inputs; k++) {
    const jobs_input_t* in = &job->task.input[k];
    uint32_t len = (uint32_t)strnlen(in->path, sizeof(in->path) - 1);
    master_put64(h + at, in->size);
    master_put64(h + at + 8, in->mtime_ns);
    master_put64(h + at + 16, in->ctime_ns);
    master_put64(h + at + 24, in->dev);
    master_put64(h + at + 32, in->ino);
    master_put32(h + at + 40, len);
    memcpy(h + at + INPUT_FIXED, in->path, len);
    at += INPUT_FIXED + len;
  }
  size_t size = at + 4;
  master_put32(h + 12, (uint32_t)size);
  master_put32(h + at, master_crc32c(0, h, at));
  return size;
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
static int check_inputs(const uint8_t* h, size_t hsize, const cli_job_t* job,
                        const char* path, char* err, size_t errlen) {
  size_t at = MASTER_JOURNAL_HEADER;
  int inputs = job_inputs(job);
  if ((int)master_get32(h + INPUTS_AT) != inputs)
    return proto_fail(err, errlen, PROTO_EJOURNAL,
                      "journal '%s' belongs to another job (its input files "
                      "differ); it is left as it is",
                      path);
  for (int k = 0; k < inputs; k++) {
    if (at + INPUT_FIXED > hsize - 4) break;
    uint32_t len = master_get32(h + at + 40);
    if (at + INPUT_FIXED + len > hsize - 4 || len >= CLI_PATH_MAX) break;
    char then[CLI_PATH_MAX];
    memcpy(then, h + at + INPUT_FIXED, len);
    then[len] = '\0';
    const jobs_input_t* now = &job->task.input[k];
    char opt[JOBS_KEY_MAX + 8];
    input_option(job, k, opt, sizeof(opt));
    if (strcmp(then, now->path) != 0)
      return proto_fail(err, errlen, PROTO_EJOURNAL,
                        "journal '%s' belongs to another job: its %s file "
                        "was '%s', this run's is '%s'; it is left as it is",
                        path, opt, then, now->path);
    uint64_t size = master_get64(h + at), mtime = master_get64(h + at + 8);
    uint64_t ctime = master_get64(h + at + 16);
    if (size != now->size || mtime != now->mtime_ns || ctime != now->ctime_ns ||
        master_get64(h + at + 24) != now->dev ||
        master_get64(h + at + 32) != now->ino) {
      char was[64], is[64];
      format_time(mtime, was, sizeof(was));
      format_time(now->mtime_ns, is, sizeof(is));
      return proto_fail(
          err, errlen, PROTO_EJOURNAL,
          "%s file '%s' changed after journal '%s' was started (then %llu "
          "bytes modified %s, now %llu bytes modified %s%s): its results "
          "would not be this file's; restore the file, or start afresh "
          "with another --journal file",
          opt, now->path, path, (unsigned long long)size, was,
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

static int check_header(const uint8_t* h, size_t size, const cli_job_t* job,
                        const char* path, char* err, size_t errlen) {
  if (size < 8 || memcmp(h, kMagic, 8) != 0)
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "'%s' is not a taskfarm journal; it is left as it is (choose "
        "another --journal file)",
        path);
  if (size >= 12 && master_get32(h + 8) > MASTER_JOURNAL_VERSION)
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "journal '%s' has format version %u, written by a newer "
        "taskfarm; this one reads version %d (use the newer build)",
        path, master_get32(h + 8), MASTER_JOURNAL_VERSION);
  if (size >= 12 && master_get32(h + 8) < MASTER_JOURNAL_OLDEST)
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "journal '%s' has format version %u, written by an older "
        "taskfarm; this one reads versions %d to %d: since format 5 a "
        "job's fingerprint is made from its kernel's declared options, so "
        "an older journal's cannot be compared and its results cannot be "
        "trusted to be this run's (finish it with the older build, or "
        "start afresh with another --journal file)",
        path, master_get32(h + 8), MASTER_JOURNAL_OLDEST,
        MASTER_JOURNAL_VERSION);
  size_t hsize = size >= 16 ? master_get32(h + 12) : 0;
  if (hsize < MASTER_JOURNAL_HEADER + 4 || hsize > size ||
      master_get32(h + hsize - 4) != master_crc32c(0, h, hsize - 4))
    return proto_fail(
        err, errlen, PROTO_EJOURNAL,
        "journal '%s' has a damaged header (checksum); it is left as "
        "it is",
        path);
  if (master_get64(h + 16) != cli_job_results_fingerprint(job) ||
      master_get64(h + 32) != job->n) {
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
static int create_journal(const char* path, const cli_job_t* job, char* err,
                          size_t errlen) {
  char tmp[CLI_PATH_MAX + 32];
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
  char dir[CLI_PATH_MAX];
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

/* Reads the first bytes of fd, up to len, into h: their number, or -1. */
static ssize_t read_head(int fd, uint8_t* h, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = pread(fd, h + got, len - got, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += (size_t)n;
  }
  return (ssize_t)got;
}

/* Makes fd ready for appending after its last trusted byte, valid_end of
 * size: a torn tail is cut off, and writes block again. */
static int ready_to_append(int fd, uint64_t size, uint64_t valid_end,
                           const char* path, char* err, size_t errlen) {
  if (valid_end < size &&
      (ftruncate(fd, (off_t)valid_end) != 0 || fsync(fd) != 0))
    return proto_fail(err, errlen, PROTO_EIO,
                      "cannot cut the damaged tail of journal '%s': %s", path,
                      strerror(errno));
  if (lseek(fd, 0, SEEK_END) < 0)
    return proto_fail(err, errlen, PROTO_EIO, "cannot seek in journal '%s'",
                      path);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
    return proto_fail(err, errlen, PROTO_EIO, "cannot set up journal '%s': %s",
                      path, strerror(errno));
  return 0;
}

int master_journal_open(master_journal_t* j, const char* path,
                        const cli_job_t* job, int resume,
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
  uint64_t size = (uint64_t)st.st_size, valid_end = size;
  uint8_t head[MASTER_JOURNAL_HEADER_MAX];
  ssize_t hlen = read_head(fd, head, sizeof(head));
  int rc = 0;
  if (hlen < 0)
    rc = proto_fail(err, errlen, PROTO_EIO, "cannot read journal '%s': %s",
                    path, strerror(errno));
  else
    rc = check_header(head, (size_t)hlen, job, path, err, errlen);
  if (rc == 0)
    rc = master_records_read(fd, size, master_get32(head + 12), job, load,
                             &valid_end, err, errlen);
  if (rc == 0) rc = ready_to_append(fd, size, valid_end, path, err, errlen);
  if (rc < 0) {
    close(fd);
    master_journal_free_load(load);
    return rc;
  }
  j->fd = fd;
  return 0;
}

int master_journal_append(master_journal_t* j, const master_record_t* r) {
  if (j->len + MASTER_RECORD_MAX > j->cap) {
    size_t cap = j->cap ? 2 * j->cap : 64 * MASTER_RECORD_MAX;
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
