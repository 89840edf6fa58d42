/* The table of jobs and what the farm keeps of a job's kernel.
 *
 * Every job is a kernel on the interface of jobs/taskfarm_kernel.h. A
 * built-in job is one file of jobs/ that defines its descriptor and adds it
 * to the table with JOBS_REGISTER; nothing else in the farm names it. The
 * option parser, the fingerprint, the usage texts and the console read a
 * job through this table and through the data copied from its descriptor
 * (jobs_spec_t, jobs_task_t): plain bytes, so that what a user's kernel
 * declares can be read in a child process and sent back over a pipe.
 * No MPI here. */
#ifndef TASKFARM_JOBS_JOBS_H_
#define TASKFARM_JOBS_JOBS_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jobs/taskfarm_kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  JOBS_NAME_MAX = 64,    /* a kernel's name, with its NUL */
  JOBS_KEY_MAX = 32,     /* an option's name, with its NUL */
  JOBS_VALUE_MAX = 1024, /* an option's value, with its NUL (a path) */
  JOBS_VALUES_MAX = 32,  /* options a job takes (declared or --arg) */
  JOBS_LINES_MAX = 8,    /* result lines */
  JOBS_LINE_MAX = 160,   /* bytes of a result line's template */
  JOBS_HELP_MAX = 4096,  /* bytes of a job's own help text */
  JOBS_INPUTS_MAX = 4,   /* INPUT options */
  JOBS_PATH_MAX = 1024,  /* a file name, with its NUL */
};

/* The largest n of a kernel that declares none. */
#define JOBS_N_MAX_DEFAULT ((uint64_t)1 << 60)
/* The largest chunk the farm cuts by itself when the kernel says nothing. */
#define JOBS_CHUNK_MAX_DEFAULT ((uint64_t)1 << 20)

/* What a table entry is besides its kernel. */
enum {
  JOBS_RANGELESS = 1, /* computes no range: n is 0, no chunks (hello) */
  JOBS_LOADS = 2,  /* the kernel is a shared object named by --kernel */
};

/* One job of the table. */
typedef struct jobs_entry_s jobs_entry_t;
struct jobs_entry_s {
  const char* command; /* the word after `taskfarm`: "pi" */
  const char* summary; /* one line for the list of jobs */
  const taskfarm_kernel_t* kernel; /* NULL for JOBS_LOADS */
  unsigned flags;
  /* Several entries may share a command (dot of generated vectors, dot of
   * two files): the parser takes the first, in this order, whose options
   * include every option given. */
  int variant;
  /* Called on every rank once MPI is up, before any work, with the rank,
   * the world size and the stream of the result lines; NULL: none. */
  void (*greet)(int rank, int size, FILE* out);
  /* JOBS_LOADS: what its usage says before a kernel is named. */
  const char* about;
};

/* Adds an entry to the table: `JOBS_REGISTER(pi, "pi", "...", &kPi, 0, 0)`
 * at the end of a job's file. The entries live in a section of their own
 * that the linker gathers (the library is linked whole), so a new job is
 * a new file and a line in jobs/BUILD. */
#define JOBS_REGISTER(id, command, summary, kernel, flags, variant)      \
  static const jobs_entry_t jobs_entry_##id = {command, summary, kernel, \
                                               flags, variant, NULL, NULL}; \
  JOBS_ADD(id)

/* Adds an entry defined in full, `static const jobs_entry_t
 * jobs_entry_ID = {...};`, to the table (for one with a greet hook). */
#define JOBS_ADD(id)                                                        \
  __attribute__((used, section("taskfarm_jobs"))) const jobs_entry_t* const \
      jobs_entry_ptr_##id = &jobs_entry_##id

/* The entries, sorted by command then variant; *count is their number. */
const jobs_entry_t* const* jobs_table(size_t* count);

/* The first entry of command (variant 0), or NULL. */
const jobs_entry_t* jobs_find(const char* command);

/* The commands, once each, separated by sep ("pi, dot, ..."), into buf. */
void jobs_commands(char* buf, size_t len, const char* sep);

/* Which of a kernel's hooks exist. */
enum {
  JOBS_HOOK_SIZE = 1,
  JOBS_HOOK_PREPARE = 2,
  JOBS_HOOK_REFERENCE = 4,
  JOBS_HOOK_CALIBRATE = 8,
};

/* A kernel's declaration, as data (taskfarm_kernel.h has each field's
 * meaning). Defaults are filled in: align >= 1, n_max, chunk_max, n_what
 * and the result lines. */
typedef struct jobs_spec_s jobs_spec_t;
struct jobs_spec_s {
  char name[JOBS_NAME_MAX];
  uint32_t abi;
  uint32_t version;
  uint32_t result;
  uint64_t align;
  uint64_t n_max;
  uint64_t slice; /* 0: grown toward a millisecond as the farm measures */
  uint64_t chunk_max;
  char n_what[32];
  unsigned hooks; /* JOBS_HOOK_* */
  int declares;   /* options declared (ABI 2 with an options list) */
  int nlines;
  char line[JOBS_LINES_MAX][JOBS_LINE_MAX];
};

/* Copies d into spec with the defaults filled in, n_max within
 * JOBS_N_MAX_DEFAULT. Returns 0, or -1 with a sentence in why when d is
 * not a descriptor the farm can run (no name, no compute, result bits of
 * no known kind, a template with an unknown field or an {opt:NAME} it
 * does not declare, an option of no known type or with a range that is
 * not finite, ordered and (a count's) from 0, more than the limits
 * above). A result of 0, no sum at all, is taken: it is hello's, which
 * computes nothing (its n is 0); kernel/plugin.c refuses it of a loaded
 * kernel. */
int jobs_spec_of(const taskfarm_kernel_t* d, jobs_spec_t* spec, char* why,
                 size_t len);

/* What identifies an input file's contents for a journal: where it is
 * (the canonical path) and what the kernel says of it. The inode change
 * time is set by the kernel on every write and cannot be set back from
 * user space, so a file written in place always differs here, even when
 * its size and modification time were restored. */
typedef struct jobs_input_s jobs_input_t;
struct jobs_input_s {
  char path[JOBS_PATH_MAX]; /* realpath() */
  uint64_t size;            /* bytes */
  uint64_t mtime_ns;        /* modification time, ns since the epoch */
  uint64_t ctime_ns;        /* inode change time, ns since the epoch */
  uint64_t dev;
  uint64_t ino;
};

/* One option's value as the kernel gets it. */
typedef struct jobs_value_s jobs_value_t;
struct jobs_value_s {
  char key[JOBS_KEY_MAX];
  char value[JOBS_VALUE_MAX]; /* canonical: counts and integers in
                                 decimal, reals as %.17g; "" when unset */
  uint32_t type;              /* taskfarm_option_type_t; 0: undeclared */
  int set;                    /* given, or a default */
};

/* The computation a run asks for: the kernel, its declaration and its
 * options' values. Every rank fills it from the same command line. */
typedef struct jobs_task_s jobs_task_t;
struct jobs_task_s {
  const jobs_entry_t* entry;
  char kernel_path[JOBS_PATH_MAX]; /* JOBS_LOADS: --kernel */
  uint64_t kernel_hash;            /* JOBS_LOADS: FNV-1a of its bytes */
  jobs_spec_t spec;
  int nvalues;
  jobs_value_t value[JOBS_VALUES_MAX];
  int ninputs; /* INPUT options set, in declaration order */
  jobs_input_t input[JOBS_INPUTS_MAX];
  /* The value the result is compared with, when the kernel knows one. */
  int has_reference;
  double reference;
  char reference_text[48];
  char reference_what[96];
};

/* An init for a kernel whose state is its n alone, kept in the state
 * pointer itself (nothing to allocate or close). */
int jobs_init_n(void** state, uint64_t n, const taskfarm_arg_t* args,
                int nargs, char* err, size_t errlen);

/* The value of option key, or NULL when it is not set. */
const char* jobs_value(const jobs_task_t* task, const char* key);

/* The values as the kernel's init takes them; args holds
 * JOBS_VALUES_MAX. Returns their number. Valid while task is. */
int jobs_args(const jobs_task_t* task, taskfarm_arg_t* args);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_JOBS_JOBS_H_ */
