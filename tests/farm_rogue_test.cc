// A rank that sends garbage, forged results or another protocol version:
// the master drops and counts every such message, refuses the rank, and the
// result stays exact.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

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

// Two honest workers and a rogue one (rank 3) on pi; extra goes to every
// rank's command line.
run::Result PiWithRogue(const std::string& mode,
                        const std::vector<std::string>& extra) {
  // Chunks of a few milliseconds: the rogue gets work before it is over.
  std::vector<std::string> job = {"pi", "--n", "2e10", "--chunk", "1.024e8"};
  job.insert(job.end(), extra.begin(), extra.end());
  std::vector<std::string> argv = {"mpiexec.mpich", "-n", "3", run::Binary()};
  argv.insert(argv.end(), job.begin(), job.end());
  argv.insert(argv.end(), {":", "-n", "1", run::Binary("tests/rogue"), mode});
  argv.insert(argv.end(), job.begin(), job.end());
  return run::Run(argv, 60);
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

TEST(FarmRogueTest, DuplicatedResultsAreNotCounted) {
  run::Result r = WithRogueWorker("dup");
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Dot product is "), kDot1e6);
  // Rank 2 did real work, and each of its results came twice; every copy
  // was compared with the result it repeats and dropped.
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
  EXPECT_NE(line.find("0 rejected"), std::string::npos) << line;
  EXPECT_EQ(line.find("REFUSED"), std::string::npos) << line;
  EXPECT_NE(r.err.find(" 0 mismatches"), std::string::npos) << r.err;
}

// After three honest results, a PROGRESS and a RESULT for a chunk it was
// never given: lies. The rank is refused, the chunks it delivered are
// withdrawn and computed again, and the result is exact.
TEST(FarmRogueTest, AStrayResultIsALieAndItsPastIsComputedAgain) {
  run::Result r = WithRogueWorker("stray");
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Dot product is "), kDot1e6);
  // Whichever lie came first (the chunk it names may be one it holds, with
  // another range).
  EXPECT_NE(r.err.find("rank 2 (? pid 0) is refused: it sent "),
            std::string::npos)
      << r.err;
  std::string line = run::LineAfter(r.err, "taskfarm:   rank 2 ");
  EXPECT_NE(line.find("0 chunks, 0 iterations"), std::string::npos) << line;
  EXPECT_NE(line.find("REFUSED"), std::string::npos) << line;
  // How many it delivered before its lie depends on the machine's speed:
  // at least one, withdrawn, in the singular or the plural.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.err, m, std::regex("; ([0-9]+) chunk(s?) withdrawn and computed again")))
      << r.err;
  EXPECT_GE(std::stoull(m[1]), 1u) << r.err;
  EXPECT_EQ(m[2] == "s", m[1] != "1") << r.err;
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

// The liar of the issue that asked for all this: it answered each order
// with a RESULT of a wrong range (dropped), then got the chunk back and
// answered with the right range and a wrong value, which was believed. Now
// the first lie refuses it, and the bits are those of an honest run.
TEST(FarmRogueTest, ALiarIsRefusedAtItsFirstLieAndTheBitsAreHonest) {
  run::Result honest =
      run::Farm(3, {"pi", "--n", "2e10", "--chunk", "1.024e8"});
  ASSERT_EQ(honest.status, 0) << honest.err;
  run::Result r = PiWithRogue("liar", {});
  ASSERT_FALSE(r.timed_out) << r.err;
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "PI bits = "),
            run::LineAfter(honest.out, "PI bits = "));
  EXPECT_NE(r.err.find("rank 3 (? pid 0) is refused: it sent a RESULT for ["),
            std::string::npos)
      << r.err;
}

// A rank whose values are wrong but whose messages are all in order: only
// a second computation finds it. With --verify all it is refused and the
// bits are exact; with --verify off its values are believed (what a check
// is for).
TEST(FarmRogueTest, WrongValuesAreCaughtByASecondComputation) {
  run::Result honest =
      run::Farm(3, {"pi", "--n", "2e10", "--chunk", "1.024e8"});
  ASSERT_EQ(honest.status, 0) << honest.err;
  run::Result all = PiWithRogue("wrong", {"--verify", "all"});
  ASSERT_FALSE(all.timed_out) << all.err;
  ASSERT_EQ(all.status, 0) << all.err;
  EXPECT_EQ(run::LineAfter(all.out, "PI bits = "),
            run::LineAfter(honest.out, "PI bits = "));
  EXPECT_NE(all.err.find("rank 3 (? pid 0) is refused: its result for chunk"),
            std::string::npos)
      << all.err;
  run::Result off = PiWithRogue("wrong", {"--verify", "off"});
  ASSERT_EQ(off.status, 0) << off.err;
  std::string line = run::LineAfter(off.err, "taskfarm:   rank 3 ");
  ASSERT_EQ(line.find("): 0 chunks"), std::string::npos)
      << "the rogue got no work\n"
      << off.err;
  std::string pi = run::LineAfter(off.out, "PI is approximately ");
  EXPECT_NE(run::LineAfter(off.out, "PI bits = "),
            run::LineAfter(honest.out, "PI bits = "))
      << pi;
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
