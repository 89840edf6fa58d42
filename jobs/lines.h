/* A kernel's result lines (taskfarm_kernel.h, `lines`): templates with
 * fields filled from the run's result. The master formats them; no code of
 * a user's kernel runs for it. Pure, no I/O. */
#ifndef TASKFARM_JOBS_LINES_H_
#define TASKFARM_JOBS_LINES_H_

#include <stddef.h>
#include <stdint.h>

#include "jobs/taskfarm_kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the fields of a template take their values from. */
typedef struct jobs_result_s jobs_result_t;
struct jobs_result_s {
  double value;          /* {float}: the float sum rounded once */
  unsigned __int128 sum; /* {int} (as signed), {uint} */
  int has_reference;     /* {error} is |value - reference| */
  double reference;
  uint64_t n;      /* {n} */
  uint64_t chunks; /* {chunks} */
  uint64_t ranks;  /* {ranks} */
  /* {opt:NAME}: the value of option NAME, or NULL when it has none. */
  const char* (*option)(const void* ctx, const char* name);
  const void* ctx;
};

/* Formats one template into out (len bytes, NUL-terminated, no newline
 * added). Returns 0, or -1 when the template names a field that does not
 * exist or a format that is not a plain printf conversion of a double
 * (out then says so). */
int jobs_format_line(const char* tmpl, const jobs_result_t* r, char* out,
                     size_t len);

/* 0 when every field of tmpl is one jobs_format_line knows, else -1 with a
 * sentence in why. */
int jobs_check_line(const char* tmpl, char* why, size_t len);

/* As jobs_check_line; with options not NULL (a descriptor's list, ended
 * by a NULL name), every {opt:NAME} must also name one of them. */
int jobs_check_line_of(const char* tmpl, const taskfarm_option_t* options,
                       char* why, size_t len);

/* v in decimal into buf (at least 41 bytes); buf is returned. */
char* jobs_u128_str(unsigned __int128 v, char* buf);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_JOBS_LINES_H_ */
