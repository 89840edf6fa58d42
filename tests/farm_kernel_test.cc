// A user's kernel (examples/zeta.c) under run --kernel: the result is the
// same bits for every rank count and schedule and through a resume, the
// integer sum is the closed form, the float sum agrees with an independent
// long-double sum; the object built with the README's plain gcc line gives
// the same result; objects that cannot work are refused up front; a rank
// with another build is refused, and so is a journal of another build.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run.h"

namespace {

std::string Zeta() { return run::Binary("examples/libzeta.so"); }

std::vector<std::string> ZetaArgs(const std::string& so, const char* n,
                                  const char* schedule = "dynamic") {
  return {"run",   "--kernel", so,           "--n",    n,
          "--arg", "power=2",  "--schedule", schedule, "--quiet"};
}

TEST(FarmKernelTest, SameBitsEverywhereAndTheClosedForm) {
  const uint64_t n = 2000000;
  // sum_{i<n} i^2 = (n-1) n (2n-1) / 6, exactly.
  unsigned __int128 squares = (unsigned __int128)(n - 1) * n * (2 * n - 1) / 6;
  // sum 1/i^2 from the smallest term up, in long double: an independent
  // value within a few ulp of the exact sum rounded once.
  long double s = 0;
  for (uint64_t i = n; i >= 1; i--) s += 1.0L / ((long double)i * i);
  std::string bits;
  for (int ranks : {1, 2, 3, 5})
    for (const char* schedule : {"dynamic", "static", "guided", "af"}) {
      run::Result r = run::Farm(ranks, ZetaArgs(Zeta(), "2e6", schedule), 60);
      ASSERT_EQ(r.status, 0) << ranks << " " << schedule << "\n" << r.err;
      EXPECT_EQ(run::LineAfter(r.out, "Integer result = "),
                run::Decimal(squares));
      std::string b = run::LineAfter(r.out, "Result bits = ");
      if (bits.empty()) bits = b;
      EXPECT_EQ(b, bits) << ranks << " ranks, " << schedule;
    }
  double got = std::strtod(bits.c_str(), nullptr);
  EXPECT_LE(std::fabs(got - (double)s), 2 * std::nextafter(got, 2.0) - 2 * got)
      << got << " vs " << (double)s;
}

// A worker killed mid-run, on a few schedules: the same bits.
TEST(FarmKernelTest, AKilledWorkerChangesNothing) {
  run::Result ref = run::Farm(3, ZetaArgs(Zeta(), "2e6"), 60);
  ASSERT_EQ(ref.status, 0) << ref.err;
  for (const char* schedule : {"dynamic", "static", "af"}) {
    std::vector<std::string> args = ZetaArgs(Zeta(), "2e6", schedule);
    args.insert(args.end(), {"--inject", "1:exit@3c"});
    run::Result r = run::Run(run::FarmArgv(4, args), 60, {"TASKFARM_FAULTS=1"});
    ASSERT_EQ(r.status, 0) << schedule << "\n" << r.err;
    EXPECT_EQ(run::LineAfter(r.out, "Result bits = "),
              run::LineAfter(ref.out, "Result bits = "))
        << schedule;
    EXPECT_EQ(run::LineAfter(r.out, "Integer result = "),
              run::LineAfter(ref.out, "Integer result = "))
        << schedule;
  }
}

// The README's line: gcc -O2 -shared -fPIC -I worker -o libzeta.so zeta.c
TEST(FarmKernelTest, APlainGccBuildRunsToo) {
  std::string dir = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
  std::string so = dir + "/libzeta-gcc.so";
  std::string header = run::Binary("jobs/taskfarm_kernel.h");
  std::string include = header.substr(0, header.rfind('/'));
  run::Result cc = run::Run({"gcc", "-O2", "-shared", "-fPIC", "-I", include,
                             "-o", so, run::Binary("examples/zeta.c"), "-lm"},
                            60);
  ASSERT_EQ(cc.status, 0) << cc.err;
  run::Result mine = run::Farm(3, ZetaArgs(so, "1e6"), 60);
  run::Result bazel = run::Farm(3, ZetaArgs(Zeta(), "1e6"), 60);
  ASSERT_EQ(mine.status, 0) << mine.err;
  ASSERT_EQ(bazel.status, 0) << bazel.err;
  EXPECT_EQ(run::LineAfter(mine.out, "Result bits = "),
            run::LineAfter(bazel.out, "Result bits = "));
}

void ExpectRefused(const std::vector<std::string>& args,
                   const std::string& needle) {
  run::Result r = run::Farm(3, args, 30);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(run::CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(FarmKernelTest, ObjectsThatCannotWorkAreRefusedUpFront) {
  ExpectRefused(
      {"run", "--kernel", run::Binary("tests/libbad_nosym.so"), "--n", "10"},
      "has no function taskfarm_kernel");
  ExpectRefused(
      {"run", "--kernel", run::Binary("tests/libbad_abi.so"), "--n", "10"},
      "was built for kernel interface version 99");
  ExpectRefused(
      {"run", "--kernel", run::Binary("examples/zeta.c"), "--n", "10"},
      "cannot load --kernel");
  ExpectRefused({"run", "--kernel", Zeta(), "--n", "10", "--arg", "power=0"},
                "--arg power takes a whole number from 1 to 16, got '0'");
  ExpectRefused(
      {"run", "--kernel", Zeta(), "--n", "10", "--arg", "colour=1"},
      "zeta takes no option --arg colour (it takes --arg power, --arg fail_at)");
  ExpectRefused({"run", "--kernel", Zeta(), "--n", "2e12"},
                "--n 2000000000000 is beyond the supported maximum 1099511627776 of zeta");
  ExpectRefused({"run", "--n", "10"}, "run needs --kernel FILE");
  // A FIFO is never handed to dlopen, which would wait on it for ever:
  // refused at once, its help too, with no half usage before the sentence.
  std::string fifo = run::TempPath("kernel.fifo");
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  ExpectRefused({"run", "--kernel", fifo, "--n", "10"},
                "is not a regular file (it is a FIFO)");
  ExpectRefused({"run", "--kernel", fifo, "--help"},
                "is not a regular file (it is a FIFO)");
  unlink(fifo.c_str());
}

// A kernel's init that writes impossible counts into the description the
// farm gave it: what its process sends back is checked, and the run is
// refused with a sentence instead of read past its arrays.
TEST(FarmKernelTest, AnInitThatScribblesOverItsArgumentsIsRefused) {
  ExpectRefused({"run", "--kernel", run::Binary("tests/libwild_scribble.so"),
                 "--n", "10"},
                "sent back an impossible description of itself (counts out "
                "of their bounds (100000 options");
}

// Result lines far longer than a line usually is (a 255-byte option printed
// fifteen times in each of eight lines): each is cut at the console's
// limit, whole lines only, and --output gets the very bytes stdout got.
TEST(FarmKernelTest, ResultLinesLongerThanTheBufferAreCutWhole) {
  std::string word(255, 'w');
  std::string out = run::TempPath("wild-lines.out");
  unlink(out.c_str());
  run::Result r = run::Farm(
      3,
      {"run", "--kernel", run::Binary("tests/libwild_lines.so"), "--n", "100",
       "--arg", "word=" + word, "--output", out, "--quiet"},
      60);
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(out, std::ios::binary);
  std::string written((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  EXPECT_EQ(written, r.out);
  std::istringstream lines(r.out);
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line);
  ASSERT_FALSE(got.empty()) << r.out;
  EXPECT_EQ(got.back().rfind("Time = ", 0), 0u) << got.back();
  got.pop_back();
  ASSERT_GE(got.size(), 1u);
  for (size_t i = 0; i < got.size(); i++) {
    EXPECT_EQ(got[i].substr(0, 4), std::string(1, (char)('A' + i)) + " = ");
    // Nothing but the option's bytes after the name: no stray memory.
    EXPECT_EQ(got[i].find_first_not_of('w', 4), std::string::npos) << i;
  }
}

// Rank 2 loads another build of the kernel (MPMD launch): it is refused,
// the others finish with the bits of a run without it.
TEST(FarmKernelTest, ARankWithAnotherBuildIsRefused) {
  run::Result ref = run::Farm(2, ZetaArgs(Zeta(), "1e6"), 60);
  ASSERT_EQ(ref.status, 0) << ref.err;
  std::vector<std::string> argv = {"mpiexec.mpich", "-disable-auto-cleanup",
                                   "-n", "2", run::Binary()};
  for (const std::string& a : ZetaArgs(Zeta(), "1e6")) argv.push_back(a);
  argv.push_back(":");
  argv.push_back("-n");
  argv.push_back("1");
  argv.push_back(run::Binary());
  for (const std::string& a : ZetaArgs(run::Binary("tests/libzeta2.so"), "1e6"))
    argv.push_back(a);
  run::Result r = run::Run(argv, 60);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Result bits = "),
            run::LineAfter(ref.out, "Result bits = "));
  EXPECT_NE(r.err.find("rank 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("another job"), std::string::npos) << r.err;
}

TEST(FarmKernelTest, ResumesOnlyWithTheSameBuild) {
  std::string dir = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
  std::string journal = dir + "/zeta.journal";
  unlink(journal.c_str());
  std::vector<std::string> args = ZetaArgs(Zeta(), "1e6");
  args.push_back("--journal");
  args.push_back(journal);
  run::Result first = run::Farm(3, args, 60);
  ASSERT_EQ(first.status, 0) << first.err;
  args.push_back("--resume");
  run::Result again = run::Farm(3, args, 60);
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(run::LineAfter(again.out, "Result bits = "),
            run::LineAfter(first.out, "Result bits = "));
  std::vector<std::string> other =
      ZetaArgs(run::Binary("tests/libzeta2.so"), "1e6");
  other.insert(other.end(), {"--journal", journal, "--resume"});
  ExpectRefused(other, "belongs to another job");
}

// A kernel that fails a chunk: the chunk goes to another rank, and when
// every rank fails it the run ends with exit 1 and the kernel's sentence.
TEST(FarmKernelTest, AChunkEveryRankFailsEndsTheRunWithTheKernelsWords) {
  for (int ranks : {1, 3}) {
    run::Result r = run::Farm(
        ranks,
        {"run", "--kernel", Zeta(), "--n", "1e5", "--arg", "fail_at=777"}, 60);
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("index 777 is where this kernel was told to fail"),
              std::string::npos)
        << ranks << " ranks: " << r.err;
  }
}

}  // namespace
