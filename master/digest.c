/* master/digest.h. SipHash-2-4 as its paper specifies it: four 64-bit
 * lanes, two rounds per 8-byte word, four at the end. */
#include "master/digest.h"

#include <string.h>

static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static uint64_t load64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

typedef struct {
  uint64_t v0, v1, v2, v3;
} sip_t;

static void round_(sip_t* s) {
  s->v0 += s->v1;
  s->v1 = rotl(s->v1, 13);
  s->v1 ^= s->v0;
  s->v0 = rotl(s->v0, 32);
  s->v2 += s->v3;
  s->v3 = rotl(s->v3, 16);
  s->v3 ^= s->v2;
  s->v0 += s->v3;
  s->v3 = rotl(s->v3, 21);
  s->v3 ^= s->v0;
  s->v2 += s->v1;
  s->v1 = rotl(s->v1, 17);
  s->v1 ^= s->v2;
  s->v2 = rotl(s->v2, 32);
}

static void absorb(sip_t* s, uint64_t m) {
  s->v3 ^= m;
  round_(s);
  round_(s);
  s->v0 ^= m;
}

uint64_t master_siphash(const uint64_t key[2], const void* data, size_t len) {
  sip_t s = {key[0] ^ 0x736f6d6570736575ull, key[1] ^ 0x646f72616e646f6dull,
             key[0] ^ 0x6c7967656e657261ull, key[1] ^ 0x7465646279746573ull};
  const uint8_t* p = data;
  size_t whole = len / 8 * 8;
  for (size_t i = 0; i < whole; i += 8) absorb(&s, load64(p + i));
  uint64_t last = (uint64_t)(len & 0xff) << 56;
  for (size_t i = whole; i < len; i++)
    last |= (uint64_t)p[i] << (8 * (i - whole));
  absorb(&s, last);
  s.v2 ^= 0xff;
  for (int r = 0; r < 4; r++) round_(&s);
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

static void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t master_digest(const uint64_t key[2], const proto_msg_t* result) {
  proto_exact_t norm;
  const proto_exact_t* sum = &result->fsum;
  if (sum->pending != 0) {
    norm = *sum;
    proto_exact_normalize(&norm);
    sum = &norm;
  }
  int lo = 0, hi = PROTO_EXACT_DIGITS - 1;
  while (lo < PROTO_EXACT_DIGITS && sum->digit[lo] == 0) lo++;
  while (hi >= lo && sum->digit[hi] == 0) hi--;
  uint8_t buf[8 * (4 + PROTO_EXACT_DIGITS)];
  size_t len = 0;
  put64(buf + len, sum->flags), len += 8;
  put64(buf + len, (uint64_t)result->isum), len += 8;
  put64(buf + len, (uint64_t)(result->isum >> 64)), len += 8;
  put64(buf + len, (uint64_t)lo), len += 8;
  for (int j = lo; j <= hi; j++)
    put64(buf + len, (uint64_t)sum->digit[j]), len += 8;
  return master_siphash(key, buf, len);
}
