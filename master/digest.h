/* The digest of a partial result: SipHash-2-4 (Aumasson and Bernstein, 2012)
 * under a key the master draws at random for each run and never sends. Two
 * computations of one chunk are compared by their digests, so the master
 * keeps 8 bytes per chunk instead of the 1 KB partial; because the key is
 * secret, a rank that knows the right partial cannot forge a wrong one with
 * the same digest. Partials are bit-deterministic (proto/exact.h normalises
 * every float sum to one representation), so equal results have equal
 * digests whatever rank computed them. Pure, no I/O. */
#ifndef TASKFARM_MASTER_DIGEST_H_
#define TASKFARM_MASTER_DIGEST_H_

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SipHash-2-4 of len bytes under the 128-bit key (key[0] holds its first
 * 8 bytes, little-endian). */
uint64_t master_siphash(const uint64_t key[2], const void* data, size_t len);

/* The digest of a RESULT's partial: its float sum's flags and normalised
 * digits (only the span that is not zero, with its position) and its
 * 128-bit integer sum. */
uint64_t master_digest(const uint64_t key[2], const proto_msg_t* result);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_MASTER_DIGEST_H_ */
