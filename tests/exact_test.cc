// The exact accumulator against an independent integer reference, IEEE
// rounding corner cases, and order independence.
#include "proto/exact.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace {

double Sum(const std::vector<double>& xs) {
  proto_exact_t acc;
  proto_exact_init(&acc);
  for (double x : xs) proto_exact_add(&acc, x);
  return proto_exact_to_double(&acc);
}

uint64_t Bits(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof(b));
  return b;
}

TEST(ExactTest, EmptyIsPositiveZero) { EXPECT_EQ(Bits(Sum({})), Bits(0.0)); }

TEST(ExactTest, CancellationLeavesTheSmallTerm) {
  EXPECT_EQ(Sum({1e300, 1.0, -1e300}), 1.0);
  EXPECT_EQ(Sum({0x1p-1074, 1e308, -1e308}), 0x1p-1074);
}

TEST(ExactTest, RoundsTiesToEven) {
  EXPECT_EQ(Sum({1.0, 0x1p-53}), 1.0);                      // tie, even down
  EXPECT_EQ(Sum({1.0 + 0x1p-52, 0x1p-53}), 1.0 + 0x1p-51);  // tie, even up
  EXPECT_EQ(Sum({1.0, 0x1p-53, 0x1p-200}), 1.0 + 0x1p-52);  // sticky bit
  EXPECT_EQ(Sum({-1.0, -0x1p-53, -0x1p-200}), -1.0 - 0x1p-52);
}

TEST(ExactTest, SubnormalsAreExact) {
  EXPECT_EQ(Sum({0x1p-1074, 0x1p-1074, 0x3p-1074}), 0x5p-1074);
  EXPECT_EQ(Sum({0x1p-1022, -0x1p-1074}), 0x1p-1022 - 0x1p-1074);
}

TEST(ExactTest, OverflowGivesInfinity) {
  EXPECT_EQ(Sum({1.7e308, 1.7e308}), INFINITY);
  EXPECT_EQ(Sum({-1.7e308, -1.7e308}), -INFINITY);
  EXPECT_EQ(Sum({1.7e308, 1.7e308, -1.7e308}), 1.7e308);
}

TEST(ExactTest, SpecialValuesFollowIeee) {
  EXPECT_EQ(Sum({1.0, INFINITY}), INFINITY);
  EXPECT_EQ(Sum({1.0, -INFINITY}), -INFINITY);
  EXPECT_TRUE(std::isnan(Sum({INFINITY, -INFINITY})));
  EXPECT_TRUE(std::isnan(Sum({1.0, NAN})));
}

// Doubles that are multiples of 2^-60 below 2^40 sum exactly in 128-bit
// integers; converting that integer to double rounds once, correctly.
TEST(ExactTest, MatchesIntegerReferenceOnRandomData) {
  std::mt19937_64 rng(12345);
  for (int trial = 0; trial < 200; trial++) {
    std::vector<double> xs;
    __int128 ref = 0;
    for (int i = 0; i < 1000; i++) {
      int64_t mant = (int64_t)(rng() >> 11) - ((int64_t)1 << 52);
      int e = (int)(rng() % 48);  // value = mant * 2^(e - 60)
      double x = std::ldexp((double)mant, e - 60);
      xs.push_back(x);
      ref += (__int128)mant * ((__int128)1 << e);  // no shift of a negative
    }
    double expect = std::ldexp((double)ref, -60);
    ASSERT_EQ(Bits(Sum(xs)), Bits(expect)) << "trial " << trial;
  }
}

TEST(ExactTest, OrderDoesNotMatter) {
  std::mt19937_64 rng(7);
  std::vector<double> xs;
  for (int i = 0; i < 5000; i++) {
    double x = std::ldexp((double)(rng() >> 11), (int)(rng() % 400) - 200);
    xs.push_back(rng() & 1 ? x : -x);
  }
  double first = Sum(xs);
  for (int k = 0; k < 20; k++) {
    std::shuffle(xs.begin(), xs.end(), rng);
    ASSERT_EQ(Bits(Sum(xs)), Bits(first));
  }
}

TEST(ExactTest, MergeEqualsAddingEverything) {
  std::mt19937_64 rng(99);
  proto_exact_t all, a, b;
  proto_exact_init(&all);
  proto_exact_init(&a);
  proto_exact_init(&b);
  for (int i = 0; i < 3000; i++) {
    double x = std::ldexp((double)(rng() >> 11), (int)(rng() % 2000) - 1000);
    if (rng() & 1) x = -x;
    proto_exact_add(&all, x);
    proto_exact_add(i % 3 ? &a : &b, x);
  }
  proto_exact_merge(&a, &b);
  EXPECT_TRUE(proto_exact_equal(&a, &all));
  EXPECT_EQ(Bits(proto_exact_to_double(&a)), Bits(proto_exact_to_double(&all)));
}

TEST(ExactTest, DigitArrayAddsMatchPlainAdds) {
  // Signed values from subnormal to huge through the hot-loop path (four
  // arrays, folded in) and through proto_exact_add: the same value.
  std::mt19937_64 rng(5);
  proto_exact_t plain, fast;
  proto_exact_init(&plain);
  proto_exact_init(&fast);
  int64_t part[4][PROTO_EXACT_DIGITS] = {};
  const int kCount = 100000;
  for (int i = 0; i < kCount; i++) {
    double x = std::ldexp((double)(rng() >> 11), (int)(rng() % 2100) - 1126);
    if (rng() & 1) x = -x;
    if (!std::isfinite(x)) x = 1.0;
    proto_exact_add(&plain, x);
    proto_exact_add_digits(part[i % 4], x);
  }
  for (int j = 0; j < PROTO_EXACT_DIGITS; j++)
    fast.digit[j] += part[0][j] + part[1][j] + part[2][j] + part[3][j];
  proto_exact_add_done(&fast, kCount / 2);
  EXPECT_TRUE(proto_exact_equal(&plain, &fast));
}

TEST(ExactTest, ManyAddsSurviveNormalisation) {
  // 3e6 adds of the largest finite value and as many of its negation.
  proto_exact_t acc;
  proto_exact_init(&acc);
  for (int i = 0; i < 3000000; i++) proto_exact_add(&acc, 1.0);
  for (int i = 0; i < 3000000; i++) proto_exact_add(&acc, -0.5);
  EXPECT_EQ(proto_exact_to_double(&acc), 1500000.0);
}

}  // namespace
