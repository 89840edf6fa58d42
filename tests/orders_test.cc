// worker/orders.c: the worker's order ring.
#include "worker/orders.h"

#include <gtest/gtest.h>

#include "proto/error.h"

namespace {

worker_order_t Order(uint64_t chunk) {
  return worker_order_t{chunk, 1, chunk * 10, chunk * 10 + 10, 0};
}

// Defect 6 of the master split: a cancelled order stayed in the ring until
// it reached the head, so a master that keeps 8 orders in flight (and
// forgets cancelled ones at once) could overflow the ring and have an order
// dropped. Now a cancel frees its place at once.
TEST(OrdersTest, CancelFreesAQueuedPlaceAtOnce) {
  worker_orders_t q = {};
  for (uint64_t c = 0; c < 8; c++) {
    worker_order_t o = Order(c);
    ASSERT_EQ(worker_orders_push(&q, &o), 0);
  }
  // The master cancels 7 queued ones and sends 7 new, again and again.
  uint64_t next = 8;
  for (int round = 0; round < 10; round++) {
    for (int k = 0; k < 7; k++) {
      worker_order_t* o = &q.ring[(q.head + 1) % WORKER_QUEUE_MAX];
      ASSERT_EQ(worker_orders_cancel(&q, o->chunk, o->attempt), 1);
    }
    for (int k = 0; k < 7; k++) {
      worker_order_t o = Order(next++);
      ASSERT_EQ(worker_orders_push(&q, &o), 0) << "round " << round;
    }
    ASSERT_EQ(q.count, 8);
  }
  EXPECT_EQ(worker_orders_head(&q)->chunk, 0u);
}

TEST(OrdersTest, CancelOfTheHeadOnlyMarksIt) {
  worker_orders_t q = {};
  worker_order_t a = Order(1), b = Order(2);
  ASSERT_EQ(worker_orders_push(&q, &a), 0);
  ASSERT_EQ(worker_orders_push(&q, &b), 0);
  EXPECT_EQ(worker_orders_cancel(&q, 1, 1), 1);
  EXPECT_EQ(q.count, 2);
  EXPECT_TRUE(worker_orders_head(&q)->cancelled);
  worker_orders_pop(&q);
  EXPECT_EQ(worker_orders_head(&q)->chunk, 2u);
  EXPECT_FALSE(worker_orders_head(&q)->cancelled);
  EXPECT_EQ(worker_orders_cancel(&q, 9, 1), 0);
}

TEST(OrdersTest, KeepsOrderAcrossRemovalsAndWraps) {
  worker_orders_t q = {};
  uint64_t expect = 0, next = 0;
  for (int step = 0; step < 200; step++) {
    while (q.count < WORKER_QUEUE_MAX) {
      worker_order_t o = Order(next++);
      ASSERT_EQ(worker_orders_push(&q, &o), 0);
    }
    worker_order_t extra = Order(999);
    EXPECT_EQ(worker_orders_push(&q, &extra), PROTO_EQUEUE);
    ASSERT_EQ(worker_orders_head(&q)->chunk, expect);
    worker_orders_pop(&q);
    expect++;
  }
}

}  // namespace
