// The loop schedules: hand-computed chunk sequences for n = 1000, P = 4
// (docs/schedules.md works them out), and for every schedule the properties
// any run relies on: chunks tile [0, n) exactly once, none is empty, every
// boundary respects the alignment, owners are real workers.
#include "master/schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "master/chunks.h"

namespace {

// Sizes a schedule hands out, worker w = k % P asking for the k-th chunk.
std::vector<uint64_t> Sequence(cli_sched_t kind, uint64_t n, int p,
                               uint64_t chunk, uint64_t min_chunk,
                               const double* weights = nullptr) {
  master_sched_t s;
  EXPECT_EQ(master_sched_init(&s, kind, n, p, 1, chunk, min_chunk, 0, weights),
            0);
  std::vector<uint64_t> out;
  for (uint64_t begin = 0, k = 0; begin < n; k++) {
    uint64_t size = master_sched_next(&s, (int)(k % (uint64_t)p), begin);
    out.push_back(size);
    begin += size;
  }
  master_sched_close(&s);
  return out;
}

using Sizes = std::vector<uint64_t>;

TEST(ScheduleTest, StaticIsOneBlockPerWorker) {
  EXPECT_EQ(Sequence(CLI_SCHED_STATIC, 1000, 4, 0, 1),
            (Sizes{250, 250, 250, 250}));
  EXPECT_EQ(Sequence(CLI_SCHED_STATIC, 10, 4, 0, 1), (Sizes{2, 3, 2, 3}));
  // Pieces of at most --chunk, never crossing a block boundary.
  EXPECT_EQ(Sequence(CLI_SCHED_STATIC, 1000, 4, 100, 1),
            (Sizes{100, 100, 50, 100, 100, 50, 100, 100, 50, 100, 100, 50}));
}

TEST(ScheduleTest, StaticOwnersAreBlocksAndCyclicDeals) {
  master_sched_t s;
  ASSERT_EQ(
      master_sched_init(&s, CLI_SCHED_STATIC, 1000, 4, 1, 100, 1, 0, nullptr),
      0);
  EXPECT_EQ(master_sched_owner(&s, 0, 0), 0);
  EXPECT_EQ(master_sched_owner(&s, 249, 7), 0);
  EXPECT_EQ(master_sched_owner(&s, 250, 0), 1);
  EXPECT_EQ(master_sched_owner(&s, 999, 0), 3);
  master_sched_close(&s);
  ASSERT_EQ(
      master_sched_init(&s, CLI_SCHED_CYCLIC, 1000, 3, 1, 100, 1, 0, nullptr),
      0);
  for (uint64_t cut = 0; cut < 10; cut++)
    EXPECT_EQ(master_sched_owner(&s, cut * 100, cut), (int)(cut % 3));
  master_sched_close(&s);
}

TEST(ScheduleTest, DynamicAndCyclicUseTheFixedChunk) {
  EXPECT_EQ(Sequence(CLI_SCHED_DYNAMIC, 1000, 4, 300, 1),
            (Sizes{300, 300, 300, 100}));
  EXPECT_EQ(Sequence(CLI_SCHED_CYCLIC, 1000, 4, 300, 1),
            (Sizes{300, 300, 300, 100}));
}

TEST(ScheduleTest, GuidedTakesRemainingOverP) {
  // ceil(R / 4): 1000 -> 250, 750 -> 188, 562 -> 141, ...
  EXPECT_EQ(Sequence(CLI_SCHED_GUIDED, 1000, 4, 0, 1),
            (Sizes{250, 188, 141, 106, 79, 59, 45, 33, 25, 19, 14,
                   11,  8,   6,   4,   3,  3,  2,  1,  1,  1,  1}));
  // The minimum chunk stops the tail from shrinking below it.
  EXPECT_EQ(Sequence(CLI_SCHED_GUIDED, 1000, 4, 0, 50),
            (Sizes{250, 188, 141, 106, 79, 59, 50, 50, 50, 27}));
}

TEST(ScheduleTest, TrapezoidDecreasesLinearly) {
  // F = ceil(1000 / 8) = 125, L = 1, C = ceil(2000 / 126) = 16,
  // delta = floor(124 / 15) = 8; the 13th chunk is clipped to the rest.
  EXPECT_EQ(Sequence(CLI_SCHED_TRAPEZOID, 1000, 4, 0, 1),
            (Sizes{125, 117, 109, 101, 93, 85, 77, 69, 61, 53, 45, 37, 28}));
}

TEST(ScheduleTest, FactoringHalvesBatches) {
  // Batches of P chunks of ceil(R / 2P); a remnant of <= min joins the chunk
  // that leaves it (the last 1 + 1 + 2).
  EXPECT_EQ(
      Sequence(CLI_SCHED_FACTORING, 1000, 4, 0, 1),
      (Sizes{125, 125, 125, 125, 63, 63, 63, 63, 31, 31, 31, 31, 16, 16, 16, 16,
             8,   8,   8,   8,   4,  4,  4,  4,  2,  2,  2,  2,  1,  1,  2}));
}

TEST(ScheduleTest, WeightedFactoringScalesByWeight) {
  // Weights 3:1:1:1 normalise to 2, 2/3, 2/3, 2/3; worker 0 asks first.
  const double w[] = {3, 1, 1, 1};
  EXPECT_EQ(
      Sequence(CLI_SCHED_WF, 1000, 4, 0, 1, w),
      (Sizes{250, 83, 83, 84, 126, 42, 42, 42, 62, 21, 21, 20, 32, 11, 11,
             10,  16, 5,  5,  6,   8,  3,  3,  2,  4,  1,  1,  2,  2,  2}));
  // Equal weights are plain factoring.
  const double one[] = {1, 1, 1, 1};
  EXPECT_EQ(Sequence(CLI_SCHED_WF, 1000, 4, 0, 1, one),
            Sequence(CLI_SCHED_FACTORING, 1000, 4, 0, 1));
}

// Worker 0 takes 1 ns per iteration, worker 1 three: weights 1.5 and 0.5.
void LearnOneToThree(master_sched_t* s) {
  master_sched_learn(s, 0, 1000, 1e-6);
  master_sched_learn(s, 1, 1000, 3e-6);
}

TEST(ScheduleTest, AwfBLearnsWeightsPerBatch) {
  master_sched_t s;
  ASSERT_EQ(master_sched_init(&s, CLI_SCHED_AWF_B, 1000000, 2, 1, 0, 1000, 0,
                              nullptr),
            0);
  s.growth = 0;  // the formula alone; slow start has its own test
  // Nothing measured yet: worker 0 probes with the minimum chunk; the batch
  // (2 x ceil(1e6 / 4)) keeps the equal weights it started with.
  EXPECT_EQ(master_sched_next(&s, 0, 0), 1000u);
  LearnOneToThree(&s);
  EXPECT_EQ(master_sched_next(&s, 1, 1000), 250000u);
  EXPECT_EQ(master_sched_next(&s, 0, 251000), 249000u);  // rest of the batch
  // Next batch: R = 500000, chunk ceil(R / 4) = 125000 x 0.5 and x 1.5.
  EXPECT_EQ(master_sched_next(&s, 1, 500000), 62500u);
  EXPECT_EQ(master_sched_next(&s, 0, 562500), 187500u);
  master_sched_close(&s);
}

TEST(ScheduleTest, AwfCLearnsWeightsPerChunk) {
  master_sched_t s;
  ASSERT_EQ(master_sched_init(&s, CLI_SCHED_AWF_C, 1000000, 2, 1, 0, 1000, 0,
                              nullptr),
            0);
  s.growth = 0;
  EXPECT_EQ(master_sched_next(&s, 0, 0), 1000u);
  EXPECT_EQ(master_sched_next(&s, 1, 1000), 1000u);
  LearnOneToThree(&s);
  // R = 998000: 1.5 x ceil(R / 4) = 1.5 x 249500.
  EXPECT_EQ(master_sched_next(&s, 0, 2000), 374250u);
  // R = 623750: 0.5 x ceil(R / 4) = 0.5 x 155938, rounded half up.
  EXPECT_EQ(master_sched_next(&s, 1, 376250), 77969u);
  master_sched_close(&s);
}

TEST(ScheduleTest, AdaptiveChunksGrowAtMostTwofold) {
  // One short measurement must not buy a worker a huge chunk: a rank under a
  // CPU quota runs at full speed for a few milliseconds, then stalls.
  master_sched_t s;
  ASSERT_EQ(master_sched_init(&s, CLI_SCHED_AF, 1000000000, 2, 1, 0, 100, 0,
                              nullptr),
            0);
  uint64_t begin = 0, last = 0;
  for (int k = 0; k < 6; k++) {
    uint64_t size = master_sched_next(&s, 0, begin);
    EXPECT_EQ(size, k == 0 ? 100u : 2 * last);
    master_sched_learn(&s, 0, size, (double)size * 1e-9);
    master_sched_learn(&s, 1, size, (double)size * 1e-9);
    begin += size;
    last = size;
  }
  master_sched_close(&s);
}

TEST(ScheduleTest, AdaptiveFactoringFollowsMeanAndVariance) {
  master_sched_t s;
  const uint64_t n = 100000000;
  ASSERT_EQ(master_sched_init(&s, CLI_SCHED_AF, n, 2, 1, 0, 10, 0, nullptr),
            0);
  s.growth = 0;
  EXPECT_EQ(master_sched_next(&s, 0, 0), 10u);  // unknown: the minimum
  // Worker 0: 100 iterations at 1 ns and 100 at 3 ns: mu = 2 ns,
  // sigma^2 = (100 (1-2)^2 + 100 (3-2)^2) / 1 ns^2 = 200e-18.
  master_sched_learn(&s, 0, 100, 100e-9);
  master_sched_learn(&s, 0, 100, 300e-9);
  // Worker 1: 4 ns, always (variance 0).
  master_sched_learn(&s, 1, 100, 400e-9);
  master_sched_learn(&s, 1, 100, 400e-9);
  double mu0 = 2e-9, mu1 = 4e-9, var0 = 200e-18;
  double d = var0 / mu0, t = 1 / (1 / mu0 + 1 / mu1), r = 1e6;
  double k0 = (d + 2 * t * r - std::sqrt(d * d + 4 * d * t * r)) / (2 * mu0);
  double k1 = (d + 2 * t * r - std::sqrt(d * d + 4 * d * t * r)) / (2 * mu1);
  EXPECT_EQ(master_sched_next(&s, 0, n - 1000000), (uint64_t)std::llround(k0));
  EXPECT_EQ(master_sched_next(&s, 1, n - 1000000), (uint64_t)std::llround(k1));
  // Early on the chunk is capped at n / 2P.
  EXPECT_EQ(master_sched_next(&s, 0, 0), n / 4);
  // A lost worker leaves the sums: worker 0 alone gets nearly all of R.
  master_sched_set_alive(&s, 1, 0);
  double k = (var0 / mu0 + 2 * mu0 * r -
              std::sqrt(var0 / mu0 * (var0 / mu0 + 4 * mu0 * r))) /
             (2 * mu0);
  EXPECT_EQ(master_sched_next(&s, 0, n - 1000000), (uint64_t)std::llround(k));
  master_sched_close(&s);
}

// Every schedule, random n, P, alignment and speeds: chunks tile [0, n)
// exactly once through the chunk table, none is empty, all are aligned.
TEST(ScheduleTest, EveryScheduleTilesTheRangeOnce) {
  std::mt19937_64 rng(20261127);
  for (int kind = 0; kind < CLI_SCHED_COUNT; kind++) {
    for (int trial = 0; trial < 40; trial++) {
      uint64_t align = trial % 3 == 0 ? 1024 : 1;
      uint64_t n = 1 + rng() % (trial % 2 ? 5000000 : 100000);
      int p = 1 + (int)(rng() % 9);
      uint64_t chunk = trial % 4 == 0 ? 0 : 1 + rng() % 50000;
      uint64_t min_chunk = 1 + rng() % 300;
      std::vector<double> w(p);
      for (double& x : w) x = 0.5 + (double)(rng() % 100) / 20;
      master_sched_t s;
      ASSERT_EQ(
          master_sched_init(&s, (cli_sched_t)kind, n, p, align, chunk,
                            min_chunk, trial % 5 == 0 ? 4096 : 0, w.data()),
          0);
      master_table_t t;
      ASSERT_EQ(master_table_init(&t, n, align), 0);
      std::vector<uint64_t> covered;
      uint64_t total = 0;
      for (uint64_t cut = 0; t.next_begin < n; cut++) {
        int worker = (int)(rng() % (uint64_t)p);
        uint64_t begin = t.next_begin;
        uint64_t size = master_sched_next(&s, worker, begin);
        ASSERT_GT(size, 0u) << cli_sched_name((cli_sched_t)kind);
        ASSERT_LE(size, n - begin);
        ASSERT_TRUE(size % align == 0 || begin + size == n);
        int owner = master_sched_owner(&s, begin, cut);
        ASSERT_GE(owner, 0);
        ASSERT_LT(owner, p);
        size_t id;
        ASSERT_EQ(master_table_cut(&t, size, &id), 1);
        ASSERT_EQ(t.chunk[id].begin, begin);
        ASSERT_EQ(t.chunk[id].end, begin + size);
        total += size;
        master_sched_learn(&s, worker, size, (double)size * 1e-9 * w[worker]);
        ASSERT_LT(cut, 10 * n + 10) << "no progress";
      }
      EXPECT_EQ(total, n);
      master_table_close(&t);
      master_sched_close(&s);
    }
  }
}

TEST(ScheduleTest, StaticBlocksAreAlignedAndOwnedInOrder) {
  master_sched_t s;
  ASSERT_EQ(master_sched_init(&s, CLI_SCHED_STATIC, 1000000, 3, 1024, 0, 0, 0,
                              nullptr),
            0);
  uint64_t begin = 0;
  for (int w = 0; w < 3; w++) {
    EXPECT_EQ(master_sched_owner(&s, begin, 0), w);
    uint64_t size = master_sched_next(&s, 0, begin);
    begin += size;
    EXPECT_TRUE(begin % 1024 == 0 || begin == 1000000u);
  }
  EXPECT_EQ(begin, 1000000u);
  master_sched_close(&s);
}

}  // namespace
