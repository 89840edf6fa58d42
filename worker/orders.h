/* A worker's orders: a small ring, oldest first, the head being the one it
 * computes. A CANCEL removes a queued order at once (the master has already
 * forgotten it, so keeping it would let the ring overflow behind the
 * master's back) and only marks the head, which is mid-computation. A full
 * ring refuses the order, so the worker can say so instead of dropping it.
 * Pure logic: no MPI. */
#ifndef TASKFARM_WORKER_ORDERS_H_
#define TASKFARM_WORKER_ORDERS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { WORKER_QUEUE_MAX = 16 }; /* the master sends at most 8 */

typedef struct worker_order_s worker_order_t;
struct worker_order_s {
  uint64_t chunk;
  uint64_t attempt;
  uint64_t begin;
  uint64_t end;
  int cancelled; /* the head only: stop computing it, send nothing */
};

typedef struct worker_orders_s worker_orders_t;
struct worker_orders_s {
  worker_order_t ring[WORKER_QUEUE_MAX];
  int head;  /* index of the oldest */
  int count; /* orders held */
};

/* Appends o. Returns 0, or PROTO_EQUEUE when the ring is full. */
int worker_orders_push(worker_orders_t* q, const worker_order_t* o);

/* The order being computed, or NULL when none is held. */
worker_order_t* worker_orders_head(worker_orders_t* q);

/* Removes the head. */
void worker_orders_pop(worker_orders_t* q);

/* Cancels (chunk, attempt): a queued order is removed, the head is marked
 * cancelled. Returns 1 if it was held. */
int worker_orders_cancel(worker_orders_t* q, uint64_t chunk, uint64_t attempt);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_WORKER_ORDERS_H_ */
