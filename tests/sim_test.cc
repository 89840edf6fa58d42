// The farm simulator over many seeds: every run must end with the exact
// result, each index accepted once, nothing from a refused rank, and the
// statistics adding up (tests/sim.cc checks them). A failure prints the
// seed and the command that replays it.
#include "tests/sim.h"

#include <gtest/gtest.h>

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

TEST(SimTest, HealthyFarmsEndExactly) { RunSeeds(1, 2000, false); }

TEST(SimTest, FaultyFarmsEndExactlyA) { RunSeeds(100001, 4000, true); }

TEST(SimTest, FaultyFarmsEndExactlyB) { RunSeeds(200001, 4000, true); }

TEST(SimTest, SameSeedSameRun) {
  sim::Options opt;
  opt.seed = 4242;
  sim::Outcome a = sim::Run(opt), b = sim::Run(opt);
  EXPECT_EQ(a.messages, b.messages);
  EXPECT_EQ(a.sim_seconds, b.sim_seconds);
  EXPECT_EQ(a.failure, b.failure);
}

}  // namespace
