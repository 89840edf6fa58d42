/* dot --a A --b B: the dot product of two files of little-endian float64,
 * every product exact and the sum exact until it is rounded once at the
 * end. Every rank reads its chunks' blocks from the files, which must be
 * on a file system they share. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jobs/jobs.h"
#include "jobs/taskfarm_kernel.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "file dot products read little-endian float64 directly"
#endif

enum { BLOCK = 8192 }; /* elements per pread */

typedef struct files_s files_t;
struct files_s {
  int fd[2];
  const char* path[2];
  double buf[2][BLOCK];
};

/* Each file's size in bytes; 0, or -1 with a sentence in err. */
static int sizes(const char* const path[2], off_t size[2], char* err,
                 size_t errlen) {
  for (int i = 0; i < 2; i++) {
    struct stat st;
    if (path[i] == NULL) {
      snprintf(err, errlen, "dot with files needs both --a FILE and --b FILE");
      return -1;
    }
    if (stat(path[i], &st) != 0) {
      snprintf(err, errlen, "cannot stat --%c file '%s': %s", 'a' + i,
               path[i], strerror(errno));
      return -1;
    }
    size[i] = st.st_size;
    if (size[i] % 8 != 0) {
      snprintf(err, errlen,
               "--%c file '%s' has %lld bytes, not a whole number of float64 "
               "(8 bytes each)",
               'a' + i, path[i], (long long)size[i]);
      return -1;
    }
  }
  return 0;
}

static int size(const taskfarm_arg_t* args, int nargs, uint64_t* n, char* err,
                size_t errlen) {
  const char* path[2] = {taskfarm_arg_text(args, nargs, "a", NULL),
                         taskfarm_arg_text(args, nargs, "b", NULL)};
  off_t bytes[2];
  if (sizes(path, bytes, err, errlen) < 0) return -1;
  if (bytes[0] != bytes[1]) {
    snprintf(err, errlen,
             "--a has %lld elements but --b has %lld: the vectors must have "
             "the same length",
             (long long)(bytes[0] / 8), (long long)(bytes[1] / 8));
    return -1;
  }
  if (bytes[0] == 0) {
    snprintf(err, errlen, "--a and --b files are empty");
    return -1;
  }
  *n = (uint64_t)bytes[0] / 8;
  return 0;
}

static void close_files(void* state) {
  files_t* f = state;
  if (f == NULL) return;
  for (int i = 0; i < 2; i++)
    if (f->fd[i] >= 0) close(f->fd[i]);
  free(f);
}

static int init(void** state, uint64_t n, const taskfarm_arg_t* args,
                int nargs, char* err, size_t errlen) {
  (void)n;
  files_t* f = malloc(sizeof(*f));
  if (f == NULL) {
    snprintf(err, errlen, "out of memory for the file dot product's buffers");
    return -1;
  }
  f->path[0] = taskfarm_arg_text(args, nargs, "a", "");
  f->path[1] = taskfarm_arg_text(args, nargs, "b", "");
  f->fd[0] = f->fd[1] = -1;
  *state = f;
  for (int i = 0; i < 2; i++) {
    f->fd[i] = open(f->path[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f->fd[i] < 0) {
      snprintf(err, errlen, "cannot open --%c file '%s': %s", 'a' + i,
               f->path[i], strerror(errno));
      close_files(f);
      *state = NULL;
      return -1;
    }
  }
  return 0;
}

/* Reads len bytes at off of file i; on failure says why in err. */
static int read_exact(const files_t* f, int i, void* buf, size_t len,
                      off_t off, char* err, size_t errlen) {
  char* p = buf;
  while (len > 0) {
    ssize_t got = pread(f->fd[i], p, len, off);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      snprintf(err, errlen, "cannot read --%c file '%s' at byte %lld: %s",
               'a' + i, f->path[i], (long long)off, strerror(errno));
      return -1;
    }
    if (got == 0) {
      snprintf(err, errlen,
               "--%c file '%s' ends before byte %lld: it was cut short after "
               "the run started",
               'a' + i, f->path[i], (long long)(off + (off_t)len));
      return -1;
    }
    p += got;
    len -= (size_t)got;
    off += got;
  }
  return 0;
}

static int compute(void* state, uint64_t begin, uint64_t end,
                   const taskfarm_out_t* out, char* err, size_t errlen) {
  files_t* f = state;
  for (uint64_t at = begin; at < end; at += BLOCK) {
    size_t count = end - at < BLOCK ? (size_t)(end - at) : BLOCK;
    off_t off = (off_t)(at * sizeof(double));
    for (int i = 0; i < 2; i++)
      if (read_exact(f, i, f->buf[i], count * sizeof(double), off, err,
                     errlen) < 0)
        return -1;
    out->add_products(out->ctx, f->buf[0], f->buf[1], count);
  }
  return 0;
}

static const taskfarm_option_t kOptions[] = {
    {"a", TASKFARM_OPT_INPUT, "FILE",
     "the first vector: float64, little-endian", NULL, 0, 0, NULL},
    {"b", TASKFARM_OPT_INPUT, "FILE", "the second vector, of the same length",
     NULL, 0, 0, NULL},
    {NULL}};
static const char* const kLines[] = {"Dot product is {float:.17g}",
                                     "Dot bits = {bits}", "Elements = {n}",
                                     NULL};

static const taskfarm_kernel_t kDotFiles = {
    .abi = TASKFARM_KERNEL_ABI,
    .name = "dot-files",
    .version = 2,
    .result = TASKFARM_RESULT_FLOAT,
    .align = 1,
    .init = init,
    .compute = compute,
    .close = close_files,
    .help = "The dot product of two files of float64 (--a, --b; n is their\n"
            "length), every product and the sum exact until the one rounding\n"
            "at the end. The files must be where every rank can read them.\n",
    .options = kOptions,
    .lines = kLines,
    .n_what = "elements",
    .size = size,
    .slice = (uint64_t)1 << 16,
};

JOBS_REGISTER(dot_files, "dot", "the dot product of two float64 files",
              &kDotFiles, 0, 1);
