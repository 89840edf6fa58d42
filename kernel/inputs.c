/* kernel/inputs.h. */
/* realpath() */
#define _XOPEN_SOURCE 700
#include "kernel/inputs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/error.h"

int kernel_input_identity(const char* path, const char* opt,
                          jobs_input_t* in, char* err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return proto_fail(err, errlen, PROTO_EFILE, "cannot open %s file '%s': %s",
                      opt, path, strerror(errno));
  struct stat st;
  int rc = fstat(fd, &st);
  int saved = errno;
  close(fd);
  if (rc < 0)
    return proto_fail(err, errlen, PROTO_EFILE, "cannot stat %s file '%s': %s",
                      opt, path, strerror(saved));
  if (!S_ISREG(st.st_mode))
    return proto_fail(
        err, errlen, PROTO_EFILE,
        "%s file '%s' is not a regular file (it is %s)", opt, path,
        S_ISDIR(st.st_mode)                          ? "a folder"
        : S_ISFIFO(st.st_mode)                       ? "a FIFO"
        : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                     : "a socket");
  memset(in, 0, sizeof(*in));
  char canon[PATH_MAX];
  if (realpath(path, canon) == NULL || strlen(canon) >= sizeof(in->path))
    snprintf(in->path, sizeof(in->path), "%s", path);
  else
    memcpy(in->path, canon, strlen(canon) + 1);
  in->size = (uint64_t)st.st_size;
  in->mtime_ns =
      (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
  in->ctime_ns =
      (uint64_t)st.st_ctim.tv_sec * 1000000000u + (uint64_t)st.st_ctim.tv_nsec;
  in->dev = (uint64_t)st.st_dev;
  in->ino = (uint64_t)st.st_ino;
  return 0;
}

int kernel_input_hash(const char* path, const char* opt, uint64_t* out,
                      char* err, size_t errlen) {
  jobs_input_t in;
  int rc = kernel_input_identity(path, opt, &in, err, errlen);
  if (rc < 0) return rc;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return proto_fail(err, errlen, PROTO_EFILE, "cannot open %s file '%s': %s",
                      opt, path, strerror(errno));
  uint64_t h = 14695981039346656037ull;
  unsigned char buf[65536];
  for (;;) {
    ssize_t got = read(fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int saved = errno;
      close(fd);
      return proto_fail(err, errlen, PROTO_EFILE,
                        "cannot read %s file '%s': %s", opt, path,
                        strerror(saved));
    }
    if (got == 0) break;
    for (ssize_t i = 0; i < got; i++) {
      h ^= buf[i];
      h *= 1099511628211ull;
    }
  }
  close(fd);
  *out = h;
  return 0;
}
