/* worker/orders.h. */
#include "worker/orders.h"

#include <assert.h>
#include <stddef.h>

#include "proto/error.h"

static worker_order_t* at(worker_orders_t* q, int i) {
  return &q->ring[(q->head + i) % WORKER_QUEUE_MAX];
}

int worker_orders_push(worker_orders_t* q, const worker_order_t* o) {
  if (q->count == WORKER_QUEUE_MAX) return PROTO_EQUEUE;
  *at(q, q->count++) = *o;
  at(q, q->count - 1)->cancelled = 0;
  return 0;
}

worker_order_t* worker_orders_head(worker_orders_t* q) {
  return q->count > 0 ? at(q, 0) : NULL;
}

void worker_orders_pop(worker_orders_t* q) {
  assert(q->count > 0);
  q->head = (q->head + 1) % WORKER_QUEUE_MAX;
  q->count--;
}

int worker_orders_cancel(worker_orders_t* q, uint64_t chunk, uint64_t attempt) {
  for (int i = 0; i < q->count; i++) {
    worker_order_t* o = at(q, i);
    if (o->chunk != chunk || o->attempt != attempt) continue;
    if (i == 0) {
      o->cancelled = 1;
      return 1;
    }
    for (int k = i; k + 1 < q->count; k++) *at(q, k) = *at(q, k + 1);
    q->count--;
    return 1;
  }
  return 0;
}
