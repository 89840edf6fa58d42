/* proto_decode on any bytes with any tag. Input: one byte, the MPI tag (as a
 * signed char, so negative and unknown tags come too), then the message;
 * or 0x44, then a death datagram for proto_death_decode.
 * Properties: decode returns one of its documented codes; what it accepts
 * has the tag as its kind, the protocol's size and version, and the
 * invariants the master relies on (begin < end, a NUL-terminated host,
 * normalised digits, known flags and FIN codes); and it re-encodes to the
 * very same bytes, which a buffer one byte short refuses untouched. */
#include <string.h>

#include "proto/error.h"
#include "proto/proto.h"
#include "tests/fuzz/fuzz.h"

enum { DEATH = 0x44 }; /* the first byte that selects a death datagram */

/* A guard's UDP report of its worker's death: decoded, it re-encodes to
 * the same bytes. */
static void death(const uint8_t* buf, size_t len) {
  proto_death_t d;
  int rc = proto_death_decode(buf, len, &d);
  FUZZ_CHECK(rc == 0 || rc == PROTO_EBADMSG);
  if (rc != 0) return;
  FUZZ_CHECK(len == PROTO_DEATH_BYTES);
  uint8_t out[PROTO_DEATH_BYTES];
  proto_death_encode(&d, out);
  FUZZ_CHECK(memcmp(out, buf, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  if (data[0] == DEATH) {
    death(data + 1, size - 1);
    return 0;
  }
  int tag = (int)(int8_t)data[0];
  const uint8_t* buf = data + 1;
  size_t len = size - 1;
  proto_msg_t m;
  int rc = proto_decode(buf, len, tag, &m);
  FUZZ_CHECK(rc == 0 || rc == PROTO_EVERSION || rc == PROTO_EMSGSIZE ||
             rc == PROTO_EBADMSG);
  (void)proto_tag_name(tag);
  if (rc != 0) return 0;

  FUZZ_CHECK((int)m.kind == tag);
  FUZZ_CHECK(proto_size(m.kind) == len);
  FUZZ_CHECK(len <= PROTO_MAX_BYTES);
  FUZZ_CHECK(m.version == PROTO_VERSION);
  if (m.kind == PROTO_TAG_WORK || m.kind == PROTO_TAG_RESULT)
    FUZZ_CHECK(m.begin < m.end);
  if (m.kind == PROTO_TAG_WORK || m.kind == PROTO_TAG_REFUSE ||
      m.kind == PROTO_TAG_STOP || m.kind == PROTO_TAG_CANCEL ||
      m.kind == PROTO_TAG_PING || m.kind == PROTO_TAG_FIN ||
      m.kind == PROTO_TAG_WELCOME)
    FUZZ_CHECK(len <= PROTO_TO_WORKER_MAX_BYTES);
  if (m.kind == PROTO_TAG_HELLO)
    FUZZ_CHECK(memchr(m.host, '\0', sizeof(m.host)) != NULL);
  if (m.kind == PROTO_TAG_FIN)
    FUZZ_CHECK(m.code == PROTO_FIN_FINALIZE || m.code == PROTO_FIN_LEAVE);
  if (m.kind == PROTO_TAG_RESULT) {
    FUZZ_CHECK(
        (m.fsum.flags & ~(uint32_t)(PROTO_EXACT_POS_INF | PROTO_EXACT_NEG_INF |
                                    PROTO_EXACT_NAN)) == 0);
    FUZZ_CHECK(m.fsum.pending == 0);
    for (int j = 0; j < PROTO_EXACT_DIGITS - 1; j++)
      FUZZ_CHECK(m.fsum.digit[j] >= 0 && m.fsum.digit[j] <= 0xffffffffll);
  }

  /* What decodes re-encodes to the same bytes, and they decode to the same
   * message (decode zeroes the whole struct first, padding included). */
  uint8_t out[PROTO_MAX_BYTES + 8];
  memset(out, 0xa5, sizeof(out));
  size_t n = proto_encode(&m, out, sizeof(out));
  FUZZ_CHECK(n == len);
  FUZZ_CHECK(memcmp(out, buf, len) == 0);
  FUZZ_CHECK(out[len] == 0xa5); /* nothing written past the message */
  proto_msg_t again;
  FUZZ_CHECK(proto_decode(out, n, tag, &again) == 0);
  FUZZ_CHECK(memcmp(&again, &m, sizeof(m)) == 0);

  /* One byte short: refused, nothing written. */
  memset(out, 0xa5, sizeof(out));
  FUZZ_CHECK(proto_encode(&m, out, len - 1) == 0);
  for (size_t i = 0; i < len; i++) FUZZ_CHECK(out[i] == 0xa5);
  return 0;
}
