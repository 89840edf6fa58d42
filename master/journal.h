/* The journal of a run (--journal FILE): an append-only file where the
 * master records every accepted chunk with its exact partial result, so a
 * run that dies or is stopped can be resumed (--resume) and still end with
 * the bits of an unbroken run.
 *
 * Layout (little-endian, as x86-64 writes it; docs/journal.md):
 *   header: magic "TFJOURNL", format version, header size, the job's
 *     fingerprint, kind, alignment, n, a readable description of the job,
 *     the number of input files (128 bytes so far); for each input file
 *     its size, modification and change times, device, inode and canonical
 *     path (jobs_input_t); CRC-32C of the bytes before it;
 *   records, 60 + 8 k bytes: magic "TREC", size, begin, end, rank, attempt,
 *     the 128-bit integer partial, the exact float partial as k normalised
 *     digits from a first index, CRC-32C of the bytes before it;
 *   withdrawals (format 4), 60 bytes: the same with magic "TREV" and no
 *     partial: the latest record of that range before it no longer counts
 *     (its rank was refused for lying), and the range is computed again.
 * Records are appended whole. Reading stops trusting the file at the first
 * record that does not check out: one followed by valid records is skipped
 * (its range is computed again), a damaged tail is cut off before appending.
 * Reading streams the file: what a resume keeps is 16 bytes per record (its
 * range) and the sums, whatever the journal's size. Pure file I/O, no MPI. */
#ifndef TASKFARM_MASTER_JOURNAL_H_
#define TASKFARM_MASTER_JOURNAL_H_

#include <stddef.h>
#include <stdint.h>

#include "proto/exact.h"
#include "cli/job.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  MASTER_JOURNAL_VERSION = 5,       /* the format this build writes (2: the
                                       exact digits of proto/exact.h's wider
                                       accumulator; 3: input files' identity
                                       in the header; 4: withdrawals; 5: the
                                       job's fingerprint made from its
                                       kernel's declaration and options) */
  MASTER_JOURNAL_OLDEST = 5,        /* the oldest it reads: before 5 the
                                       fingerprint was made another way and
                                       cannot be compared */
  MASTER_JOURNAL_HEADER = 128,      /* header bytes before the input files */
  MASTER_JOURNAL_INPUT_FIXED = 44,  /* an input file's bytes before its path */
  /* The whole header at most: every input file a job may read, each with
   * the longest path, and the CRC. */
  MASTER_JOURNAL_HEADER_MAX =
      MASTER_JOURNAL_HEADER +
      JOBS_INPUTS_MAX * (MASTER_JOURNAL_INPUT_FIXED + JOBS_PATH_MAX) + 4,
  MASTER_JOURNAL_RECORD_MIN = 60,   /* a record without float digits */
};

/* One accepted chunk. */
typedef struct master_record_s master_record_t;
struct master_record_s {
  uint64_t begin;
  uint64_t end;
  int32_t rank; /* who computed it (0: the master) */
  uint32_t attempt;
  int revoked; /* a withdrawal: the range's earlier record is void */
  unsigned __int128 isum;
  proto_exact_t fsum; /* normalised; zero in a withdrawal */
};

/* Chunks done before this run: their ranges and their results summed. */
typedef struct master_done_s master_done_t;
struct master_done_s {
  uint64_t* range; /* begin, end pairs, sorted by begin, disjoint */
  size_t count;    /* pairs */
  size_t cap;
  uint64_t iters; /* indices they cover */
  unsigned __int128 isum;
  proto_exact_t fsum;
};

void master_done_init(master_done_t* d);
/* Adds r, which must begin at or after the end of the last range added.
 * Returns 0 or PROTO_ENOMEM. */
int master_done_add(master_done_t* d, const master_record_t* r);
void master_done_free(master_done_t* d);

/* What opening an existing journal found. */
typedef struct master_journal_load_s master_journal_load_t;
struct master_journal_load_s {
  master_done_t done;       /* the valid records */
  uint64_t damaged;         /* damaged stretches left out ... */
  uint64_t damaged_bytes;   /* ... their bytes ... */
  uint64_t damaged_records; /* ... and records recognisable in them */
  uint64_t repeated;        /* records of a range already recorded: ignored, and
                               nothing to compute again */
  uint64_t overlapping;     /* records overlapping others, left out */
  uint64_t revoked;         /* records withdrawn by a later withdrawal */
  uint64_t torn_bytes;      /* bytes of a damaged tail cut off */
  int existed;              /* the file was there before */
};

typedef struct master_journal_s master_journal_t;
struct master_journal_s {
  int fd;       /* -1 when closed */
  uint8_t* buf; /* encoded records not yet written */
  size_t len;
  size_t cap;
  uint64_t appended; /* records appended by this run */
  uint64_t unsynced; /* records written since the last fdatasync */
  int failed;        /* a write failed; the message was printed */
  char path[CLI_PATH_MAX];
};

/* Opens path for job. Without resume, the file must not exist (nothing is
 * ever overwritten) and is created with its header. With resume, a missing
 * file is created the same way; an existing one must be a journal of this
 * very job in a format this build reads, of the same input files (same
 * canonical path, size, modification and change times, device and inode):
 * its valid records go to *load (free with master_journal_free_load) and a
 * damaged tail is cut off.
 * Returns 0, or PROTO_EJOURNAL / PROTO_EIO / PROTO_ENOMEM with one sentence
 * in err. */
int master_journal_open(master_journal_t* j, const char* path,
                        const cli_job_t* job, int resume,
                        master_journal_load_t* load, char* err, size_t errlen);

/* Queues r for writing (no system call). Returns 0 or PROTO_ENOMEM. */
int master_journal_append(master_journal_t* j, const master_record_t* r);

/* Writes what is queued; with sync also makes it durable (fdatasync).
 * Returns 0 or PROTO_EIO (after printing why, once). */
int master_journal_flush(master_journal_t* j, int sync);

/* Flushes with sync and closes; safe on a closed journal. */
int master_journal_close(master_journal_t* j);

void master_journal_free_load(master_journal_load_t* load);

/* CRC-32C (Castagnoli, reflected 0x82F63B78; the SSE4.2 instruction where
 * the CPU has it) of len bytes, continuing crc (start with 0). */
uint32_t master_crc32c(uint32_t crc, const void* data, size_t len);

/* Encodes r into out (at least 60 + 8 * PROTO_EXACT_DIGITS bytes); returns
 * the record's size. */
size_t master_record_encode(const master_record_t* r, uint8_t* out);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_JOURNAL_H_ */
