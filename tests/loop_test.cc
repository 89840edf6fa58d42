// The loop job's iterations: costs follow their profiles (checked against
// the profiles' own moments, not the code's formulas), are a function of
// (seed, i) alone, and the hash is splitmix64's finaliser (an independent
// implementation here).
#include "jobs/loop.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace {

loop_profile_t Loop(loop_cost_t cost, double mean, double spread,
                    uint64_t n = 1000000) {
  loop_profile_t p{};
  p.cost = cost;
  p.mean_ns = mean;
  p.spread_ns = spread;
  p.seed = 7;
  p.n = n;
  return p;
}

// Sample mean and standard deviation of the first count costs.
void Moments(const loop_profile_t& job, int count, double* mean, double* sd) {
  double s = 0, s2 = 0;
  for (int i = 0; i < count; i++) {
    double c = loop_cost_ns(&job, (uint64_t)i);
    s += c;
    s2 += c * c;
  }
  *mean = s / count;
  *sd = std::sqrt(s2 / count - *mean * *mean);
}

TEST(LoopTest, HashIsSplitmixOfSeedAndIndex) {
  // Vigna's splitmix64 output for state seed*golden + i + 1, written out.
  auto reference = [](uint64_t seed, uint64_t i) {
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + i + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  for (uint64_t seed : {0ull, 1ull, 12345ull})
    for (uint64_t i : {0ull, 1ull, 999999ull, 1ull << 50})
      EXPECT_EQ(loop_hash(seed, i), reference(seed, i));
  EXPECT_NE(loop_hash(1, 5), loop_hash(2, 5));
}

TEST(LoopTest, ProfilesHaveTheirMoments) {
  const int kCount = 200000;
  double m, sd;
  Moments(Loop(LOOP_COST_CONSTANT, 1000, 300), kCount, &m, &sd);
  EXPECT_DOUBLE_EQ(m, 1000);
  EXPECT_LT(sd, 1e-6);
  // Uniform on [mean - s, mean + s]: sd = s / sqrt(3).
  Moments(Loop(LOOP_COST_UNIFORM, 1000, 600), kCount, &m, &sd);
  EXPECT_NEAR(m, 1000, 5);
  EXPECT_NEAR(sd, 600 / std::sqrt(3.0), 5);
  Moments(Loop(LOOP_COST_NORMAL, 1000, 100), kCount, &m, &sd);
  EXPECT_NEAR(m, 1000, 2);
  EXPECT_NEAR(sd, 100, 2);
  // Exponential: sd = mean.
  Moments(Loop(LOOP_COST_EXPONENTIAL, 2000, 0), kCount, &m, &sd);
  EXPECT_NEAR(m, 2000, 30);
  EXPECT_NEAR(sd, 2000, 40);
  // Gamma with mean 1000 and sd 500 (shape 4), and sd 2000 (shape 1/4).
  Moments(Loop(LOOP_COST_GAMMA, 1000, 500), kCount, &m, &sd);
  EXPECT_NEAR(m, 1000, 10);
  EXPECT_NEAR(sd, 500, 10);
  Moments(Loop(LOOP_COST_GAMMA, 1000, 2000), kCount, &m, &sd);
  EXPECT_NEAR(m, 1000, 40);
  EXPECT_NEAR(sd, 2000, 150);
  // Bimodal: exactly two values, half each; sd = spread.
  Moments(Loop(LOOP_COST_BIMODAL, 1000, 800), kCount, &m, &sd);
  EXPECT_NEAR(m, 1000, 8);
  EXPECT_NEAR(sd, 800, 1);
  loop_profile_t two = Loop(LOOP_COST_BIMODAL, 1000, 800);
  for (int i = 0; i < 100; i++) {
    double c = loop_cost_ns(&two, (uint64_t)i);
    EXPECT_TRUE(c == 200 || c == 1800) << c;
  }
}

TEST(LoopTest, LinearProfilesRunFromEndToEnd) {
  loop_profile_t up = Loop(LOOP_COST_INCREASING, 1000, 500, 11);
  loop_profile_t down = Loop(LOOP_COST_DECREASING, 1000, 500, 11);
  EXPECT_DOUBLE_EQ(loop_cost_ns(&up, 0), 500);
  EXPECT_DOUBLE_EQ(loop_cost_ns(&up, 5), 1000);
  EXPECT_DOUBLE_EQ(loop_cost_ns(&up, 10), 1500);
  EXPECT_DOUBLE_EQ(loop_cost_ns(&down, 0), 1500);
  EXPECT_DOUBLE_EQ(loop_cost_ns(&down, 10), 500);
}

TEST(LoopTest, CostsAreAFunctionOfSeedAndIndexAlone) {
  loop_profile_t job = Loop(LOOP_COST_GAMMA, 1000, 700);
  std::vector<double> first;
  for (uint64_t i = 0; i < 1000; i++) first.push_back(loop_cost_ns(&job, i));
  // In reverse order, after other seeds were used: the same values.
  loop_profile_t other = job;
  other.seed = 8;
  for (uint64_t i = 0; i < 1000; i++) loop_cost_ns(&other, i);
  for (uint64_t i = 1000; i-- > 0;)
    ASSERT_EQ(loop_cost_ns(&job, i), first[i]) << i;
  EXPECT_NE(loop_cost_ns(&other, 3), first[3]);
}

TEST(LoopTest, CalibrationMeasuresAPositiveRate) {
  uint64_t scale = loop_calibrate();
  EXPECT_GT(scale, 10u);      // more than 10 steps per microsecond
  EXPECT_LT(scale, 100000u);  // fewer than 100 per nanosecond
}

}  // namespace
