/* A kernel's declared options (taskfarm_kernel.h, `options`): the values
 * given on the command line checked against their types and ranges, each
 * kept in one canonical form (so that the fingerprint built from them does
 * not depend on how a number was written), and their help. The count
 * syntax every count of the command line uses is here too. Pure, no I/O
 * but the FILE the help is written to. */
#ifndef TASKFARM_JOBS_OPTIONS_H_
#define TASKFARM_JOBS_OPTIONS_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jobs/jobs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses a count: an integer ("12000") or a decimal with exponent whose
 * value is a whole number ("1e10", "10e9", "2.5e3"). Rejects signs,
 * fractions, garbage and values above max. Returns 0, PROTO_EINVAL or
 * PROTO_ERANGE. */
int jobs_parse_count(const char* text, uint64_t max, uint64_t* out);

/* The whole numbers a COUNT or INTEGER option takes: [lo, hi], in a type
 * that holds both kinds. Its min rounded up and its max rounded down,
 * within what the type holds; no double is INT64_MAX or UINT64_MAX (the
 * nearest are beyond them), so a bound of 9.2e18 or more (1.8e19 for a
 * count) stands for the type's end, and min == max == 0 for the whole
 * type. The help prints this range and the checks take it. */
typedef struct jobs_whole_range_s jobs_whole_range_t;
struct jobs_whole_range_s {
  __int128 lo; /* the smallest value taken */
  __int128 hi; /* the largest */
};

jobs_whole_range_t jobs_whole_range(const taskfarm_option_t* o);

/* Binds the values given on the command line (keys[i] = texts[i]) to d's
 * declared options: checks each against its type and range, writes its
 * canonical form, fills in the defaults, and refuses keys d does not
 * declare (a kernel that declares no options gets every KEY=VALUE as
 * given, in order). dash is how the messages write an option: "--" for a
 * built-in job (--size), "--arg " for a loaded one (--arg size). Sets
 * task->nvalues and task->value; returns 0, or PROTO_EINVAL with one
 * sentence in err. */
int jobs_bind(const taskfarm_kernel_t* d, const char* const* keys,
              const char* const* texts, int count, const char* dash,
              jobs_task_t* task, char* err, size_t errlen);

/* 1 when d declares an option called key. */
int jobs_declares(const taskfarm_kernel_t* d, const char* key);

/* Writes text to out wrapped at 79 columns, every line but the first
 * indented by indent spaces; the first continues at column `at`. Lines
 * of text that begin with two spaces (a table) are kept as they are. */
void jobs_wrap(FILE* out, const char* text, int indent, int at);

/* d's options, one a line ("  --size WxH   the image's ... ; default
 * 1024x768"), written with dash as jobs_bind's. */
void jobs_options_help(const taskfarm_kernel_t* d, const char* dash,
                       FILE* out);

/* The names of d's options, one a line, dash before each. */
void jobs_options_list(const taskfarm_kernel_t* d, const char* dash,
                       FILE* out);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_JOBS_OPTIONS_H_ */
