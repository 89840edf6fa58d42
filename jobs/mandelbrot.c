/* mandelbrot: the Mandelbrot set, one index per pixel, row-major from the
 * top left. Costs vary wildly (points inside the set take --max-iter
 * iterations, points far outside one), which makes it the classic test of
 * a dynamic schedule. The result is the exact sum of every pixel's
 * iteration count; with --image, every rank also writes its pixels' gray
 * levels into a PGM file that the master created (prepare), at their
 * offsets, so the image has the same bytes however the pixels were shared
 * out (a copy computed twice writes the same bytes twice). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jobs/jobs.h"
#include "jobs/taskfarm_kernel.h"

enum { PIXELS = 1024 }; /* pixels written to the image at a time */

typedef struct view_s view_t;
struct view_s {
  uint32_t width, height, max_iter;
  double region[4]; /* x0, y0, x1, y1 */
  const char* image;
  int fd; /* the image, opened at the first chunk; -1 before */
  uint8_t gray[PIXELS];
};

/* A whole number from 1 to 1000000 at p, in digits alone (no sign, space
 * or leading zero), into *out; returns where it ends, or NULL. */
static const char* dimension(const char* p, uint32_t* out) {
  if (*p < '1' || *p > '9') return NULL;
  uint32_t v = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    v = v * 10 + (uint32_t)(*p - '0');
    if (v > 1000000) return NULL;
  }
  *out = v;
  return p;
}

/* WxH, in the one spelling of its value: --size is text, kept as given,
 * and what is kept is printed (Pixels = WxH) and fingerprinted, so "+4x4"
 * or "04x4" would be another run of the same image. */
static int parse_size(const char* v, view_t* w, char* err, size_t errlen) {
  const char* p = dimension(v, &w->width);
  p = p != NULL && *p == 'x' ? dimension(p + 1, &w->height) : NULL;
  if (p == NULL || *p != '\0') {
    snprintf(err, errlen,
             "--size takes WxH, two whole numbers from 1 to 1000000 in "
             "digits alone such as 1024x768, got '%s'",
             v);
    return -1;
  }
  return 0;
}

/* X0,Y0,X1,Y1: four finite numbers, X0 < X1 and Y0 < Y1. */
static int parse_region(const char* v, view_t* w, char* err, size_t errlen) {
  const char* at = v;
  for (int k = 0; k < 4; k++) {
    char* end;
    errno = 0;
    w->region[k] = strtod(at, &end);
    if (end == at || errno != 0 || !isfinite(w->region[k]) ||
        fabs(w->region[k]) > 1e6 || *end != (k < 3 ? ',' : '\0')) {
      snprintf(err, errlen,
               "--region takes X0,Y0,X1,Y1 (four numbers, X0 < X1 and Y0 < "
               "Y1), got '%s'",
               v);
      return -1;
    }
    at = end + 1;
  }
  if (!(w->region[0] < w->region[2]) || !(w->region[1] < w->region[3])) {
    snprintf(err, errlen, "--region needs X0 < X1 and Y0 < Y1, got '%s'", v);
    return -1;
  }
  return 0;
}

static int view_of(const taskfarm_arg_t* args, int nargs, view_t* w,
                   char* err, size_t errlen) {
  memset(w, 0, sizeof(*w));
  w->fd = -1;
  w->max_iter = (uint32_t)taskfarm_arg_count(args, nargs, "max-iter", 1000);
  w->image = taskfarm_arg_text(args, nargs, "image", NULL);
  if (parse_size(taskfarm_arg_text(args, nargs, "size", "1024x768"), w, err,
                 errlen) < 0)
    return -1;
  return parse_region(
      taskfarm_arg_text(args, nargs, "region", "-2.5,-1.25,1,1.25"), w, err,
      errlen);
}

/* Iterations of z = z^2 + c, from z = 0, until |z|^2 > 4 or max_iter, at
 * the centre of pixel i. */
static uint32_t pixel(const view_t* w, uint64_t i) {
  uint64_t row = i / w->width, col = i % w->width;
  double x0 = w->region[0], y0 = w->region[1];
  double x1 = w->region[2], y1 = w->region[3];
  double cr = x0 + ((double)col + 0.5) * ((x1 - x0) / (double)w->width);
  double ci = y1 - ((double)row + 0.5) * ((y1 - y0) / (double)w->height);
  double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
  uint32_t k = 0;
  while (k < w->max_iter && zr2 + zi2 <= 4.0) {
    zi = 2.0 * zr * zi + ci;
    zr = zr2 - zi2 + cr;
    zr2 = zr * zr;
    zi2 = zi * zi;
    k++;
  }
  return k;
}

/* 0 inside the set, else 255 * sqrt(count / max_iter), at least 1. */
static uint8_t gray(uint32_t count, uint32_t max_iter) {
  if (count >= max_iter) return 0;
  double g = 255.0 * sqrt((double)count / (double)max_iter);
  return g < 1.0 ? 1 : (uint8_t)g;
}

/* The PGM header ("P5\nW H\n255\n") into buf; returns its length. */
static size_t header(const view_t* w, char* buf, size_t len) {
  int n = snprintf(buf, len, "P5\n%u %u\n255\n", w->width, w->height);
  return n > 0 ? (size_t)n : 0;
}

static int size(const taskfarm_arg_t* args, int nargs, uint64_t* n, char* err,
                size_t errlen) {
  view_t w;
  if (view_of(args, nargs, &w, err, errlen) < 0) return -1;
  *n = (uint64_t)w.width * w.height;
  return 0;
}

/* The image file, created with its header and its full length on rank 0
 * before any chunk; on a resume it must be the run's own already. */
static int prepare(const taskfarm_arg_t* args, int nargs, uint64_t n,
                   int resume, char* err, size_t errlen) {
  view_t w;
  if (view_of(args, nargs, &w, err, errlen) < 0) return -1;
  if (w.image == NULL) return 0;
  char head[64];
  size_t hlen = header(&w, head, sizeof(head));
  off_t bytes = (off_t)(hlen + n);
  struct stat st;
  off_t have = stat(w.image, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : 0;
  if (resume) {
    /* The pixels of the chunks in the journal are in the image already. */
    if (have == bytes) return 0;
    snprintf(err, errlen,
             "--image file '%s' is not the image of the run being resumed "
             "(%lld bytes, a %ux%u image has %lld): the pixels the journal "
             "holds would be missing; start afresh with another --journal",
             w.image, (long long)have, w.width, w.height, (long long)bytes);
    return -1;
  }
  int fd = open(w.image, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC,
                0644);
  int ok = fd >= 0 && write(fd, head, hlen) == (ssize_t)hlen &&
           ftruncate(fd, bytes) == 0;
  int saved = errno;
  if (fd >= 0) close(fd);
  if (ok) return 0;
  snprintf(err, errlen, "cannot write --image file '%s': %s", w.image,
           strerror(saved));
  return -1;
}

static int init(void** state, uint64_t n, const taskfarm_arg_t* args,
                int nargs, char* err, size_t errlen) {
  (void)n;
  view_t* w = malloc(sizeof(*w));
  if (w == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (view_of(args, nargs, w, err, errlen) < 0) {
    free(w);
    return -1;
  }
  *state = w;
  return 0;
}

static void close_view(void* state) {
  view_t* w = state;
  if (w != NULL && w->fd >= 0) close(w->fd);
  free(w);
}

/* Writes the gray levels of pixels [at, at + len) at their offsets. */
static int write_pixels(view_t* w, uint64_t at, size_t len, char* err,
                        size_t errlen) {
  if (w->fd < 0) {
    w->fd = open(w->image, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (w->fd < 0) {
      snprintf(err, errlen,
               "cannot open --image file '%s': %s (every rank writes its "
               "pixels into it: it must be on a file system they share)",
               w->image, strerror(errno));
      return -1;
    }
  }
  char head[64];
  off_t off = (off_t)(header(w, head, sizeof(head)) + at);
  for (size_t done = 0; done < len;) {
    ssize_t n = pwrite(w->fd, w->gray + done, len - done, off + (off_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      snprintf(err, errlen, "cannot write --image file '%s': %s", w->image,
               n < 0 ? strerror(errno) : "nothing written");
      return -1;
    }
    done += (size_t)n;
  }
  return 0;
}

static int compute(void* state, uint64_t begin, uint64_t end,
                   const taskfarm_out_t* out, char* err, size_t errlen) {
  view_t* w = state;
  /* Counts up to 1e9 each: 2^64 is reached within 2e10 pixels, a range a
   * large --chunk may hold. */
  unsigned __int128 sum = 0;
  for (uint64_t at = begin; at < end; at += PIXELS) {
    uint64_t stop = end - at < PIXELS ? end : at + PIXELS;
    for (uint64_t i = at; i < stop; i++) {
      uint32_t c = pixel(w, i);
      sum += c;
      w->gray[i - at] = gray(c, w->max_iter);
    }
    if (w->image != NULL &&
        write_pixels(w, at, (size_t)(stop - at), err, errlen) < 0)
      return -1;
  }
  out->add_uint128(out->ctx, (uint64_t)(sum >> 64), (uint64_t)sum);
  return 0;
}

static const taskfarm_option_t kOptions[] = {
    {"size", TASKFARM_OPT_TEXT, "WxH", "the image's width and height, pixels",
     "1024x768", 0, 0, NULL},
    {"region", TASKFARM_OPT_TEXT, "X0,Y0,X1,Y1",
     "the part of the complex plane it shows", "-2.5,-1.25,1,1.25", 0, 0,
     NULL},
    {"max-iter", TASKFARM_OPT_COUNT, "N", "iterations before a point counts as "
     "inside the set", "1000", 1, 1e9, NULL},
    {"image", TASKFARM_OPT_OUTPUT, "FILE.pgm",
     "also write the image (gray, PGM) here, on a file system every rank "
     "shares",
     NULL, 0, 0, NULL},
    {NULL}};
static const char* const kLines[] = {"Iterations = {uint}",
                                     "Pixels = {opt:size}", NULL};

static const taskfarm_kernel_t kMandelbrot = {
    .abi = TASKFARM_KERNEL_ABI,
    .name = "mandelbrot",
    .version = 2,
    .result = TASKFARM_RESULT_INT,
    .align = 1,
    .n_max = (uint64_t)1000000 * 1000000,
    .init = init,
    .compute = compute,
    .close = close_view,
    .help = "The Mandelbrot set, one index per pixel (n = W x H), row-major\n"
            "from the top left: costs vary from 1 iteration to --max-iter,\n"
            "the classic case for a dynamic schedule. The result is the exact\n"
            "sum of the pixels' iteration counts.\n",
    .options = kOptions,
    .lines = kLines,
    .n_what = "pixels",
    .size = size,
    .prepare = prepare,
    .slice = 1024, /* pixels: up to a few ms inside the set */
};

JOBS_REGISTER(mandelbrot, "mandelbrot",
              "the Mandelbrot set, one pixel an index (--image writes it)",
              &kMandelbrot, 0, 0);
