// A user's kernel is foreign code. Each way it can misbehave (a crash, an
// abort, an exit, a hang, results that depend on more than the index
// range) costs chunks, never the run's honesty: the run ends in bounded
// time with exit 1 naming the chunks, never exit 0 without a result, never
// a hang; the journal keeps every other chunk, and the kernel fixed resumes
// it to the result of a clean run. The kernels are tests/hostile_kernel.c,
// which misbehaves from index 550000 on: chunks 5 to 9 of ten.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/run.h"

namespace {

std::string Hostile() { return run::Binary("tests/libhostile.so"); }
std::string Fixed() { return run::Binary("tests/libhostile_fixed.so"); }

std::vector<std::string> Args(const std::string& so, const std::string& what) {
  return {"run",   "--kernel", so,      "--n",   "1e6",         "--chunk",
          "1e5",   "--arg",    "do=" + what, "--arg", "from=550000"};
}

// The clean result: the fixed kernel, from scratch.
run::Result Clean() {
  return run::Farm(3, Args(Fixed(), "none"), 60);
}

struct Case {
  const char* what;   // --arg do=
  const char* cause;  // how the farm describes a death
  double bound_s;     // the run ends within this
};

const Case kCases[] = {
    {"segv", "its kernel died by signal 11", 20},
    {"abort", "its kernel died by signal 6", 20},
    {"exit", "its kernel exited with status 0 in the middle of the chunk", 20},
    // Five poisoned chunks, two hangs each of --timeout-floor (1 s), two
    // workers at a time: about 5 s.
    {"hang", "its kernel showed no progress for 1.", 30},
};

TEST(FarmTrustTest, EveryMisbehaviourEndsWithTheChunksNamedAndResumes) {
  run::Result clean = Clean();
  ASSERT_EQ(clean.status, 0) << clean.err;
  std::string bits = run::LineAfter(clean.out, "Result bits = ");
  std::string integer = run::LineAfter(clean.out, "Integer result = ");
  ASSERT_EQ(integer, "1000000");
  for (const Case& c : kCases) {
    std::string journal = run::TempPath(std::string("trust-") + c.what);
    std::vector<std::string> args = Args(Hostile(), c.what);
    args.insert(args.end(), {"--journal", journal});
    run::Result r = run::Run(run::FarmArgv(3, args), 60);
    ASSERT_FALSE(r.timed_out) << c.what << "\n" << r.err;
    EXPECT_EQ(r.status, 1) << c.what << "\n" << r.err;
    EXPECT_LT(r.seconds, c.bound_s) << c.what;
    EXPECT_EQ(r.out.find("Result"), std::string::npos)
        << c.what << ": a result line from a run that failed\n"
        << r.out;
    EXPECT_NE(r.err.find("chunk 5 [500000, 600000) killed or froze its "
                         "computation 2 times: rank "),
              std::string::npos)
        << c.what << "\n"
        << r.err;
    EXPECT_NE(r.err.find(c.cause), std::string::npos) << c.what << "\n"
                                                       << r.err;
    EXPECT_NE(r.err.find("5 chunks killed or froze 2 computations each"),
              std::string::npos)
        << c.what << "\n"
        << r.err;
    // Chunks 0 to 4 are in the journal: the kernel fixed computes the rest
    // and the result is the clean one, bit for bit.
    std::vector<std::string> again = Args(Fixed(), c.what);
    again.insert(again.end(), {"--journal", journal, "--resume"});
    run::Result resumed = run::Run(run::FarmArgv(3, again), 60);
    ASSERT_EQ(resumed.status, 0) << c.what << "\n" << resumed.err;
    EXPECT_NE(resumed.err.find("500000 of 1000000 iterations (50.0%) already "
                               "done"),
              std::string::npos)
        << resumed.err;
    EXPECT_EQ(run::LineAfter(resumed.out, "Result bits = "), bits) << c.what;
    EXPECT_EQ(run::LineAfter(resumed.out, "Integer result = "), integer);
  }
}

// Without mpiexec the master computes alone, in a process of its own: a
// crash there costs the chunk, not the run (each of the master's deaths
// counts, there being nobody else).
TEST(FarmTrustTest, TheMasterAloneSurvivesItsKernel) {
  for (const char* what : {"segv", "exit"}) {
    run::Result r = run::Run(
        [&] {
          std::vector<std::string> argv = {run::Binary()};
          for (const std::string& a : Args(Hostile(), what)) argv.push_back(a);
          return argv;
        }(),
        60);
    ASSERT_FALSE(r.timed_out) << r.err;
    EXPECT_EQ(r.status, 1) << what << "\n" << r.err;
    EXPECT_NE(r.err.find("chunk 9 [900000, 1000000) killed or froze its "
                         "computation 2 times: the master ("),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out.find("Result"), std::string::npos) << r.out;
  }
}

// A kernel whose result depends on the time: two computations of a chunk
// never agree. With every chunk checked the run says so and fails.
TEST(FarmTrustTest, AKernelThatIsNotDeterministicIsFound) {
  std::vector<std::string> args = Args(Hostile(), "noise");
  args.insert(args.end(), {"--verify", "all"});
  run::Result r = run::Run(run::FarmArgv(4, args), 60);
  ASSERT_FALSE(r.timed_out) << r.err;
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("the kernel is not deterministic"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("Result"), std::string::npos) << r.out;
}

// A crash while the object is loaded and initialised is found before MPI
// starts, in a child: a usage error (exit 2), said once.
TEST(FarmTrustTest, ACrashInInitIsAUsageError) {
  run::Result r = run::Farm(3, Args(Hostile(), "initcrash"), 60);
  ASSERT_FALSE(r.timed_out) << r.err;
  EXPECT_EQ(r.status, 2) << r.err;
  const std::string said = "crashed while it was loaded and initialised "
                           "(signal 11";
  size_t at = r.err.find(said);
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(said, at + 1), std::string::npos) << "said twice";
  EXPECT_EQ(r.out.find("Caught signal"), std::string::npos) << r.out;
}

}  // namespace
