// Bad command lines under mpiexec: one clear line on stderr from rank 0 only,
// exit status 2, every rank gone, no MPI error output; and --help everywhere.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run.h"

namespace {

void ExpectRefused(const std::vector<std::string>& args,
                   const std::string& needle) {
  run::Result r = run::Farm(3, args, 30);
  std::string what;
  for (const auto& a : args) what += a + " ";
  ASSERT_FALSE(r.timed_out) << what;
  EXPECT_EQ(r.status, 2) << what << r.err;
  EXPECT_EQ(r.out, "") << what;
  EXPECT_EQ(run::CountLines(r.err), 1) << what << r.err;
  EXPECT_EQ(r.err.rfind("taskfarm: ", 0), 0u) << what << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << what << r.err;
}

TEST(FarmInputTest, BadNumbersAreRefused) {
  ExpectRefused({"pi"}, "needs --n");
  ExpectRefused({"pi", "--n", "0"}, "at least 1");
  ExpectRefused({"pi", "--n", "-5"}, "positive whole number");
  ExpectRefused({"pi", "--n", "abc"}, "positive whole number");
  ExpectRefused({"pi", "--n", "2.5"}, "positive whole number");
  ExpectRefused({"pi", "--n", "1e30"}, "beyond the supported maximum");
  ExpectRefused({"dot", "--n", "1e14"}, "beyond the supported maximum");
  ExpectRefused({"pi", "--n", "100", "--chunk", "0"}, "--chunk");
}

TEST(FarmInputTest, UnknownJobsAndFlagsAreRefused) {
  ExpectRefused({}, "no job");
  ExpectRefused({"pie", "--n", "10"}, "unknown job 'pie'");
  ExpectRefused({"pi", "--n", "10", "--bogus"}, "unknown option '--bogus'");
  ExpectRefused({"pi", "--n"}, "needs a value");
}

void WriteBytes(const std::string& path, size_t bytes) {
  FILE* f = fopen(path.c_str(), "wb");
  for (size_t i = 0; i < bytes; i++) fputc(1, f);
  fclose(f);
}

TEST(FarmInputTest, BadFilesAreRefused) {
  std::string a = run::TempPath("a"), b = run::TempPath("b"),
              odd = run::TempPath("odd");
  WriteBytes(a, 800);
  WriteBytes(b, 808);
  WriteBytes(odd, 801);
  ExpectRefused({"dot", "--a", a, "--b", b}, "same length");
  ExpectRefused({"dot", "--a", odd, "--b", odd}, "8 bytes");
  ExpectRefused({"dot", "--a", a, "--b", run::TempPath("missing")},
                "cannot open --b");
  ExpectRefused({"dot", "--a", a}, "both --a FILE and --b FILE");
}

// A FIFO given as an input would block open() with no writer: refused at
// once instead (a hang would hit the 30 s limit and fail).
TEST(FarmInputTest, AFifoAsInputIsRefusedWithoutHanging) {
  std::string a = run::TempPath("fa"), fifo = run::TempPath("fifo");
  WriteBytes(a, 800);
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  ExpectRefused({"dot", "--a", fifo, "--b", a}, "(it is a FIFO)");
  ExpectRefused({"dot", "--a", a, "--b", fifo}, "(it is a FIFO)");
}

// A journal of a dot over files resumes only over the same files: one
// rewritten in place (same length) is named and refused, the journal left
// as it is; the same files by another path resume.
TEST(FarmInputTest, ResumeAfterAnInputChangedIsRefused) {
  std::string a = run::TempPath("ra"), b = run::TempPath("rb");
  std::string journal = run::TempPath("rj");
  unlink(journal.c_str());
  WriteBytes(a, 8000);
  WriteBytes(b, 8000);
  run::Result r = run::Farm(
      3, {"dot", "--a", a, "--b", b, "--journal", journal, "--quiet"}, 30);
  ASSERT_EQ(r.status, 0) << r.err;
  // The same files as ./name from their folder: the same job.
  std::string dir = a.substr(0, a.rfind('/'));
  std::string dotted_a = dir + "/./" + a.substr(a.rfind('/') + 1);
  r = run::Farm(3,
                {"dot", "--a", dotted_a, "--b", b, "--journal", journal,
                 "--resume", "--quiet"},
                30);
  ASSERT_EQ(r.status, 0) << r.err;
  // Other contents, same length.
  FILE* f = fopen(b.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  fputc(7, f);
  fclose(f);
  ExpectRefused({"dot", "--a", a, "--b", b, "--journal", journal, "--resume"},
                "changed after journal");
}

TEST(FarmInputTest, MoreChunksThanTheMasterTakesAreRefusedUpFront) {
  ExpectRefused({"noop", "--n", "1e12", "--chunk", "1"},
                "takes at most 67108864 chunks: use --chunk 14902 or more");
}

// Every job that --jobs lists (and the whole program) has a help, printed
// once by rank 0 alone, that shows what the job prints with no template
// field left raw.
TEST(FarmInputTest, HelpForEveryJob) {
  run::Result list = run::Run({run::Binary(), "--jobs"}, 30);
  ASSERT_EQ(list.status, 0) << list.err;
  std::vector<std::string> jobs = {""};
  std::istringstream lines(list.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string job;
    words >> job;
    if (!job.empty()) jobs.push_back(job);
  }
  ASSERT_GE(jobs.size(), 9u) << list.out;
  for (const std::string& job : jobs) {
    std::vector<std::string> args;
    if (!job.empty()) args.push_back(job);
    args.push_back("--help");
    run::Result r = run::Farm(3, args, 30);
    ASSERT_EQ(r.status, 0) << job << r.err;
    EXPECT_EQ(r.out.rfind("usage: ", 0), 0u) << job;
    EXPECT_EQ(r.err, "") << job;
    // Printed once (by rank 0), not once per rank.
    EXPECT_EQ(r.out.find("usage: ", 1), std::string::npos) << job << r.out;
    EXPECT_EQ(r.out.find('{'), std::string::npos) << job << r.out;
    if (!job.empty() && job != "run") {
      EXPECT_NE(r.out.find("It prints:"), std::string::npos) << job;
    }
  }
}

TEST(FarmInputTest, HelloGreetsFromEveryRank) {
  run::Result r = run::Farm(4, {"hello"}, 30);
  ASSERT_EQ(r.status, 0) << r.err;
  for (int rank = 0; rank < 4; rank++)
    EXPECT_NE(r.out.find(" rank " + std::to_string(rank) + " of 4 on "),
              std::string::npos)
        << r.out;
  EXPECT_NE(r.out.find("4 ranks said hello"), std::string::npos);
}

}  // namespace

namespace {

// Issue 12, item 4: output files and the journal are checked before any
// work (the job is big enough that computing it would take minutes), with
// exit 2 and one sentence naming the file and the reason; nothing is left
// behind.
TEST(FarmInputTest, UnwritableOutputsAreRefusedBeforeAnyWork) {
  std::string dir = run::TempPath("outdir");
  mkdir(dir.c_str(), 0755);
  std::string fifo = run::TempPath("nobody.fifo");
  mkfifo(fifo.c_str(), 0644);
  const std::string journal = run::TempPath("never.journal");
  const std::string plain = run::TempPath("plain.txt");
  FILE* f = fopen(plain.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  struct Case {
    std::vector<std::string> args;
    std::string says;
  } cases[] = {
      {{"--output", dir},
       "cannot write --output file '" + dir + "': it is a folder"},
      {{"--report", dir + "/no/such/report.json"}, "its folder does not exist"},
      {{"--trace", plain + "/trace.json"}, "Not a directory"},
      {{"--output", fifo}, "it is a FIFO with no reader"},
      {{"--output", dir, "--journal", journal}, "it is a folder"},
      {{"--journal", dir + "/missing/j"}, "cannot create journal"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"pi", "--n", "1e15"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    run::Result r = run::Run(run::FarmArgv(3, args), 30);
    ASSERT_FALSE(r.timed_out) << c.says;
    EXPECT_EQ(r.status, 2) << c.says << "\n" << r.err;
    EXPECT_EQ(r.out, "") << c.says;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_LT(r.seconds, 10) << c.says;
    struct stat st;
    EXPECT_NE(stat(journal.c_str(), &st), 0) << "a journal was left behind";
  }
}

}  // namespace
