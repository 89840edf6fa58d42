/* Exact summation of doubles and of products of two doubles: a fixed-point
 * superaccumulator wide enough to hold any sum of finite doubles, or of
 * their pairwise products (from 2^-2148 to 2^2048), without rounding. The
 * sum is therefore independent of the order of the adds, and
 * proto_exact_to_double() rounds it once, to nearest-even, at the end.
 *
 * Representation: PROTO_EXACT_DIGITS signed 64-bit digits; digit j weighs
 * 2^(32*j - 1074 - PROTO_EXACT_BELOW): the smallest subnormal is bit
 * PROTO_EXACT_BELOW, the bits below it hold what products of tiny doubles
 * have, the digits above 2^1024 what products of huge ones have. An add spreads
 * a 53-bit mantissa over three digits, each receiving less than 2^32, so a
 * digit can take 2^31 adds before it could overflow; the accumulator
 * normalises (propagates carries) well before that. After normalisation every
 * digit but the top one lies in [0, 2^32) and the top one carries the sign.
 * Infinities and NaNs are recorded as flags, following IEEE 754 rules when
 * rounded. The normalised digits are also the wire format of float results. */
#ifndef TASKFARM_PROTO_EXACT_H_
#define TASKFARM_PROTO_EXACT_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  /* 136 * 32 = 4352 bits, from 2^-2226 to 2^2126: every product of two
   * doubles (2^-2148 to 2^2048; a product's 53-bit halves may reach 52 bits
   * lower, in zeros) plus 78 bits of headroom for sums. */
  PROTO_EXACT_DIGITS = 136,
  PROTO_EXACT_BELOW = 1152, /* bits below the smallest subnormal, 2^-1074 */
};

typedef enum {
  PROTO_EXACT_POS_INF = 1, /* a +infinity was added */
  PROTO_EXACT_NEG_INF = 2, /* a -infinity was added */
  PROTO_EXACT_NAN = 4,     /* a NaN was added */
} proto_exact_flag_t;

typedef struct proto_exact_s proto_exact_t;
struct proto_exact_s {
  int64_t digit[PROTO_EXACT_DIGITS]; /* digit j weighs
                                        2^(32j - 1074 - PROTO_EXACT_BELOW) */
  uint32_t pending;                  /* adds since the last normalisation;
                                        0 means the digits are normalised */
  uint32_t flags;                    /* proto_exact_flag_t bits */
};

/* Sets acc to exactly zero. */
void proto_exact_init(proto_exact_t* acc);

/* Adds x exactly. Never fails. */
void proto_exact_add(proto_exact_t* acc, double x);

/* Adds the finite double x times 2^scale exactly into a bare digit array
 * laid out like proto_exact_t's: for hot loops that keep several arrays to
 * break the dependency between consecutive adds. x * 2^scale must lie
 * within the accumulator (every double with scale 0; the halves of a
 * product of two doubles, split by proto_exact_add_product_digits); bits of
 * x's mantissa below the accumulator's lowest bit must be zero. The caller
 * accounts for the adds (proto_exact_add_done) and folds the arrays into an
 * accumulator. */
static inline void proto_exact_add_scaled_digits(int64_t* digit, double x,
                                                 int scale) {
  uint64_t bits;
  __builtin_memcpy(&bits, &x, sizeof(bits));
  uint32_t biased = (uint32_t)(bits >> 52) & 0x7ff;
  uint64_t mant = bits & (((uint64_t)1 << 52) - 1);
  /* Bit position of the mantissa's lowest bit in the accumulator. */
  int pos = PROTO_EXACT_BELOW + scale;
  if (biased != 0) {
    mant |= (uint64_t)1 << 52;
    pos += (int)biased - 1;
  }
  if (pos < 0) { /* only zeros below the accumulator: drop them */
    mant >>= -pos;
    pos = 0;
  }
  /* mant << shift has at most 85 bits: the low 64 and the rest. */
  uint32_t shift = (uint32_t)pos % 32;
  uint64_t low = mant << shift;
  uint64_t high = (mant >> 1) >> (63 - shift);
  /* Conditional negation without a multiply: (v ^ s) - s, s = 0 or -1. */
  int64_t s = -(int64_t)(bits >> 63);
  int64_t* d = &digit[pos / 32];
  d[0] += ((int64_t)(low & 0xffffffffu) ^ s) - s;
  d[1] += ((int64_t)(low >> 32) ^ s) - s;
  d[2] += ((int64_t)high ^ s) - s;
}

/* Adds the finite double x exactly into a bare digit array. */
static inline void proto_exact_add_digits(int64_t* digit, double x) {
  proto_exact_add_scaled_digits(digit, x, 0);
}

/* Adds the exact product a * b of two finite doubles into a bare digit
 * array, whatever their size: a = ma 2^ea and b = mb 2^eb with ma, mb in
 * [0.5, 1), and ma * mb = p + e exactly with p = ma * mb rounded (in
 * [0.25, 1): never subnormal) and e = fma(ma, mb, -p), so nothing overflows
 * or underflows on the way. Two values are added (count them as one pair). */
void proto_exact_add_product_digits(int64_t* digit, double a, double b);

/* Accounts for 2 * pairs values added to acc's digits (directly or folded
 * in from digit arrays), normalising when due. pairs <= 2^20. */
void proto_exact_add_done(proto_exact_t* acc, uint32_t pairs);

/* Adds the exact value held by other (which is left unchanged). */
void proto_exact_merge(proto_exact_t* acc, const proto_exact_t* other);

/* Propagates carries so every digit but the top lies in [0, 2^32). The value
 * is unchanged; two accumulators holding the same value are then equal digit
 * for digit. */
void proto_exact_normalize(proto_exact_t* acc);

/* The exact sum rounded once to the nearest double (ties to even); +-inf if
 * it overflows, and the IEEE result when infinities or NaNs were added. */
double proto_exact_to_double(const proto_exact_t* acc);

/* 1 if both hold the same value and flags, else 0. */
int proto_exact_equal(const proto_exact_t* a, const proto_exact_t* b);

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_PROTO_EXACT_H_ */
