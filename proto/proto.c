/* Encoding and validation of the messages listed in proto.h. Words are
 * written byte by byte in little-endian order, so the layout is the same on
 * every host whatever its compiler's struct padding. */
#include "proto/proto.h"

#include <string.h>

#include "proto/error.h"

static const uint8_t kWords[PROTO_TAG_MAX + 1] = {
    [PROTO_TAG_HELLO] = 12, [PROTO_TAG_REFUSE] = 3,
    [PROTO_TAG_WORK] = 6,   [PROTO_TAG_RESULT] = PROTO_RESULT_WORDS,
    [PROTO_TAG_STOP] = 1,   [PROTO_TAG_CANCEL] = 3,
    [PROTO_TAG_FAIL] = 4,   [PROTO_TAG_PROGRESS] = 5,
    [PROTO_TAG_PING] = 1,   [PROTO_TAG_BYE] = 1,
    [PROTO_TAG_FIN] = 2,
};

size_t proto_size(proto_tag_t kind) {
  if ((int)kind < 1 || kind > PROTO_TAG_MAX) return 0;
  return (size_t)kWords[kind] * 8;
}

const char* proto_tag_name(int kind) {
  switch (kind) {
    case PROTO_TAG_HELLO:
      return "HELLO";
    case PROTO_TAG_REFUSE:
      return "REFUSE";
    case PROTO_TAG_WORK:
      return "WORK";
    case PROTO_TAG_RESULT:
      return "RESULT";
    case PROTO_TAG_STOP:
      return "STOP";
    case PROTO_TAG_CANCEL:
      return "CANCEL";
    case PROTO_TAG_FAIL:
      return "FAIL";
    case PROTO_TAG_PROGRESS:
      return "PROGRESS";
    case PROTO_TAG_PING:
      return "PING";
    case PROTO_TAG_BYE:
      return "BYE";
    case PROTO_TAG_FIN:
      return "FIN";
  }
  return "UNKNOWN";
}

/* Little-endian words; a plain copy where the host is little-endian. */
static void put(uint8_t* buf, size_t word, uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  memcpy(buf + word * 8, &v, 8);
#else
  for (int i = 0; i < 8; i++) buf[word * 8 + i] = (uint8_t)(v >> (8 * i));
#endif
}

static uint64_t get(const uint8_t* buf, size_t word) {
  uint64_t v = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  memcpy(&v, buf + word * 8, 8);
#else
  for (int i = 7; i >= 0; i--) v = (v << 8) | buf[word * 8 + i];
#endif
  return v;
}

size_t proto_encode(const proto_msg_t* m, uint8_t* buf) {
  put(buf, 0,
      (uint64_t)PROTO_MAGIC | (uint64_t)PROTO_VERSION << 32 |
          (uint64_t)m->kind << 48);
  switch (m->kind) {
    case PROTO_TAG_HELLO:
      put(buf, 1, m->fingerprint);
      put(buf, 2, m->pid);
      put(buf, 3, m->cpus);
      memset(buf + 32, 0, PROTO_HOST_MAX);
      memcpy(buf + 32, m->host, strnlen(m->host, PROTO_HOST_MAX - 1));
      break;
    case PROTO_TAG_REFUSE:
      put(buf, 1, (uint64_t)m->code);
      put(buf, 2, PROTO_VERSION);
      break;
    case PROTO_TAG_WORK:
    case PROTO_TAG_RESULT:
      put(buf, 1, m->chunk);
      put(buf, 2, m->attempt);
      put(buf, 3, m->begin);
      put(buf, 4, m->end);
      if (m->kind == PROTO_TAG_WORK) {
        put(buf, 5, m->scale);
        break;
      }
      put(buf, 5, m->busy_ns);
      put(buf, 6, m->fsum.flags);
      put(buf, 7, (uint64_t)m->isum);
      put(buf, 8, (uint64_t)(m->isum >> 64));
      if (m->fsum.pending == 0) {
        for (int j = 0; j < PROTO_EXACT_DIGITS; j++)
          put(buf, 9 + (size_t)j, (uint64_t)m->fsum.digit[j]);
      } else {
        proto_exact_t norm = m->fsum;
        proto_exact_normalize(&norm);
        for (int j = 0; j < PROTO_EXACT_DIGITS; j++)
          put(buf, 9 + (size_t)j, (uint64_t)norm.digit[j]);
      }
      break;
    case PROTO_TAG_STOP:
    case PROTO_TAG_PING:
    case PROTO_TAG_BYE:
      break;
    case PROTO_TAG_FIN:
      put(buf, 1, (uint64_t)m->code);
      break;
    case PROTO_TAG_PROGRESS:
      put(buf, 1, m->chunk);
      put(buf, 2, m->attempt);
      put(buf, 3, m->done);
      put(buf, 4, m->busy_ns);
      break;
    case PROTO_TAG_CANCEL:
    case PROTO_TAG_FAIL:
      put(buf, 1, m->chunk);
      put(buf, 2, m->attempt);
      if (m->kind == PROTO_TAG_FAIL) put(buf, 3, (uint64_t)m->code);
      break;
  }
  return proto_size(m->kind);
}

int proto_decode(const uint8_t* buf, size_t len, int tag, proto_msg_t* m) {
  memset(m, 0, sizeof(*m));
  if (len < 8) return PROTO_EMSGSIZE;
  uint64_t h = get(buf, 0);
  if ((h & 0xffffffffu) != PROTO_MAGIC) return PROTO_EBADMSG;
  m->version = (uint32_t)((h >> 32) & 0xffff);
  if (m->version != PROTO_VERSION) return PROTO_EVERSION;
  int kind = (int)(h >> 48);
  if (kind != tag || proto_size((proto_tag_t)kind) == 0) return PROTO_EBADMSG;
  m->kind = (proto_tag_t)kind;
  if (len != proto_size(m->kind)) return PROTO_EMSGSIZE;
  switch (m->kind) {
    case PROTO_TAG_HELLO:
      m->fingerprint = get(buf, 1);
      m->pid = get(buf, 2);
      m->cpus = get(buf, 3);
      memcpy(m->host, buf + 32, PROTO_HOST_MAX);
      if (m->host[PROTO_HOST_MAX - 1] != '\0') return PROTO_EBADMSG;
      break;
    case PROTO_TAG_REFUSE:
      m->code = (int64_t)get(buf, 1);
      break;
    case PROTO_TAG_WORK:
    case PROTO_TAG_RESULT:
      m->chunk = get(buf, 1);
      m->attempt = get(buf, 2);
      m->begin = get(buf, 3);
      m->end = get(buf, 4);
      if (m->begin >= m->end) return PROTO_EBADMSG;
      if (m->kind == PROTO_TAG_WORK) {
        m->scale = get(buf, 5);
        break;
      }
      m->busy_ns = get(buf, 5);
      {
        uint64_t flags = get(buf, 6);
        if (flags & ~(uint64_t)(PROTO_EXACT_POS_INF | PROTO_EXACT_NEG_INF |
                                PROTO_EXACT_NAN))
          return PROTO_EBADMSG;
        m->fsum.flags = (uint32_t)flags;
      }
      m->isum = (unsigned __int128)get(buf, 8) << 64 | get(buf, 7);
      for (int j = 0; j < PROTO_EXACT_DIGITS; j++) {
        int64_t d = (int64_t)get(buf, 9 + (size_t)j);
        /* Only normalised digits are accepted: anything else could make the
         * master's accumulator overflow. */
        if (j < PROTO_EXACT_DIGITS - 1 && (d < 0 || d > 0xffffffffll))
          return PROTO_EBADMSG;
        if (j == PROTO_EXACT_DIGITS - 1 &&
            (d < -0xffffffffll || d > 0xffffffffll))
          return PROTO_EBADMSG;
        m->fsum.digit[j] = d;
      }
      break;
    case PROTO_TAG_STOP:
    case PROTO_TAG_PING:
    case PROTO_TAG_BYE:
      break;
    case PROTO_TAG_FIN:
      m->code = (int64_t)get(buf, 1);
      if (m->code != PROTO_FIN_FINALIZE && m->code != PROTO_FIN_LEAVE)
        return PROTO_EBADMSG;
      break;
    case PROTO_TAG_PROGRESS:
      m->chunk = get(buf, 1);
      m->attempt = get(buf, 2);
      m->done = get(buf, 3);
      m->busy_ns = get(buf, 4);
      break;
    case PROTO_TAG_CANCEL:
    case PROTO_TAG_FAIL:
      m->chunk = get(buf, 1);
      m->attempt = get(buf, 2);
      if (m->kind == PROTO_TAG_FAIL) m->code = (int64_t)get(buf, 3);
      break;
  }
  return 0;
}
