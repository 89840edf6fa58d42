// The loop job on real ranks: the checksum is the exact sum of every
// iteration's hash (computed here independently) for every schedule and
// rank count, with a worker killed mid-run too; and the work is real: an
// iteration's cost is time.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/run.h"

namespace {

// splitmix64 of seed*golden + i + 1 (worker/loop.h), summed modulo 2^128.
std::string Checksum(uint64_t seed, uint64_t n) {
  unsigned __int128 sum = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + i + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    sum += z ^ (z >> 31);
  }
  std::string digits;
  do {
    digits.insert(digits.begin(), (char)('0' + (int)(sum % 10)));
    sum /= 10;
  } while (sum != 0);
  return digits;
}

const char* const kSchedules[] = {"static",    "cyclic", "dynamic", "guided",
                                  "trapezoid", "factoring", "wf", "awf-b",
                                  "awf-c",     "af"};

std::vector<std::string> LoopArgs(const char* schedule, int ranks) {
  std::vector<std::string> a = {"loop",   "--n",    "20000", "--cost",
                                "exponential", "--mean", "2000",  "--seed",
                                "42",     "--schedule", schedule, "--quiet"};
  if (std::string(schedule) == "wf") {
    std::string w = "1";
    for (int i = 2; i < ranks; i++) w += ",1";
    a.push_back("--weights");
    a.push_back(ranks > 1 ? w : "1");
  }
  return a;
}

TEST(FarmLoopTest, ChecksumIsExactForEveryScheduleAndRankCount) {
  const std::string want = Checksum(42, 20000);
  for (int ranks = 1; ranks <= 5; ranks++)
    for (const char* schedule : kSchedules) {
      if (ranks == 1 && std::string(schedule) == "wf") continue;  // no workers
      run::Result r = run::Farm(ranks, LoopArgs(schedule, ranks), 60);
      ASSERT_EQ(r.status, 0) << ranks << " " << schedule << "\n" << r.err;
      EXPECT_EQ(run::LineAfter(r.out, "Checksum = "), want)
          << ranks << " ranks, " << schedule;
    }
}

TEST(FarmLoopTest, AWorkerKilledMidRunChangesNothing) {
  const std::string want = Checksum(42, 20000);
  for (const char* schedule : {"dynamic", "factoring", "af", "static"}) {
    std::vector<std::string> args = LoopArgs(schedule, 4);
    args.push_back("--inject");
    args.push_back("2:exit@5c");
    run::Result r = run::Run(run::FarmArgv(4, args), 60, {"TASKFARM_FAULTS=1"});
    ASSERT_EQ(r.status, 0) << schedule << "\n" << r.err;
    EXPECT_EQ(run::LineAfter(r.out, "Checksum = "), want) << schedule;
  }
}

// 20000 iterations of 50 us each are 1 s of work: one rank alone takes at
// least that (the iterations are work, not nothing).
TEST(FarmLoopTest, IterationsCostTheirTime) {
  run::Result r = run::Farm(
      1, {"loop", "--n", "20000", "--mean", "50000", "--cost", "constant"},
      60);
  ASSERT_EQ(r.status, 0) << r.err;
  double t = std::stod(run::LineAfter(r.out, "Time = "));
  EXPECT_GE(t, 0.9);
  EXPECT_LT(t, 5.0);
}

TEST(FarmLoopTest, BadProfilesAreRefused) {
  run::Result r =
      run::Farm(3, {"loop", "--n", "100", "--cost", "uniform", "--mean", "100",
                    "--spread", "200"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("a cost cannot be negative"), std::string::npos)
      << r.err;
  r = run::Farm(3, {"loop", "--n", "100", "--cost", "pareto"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown --cost 'pareto'"), std::string::npos) << r.err;
}

}  // namespace
