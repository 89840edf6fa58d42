// A rank that sends garbage, forged results or another protocol version:
// the master drops and counts every such message, refuses the rank, and the
// result stays exact.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "proto/proto.h"
#include "tests/run.h"

namespace {

const char kDot1e6[] = "166667166667000000";  // n(n+1)(n+2)/6 for n = 1e6

// Two honest ranks and a rogue worker for the same job that misbehaves as
// `mode` says (tests/rogue.c).
run::Result WithRogueWorker(const std::string& mode) {
  return run::Run(
      {"mpiexec.mpich", "-n", "2", run::Binary(), "dot", "--n", "1e6",
       "--chunk", "1000", ":", "-n", "1", run::Binary("tests/rogue"), mode,
       "dot", "--n", "1e6", "--chunk", "1000"},
      60);
}

run::Result WithRogue(const std::string& mode) {
  return run::Run(
      {"mpiexec.mpich", "-n", "2", run::Binary(), "dot", "--n", "1e6",
       "--chunk", "1000", ":", "-n", "1", run::Binary("tests/rogue"), mode},
      60);
}

TEST(FarmRogueTest, GarbageIsDroppedAndResultExact) {
  run::Result r = WithRogue("garbage");
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Dot product is "), kDot1e6);
  // Six malformed or forged messages, each dropped with a line.
  int dropped = 0;
  for (size_t at = 0; (at = r.err.find("dropped a message from rank 2", at)) !=
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
  EXPECT_NE(r.err.find("rank 2 speaks protocol version " +
                       std::to_string(PROTO_VERSION + 1)),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("rogue got REFUSE"), std::string::npos) << r.out;
}

TEST(FarmRogueTest, DuplicatedAndStrayResultsAreNotCounted) {
  run::Result r = WithRogueWorker("dup");
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Dot product is "), kDot1e6);
  // Rank 2 did real work, and each of its results came twice; every copy
  // and the stray result were dropped (the result above is exact).
  std::string line = run::LineAfter(r.err, "taskfarm:   rank 2 ");
  ASSERT_FALSE(line.empty()) << r.err;
  long chunks = atol(line.substr(line.find("): ") + 3).c_str());
  EXPECT_GT(chunks, 0) << line;
  size_t dup_at = line.find(" duplicates");
  ASSERT_NE(dup_at, std::string::npos) << line;
  size_t num_at = line.rfind(", ", dup_at) + 2;
  // The copy of the very last result may arrive after the run has ended.
  EXPECT_GE(atol(line.substr(num_at, dup_at - num_at).c_str()), chunks - 1)
      << line;
  EXPECT_NE(line.find("1 rejected"), std::string::npos) << line;
}

// Messages larger than any of the protocol truncate in the master's
// receive: that used to end the run inside MPI_Testsome.
TEST(FarmRogueTest, OversizedMessagesAreDroppedNotFatal) {
  run::Result r = WithRogue("big");
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Dot product is "), kDot1e6);
  EXPECT_NE(r.err.find("dropped a message from rank 2 (tag 4, more than " +
                       std::to_string(PROTO_MAX_BYTES) +
                       " bytes): message has the wrong size"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("dropped a message from rank 2 (tag 99"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("rogue got REFUSE"), std::string::npos) << r.out;
}

// A rank that turns to another protocol version mid-run is refused and the
// orders it held go to others: that used to leave them without a holder, and
// the run hung. Its later (wrong) results never count.
TEST(FarmRogueTest, VersionChangeMidRunIsRefusedAndRunEnds) {
  run::Result r = WithRogueWorker("turn");
  ASSERT_FALSE(r.timed_out) << r.err;
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Dot product is "), kDot1e6);
  EXPECT_NE(r.err.find("rank 2 speaks protocol version " +
                       std::to_string(PROTO_VERSION + 1)),
            std::string::npos)
      << r.err;
}

// A rank that says BYE at once and never answers FIN: its work goes to
// others, and the job still ends on its own, exactly, without the master
// waiting in MPI_Finalize for a rank that never comes.
TEST(FarmRogueTest, EarlyByeWithoutFinNeitherHangsNorEndsWrong) {
  run::Result r = WithRogueWorker("bye");
  ASSERT_FALSE(r.timed_out) << r.err;
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Dot product is "), kDot1e6);
  EXPECT_EQ(r.err.find("MPI_Finalize did not return"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("BAD TERMINATION"), std::string::npos) << r.out;
  EXPECT_LT(r.seconds, 15) << r.err;
}

}  // namespace
