// The master's send slots hold every message a master sends: a slot too
// short would let an encode run into the next slot's buffer, whose send may
// still be in flight (invisible to a sanitizer: it stays inside one struct).
#include "master/link.h"

#include <gtest/gtest.h>

namespace {

TEST(LinkTest, EverySendSlotHoldsEveryMessageTheMasterSends) {
  master_link_peer_t p;
  const size_t slot = sizeof(p.send_buf[0]);
  for (proto_tag_t k : {PROTO_TAG_REFUSE, PROTO_TAG_WORK, PROTO_TAG_STOP,
                        PROTO_TAG_CANCEL, PROTO_TAG_PING, PROTO_TAG_FIN,
                        PROTO_TAG_WELCOME})
    EXPECT_GE(slot, proto_size(k)) << proto_tag_name(k);
  EXPECT_EQ(sizeof(p.send_buf) / slot, (size_t)MASTER_LINK_SENDS);
}

// The receive buffer holds the largest message of all.
TEST(LinkTest, TheReceiveBufferHoldsTheLargestMessage) {
  master_link_peer_t p;
  for (int k = 1; k <= PROTO_TAG_MAX; k++)
    EXPECT_GE(sizeof(p.rbuf), proto_size((proto_tag_t)k)) << k;
}

}  // namespace
