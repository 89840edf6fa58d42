/* kernel/kernel.h. */
#include "kernel/kernel.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "kernel/plugin.h"
#include "proto/error.h"

/* The farm's side of taskfarm_out_t: where a chunk's contributions go. */
typedef struct sums_s sums_t;
struct sums_s {
  proto_exact_t* fsum;
  unsigned __int128* isum;
  kernel_t* k;
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
static void out_add_products(void* ctx, const double* a, const double* b,
                             size_t count) {
  sums_t* s = ctx;
  kernel_products_add(s->fsum, a, b, count, &s->k->products);
}

static int loaded(const kernel_t* k) {
  return (k->task->entry->flags & JOBS_LOADS) != 0;
}

int kernel_init(kernel_t* k, const jobs_task_t* task, uint64_t n) {
  memset(k, 0, sizeof(*k));
  k->task = task;
  k->n = n;
  if (task->entry == NULL) {
    snprintf(k->what, sizeof(k->what), "no job");
    return PROTO_EINVAL;
  }
  if (loaded(k)) {
    int rc = plugin_load(task->kernel_path, &k->dl, &k->impl, k->what,
                         sizeof(k->what));
    if (rc < 0) return rc;
  } else {
    k->impl = *task->entry->kernel;
  }
  if (k->impl.init != NULL) {
    taskfarm_arg_t args[JOBS_VALUES_MAX];
    int nargs = jobs_args(task, args);
    char why[512] = "";
    if (k->impl.init(&k->state, n, args, nargs, why, sizeof(why)) != 0) {
      if (loaded(k))
        snprintf(k->what, sizeof(k->what), "--kernel '%s' (%s): %s",
                 task->kernel_path, k->impl.name,
                 why[0] ? why : "its init failed without saying why");
      else
        snprintf(k->what, sizeof(k->what), "%s",
                 why[0] ? why : "its init failed without saying why");
      return PROTO_EINVAL;
    }
  }
  k->ready = 1;
  return 0;
}

void kernel_close(kernel_t* k) {
  if (k->ready && k->impl.close != NULL) k->impl.close(k->state);
  k->ready = 0;
  k->state = NULL;
  plugin_unload(k->dl);
  k->dl = NULL;
}

int kernel_add(kernel_t* k, uint64_t begin, uint64_t end, proto_exact_t* fsum,
               unsigned __int128* isum) {
  if (!k->ready) return PROTO_EINVAL;
  sums_t sums = {fsum, isum, k};
  taskfarm_out_t out = {&sums,          out_add_double, out_add_int,
                        out_add_uint128, out_keep_alive, k->scale,
                        out_add_products};
  char why[512] = "";
  if (k->impl.compute(k->state, begin, end, &out, why, sizeof(why)) == 0)
    return 0;
  if (loaded(k))
    snprintf(k->what, sizeof(k->what), "kernel %s: %s", k->impl.name,
             why[0] ? why : "its compute failed without saying why");
  else
    snprintf(k->what, sizeof(k->what), "%s",
             why[0] ? why : "its compute failed without saying why");
  return PROTO_EKERNEL;
}

uint64_t kernel_first_slice(const jobs_spec_t* spec) {
  return spec->slice > 0 ? spec->slice : spec->align;
}

uint64_t kernel_next_slice(const jobs_spec_t* spec, uint64_t slice,
                           uint64_t took_ns) {
  if (spec->slice > 0) return spec->slice;
  const double target_ns = 1e6;
  uint64_t align = spec->align > 0 ? spec->align : 1;
  double want = took_ns > 0 ? (double)slice * target_ns / (double)took_ns
                            : (double)slice * 4;
  if (want > (double)slice * 4) want = (double)slice * 4;
  if (want < (double)slice / 4) want = (double)slice / 4;
  if (want > 1e15) want = 1e15;
  uint64_t next = (uint64_t)want / align * align;
  return next < align ? align : next;
}

void kernel_default_crash_signals(void) {
  static const int crash[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS,
                              SIGTRAP};
  for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
    signal(crash[i], SIG_DFL);
}
