/* A job's kernel, ready to compute: the built-in descriptor of its table
 * entry, or a user's object loaded from --kernel, initialised with the
 * job's n and option values. Each call adds the exact contribution of an
 * index range to a partial result (floats into an exact accumulator,
 * integers into a 128-bit sum), so a chunk computed in slices has the bits
 * of one computed in one go. No MPI here; a user's kernel only ever runs
 * in a process that may die of it (kernel/sandbox.h). */
#ifndef TASKFARM_KERNEL_KERNEL_H_
#define TASKFARM_KERNEL_KERNEL_H_

#include <stdint.h>

#include "jobs/jobs.h"
#include "jobs/taskfarm_kernel.h"
#include "kernel/products.h"
#include "proto/exact.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { KERNEL_WHAT = 1280 }; /* bytes of a failure's sentence */

typedef struct kernel_s kernel_t;
struct kernel_s {
  const jobs_task_t* task; /* the job's computation; not owned */
  uint64_t n;
  taskfarm_kernel_t impl;  /* the descriptor (a copy) */
  int ready;               /* impl's init succeeded: close is due */
  void* state;             /* impl's state */
  void* dl;                /* a loaded kernel's dlopen handle, or NULL */
  uint64_t scale;          /* out->scale: work units per 1000 ns */
  void (*beat)(void* arg); /* out->keep_alive calls it; may be NULL */
  void* beat_arg;
  kernel_products_t products; /* out->add_products' blocks by path */
  char what[KERNEL_WHAT];     /* why the last call failed ("" if none) */
};

/* Prepares task's kernel for [0, n): takes the entry's descriptor or loads
 * task->kernel_path, and calls its init with the option values. Returns
 * 0, or a negative proto_error_t with a sentence in k->what;
 * kernel_close() is safe either way. */
int kernel_init(kernel_t* k, const jobs_task_t* task, uint64_t n);

/* Releases what kernel_init() took. */
void kernel_close(kernel_t* k);

/* Adds the contribution of [begin, end) to *fsum and *isum; begin and end
 * on multiples of the kernel's alignment (or end == n). Returns 0, or
 * PROTO_EKERNEL with a sentence in k->what. */
int kernel_add(kernel_t* k, uint64_t begin, uint64_t end, proto_exact_t* fsum,
               unsigned __int128* isum);

/* The first slice of a chunk: the kernel's own, or (slice 0) one
 * alignment unit, from which kernel_next_slice grows. */
uint64_t kernel_first_slice(const jobs_spec_t* spec);

/* The slice after one of `slice` indices took took_ns: a kernel that
 * declares its slice keeps it; one that does not grows (or shrinks) toward
 * a millisecond of work, by at most 4x a step, on multiples of its
 * alignment. */
uint64_t kernel_next_slice(const jobs_spec_t* spec, uint64_t slice,
                           uint64_t took_ns);

/* Puts the signals of a crash (SIGSEGV, SIGABRT, ...) back to their
 * default action, which libraries loaded with MPI replace with handlers of
 * their own: a process that runs a user's kernel dies of them plainly, and
 * its parent reports the signal. */
void kernel_default_crash_signals(void);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_KERNEL_KERNEL_H_ */
