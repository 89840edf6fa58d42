// Encoding and validation of every message kind.
#include "proto/proto.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "proto/error.h"

namespace {

proto_msg_t RoundTrip(const proto_msg_t& in, int* rc) {
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(&in, buf, sizeof(buf));
  EXPECT_EQ(len, proto_size(in.kind));
  proto_msg_t out;
  *rc = proto_decode(buf, len, in.kind, &out);
  return out;
}

TEST(ProtoTest, WorkRoundTrips) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_WORK;
  m.chunk = 17;
  m.attempt = 2;
  m.begin = 1024;
  m.end = 1ull << 50;
  int rc;
  proto_msg_t out = RoundTrip(m, &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(out.chunk, 17u);
  EXPECT_EQ(out.attempt, 2u);
  EXPECT_EQ(out.begin, 1024u);
  EXPECT_EQ(out.end, 1ull << 50);
}

TEST(ProtoTest, ResultCarriesExactSumAndInteger) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_RESULT;
  m.chunk = 3;
  m.attempt = 1;
  m.begin = 0;
  m.end = 10;
  m.busy_ns = 123456;
  m.isum = ((unsigned __int128)0xfedcba9876543210ull << 64) | 42u;
  proto_exact_init(&m.fsum);
  proto_exact_add(&m.fsum, 3.25);
  proto_exact_add(&m.fsum, -0x1p-1000);
  int rc;
  proto_msg_t out = RoundTrip(m, &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_TRUE(out.isum == m.isum);
  EXPECT_EQ(out.busy_ns, 123456u);
  EXPECT_TRUE(proto_exact_equal(&out.fsum, &m.fsum));
}

TEST(ProtoTest, HelloCarriesHostAndFingerprint) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_HELLO;
  m.fingerprint = 0x1234567890abcdefull;
  m.pid = 4242;
  m.cpus = 2;
  std::strcpy(m.host, "node-17");
  int rc;
  proto_msg_t out = RoundTrip(m, &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(out.fingerprint, m.fingerprint);
  EXPECT_EQ(out.pid, 4242u);
  EXPECT_STREQ(out.host, "node-17");
}

TEST(ProtoTest, WrongSizeIsRejected) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_WORK;
  m.begin = 0;
  m.end = 1;
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(&m, buf, sizeof(buf));
  proto_msg_t out;
  EXPECT_EQ(proto_decode(buf, len - 8, PROTO_TAG_WORK, &out), PROTO_EMSGSIZE);
  EXPECT_EQ(proto_decode(buf, len + 8, PROTO_TAG_WORK, &out), PROTO_EMSGSIZE);
  EXPECT_EQ(proto_decode(buf, 3, PROTO_TAG_WORK, &out), PROTO_EMSGSIZE);
}

TEST(ProtoTest, TagMustMatchKind) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_STOP;
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(&m, buf, sizeof(buf));
  proto_msg_t out;
  EXPECT_EQ(proto_decode(buf, len, PROTO_TAG_CANCEL, &out), PROTO_EBADMSG);
  EXPECT_EQ(proto_decode(buf, len, 99, &out), PROTO_EBADMSG);
}

TEST(ProtoTest, OtherVersionIsRecognised) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_STOP;
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(&m, buf, sizeof(buf));
  buf[4] = PROTO_VERSION + 1;  // version lives in bits 32-47 of word 0
  proto_msg_t out;
  EXPECT_EQ(proto_decode(buf, len, PROTO_TAG_STOP, &out), PROTO_EVERSION);
  EXPECT_EQ(out.version, (uint32_t)PROTO_VERSION + 1);
}

TEST(ProtoTest, BadMagicIsRejected) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_STOP;
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(&m, buf, sizeof(buf));
  buf[0] ^= 0xff;
  proto_msg_t out;
  EXPECT_EQ(proto_decode(buf, len, PROTO_TAG_STOP, &out), PROTO_EBADMSG);
}

TEST(ProtoTest, EmptyRangeIsRejected) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_WORK;
  m.begin = 5;
  m.end = 5;
  int rc;
  RoundTrip(m, &rc);
  EXPECT_EQ(rc, PROTO_EBADMSG);
}

// A valid RESULT for [0, 1) with a zero sum, encoded into buf; its length.
size_t EncodeEmptyResult(uint8_t* buf) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_RESULT;
  m.begin = 0;
  m.end = 1;
  proto_exact_init(&m.fsum);
  return proto_encode(&m, buf, PROTO_MAX_BYTES);
}

TEST(ProtoTest, UnnormalisedDigitsAreRejected) {
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = EncodeEmptyResult(buf);
  proto_msg_t out;
  ASSERT_EQ(proto_decode(buf, len, PROTO_TAG_RESULT, &out), 0);
  buf[9 * 8 + 4] = 1;  // digit 0 = 2^32: outside [0, 2^32)
  EXPECT_EQ(proto_decode(buf, len, PROTO_TAG_RESULT, &out), PROTO_EBADMSG);
}

TEST(ProtoTest, UnknownFlagsAreRejected) {
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = EncodeEmptyResult(buf);
  proto_msg_t out;
  buf[6 * 8] = 0x80;
  EXPECT_EQ(proto_decode(buf, len, PROTO_TAG_RESULT, &out), PROTO_EBADMSG);
}

// FIN says how the job ends: finalize or leave; nothing else is read.
TEST(ProtoTest, FinCarriesHowTheJobEnds) {
  for (int64_t how : {int64_t{PROTO_FIN_FINALIZE}, int64_t{PROTO_FIN_LEAVE}}) {
    proto_msg_t m = {};
    m.kind = PROTO_TAG_FIN;
    m.code = how;
    int rc;
    proto_msg_t out = RoundTrip(m, &rc);
    ASSERT_EQ(rc, 0);
    EXPECT_EQ(out.code, how);
  }
  proto_msg_t m = {};
  m.kind = PROTO_TAG_FIN;
  m.code = 2;
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(&m, buf, sizeof(buf));
  proto_msg_t out;
  EXPECT_EQ(proto_decode(buf, len, PROTO_TAG_FIN, &out), PROTO_EBADMSG);
}

// A FAIL carries its code and what the code needs said (a signal number).
TEST(ProtoTest, FailCarriesCodeAndDetail) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_FAIL;
  m.chunk = 9;
  m.attempt = 3;
  m.code = PROTO_EKERNEL;
  m.detail = 11;
  int rc;
  proto_msg_t out = RoundTrip(m, &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(out.chunk, 9u);
  EXPECT_EQ(out.attempt, 3u);
  EXPECT_EQ(out.code, PROTO_EKERNEL);
  EXPECT_EQ(out.detail, 11);
}

TEST(ProtoTest, WelcomeCarriesWhereDeathsAreReported) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_WELCOME;
  m.token = 0x0123456789abcdefull;
  m.port = 40000;
  m.addr[0] = 0x0100007f;
  m.addr[1] = 0x0a00fe0a;
  int rc;
  proto_msg_t out = RoundTrip(m, &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(out.token, m.token);
  EXPECT_EQ(out.port, 40000u);
  EXPECT_EQ(out.addr[0], m.addr[0]);
  EXPECT_EQ(out.addr[1], m.addr[1]);
  EXPECT_EQ(out.addr[2], 0u);
  uint8_t buf[PROTO_MAX_BYTES];
  size_t len = proto_encode(&m, buf, sizeof(buf));
  buf[2 * 8 + 2] = 1;  // port 65536 + ...: no such port
  EXPECT_EQ(proto_decode(buf, len, PROTO_TAG_WELCOME, &out), PROTO_EBADMSG);
}

TEST(ProtoTest, DeathReportsRoundTripAndRefuseGarbage) {
  proto_death_t d = {0xfeedfacecafebeefull, 3, 4242, 9, 0};
  uint8_t buf[PROTO_DEATH_BYTES];
  proto_death_encode(&d, buf);
  proto_death_t out;
  ASSERT_EQ(proto_death_decode(buf, sizeof(buf), &out), 0);
  EXPECT_EQ(out.token, d.token);
  EXPECT_EQ(out.rank, 3);
  EXPECT_EQ(out.pid, 4242u);
  EXPECT_EQ(out.signal, 9);
  EXPECT_EQ(proto_death_decode(buf, sizeof(buf) - 1, &out), PROTO_EBADMSG);
  buf[0] ^= 1;
  EXPECT_EQ(proto_death_decode(buf, sizeof(buf), &out), PROTO_EBADMSG);
  buf[0] ^= 1;
  buf[4] ^= 1;  // another protocol version
  EXPECT_EQ(proto_death_decode(buf, sizeof(buf), &out), PROTO_EBADMSG);
}

// Sizes written out independently of the layout lists: a layout that
// changes by accident changes one of these.
TEST(ProtoTest, SizesAreTheDocumentedOnes) {
  EXPECT_EQ(proto_size(PROTO_TAG_HELLO), 12u * 8);
  EXPECT_EQ(proto_size(PROTO_TAG_REFUSE), 3u * 8);
  EXPECT_EQ(proto_size(PROTO_TAG_WORK), 6u * 8);
  EXPECT_EQ(proto_size(PROTO_TAG_RESULT), (9u + PROTO_EXACT_DIGITS) * 8);
  EXPECT_EQ(proto_size(PROTO_TAG_STOP), 8u);
  EXPECT_EQ(proto_size(PROTO_TAG_CANCEL), 3u * 8);
  EXPECT_EQ(proto_size(PROTO_TAG_FAIL), 5u * 8);
  EXPECT_EQ(proto_size(PROTO_TAG_PROGRESS), 5u * 8);
  EXPECT_EQ(proto_size(PROTO_TAG_PING), 8u);
  EXPECT_EQ(proto_size(PROTO_TAG_BYE), 8u);
  EXPECT_EQ(proto_size(PROTO_TAG_FIN), 2u * 8);
  EXPECT_EQ(proto_size(PROTO_TAG_WELCOME), 7u * 8);
  EXPECT_EQ(proto_size((proto_tag_t)0), 0u);
  EXPECT_EQ(proto_size((proto_tag_t)(PROTO_TAG_MAX + 1)), 0u);
  size_t largest = 0, to_worker = 0;
  for (int k = 1; k <= PROTO_TAG_MAX; k++)
    largest = std::max(largest, proto_size((proto_tag_t)k));
  for (proto_tag_t k : {PROTO_TAG_REFUSE, PROTO_TAG_WORK, PROTO_TAG_STOP,
                        PROTO_TAG_CANCEL, PROTO_TAG_PING, PROTO_TAG_FIN,
                        PROTO_TAG_WELCOME})
    to_worker = std::max(to_worker, proto_size(k));
  EXPECT_EQ(largest, (size_t)PROTO_MAX_BYTES);
  EXPECT_EQ(to_worker, (size_t)PROTO_TO_WORKER_MAX_BYTES);
}

// A buffer one byte short is refused and left untouched, for every kind;
// the exact size is enough.
TEST(ProtoTest, EncodeRefusesAShortBuffer) {
  for (int k = 1; k <= PROTO_TAG_MAX; k++) {
    proto_msg_t m = {};
    m.kind = (proto_tag_t)k;
    m.begin = 0;
    m.end = 1;
    size_t size = proto_size(m.kind);
    std::vector<uint8_t> buf(size + 16, 0xa5);
    EXPECT_EQ(proto_encode(&m, buf.data(), size - 1), 0u) << k;
    for (uint8_t b : buf) ASSERT_EQ(b, 0xa5) << k;
    EXPECT_EQ(proto_encode(&m, buf.data(), size), size) << k;
    for (size_t i = size; i < buf.size(); i++) ASSERT_EQ(buf[i], 0xa5) << k;
  }
  proto_msg_t unknown = {};
  unknown.kind = (proto_tag_t)0;
  uint8_t buf[PROTO_MAX_BYTES];
  EXPECT_EQ(proto_encode(&unknown, buf, sizeof(buf)), 0u);
}

}  // namespace
