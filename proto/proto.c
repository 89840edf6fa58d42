/* Encoding and validation of the messages listed in proto.h. Both walk the
 * same layout table, built from proto.h's PROTO_LAYOUT_* lists, so a
 * message's layout is written once. Words are little-endian whatever the
 * host, so the layout is the same everywhere whatever its compiler's struct
 * padding. */
#include "proto/proto.h"

#include <assert.h>
#include <string.h>

#include "proto/error.h"

/* The fields a message may carry, one per PROTO_WIDTH_* of proto.h. */
typedef enum {
  F_NONE = 0, /* ends a layout */
  F_FINGERPRINT,
  F_PID,
  F_CPUS,
  F_HOST,
  F_CODE,
  F_VERSION,
  F_CHUNK,
  F_ATTEMPT,
  F_BEGIN,
  F_END,
  F_SCALE,
  F_BUSY,
  F_FLAGS,
  F_ISUM,
  F_DIGITS,
  F_DONE,
  F_DETAIL,
  F_TOKEN,
  F_PORT,
  F_ADDRS,
} field_t;

enum { LAYOUT_MAX = 9 }; /* most fields of one message, plus F_NONE */

#define FIELD_(name) F_##name,
static const uint8_t kLayout[PROTO_TAG_MAX + 1][LAYOUT_MAX] = {
    [PROTO_TAG_HELLO] = {PROTO_LAYOUT_HELLO(FIELD_) F_NONE},
    [PROTO_TAG_REFUSE] = {PROTO_LAYOUT_REFUSE(FIELD_) F_NONE},
    [PROTO_TAG_WORK] = {PROTO_LAYOUT_WORK(FIELD_) F_NONE},
    [PROTO_TAG_RESULT] = {PROTO_LAYOUT_RESULT(FIELD_) F_NONE},
    [PROTO_TAG_STOP] = {PROTO_LAYOUT_STOP(FIELD_) F_NONE},
    [PROTO_TAG_CANCEL] = {PROTO_LAYOUT_CANCEL(FIELD_) F_NONE},
    [PROTO_TAG_FAIL] = {PROTO_LAYOUT_FAIL(FIELD_) F_NONE},
    [PROTO_TAG_PROGRESS] = {PROTO_LAYOUT_PROGRESS(FIELD_) F_NONE},
    [PROTO_TAG_PING] = {PROTO_LAYOUT_PING(FIELD_) F_NONE},
    [PROTO_TAG_BYE] = {PROTO_LAYOUT_BYE(FIELD_) F_NONE},
    [PROTO_TAG_FIN] = {PROTO_LAYOUT_FIN(FIELD_) F_NONE},
    [PROTO_TAG_WELCOME] = {PROTO_LAYOUT_WELCOME(FIELD_) F_NONE},
};
#undef FIELD_

static const uint16_t kWords[PROTO_TAG_MAX + 1] = {
    [PROTO_TAG_HELLO] = PROTO_WORDS_HELLO,
    [PROTO_TAG_REFUSE] = PROTO_WORDS_REFUSE,
    [PROTO_TAG_WORK] = PROTO_WORDS_WORK,
    [PROTO_TAG_RESULT] = PROTO_WORDS_RESULT,
    [PROTO_TAG_STOP] = PROTO_WORDS_STOP,
    [PROTO_TAG_CANCEL] = PROTO_WORDS_CANCEL,
    [PROTO_TAG_FAIL] = PROTO_WORDS_FAIL,
    [PROTO_TAG_PROGRESS] = PROTO_WORDS_PROGRESS,
    [PROTO_TAG_PING] = PROTO_WORDS_PING,
    [PROTO_TAG_BYE] = PROTO_WORDS_BYE,
    [PROTO_TAG_FIN] = PROTO_WORDS_FIN,
    [PROTO_TAG_WELCOME] = PROTO_WORDS_WELCOME,
};

static const uint16_t kWidth[] = {
    [F_FINGERPRINT] = PROTO_WIDTH_FINGERPRINT,
    [F_PID] = PROTO_WIDTH_PID,
    [F_CPUS] = PROTO_WIDTH_CPUS,
    [F_HOST] = PROTO_WIDTH_HOST,
    [F_CODE] = PROTO_WIDTH_CODE,
    [F_VERSION] = PROTO_WIDTH_VERSION,
    [F_CHUNK] = PROTO_WIDTH_CHUNK,
    [F_ATTEMPT] = PROTO_WIDTH_ATTEMPT,
    [F_BEGIN] = PROTO_WIDTH_BEGIN,
    [F_END] = PROTO_WIDTH_END,
    [F_SCALE] = PROTO_WIDTH_SCALE,
    [F_BUSY] = PROTO_WIDTH_BUSY,
    [F_FLAGS] = PROTO_WIDTH_FLAGS,
    [F_ISUM] = PROTO_WIDTH_ISUM,
    [F_DIGITS] = PROTO_WIDTH_DIGITS,
    [F_DONE] = PROTO_WIDTH_DONE,
    [F_DETAIL] = PROTO_WIDTH_DETAIL,
    [F_TOKEN] = PROTO_WIDTH_TOKEN,
    [F_PORT] = PROTO_WIDTH_PORT,
    [F_ADDRS] = PROTO_WIDTH_ADDRS,
};

_Static_assert(PROTO_HOST_MAX % 8 == 0, "the host name fills whole words");
_Static_assert((int)PROTO_WORDS_RESULT <= (int)PROTO_MAX_WORDS &&
                   (int)PROTO_WORDS_HELLO <= (int)PROTO_MAX_WORDS,
               "PROTO_MAX_WORDS holds every message");

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
    case PROTO_TAG_WELCOME:
      return "WELCOME";
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

/* Writes one field at word w of buf. */
static void put_field(uint8_t* buf, size_t w, field_t f, const proto_msg_t* m) {
  switch (f) {
    case F_NONE:
      break;
    case F_FINGERPRINT:
      put(buf, w, m->fingerprint);
      break;
    case F_PID:
      put(buf, w, m->pid);
      break;
    case F_CPUS:
      put(buf, w, m->cpus);
      break;
    case F_HOST:
      memset(buf + w * 8, 0, PROTO_HOST_MAX);
      memcpy(buf + w * 8, m->host, strnlen(m->host, PROTO_HOST_MAX - 1));
      break;
    case F_CODE:
      put(buf, w, (uint64_t)m->code);
      break;
    case F_VERSION:
      put(buf, w, PROTO_VERSION);
      break;
    case F_CHUNK:
      put(buf, w, m->chunk);
      break;
    case F_ATTEMPT:
      put(buf, w, m->attempt);
      break;
    case F_BEGIN:
      put(buf, w, m->begin);
      break;
    case F_END:
      put(buf, w, m->end);
      break;
    case F_SCALE:
      put(buf, w, m->scale);
      break;
    case F_BUSY:
      put(buf, w, m->busy_ns);
      break;
    case F_FLAGS:
      put(buf, w, m->fsum.flags);
      break;
    case F_ISUM:
      put(buf, w, (uint64_t)m->isum);
      put(buf, w + 1, (uint64_t)(m->isum >> 64));
      break;
    case F_DIGITS: {
      const proto_exact_t* sum = &m->fsum;
      proto_exact_t norm;
      if (sum->pending != 0) {
        norm = *sum;
        proto_exact_normalize(&norm);
        sum = &norm;
      }
      for (size_t j = 0; j < PROTO_EXACT_DIGITS; j++)
        put(buf, w + j, (uint64_t)sum->digit[j]);
      break;
    }
    case F_DONE:
      put(buf, w, m->done);
      break;
    case F_DETAIL:
      put(buf, w, (uint64_t)m->detail);
      break;
    case F_TOKEN:
      put(buf, w, m->token);
      break;
    case F_PORT:
      put(buf, w, m->port);
      break;
    case F_ADDRS:
      for (size_t k = 0; k < 4; k++) put(buf, w + k, m->addr[k]);
      break;
  }
}

/* The host name at word w: NUL-padded, so that every byte after the name
 * is zero and a message has one encoding (what decodes re-encodes to the
 * same bytes). */
static int get_host(const uint8_t* buf, size_t w, proto_msg_t* m) {
  memcpy(m->host, buf + w * 8, PROTO_HOST_MAX);
  size_t len = strnlen(m->host, PROTO_HOST_MAX);
  if (len == PROTO_HOST_MAX) return PROTO_EBADMSG;
  for (size_t i = len; i < PROTO_HOST_MAX; i++)
    if (m->host[i] != '\0') return PROTO_EBADMSG;
  return 0;
}

/* The float sum's flags at word w: no bit beyond the known ones. */
static int get_flags(const uint8_t* buf, size_t w, proto_msg_t* m) {
  uint64_t flags = get(buf, w);
  if (flags &
      ~(uint64_t)(PROTO_EXACT_POS_INF | PROTO_EXACT_NEG_INF | PROTO_EXACT_NAN))
    return PROTO_EBADMSG;
  m->fsum.flags = (uint32_t)flags;
  return 0;
}

/* The float sum's digits from word w. Only normalised digits are accepted:
 * anything else could make the master's accumulator overflow. */
static int get_digits(const uint8_t* buf, size_t w, proto_msg_t* m) {
  for (size_t j = 0; j < PROTO_EXACT_DIGITS; j++) {
    int64_t d = (int64_t)get(buf, w + j);
    int top = j == PROTO_EXACT_DIGITS - 1;
    if (d > 0xffffffffll || d < (top ? -0xffffffffll : 0)) return PROTO_EBADMSG;
    m->fsum.digit[j] = d;
  }
  return 0;
}

/* The four addresses from word w, each one of 32 bits. */
static int get_addrs(const uint8_t* buf, size_t w, proto_msg_t* m) {
  for (size_t k = 0; k < 4; k++) {
    uint64_t a = get(buf, w + k);
    if (a > 0xffffffffu) return PROTO_EBADMSG;
    m->addr[k] = (uint32_t)a;
  }
  return 0;
}

/* Reads one field at word w of buf; PROTO_EBADMSG when its value can never
 * be valid. */
static int get_field(const uint8_t* buf, size_t w, field_t f, proto_msg_t* m) {
  switch (f) {
    case F_NONE:
      break;
    case F_FINGERPRINT:
      m->fingerprint = get(buf, w);
      break;
    case F_PID:
      m->pid = get(buf, w);
      break;
    case F_CPUS:
      m->cpus = get(buf, w);
      break;
    case F_HOST:
      return get_host(buf, w, m);
    case F_CODE:
      m->code = (int64_t)get(buf, w);
      break;
    case F_VERSION: /* the header's version, which the sender repeats */
      if (get(buf, w) != m->version) return PROTO_EBADMSG;
      break;
    case F_CHUNK:
      m->chunk = get(buf, w);
      break;
    case F_ATTEMPT:
      m->attempt = get(buf, w);
      break;
    case F_BEGIN:
      m->begin = get(buf, w);
      break;
    case F_END:
      m->end = get(buf, w);
      break;
    case F_SCALE:
      m->scale = get(buf, w);
      break;
    case F_BUSY:
      m->busy_ns = get(buf, w);
      break;
    case F_FLAGS:
      return get_flags(buf, w, m);
    case F_ISUM:
      m->isum = (unsigned __int128)get(buf, w + 1) << 64 | get(buf, w);
      break;
    case F_DIGITS:
      return get_digits(buf, w, m);
    case F_DONE:
      m->done = get(buf, w);
      break;
    case F_DETAIL:
      m->detail = (int64_t)get(buf, w);
      break;
    case F_TOKEN:
      m->token = get(buf, w);
      break;
    case F_PORT:
      m->port = get(buf, w);
      if (m->port > 65535) return PROTO_EBADMSG;
      break;
    case F_ADDRS:
      return get_addrs(buf, w, m);
  }
  return 0;
}

size_t proto_encode(const proto_msg_t* m, uint8_t* buf, size_t cap) {
  size_t len = proto_size(m->kind);
  if (len == 0 || len > cap) return 0;
  put(buf, 0,
      (uint64_t)PROTO_MAGIC | (uint64_t)PROTO_VERSION << 32 |
          (uint64_t)m->kind << 48);
  size_t w = 1;
  for (const uint8_t* f = kLayout[m->kind]; *f != F_NONE; f++) {
    put_field(buf, w, (field_t)*f, m);
    w += kWidth[*f];
  }
  assert(w * 8 == len);
  return len;
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
  size_t w = 1;
  for (const uint8_t* f = kLayout[m->kind]; *f != F_NONE; f++) {
    int rc = get_field(buf, w, (field_t)*f, m);
    if (rc < 0) return rc;
    w += kWidth[*f];
  }
  /* Rules across fields. */
  if ((m->kind == PROTO_TAG_WORK || m->kind == PROTO_TAG_RESULT) &&
      m->begin >= m->end)
    return PROTO_EBADMSG;
  if (m->kind == PROTO_TAG_FIN && m->code != PROTO_FIN_FINALIZE &&
      m->code != PROTO_FIN_LEAVE)
    return PROTO_EBADMSG;
  return 0;
}

void proto_death_encode(const proto_death_t* d, uint8_t* buf) {
  put(buf, 0, (uint64_t)PROTO_DEATH_MAGIC | (uint64_t)PROTO_VERSION << 32);
  put(buf, 1, d->token);
  put(buf, 2, (uint64_t)d->rank);
  put(buf, 3, d->pid);
  put(buf, 4, (uint64_t)d->signal);
  put(buf, 5, (uint64_t)d->status);
}

int proto_death_decode(const uint8_t* buf, size_t len, proto_death_t* d) {
  memset(d, 0, sizeof(*d));
  if (len != PROTO_DEATH_BYTES) return PROTO_EBADMSG;
  uint64_t h = get(buf, 0);
  if ((h & 0xffffffffu) != PROTO_DEATH_MAGIC || h >> 32 != PROTO_VERSION)
    return PROTO_EBADMSG;
  d->token = get(buf, 1);
  d->rank = (int64_t)get(buf, 2);
  d->pid = get(buf, 3);
  d->signal = (int64_t)get(buf, 4);
  d->status = (int64_t)get(buf, 5);
  return 0;
}
