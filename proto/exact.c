/* The superaccumulator described in exact.h. Only integer arithmetic touches
 * the digits, so every operation here is exact; the single rounding happens in
 * proto_exact_to_double(). */
#include "proto/exact.h"

#include <math.h>
#include <string.h>

enum {
  DIGIT_BITS = 32,
  /* Normalise after this many adds: each add puts < 2^32 in a digit, and the
   * digits are 64-bit signed, so 2^30 adds keep a wide margin. */
  NORMALIZE_EVERY = 1u << 30,
};

static const int64_t kDigitMask = ((int64_t)1 << DIGIT_BITS) - 1;

void proto_exact_init(proto_exact_t* acc) { memset(acc, 0, sizeof(*acc)); }

void proto_exact_normalize(proto_exact_t* acc) {
  int64_t carry = 0;
  for (int j = 0; j < PROTO_EXACT_DIGITS - 1; j++) {
    int64_t v = acc->digit[j] + carry;
    int64_t low = v & kDigitMask;
    /* v - low is a multiple of 2^32; the division is exact. */
    carry = (v - low) / ((int64_t)1 << DIGIT_BITS);
    acc->digit[j] = low;
  }
  acc->digit[PROTO_EXACT_DIGITS - 1] += carry;
  acc->pending = 0;
}

static void count_add(proto_exact_t* acc) {
  if (++acc->pending >= NORMALIZE_EVERY) proto_exact_normalize(acc);
}

void proto_exact_add_done(proto_exact_t* acc, uint32_t pairs) {
  /* Each pair adds at most two values to a digit. */
  if ((uint64_t)acc->pending + 2u * pairs >= NORMALIZE_EVERY)
    proto_exact_normalize(acc);
  else
    acc->pending += 2u * pairs;
}

void proto_exact_add(proto_exact_t* acc, double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof(bits));
  if (((bits >> 52) & 0x7ff) == 0x7ff) {
    if (bits & (((uint64_t)1 << 52) - 1))
      acc->flags |= PROTO_EXACT_NAN;
    else
      acc->flags |= bits >> 63 ? PROTO_EXACT_NEG_INF : PROTO_EXACT_POS_INF;
    return;
  }
  if ((bits << 1) == 0) return; /* +0 or -0 */
  proto_exact_add_digits(acc->digit, x);
  count_add(acc);
}

void proto_exact_add_product_digits(int64_t* digit, double a, double b) {
  if (a == 0 || b == 0) return;
  int ea, eb;
  double ma = frexp(a, &ea), mb = frexp(b, &eb);
  double p = ma * mb;
  double e = fma(ma, mb, -p);
  proto_exact_add_scaled_digits(digit, p, ea + eb);
  if (e != 0) proto_exact_add_scaled_digits(digit, e, ea + eb);
}

void proto_exact_merge(proto_exact_t* acc, const proto_exact_t* other) {
  const proto_exact_t* src = other;
  proto_exact_t norm;
  if (other->pending != 0) {
    norm = *other;
    proto_exact_normalize(&norm);
    src = &norm;
  }
  for (int j = 0; j < PROTO_EXACT_DIGITS; j++) acc->digit[j] += src->digit[j];
  acc->flags |= other->flags;
  count_add(acc); /* also marks acc as no longer normalised */
}

/* Bit b (counted from bit 0 of digit 0) of a normalised, non-negative value. */
static int bit_at(const int64_t* digit, int b) {
  return (int)((digit[b / DIGIT_BITS] >> (b % DIGIT_BITS)) & 1);
}

/* 1 if any bit below b is set. */
static int any_below(const int64_t* digit, int b) {
  int j = b / DIGIT_BITS;
  for (int k = 0; k < j; k++)
    if (digit[k] != 0) return 1;
  int64_t mask = ((int64_t)1 << (b % DIGIT_BITS)) - 1;
  return (digit[j] & mask) != 0;
}

/* The normalised value's bits [lo, lo + count) as an integer, count <= 63. */
static uint64_t bits_from(const int64_t* digit, int lo, int count) {
  uint64_t v = 0;
  for (int i = count - 1; i >= 0; i--)
    v = (v << 1) | (uint64_t)bit_at(digit, lo + i);
  return v;
}

double proto_exact_to_double(const proto_exact_t* acc) {
  uint32_t f = acc->flags;
  if ((f & PROTO_EXACT_NAN) ||
      ((f & PROTO_EXACT_POS_INF) && (f & PROTO_EXACT_NEG_INF)))
    return NAN;
  if (f & PROTO_EXACT_POS_INF) return INFINITY;
  if (f & PROTO_EXACT_NEG_INF) return -INFINITY;

  proto_exact_t v = *acc;
  proto_exact_normalize(&v);
  int negative = v.digit[PROTO_EXACT_DIGITS - 1] < 0;
  if (negative) {
    for (int j = 0; j < PROTO_EXACT_DIGITS; j++) v.digit[j] = -v.digit[j];
    proto_exact_normalize(&v);
  }
  int top = PROTO_EXACT_DIGITS - 1;
  while (top >= 0 && v.digit[top] == 0) top--;
  if (top < 0) return 0.0;
  /* The top digit may exceed 32 bits only for sums far beyond DBL_MAX. */
  if (v.digit[top] >> DIGIT_BITS) return negative ? -INFINITY : INFINITY;
  int high = top * DIGIT_BITS + 63 - __builtin_clzll((uint64_t)v.digit[top]);
  /* Keep 53 significant bits, or fewer where the result is subnormal (bit
   * PROTO_EXACT_BELOW is the smallest subnormal); round to nearest-even on
   * the bits below. */
  int lo = high - 52 > PROTO_EXACT_BELOW ? high - 52 : PROTO_EXACT_BELOW;
  if (high < lo) { /* below half the smallest subnormal, or exactly half */
    int half = high == lo - 1 && any_below(v.digit, lo - 1);
    return negative ? (half ? -ldexp(1, -1074) : -0.0)
                    : (half ? ldexp(1, -1074) : 0.0);
  }
  uint64_t q = bits_from(v.digit, lo, high - lo + 1);
  if (lo > 0 && bit_at(v.digit, lo - 1)) {
    int sticky = any_below(v.digit, lo - 1);
    if (sticky || (q & 1)) q++;
  }
  double r = ldexp((double)q, lo - 1074 - PROTO_EXACT_BELOW);
  return negative ? -r : r;
}

int proto_exact_equal(const proto_exact_t* a, const proto_exact_t* b) {
  proto_exact_t x = *a, y = *b;
  proto_exact_normalize(&x);
  proto_exact_normalize(&y);
  if (x.flags != y.flags) return 0;
  return memcmp(x.digit, y.digit, sizeof(x.digit)) == 0;
}
