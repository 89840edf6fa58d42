// The farm simulator over many seeds: every run must end with the exact
// result, each index accepted once, nothing from a refused rank, and the
// statistics adding up (tests/sim.cc checks them, and farm_check() after
// every farm call). Fixed seeds, and fresh ones each run (printed, and
// replayed with TASKFARM_SIM_SEED). A failure prints the seed and the
// command that replays it. And the detection of corrupted partials, against
// the arithmetic of --verify.
#include "tests/sim.h"

#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace {

void RunSeeds(uint64_t first, uint64_t count, bool faults) {
  int failed = 0;
  for (uint64_t s = first; s < first + count; s++) {
    sim::Options opt;
    opt.seed = s;
    opt.faults = faults;
    sim::Outcome o = sim::Run(opt);
    if (o.ok) continue;
    ADD_FAILURE() << "seed " << s << " (" << o.workers << " workers, "
                  << o.schedule << "): " << o.failure
                  << "\n  replay: " << sim::Replay(opt);
    if (++failed >= 10) return;
  }
}

TEST(SimTest, HealthyFarmsEndExactly) { RunSeeds(1, 1000, false); }

TEST(SimTest, FaultyFarmsEndExactlyA) { RunSeeds(100001, 3000, true); }

TEST(SimTest, FaultyFarmsEndExactlyB) { RunSeeds(200001, 3000, true); }

// Seeds nobody chose: from TASKFARM_SIM_SEED when set (a replay), else
// from the clock and the pid. The first seed is printed.
TEST(SimTest, FreshSeedsEndExactly) {
  const char* given = getenv("TASKFARM_SIM_SEED");
  uint64_t first = given ? strtoull(given, nullptr, 10)
                         : ((uint64_t)time(nullptr) * 1000003u ^
                            (uint64_t)getpid() << 20) %
                               1000000000000ull;
  printf("fresh seeds %llu to %llu (replay: TASKFARM_SIM_SEED=%llu)\n",
         (unsigned long long)first, (unsigned long long)first + 999,
         (unsigned long long)first);
  RecordProperty("first_seed", std::to_string(first));
  RunSeeds(first, 1000, true);
}

// Rank 1 spoils a fifth of its partials; the others are honest. Each
// spoiled partial is compared with another computation with a known chance
// (--verify for a first result, 1 for a copy checking a done chunk), and
// the run stops at the first that is: so the number of runs in which rank
// 1 is caught has for its expectation the sum of those chances (a sum of
// Bernoulli trials stopped at the first success). The observed number must
// lie within 4 standard deviations of it.
void ExpectDetectionRate(double verify, uint64_t first) {
  double expected = 0, variance = 0;
  int caught = 0, runs = 0, spoiled_runs = 0;
  for (uint64_t s = first; s < first + 400; s++) {
    sim::Options opt;
    opt.seed = s;
    opt.faults = false;
    opt.workers = 4;
    opt.verify = verify;
    opt.corrupt = 0.2;
    sim::Outcome o = sim::Run(opt);
    ASSERT_TRUE(o.ok) << "seed " << s << ": " << o.failure << "\n  replay: "
                      << sim::Replay(opt);
    runs++;
    if (o.spoiled == 0) continue;
    spoiled_runs++;
    caught += o.caught;
    expected += o.catch_odds;
    variance += o.catch_var;
    // A run whose spoiled partials were all compared is caught.
    if (o.caught) {
      EXPECT_TRUE(o.exact) << "seed " << s;
    }
  }
  double sd = std::sqrt(variance);
  printf("--verify %g: rank 1 caught in %d of %d runs that spoiled a partial; "
         "expected %.1f +- %.1f\n",
         verify, caught, spoiled_runs, expected, sd);
  EXPECT_GT(spoiled_runs, runs / 2);
  EXPECT_LE(std::fabs(caught - expected), 4 * sd + 1)
      << caught << " caught, " << expected << " expected";
}

TEST(SimTest, DetectionAtATenthMatchesTheArithmetic) {
  ExpectDetectionRate(0.1, 700001);
}

TEST(SimTest, DetectionAtAThirdMatchesTheArithmetic) {
  ExpectDetectionRate(0.3, 710001);
}

// With every chunk checked, a spoiled partial is never accepted: every
// run is exact and rank 1 is always caught when it spoiled one.
TEST(SimTest, VerifyAllNeverAcceptsAWrongValue) {
  for (uint64_t s = 720001; s < 720301; s++) {
    sim::Options opt;
    opt.seed = s;
    opt.faults = false;
    opt.verify = 1;
    opt.corrupt = 0.3;
    sim::Outcome o = sim::Run(opt);
    ASSERT_TRUE(o.ok) << "seed " << s << ": " << o.failure;
    EXPECT_TRUE(o.exact) << "seed " << s;
    if (o.spoiled > 0) {
      EXPECT_TRUE(o.caught) << "seed " << s;
    }
  }
}

TEST(SimTest, SameSeedSameRun) {
  sim::Options opt;
  opt.seed = 4242;
  sim::Outcome a = sim::Run(opt), b = sim::Run(opt);
  EXPECT_EQ(a.messages, b.messages);
  EXPECT_EQ(a.sim_seconds, b.sim_seconds);
  EXPECT_EQ(a.failure, b.failure);
}

}  // namespace
