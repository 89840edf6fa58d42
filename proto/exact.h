/* Exact summation of doubles: a fixed-point superaccumulator wide enough to
 * hold any sum of finite doubles without rounding. The sum of a set of
 * doubles is therefore independent of the order they were added in, and
 * proto_exact_to_double() rounds it once, to nearest-even, at the end.
 *
 * Representation: PROTO_EXACT_DIGITS signed 64-bit digits; digit j weighs
 * 2^(32*j - 1074), so digit 0 holds the smallest subnormal. An add spreads a
 * 53-bit mantissa over three digits, each receiving less than 2^32, so a
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
  PROTO_EXACT_DIGITS = 68, /* 68 * 32 = 2176 bits: all doubles plus headroom */
};

typedef enum {
  PROTO_EXACT_POS_INF = 1, /* a +infinity was added */
  PROTO_EXACT_NEG_INF = 2, /* a -infinity was added */
  PROTO_EXACT_NAN = 4,     /* a NaN was added */
} proto_exact_flag_t;

typedef struct proto_exact_s proto_exact_t;
struct proto_exact_s {
  int64_t digit[PROTO_EXACT_DIGITS]; /* digit j weighs 2^(32j - 1074) */
  uint32_t pending;                  /* adds since the last normalisation;
                                        0 means the digits are normalised */
  uint32_t flags;                    /* proto_exact_flag_t bits */
};

/* Sets acc to exactly zero. */
void proto_exact_init(proto_exact_t* acc);

/* Adds x exactly. Never fails. */
void proto_exact_add(proto_exact_t* acc, double x);

/* Adds the finite double x exactly into a bare digit array laid out like
 * proto_exact_t's: for hot loops that keep several arrays to break the
 * dependency between consecutive adds. The caller accounts for the adds
 * (proto_exact_add_done) and folds the arrays into an accumulator. */
static inline void proto_exact_add_digits(int64_t* digit, double x) {
  uint64_t bits;
  __builtin_memcpy(&bits, &x, sizeof(bits));
  uint32_t biased = (uint32_t)(bits >> 52) & 0x7ff;
  uint64_t mant = bits & (((uint64_t)1 << 52) - 1);
  uint32_t pos = 0;
  if (biased != 0) {
    mant |= (uint64_t)1 << 52;
    pos = biased - 1;
  }
  /* mant << shift has at most 85 bits: the low 64 and the rest. */
  uint32_t shift = pos % 32;
  uint64_t low = mant << shift;
  uint64_t high = (mant >> 1) >> (63 - shift);
  /* Conditional negation without a multiply: (v ^ s) - s, s = 0 or -1. */
  int64_t s = -(int64_t)(bits >> 63);
  int64_t* d = &digit[pos / 32];
  d[0] += ((int64_t)(low & 0xffffffffu) ^ s) - s;
  d[1] += ((int64_t)(low >> 32) ^ s) - s;
  d[2] += ((int64_t)high ^ s) - s;
}

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
