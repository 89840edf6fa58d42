/* The records of a journal, shared by the two files that write and read
 * them: master/journal.c (the file, its header, appending) and
 * master/records.c (each record's bytes, and reading them all back).
 * Internal to master/; journal.h has the format. */
#ifndef TASKFARM_MASTER_RECORDS_H_
#define TASKFARM_MASTER_RECORDS_H_

#include <stdint.h>
#include <string.h>

#include "cli/job.h"
#include "master/journal.h"

enum { MASTER_RECORD_MAX = MASTER_JOURNAL_RECORD_MIN + 8 * PROTO_EXACT_DIGITS };

/* Little-endian fields, as x86-64 stores them. */
static inline void master_put32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
static inline void master_put64(uint8_t* p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint32_t master_get32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static inline uint64_t master_get64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* Reads the records of the open journal fd (size bytes) of job after its
 * header (hsize bytes) into load; *valid_end is the end of the last
 * trusted byte (what follows is a torn or damaged tail). Memory stays
 * bounded whatever the file's size. Returns 0, or a negative
 * proto_error_t with a sentence in err. */
int master_records_read(int fd, uint64_t size, uint64_t hsize,
                        const cli_job_t* job, master_journal_load_t* load,
                        uint64_t* valid_end, char* err, size_t errlen);

#endif /* TASKFARM_MASTER_RECORDS_H_ */
