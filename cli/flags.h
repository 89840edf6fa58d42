/* The options every job shares (cli/flags.c): a table of names, the
 * jobs each is for, a handler that writes its own field of the job and
 * no other, and the text --help prints for it. Internal to cli/. */
#ifndef TASKFARM_CLI_FLAGS_H_
#define TASKFARM_CLI_FLAGS_H_

#include <stddef.h>
#include <stdint.h>

#include "cli/job.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The jobs an option is for. */
enum {
  CLI_FOR_ALL = 1,   /* every job, hello too */
  CLI_FOR_RANGE = 2, /* every job that computes a range */
  CLI_FOR_RUN = 4,   /* run (a loaded kernel) */
};

/* The parse in progress: the job, and what is resolved once all options
 * are known. */
typedef struct cli_parse_s cli_parse_t;
struct cli_parse_s {
  cli_job_t* job;
  const char* name; /* the job's name as given */
  const char* n_text;
  const char* chunk_text;
  char* err;
  size_t errlen;
  const char* dash; /* how the job's kernel options are written */
};

/* The sections of --help the options fall in. */
typedef enum {
  CLI_SECTION_GENERAL = 0,
  CLI_SECTION_SCHEDULING,
  CLI_SECTION_LONG_RUNS,
  CLI_SECTION_FAULTS,
  CLI_SECTION_TRUST,
  CLI_SECTION_RUN,
  CLI_SECTIONS,
} cli_section_t;

typedef struct cli_option_s cli_option_t;
struct cli_option_s {
  const char* name;
  int (*parse)(cli_parse_t* p, const char* opt, const char* value);
  int takes_value;
  int repeats; /* may be given more than once */
  unsigned jobs; /* CLI_FOR_* */
  cli_section_t section;
  const char* value; /* how --help names the value ("S", "FILE") */
  const char* help;  /* lines of --help, each ending in a newline */
};

enum { CLI_OPTIONS_MAX = 64 };

/* The table, and its length in *count. */
const cli_option_t* cli_options_table(size_t* count);
/* The table's first entry (an option's index is its offset from it). */
const cli_option_t* cli_options(void);
/* The option called name (len bytes), or NULL. */
const cli_option_t* cli_option_find(const char* name, size_t len);

/* A count option's value, with a message naming the option: a whole
 * number >= 1 and <= max. */
int cli_parse_count(cli_parse_t* p, const char* opt, const char* text,
                    uint64_t max, uint64_t* out);

/* --arg KEY=VALUE: kept for the loaded kernel (cli/parse.c). */
int cli_keep_arg(cli_parse_t* p, const char* opt, const char* v);

/* The heading of a section of --help. */
const char* cli_section_title(cli_section_t s);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_CLI_FLAGS_H_ */
