// A rank that sends garbage, forged results or another protocol version:
// the master drops and counts every such message, refuses the rank, and the
// result stays exact.
#include <gtest/gtest.h>

#include <string>

#include "tests/run.h"

namespace {

const char kDot1e6[] = "166667166667000000";  // n(n+1)(n+2)/6 for n = 1e6

run::Result WithRogue(const std::string& mode) {
  return run::Run({"mpiexec.mpich", "-n", "2", run::Binary(), "dot", "--n",
                   "1e6", "--chunk", "1000", ":", "-n", "1",
                   run::Binary("tests/rogue"), mode},
                  60);
}

TEST(FarmRogueTest, GarbageIsDroppedAndResultExact) {
  run::Result r = WithRogue("garbage");
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Dot product is "), kDot1e6);
  // Six malformed or forged messages, each dropped with a line.
  int dropped = 0;
  for (size_t at = 0;
       (at = r.err.find("dropped a message from rank 2", at)) !=
       std::string::npos;
       at++)
    dropped++;
  EXPECT_EQ(dropped, 6) << r.err;
  EXPECT_NE(r.err.find("started with another job"), std::string::npos);
  EXPECT_NE(r.out.find("rogue got REFUSE"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("6 rejected"), std::string::npos) << r.err;
}

TEST(FarmRogueTest, OtherProtocolVersionIsRefused) {
  run::Result r = WithRogue("version");
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Dot product is "), kDot1e6);
  EXPECT_NE(r.err.find("rank 2 speaks protocol version 2"), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("rogue got REFUSE"), std::string::npos) << r.out;
}

}  // namespace
