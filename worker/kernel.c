/* Kernels. The pi grain sum (pi_grain.c) is compiled once per x86-64 level
 * and picked at run time; every operation is an IEEE add, multiply, subtract
 * or divide on independent lanes with FMA contraction off (.bazelrc), so
 * every path gives the same bits and a chunk re-issued to another node gives
 * the same partial result. */
#include "worker/kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/error.h"
#include "worker/loop.h"
#include "worker/mandel.h"
#include "worker/plugin.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "file dot products read little-endian float64 directly"
#endif

enum { FILE_BLOCK = 8192 }; /* elements per pread */

/* Products at least this large (and finite) split exactly as p + e with
 * e = fma(a, b, -p): e's bits then lie above the subnormal range. Smaller
 * ones (and overflowing ones) take the scaled split. */
static const double DOT_SAFE_MIN = 0x1p-968;

/* The farm's side of taskfarm_out_t: where a chunk's contributions go. */
typedef struct sums_s sums_t;
struct sums_s {
  proto_exact_t* fsum;
  unsigned __int128* isum;
  const kernel_t* k;
};

static void out_add_double(void* ctx, double v) {
  proto_exact_add(((sums_t*)ctx)->fsum, v);
}
static void out_add_int(void* ctx, int64_t v) {
  *((sums_t*)ctx)->isum += (unsigned __int128)(__int128)v;
}
static void out_add_uint128(void* ctx, uint64_t hi, uint64_t lo) {
  *((sums_t*)ctx)->isum += (unsigned __int128)hi << 64 | lo;
}
static void out_keep_alive(void* ctx) {
  const kernel_t* k = ((sums_t*)ctx)->k;
  if (k->beat != NULL) k->beat(k->beat_arg);
}

int kernel_init(kernel_t* k, const proto_job_t* job) {
  memset(k, 0, sizeof(*k));
  k->job = job;
  k->fd_a = -1;
  k->fd_b = -1;
  k->fd_image = -1;
  if (job->kind != PROTO_JOB_RUN) {
    k->impl = kernel_builtin(job->kind);
    k->state = k;
  } else {
    int rc = plugin_load(job->kernel_path, &k->dl, &k->impl, k->what,
                         sizeof(k->what));
    if (rc < 0) return rc;
    if (k->impl->init != NULL) {
      taskfarm_arg_t args[PROTO_ARGS_MAX];
      /* Static: a kernel may keep the strings it was given. */
      static char copy[PROTO_ARGS_MAX][PROTO_ARG_BYTES];
      int nargs = plugin_args(job, args, copy);
      char why[256] = "";
      if (k->impl->init(&k->state, job->n, args, nargs, why, sizeof(why)) !=
          0) {
        snprintf(k->what, sizeof(k->what), "--kernel '%s' (%s): %s",
                 job->kernel_path, k->impl->name,
                 why[0] ? why : "its init failed without saying why");
        k->impl = NULL; /* close is not called for a failed init */
        return PROTO_EINVAL;
      }
    }
  }
  if (job->kind != PROTO_JOB_DOTF) return 0;
  k->buf = malloc(2 * FILE_BLOCK * sizeof(double));
  if (k->buf == NULL) return PROTO_ENOMEM;
  const char* path[2] = {job->a_path, job->b_path};
  int* fd[2] = {&k->fd_a, &k->fd_b};
  for (int i = 0; i < 2; i++) {
    *fd[i] = open(path[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (*fd[i] < 0) {
      snprintf(k->what, sizeof(k->what), "cannot open --%c file '%s': %s",
               'a' + i, path[i], strerror(errno));
      return PROTO_EFILE;
    }
  }
  return 0;
}

void kernel_close(kernel_t* k) {
  if (k->job != NULL && k->job->kind == PROTO_JOB_RUN && k->impl != NULL &&
      k->impl->close != NULL)
    k->impl->close(k->state);
  k->impl = NULL;
  k->state = NULL;
  plugin_unload(k->dl);
  k->dl = NULL;
  if (k->fd_a >= 0) close(k->fd_a);
  if (k->fd_b >= 0) close(k->fd_b);
  if (k->fd_image >= 0) close(k->fd_image);
  k->fd_image = -1;
  free(k->gray);
  k->gray = NULL;
  free(k->buf);
  k->fd_a = k->fd_b = -1;
  k->buf = NULL;
}

/* kernel_probe's work, in the process that calls it. */
static int probe_here(proto_job_t* job, char* err, size_t errlen) {
  static kernel_t k; /* what[] is large */
  int rc = kernel_init(&k, job);
  if (rc == 0) {
    const taskfarm_kernel_t* d = k.impl;
    uint64_t n_max = d->n_max ? d->n_max : PROTO_RUN_N_MAX;
    if (job->n > n_max) {
      snprintf(k.what, sizeof(k.what),
               "--n %llu is beyond the largest n kernel %s takes, %llu",
               (unsigned long long)job->n, d->name, (unsigned long long)n_max);
      rc = PROTO_EINVAL;
    }
    job->align = d->align ? d->align : 1;
    job->kernel_result = d->result;
    job->kernel_version = d->version;
    snprintf(job->kernel_name, sizeof(job->kernel_name), "%s", d->name);
  }
  if (rc < 0) {
    size_t n = strnlen(k.what, errlen - 1);
    memcpy(err, k.what, n);
    err[n] = '\0';
  }
  kernel_close(&k);
  return rc < 0 ? PROTO_EINVAL : 0;
}

void kernel_default_crash_signals(void) {
  static const int crash[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS,
                              SIGTRAP};
  for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
    signal(crash[i], SIG_DFL);
}

/* What a probe's child tells its parent. */
typedef struct probe_report_s {
  int rc;
  uint64_t align;
  uint32_t result;
  uint32_t version;
  char name[64];
  char err[512];
} probe_report_t;

int kernel_probe(proto_job_t* job, char* err, size_t errlen) {
  if (job->kind != PROTO_JOB_RUN) return 0;
  /* The object's constructors and init are foreign code: they run in a
   * child, so a crash, an exit or a hang there is reported, not suffered. */
  int pipefd[2];
  if (pipe(pipefd) != 0)
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "cannot try --kernel '%s': %s", job->kernel_path,
                      strerror(errno));
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "cannot try --kernel '%s': %s", job->kernel_path,
                      strerror(errno));
  }
  if (pid == 0) {
    close(pipefd[0]);
    kernel_default_crash_signals();
    static probe_report_t r;
    r.rc = probe_here(job, r.err, sizeof(r.err));
    r.align = job->align;
    r.result = job->kernel_result;
    r.version = job->kernel_version;
    memcpy(r.name, job->kernel_name, sizeof(r.name));
    ssize_t n = write(pipefd[1], &r, sizeof(r));
    _exit(n == (ssize_t)sizeof(r) ? 0 : 1);
  }
  close(pipefd[1]);
  static probe_report_t r;
  size_t got = 0;
  uint64_t limit_ms = (uint64_t)(job->master_timeout * 1e3);
  uint64_t waited_ms = 0;
  while (got < sizeof(r) && waited_ms <= limit_ms) {
    struct pollfd p = {pipefd[0], POLLIN, 0};
    int ready = poll(&p, 1, 100);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      waited_ms += 100;
      continue;
    }
    ssize_t n = read(pipefd[0], (char*)&r + got, sizeof(r) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(pipefd[0]);
  if (got < sizeof(r)) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got < sizeof(r)) {
    if (waited_ms > limit_ms)
      return proto_fail(err, errlen, PROTO_EINVAL,
                        "--kernel '%s' did not finish loading and its init "
                        "within %.0f s (--master-timeout)",
                        job->kernel_path, job->master_timeout);
    if (WIFSIGNALED(status))
      return proto_fail(err, errlen, PROTO_EINVAL,
                        "--kernel '%s' crashed while it was loaded and "
                        "initialised (signal %d, %s)",
                        job->kernel_path, WTERMSIG(status),
                        strsignal(WTERMSIG(status)));
    return proto_fail(err, errlen, PROTO_EINVAL,
                      "--kernel '%s' ended the process while it was loaded "
                      "and initialised (exit status %d): a kernel must never "
                      "call exit",
                      job->kernel_path,
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  r.err[sizeof(r.err) - 1] = '\0';
  r.name[sizeof(r.name) - 1] = '\0';
  if (r.rc < 0) return proto_fail(err, errlen, r.rc, "%s", r.err);
  job->align = r.align;
  job->kernel_result = r.result;
  job->kernel_version = r.version;
  memcpy(job->kernel_name, r.name, sizeof(job->kernel_name));
  return 0;
}

static double pair_term(double x) { return 8.0 / (x * x - 1.0); }

int kernel_pi_path_supported(kernel_pi_path_t path) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  switch (path) {
    case KERNEL_PI_SSE2:
      return 1;
    case KERNEL_PI_AVX2:
      return __builtin_cpu_supports("x86-64-v3") != 0;
    case KERNEL_PI_AVX512:
      return __builtin_cpu_supports("x86-64-v4") != 0;
    case KERNEL_PI_PATHS:
      break;
  }
#else
  (void)path;
#endif
  return 0;
}

const char* kernel_pi_path_name(kernel_pi_path_t path) {
  static const char* const names[] = {"sse2", "avx2", "avx512"};
  return (unsigned)path < KERNEL_PI_PATHS ? names[path] : "?";
}

kernel_pi_path_t kernel_pi_path(void) {
  static int chosen = -1;
  if (chosen >= 0) return (kernel_pi_path_t)chosen;
  const char* want = getenv("TASKFARM_PI_PATH");
  for (int p = KERNEL_PI_PATHS - 1; p >= 0 && chosen < 0; p--)
    if (kernel_pi_path_supported((kernel_pi_path_t)p) &&
        (want == NULL || strcmp(want, kernel_pi_path_name(p)) == 0))
      chosen = p;
  if (chosen < 0) chosen = KERNEL_PI_SSE2; /* named a path this CPU lacks */
  return (kernel_pi_path_t)chosen;
}

int kernel_dot_fast(const double* a, const double* b, size_t count,
                    double* out) {
  switch (kernel_pi_path()) {
    case KERNEL_PI_AVX512:
      return kernel_dot_fast_avx512(a, b, count, out);
    case KERNEL_PI_AVX2:
      return kernel_dot_fast_avx2(a, b, count, out);
    default:
      return kernel_dot_fast_sse2(a, b, count, out);
  }
}

double kernel_pi_grain(uint64_t begin, uint64_t end) {
  switch (kernel_pi_path()) {
    case KERNEL_PI_AVX512:
      return kernel_pi_grain_avx512(begin, end);
    case KERNEL_PI_AVX2:
      return kernel_pi_grain_avx2(begin, end);
    default:
      return kernel_pi_grain_sse2(begin, end);
  }
}

static int pi_compute(void* state, uint64_t begin, uint64_t end,
                      const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)err, (void)errlen;
  uint64_t n = ((kernel_t*)state)->job->n;
  for (uint64_t g = begin; g < end; g += PROTO_PI_GRAIN) {
    uint64_t ge = g + PROTO_PI_GRAIN < n ? g + PROTO_PI_GRAIN : n;
    if (g >= KERNEL_PI_EXACT_TERMS) {
      out->add_double(out->ctx, kernel_pi_grain(g, ge));
      continue;
    }
    /* Low terms: every pair rounded once, then summed exactly. */
    for (uint64_t i = g; i + 1 < ge; i += 2)
      out->add_double(out->ctx, pair_term(2.0 * (double)i + 2.0));
    if ((ge - g) % 2)
      out->add_double(out->ctx, 4.0 / (2.0 * (double)(ge - 1) + 1.0));
  }
  return 0;
}

unsigned __int128 kernel_dot_gen_scalar(uint64_t n, uint64_t begin,
                                        uint64_t end) {
  /* Two independent accumulators let the multiplies overlap. */
  unsigned __int128 s0 = 0, s1 = 0;
  uint64_t i = begin;
  for (; i + 1 < end; i += 2) {
    s0 += (unsigned __int128)(i + 1) * (n - i);
    s1 += (unsigned __int128)(i + 2) * (n - i - 1);
  }
  if (i < end) s0 += (unsigned __int128)(i + 1) * (n - i);
  return s0 + s1;
}

unsigned __int128 kernel_dot_gen(uint64_t n, uint64_t begin, uint64_t end) {
  if (kernel_pi_path() >= KERNEL_PI_AVX2)
    return kernel_dot_gen_avx2(n, begin, end);
  return kernel_dot_gen_scalar(n, begin, end);
}

/* Adds sum a[i]*b[i] exactly, one element at a time into the accumulator:
 * the always-correct path. Consecutive elements go to four separate digit
 * arrays, folded in at the end, so consecutive adds do not wait on each
 * other. */
static void dot_block_exact(const double* a, const double* b, size_t count,
                            proto_exact_t* fsum) {
  int64_t part[4][PROTO_EXACT_DIGITS];
  memset(part, 0, sizeof(part));
  for (size_t i = 0; i < count; i++) {
    double p = a[i] * b[i];
    int64_t* d = part[i % 4];
    if (isfinite(p) && fabs(p) >= DOT_SAFE_MIN) {
      /* a*b = p + e exactly, e = fma(a, b, -p) representable: nothing near
       * the ends of the double range. */
      proto_exact_add_digits(d, p);
      double e = fma(a[i], b[i], -p);
      if (e != 0) proto_exact_add_digits(d, e);
    } else if (isfinite(a[i]) && isfinite(b[i])) {
      /* A product that overflows, underflows or is subnormal: split it
       * exactly after scaling both factors. */
      proto_exact_add_product_digits(d, a[i], b[i]);
    } else {
      proto_exact_add(fsum, p); /* an infinity or NaN, as IEEE says */
    }
  }
  for (int j = 0; j < PROTO_EXACT_DIGITS; j++)
    fsum->digit[j] += part[0][j] + part[1][j] + part[2][j] + part[3][j];
  proto_exact_add_done(fsum, (uint32_t)count);
}

/* The fast path of the best level this CPU has (worker/dot_fast.c): the
 * lanes' expansions, added exactly here, then the block's tail. 0 when the
 * block needs the exact path. */
static int dot_block_fast(const double* a, const double* b, size_t count,
                          proto_exact_t* fsum) {
  double lanes[KERNEL_DOT_FAST_OUT];
  if (!kernel_dot_fast(a, b, count, lanes)) return 0;
  for (int l = 0; l < KERNEL_DOT_FAST_OUT; l++) proto_exact_add(fsum, lanes[l]);
  size_t full = count / KERNEL_DOT_LANES * KERNEL_DOT_LANES;
  dot_block_exact(a + full, b + full, count - full, fsum);
  return 1;
}

static void dot_block(kernel_t* k, const double* a, const double* b,
                      size_t count, proto_exact_t* fsum) {
  if (dot_block_fast(a, b, count, fsum)) {
    k->blocks_fast++;
  } else {
    k->blocks_exact++;
    dot_block_exact(a, b, count, fsum);
  }
}

/* Reads len bytes at off of the --a (which 0) or --b (1) file; on failure
 * says why in k->what. */
static int read_exact(kernel_t* k, int which, void* buf, size_t len,
                      off_t off) {
  int fd = which == 0 ? k->fd_a : k->fd_b;
  const char* path = which == 0 ? k->job->a_path : k->job->b_path;
  char* p = buf;
  while (len > 0) {
    ssize_t got = pread(fd, p, len, off);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      snprintf(k->what, sizeof(k->what),
               "cannot read --%c file '%s' at byte %lld: %s", 'a' + which, path,
               (long long)off, strerror(errno));
      return PROTO_EIO;
    }
    if (got == 0) {
      snprintf(k->what, sizeof(k->what),
               "--%c file '%s' ends before byte %lld: it was cut short after "
               "the run started",
               'a' + which, path, (long long)(off + (off_t)len));
      return PROTO_EIO;
    }
    p += got;
    len -= (size_t)got;
    off += got;
  }
  return 0;
}

static int dotf_compute(void* state, uint64_t begin, uint64_t end,
                        const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)err, (void)errlen;
  kernel_t* k = state;
  /* A built-in kernel knows the farm's side of out: the products go into
   * the accumulator a block at a time. */
  proto_exact_t* fsum = ((sums_t*)out->ctx)->fsum;
  double* a = k->buf;
  double* b = k->buf + FILE_BLOCK;
  for (uint64_t at = begin; at < end; at += FILE_BLOCK) {
    size_t count = end - at < FILE_BLOCK ? (size_t)(end - at) : FILE_BLOCK;
    off_t off = (off_t)(at * sizeof(double));
    int rc = read_exact(k, 0, a, count * sizeof(double), off);
    if (rc == 0) rc = read_exact(k, 1, b, count * sizeof(double), off);
    if (rc < 0) return rc;
    dot_block(k, a, b, count, fsum);
  }
  return 0;
}

static int dot_compute(void* state, uint64_t begin, uint64_t end,
                       const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)err, (void)errlen;
  unsigned __int128 v = kernel_dot_gen(((kernel_t*)state)->job->n, begin, end);
  out->add_uint128(out->ctx, (uint64_t)(v >> 64), (uint64_t)v);
  return 0;
}

static int noop_compute(void* state, uint64_t begin, uint64_t end,
                        const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)state, (void)begin, (void)end, (void)out, (void)err, (void)errlen;
  return 0;
}

/* Iteration i: its cost's worth of CPU work, and its hash into the sum. */
static int loop_compute(void* state, uint64_t begin, uint64_t end,
                        const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)err, (void)errlen;
  kernel_t* k = state;
  const proto_job_t* job = k->job;
  if (k->scale == 0) k->scale = loop_calibrate();
  unsigned __int128 sum = 0;
  /* A long iteration is spun in pieces of about 10 ms, the farm told in
   * between that this rank is alive. */
  const uint64_t piece = k->scale * 10000;
  for (uint64_t i = begin; i < end; i++) {
    uint64_t units =
        (uint64_t)(loop_cost_ns(job, i) * (double)k->scale / 1000.0);
    for (; units > piece; units -= piece) {
      loop_spin(piece);
      out->keep_alive(out->ctx);
    }
    loop_spin(units);
    sum += loop_hash(job->seed, i);
  }
  out->add_uint128(out->ctx, (uint64_t)(sum >> 64), (uint64_t)sum);
  return 0;
}

/* Pixel i's count into the sum and, with --image, its gray level into the
 * image file at its offset: every rank writes its own pixels into the file
 * the master created, so the image is the same bytes however the pixels
 * were shared out (a copy computed twice writes the same bytes twice). */
static int mandel_compute(void* state, uint64_t begin, uint64_t end,
                          const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)err, (void)errlen;
  kernel_t* k = state;
  const proto_job_t* job = k->job;
  int image = job->image[0] != '\0';
  if (image && k->fd_image < 0) {
    k->fd_image = open(job->image, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (k->fd_image < 0) {
      snprintf(k->what, sizeof(k->what),
               "cannot open --image file '%s': %s (every rank writes its "
               "pixels into it: it must be on a file system they share)",
               job->image, strerror(errno));
      return PROTO_EIO;
    }
  }
  if (image && k->gray == NULL) {
    k->gray = malloc(proto_job_slice(job));
    if (k->gray == NULL) return PROTO_ENOMEM;
  }
  /* Counts up to 1e9 each: 2^64 is reached within 2e10 pixels, a range a
   * large --chunk may hold. */
  unsigned __int128 sum = 0;
  uint64_t slice = proto_job_slice(job);
  for (uint64_t at = begin; at < end; at += slice) {
    uint64_t stop = end - at < slice ? end : at + slice;
    for (uint64_t i = at; i < stop; i++) {
      uint32_t c = mandel_pixel(job, i);
      sum += c;
      if (image) k->gray[i - at] = mandel_gray(c, job->max_iter);
    }
    if (!image) continue;
    char header[64];
    off_t off = (off_t)(proto_image_header(job, header, sizeof(header)) + at);
    size_t len = (size_t)(stop - at);
    for (size_t done = 0; done < len;) {
      ssize_t n =
          pwrite(k->fd_image, k->gray + done, len - done, off + (off_t)done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        snprintf(k->what, sizeof(k->what), "cannot write --image file '%s': %s",
                 job->image, n < 0 ? strerror(errno) : "nothing written");
        return PROTO_EIO;
      }
      done += (size_t)n;
    }
  }
  out->add_uint128(out->ctx, (uint64_t)(sum >> 64), (uint64_t)sum);
  return 0;
}

/* The built-in kernels, on the interface a user's kernel uses. Their state
 * is the kernel_t itself (set by kernel_init, no init/close of their own);
 * versions are PROTO_KERNEL_VERSION, in the job's fingerprint. */
static const taskfarm_kernel_t kBuiltin[] = {
    [PROTO_JOB_PI] = {TASKFARM_KERNEL_ABI, "pi", PROTO_KERNEL_VERSION,
                      TASKFARM_RESULT_FLOAT, PROTO_PI_GRAIN, PROTO_PI_N_MAX,
                      NULL, pi_compute, NULL},
    [PROTO_JOB_DOT] = {TASKFARM_KERNEL_ABI, "dot", PROTO_KERNEL_VERSION,
                       TASKFARM_RESULT_INT, 1, PROTO_DOT_N_MAX, NULL,
                       dot_compute, NULL},
    [PROTO_JOB_DOTF] = {TASKFARM_KERNEL_ABI, "dot-files", PROTO_KERNEL_VERSION,
                        TASKFARM_RESULT_FLOAT, 1, 0, NULL, dotf_compute, NULL},
    [PROTO_JOB_NOOP] = {TASKFARM_KERNEL_ABI, "noop", PROTO_KERNEL_VERSION,
                        TASKFARM_RESULT_INT, 1, PROTO_NOOP_N_MAX, NULL,
                        noop_compute, NULL},
    [PROTO_JOB_LOOP] = {TASKFARM_KERNEL_ABI, "loop", PROTO_KERNEL_VERSION,
                        TASKFARM_RESULT_INT, 1, PROTO_RUN_N_MAX, NULL,
                        loop_compute, NULL},
    [PROTO_JOB_MANDEL] = {TASKFARM_KERNEL_ABI, "mandelbrot",
                          PROTO_KERNEL_VERSION, TASKFARM_RESULT_INT, 1, 0, NULL,
                          mandel_compute, NULL},
};

const taskfarm_kernel_t* kernel_builtin(proto_job_kind_t kind) {
  if ((size_t)kind >= sizeof(kBuiltin) / sizeof(kBuiltin[0])) return NULL;
  return kBuiltin[kind].compute != NULL ? &kBuiltin[kind] : NULL;
}

int kernel_add(kernel_t* k, uint64_t begin, uint64_t end, proto_exact_t* fsum,
               unsigned __int128* isum) {
  if (k->impl == NULL) return PROTO_EINVAL;
  sums_t sums = {fsum, isum, k};
  taskfarm_out_t out = {&sums, out_add_double, out_add_int, out_add_uint128,
                        out_keep_alive};
  char why[256] = "";
  int rc = k->impl->compute(k->state, begin, end, &out, why, sizeof(why));
  if (rc == 0 || k->job->kind != PROTO_JOB_RUN) return rc;
  snprintf(k->what, sizeof(k->what), "kernel %s: %s", k->impl->name,
           why[0] ? why : "its compute failed without saying why");
  return PROTO_EKERNEL;
}
