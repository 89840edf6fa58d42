// Command-line parsing and input-file checks.
#include "proto/job.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "proto/error.h"

namespace {

int Parse(std::vector<std::string> args, proto_job_t* job, std::string* err) {
  std::vector<char*> argv;
  std::string prog = "taskfarm";
  argv.push_back(&prog[0]);
  for (auto& a : args) argv.push_back(&a[0]);
  char buf[512];
  int rc =
      proto_job_parse(job, (int)argv.size(), argv.data(), buf, sizeof(buf));
  *err = buf;
  return rc;
}

TEST(CountTest, AcceptsIntegersAndExponentForms) {
  uint64_t v;
  ASSERT_EQ(proto_parse_count("12000", UINT64_MAX, &v), 0);
  EXPECT_EQ(v, 12000u);
  ASSERT_EQ(proto_parse_count("1e10", UINT64_MAX, &v), 0);
  EXPECT_EQ(v, 10000000000u);
  ASSERT_EQ(proto_parse_count("10e9", UINT64_MAX, &v), 0);
  EXPECT_EQ(v, 10000000000u);
  ASSERT_EQ(proto_parse_count("2.5e3", UINT64_MAX, &v), 0);
  EXPECT_EQ(v, 2500u);
  ASSERT_EQ(proto_parse_count("1E+2", UINT64_MAX, &v), 0);
  EXPECT_EQ(v, 100u);
  ASSERT_EQ(proto_parse_count("0012", UINT64_MAX, &v), 0);
  EXPECT_EQ(v, 12u);
}

TEST(CountTest, RejectsFractionsAndGarbage) {
  uint64_t v;
  EXPECT_EQ(proto_parse_count("2.5", UINT64_MAX, &v), PROTO_EINVAL);
  EXPECT_EQ(proto_parse_count("1e-1", UINT64_MAX, &v), PROTO_EINVAL);
  EXPECT_EQ(proto_parse_count("abc", UINT64_MAX, &v), PROTO_EINVAL);
  EXPECT_EQ(proto_parse_count("", UINT64_MAX, &v), PROTO_EINVAL);
  EXPECT_EQ(proto_parse_count("1e", UINT64_MAX, &v), PROTO_EINVAL);
  EXPECT_EQ(proto_parse_count("12x", UINT64_MAX, &v), PROTO_EINVAL);
  EXPECT_EQ(proto_parse_count("-5", UINT64_MAX, &v), PROTO_EINVAL);
  EXPECT_EQ(proto_parse_count(".", UINT64_MAX, &v), PROTO_EINVAL);
}

TEST(CountTest, RejectsValuesAboveMax) {
  uint64_t v;
  EXPECT_EQ(proto_parse_count("1e20", UINT64_MAX, &v), PROTO_ERANGE);
  EXPECT_EQ(proto_parse_count("1001", 1000, &v), PROTO_ERANGE);
  EXPECT_EQ(proto_parse_count("99999999999999999999999", UINT64_MAX, &v),
            PROTO_ERANGE);
  ASSERT_EQ(proto_parse_count("1000", 1000, &v), 0);
}

TEST(JobTest, ParsesPi) {
  proto_job_t job;
  std::string err;
  ASSERT_EQ(Parse({"pi", "--n", "1e6"}, &job, &err), 0) << err;
  EXPECT_EQ(job.kind, PROTO_JOB_PI);
  EXPECT_EQ(job.n, 1000000u);
  EXPECT_EQ(job.chunk, 0u);
}

TEST(JobTest, PiChunkRoundsUpToGrain) {
  proto_job_t job;
  std::string err;
  ASSERT_EQ(Parse({"pi", "--n=1e6", "--chunk=1000"}, &job, &err), 0) << err;
  EXPECT_EQ(job.chunk, (uint64_t)PROTO_PI_GRAIN);
  ASSERT_EQ(Parse({"pi", "--n", "1e6", "--chunk", "1025"}, &job, &err), 0);
  EXPECT_EQ(job.chunk, 2u * PROTO_PI_GRAIN);
}

TEST(JobTest, DotWithFilesBecomesFileJob) {
  proto_job_t job;
  std::string err;
  ASSERT_EQ(Parse({"dot", "--a", "x.f64", "--b", "y.f64"}, &job, &err), 0);
  EXPECT_EQ(job.kind, PROTO_JOB_DOTF);
  EXPECT_STREQ(job.a_path, "x.f64");
}

TEST(JobTest, ErrorsSayWhatIsWrong) {
  proto_job_t job;
  std::string err;
  EXPECT_EQ(Parse({}, &job, &err), PROTO_EINVAL);
  EXPECT_NE(err.find("no job"), std::string::npos);
  EXPECT_EQ(Parse({"pi"}, &job, &err), PROTO_EINVAL);
  EXPECT_NE(err.find("--n"), std::string::npos);
  EXPECT_EQ(Parse({"pi", "--n", "0"}, &job, &err), PROTO_EINVAL);
  EXPECT_EQ(Parse({"pi", "--n", "-3"}, &job, &err), PROTO_EINVAL);
  EXPECT_EQ(Parse({"pi", "--n", "1.5"}, &job, &err), PROTO_EINVAL);
  EXPECT_EQ(Parse({"pi", "--n", "1e16"}, &job, &err), PROTO_ERANGE);
  EXPECT_EQ(Parse({"dot", "--n", "2e13"}, &job, &err), PROTO_ERANGE);
  EXPECT_EQ(Parse({"pi", "--n", "10", "--chunk", "0"}, &job, &err),
            PROTO_EINVAL);
  EXPECT_EQ(Parse({"pi", "--n"}, &job, &err), PROTO_EINVAL);
  EXPECT_NE(err.find("needs a value"), std::string::npos);
  EXPECT_EQ(Parse({"pie", "--n", "10"}, &job, &err), PROTO_EINVAL);
  EXPECT_NE(err.find("unknown job 'pie'"), std::string::npos);
  EXPECT_EQ(Parse({"pi", "--n", "10", "--fast"}, &job, &err), PROTO_EINVAL);
  EXPECT_NE(err.find("--fast"), std::string::npos);
  EXPECT_EQ(Parse({"dot", "--a", "x"}, &job, &err), PROTO_EINVAL);
  EXPECT_EQ(Parse({"dot", "--n", "5", "--a", "x", "--b", "y"}, &job, &err),
            PROTO_EINVAL);
  EXPECT_EQ(Parse({"hello", "--n", "5"}, &job, &err), PROTO_EINVAL);
}

TEST(JobTest, SchedulesAndTheirOptions) {
  proto_job_t job;
  std::string err;
  ASSERT_EQ(Parse({"pi", "--n", "1e6"}, &job, &err), 0) << err;
  EXPECT_EQ(job.schedule, PROTO_SCHED_DYNAMIC);
  EXPECT_EQ(proto_job_speculates(&job), 1);
  for (int k = 0; k < PROTO_SCHED_COUNT; k++) {
    std::string name = proto_sched_name((proto_sched_t)k);
    std::vector<std::string> args = {"pi", "--n", "1e6", "--schedule", name};
    if (name == "wf") args.insert(args.end(), {"--weights", "1,2.5"});
    ASSERT_EQ(Parse(args, &job, &err), 0) << name << ": " << err;
    EXPECT_EQ(job.schedule, (proto_sched_t)k);
  }
  EXPECT_EQ(job.nweights, 0);
  ASSERT_EQ(Parse({"pi", "--n", "1e6", "--schedule", "static"}, &job, &err), 0);
  EXPECT_EQ(proto_job_speculates(&job), 0);  // static stays static
  // ... unless asked: "on" means on, for every schedule (issue 12, item 5),
  // and it leaves every other option as it was.
  ASSERT_EQ(Parse({"pi", "--n", "1e6", "--schedule", "static", "--progress",
                   "--status-bind", "::1", "--speculate", "on"},
                  &job, &err),
            0)
      << err;
  EXPECT_EQ(proto_job_speculates(&job), 1);
  EXPECT_EQ(job.progress, 1);
  EXPECT_STREQ(job.status_bind, "::1");
  ASSERT_EQ(Parse({"pi", "--n", "1e6", "--speculate", "off"}, &job, &err), 0);
  EXPECT_EQ(proto_job_speculates(&job), 0);
  ASSERT_EQ(Parse({"pi", "--n", "1e6", "--schedule=wf", "--weights=1,2.5,4",
                   "--min-chunk", "1000"},
                  &job, &err),
            0)
      << err;
  ASSERT_EQ(job.nweights, 3);
  EXPECT_EQ(job.weight[1], 2.5);
  EXPECT_EQ(job.min_chunk, 1024u);  // rounded up to the pi grain
  struct Case {
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      {{"pi", "--n", "9", "--schedule", "fast"}, "unknown schedule 'fast'"},
      {{"pi", "--n", "9", "--schedule", "wf"}, "needs --weights"},
      {{"pi", "--n", "9", "--weights", "1,2"}, "is for --schedule wf"},
      {{"pi", "--n", "9", "--schedule", "wf", "--weights", "1,-2"},
       "numbers > 0"},
      {{"pi", "--n", "9", "--schedule", "wf", "--weights", "1,,2"},
       "numbers > 0"},
      {{"pi", "--n", "9", "--min-chunk", "0"}, "at least 1"},
      {{"pi", "--n", "9", "--resume"}, "--resume needs --journal"},
      {{"pi", "--n", "9", "--status-port", "70000"}, "port 1..65535"},
      {{"pi", "--n", "9", "--report"}, "--report needs a value"},
      {{"pi", "--n", "9", "--status-bind", "localhost"}, "takes an IP address"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Parse(c.args, &job, &err), PROTO_EINVAL) << c.says;
    EXPECT_NE(err.find(c.says), std::string::npos) << err;
  }
}

TEST(JobTest, HelpAnywhereWins) {
  proto_job_t job;
  std::string err;
  ASSERT_EQ(Parse({"pi", "--n", "garbage", "--help"}, &job, &err), 0);
  EXPECT_TRUE(job.help);
  EXPECT_EQ(job.kind, PROTO_JOB_PI);
  ASSERT_EQ(Parse({"--help"}, &job, &err), 0);
  EXPECT_EQ(job.kind, PROTO_JOB_NONE);
}

TEST(JobTest, FingerprintSeparatesJobs) {
  proto_job_t a, b;
  std::string err;
  Parse({"pi", "--n", "1000"}, &a, &err);
  Parse({"pi", "--n", "1001"}, &b, &err);
  EXPECT_NE(proto_job_fingerprint(&a), proto_job_fingerprint(&b));
  Parse({"pi", "--n", "1000", "--chunk", "4096"}, &b, &err);
  EXPECT_EQ(proto_job_fingerprint(&a), proto_job_fingerprint(&b));
  Parse({"dot", "--n", "1000"}, &b, &err);
  EXPECT_NE(proto_job_fingerprint(&a), proto_job_fingerprint(&b));
}

std::string TempFile(const std::string& name, size_t bytes) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/" + name;
  FILE* f = fopen(path.c_str(), "wb");
  for (size_t i = 0; i < bytes; i++) fputc(0, f);
  fclose(f);
  return path;
}

int Resolve(const std::string& a, const std::string& b, proto_job_t* job,
            std::string* err) {
  int rc = Parse({"dot", "--a", a, "--b", b}, job, err);
  if (rc < 0) return rc;
  char buf[512];
  rc = proto_job_resolve(job, buf, sizeof(buf));
  *err = buf;
  return rc;
}

TEST(JobTest, ResolveSetsNFromFiles) {
  proto_job_t job;
  std::string err;
  ASSERT_EQ(Resolve(TempFile("a1", 80), TempFile("b1", 80), &job, &err), 0)
      << err;
  EXPECT_EQ(job.n, 10u);
}

TEST(JobTest, ResolveRejectsBadFiles) {
  proto_job_t job;
  std::string err;
  EXPECT_EQ(Resolve(TempFile("a2", 80), TempFile("b2", 88), &job, &err),
            PROTO_EFILE);
  EXPECT_NE(err.find("same length"), std::string::npos) << err;
  EXPECT_EQ(Resolve(TempFile("a3", 81), TempFile("b3", 81), &job, &err),
            PROTO_EFILE);
  EXPECT_NE(err.find("8 bytes"), std::string::npos) << err;
  EXPECT_EQ(Resolve("/nonexistent/a", TempFile("b4", 8), &job, &err),
            PROTO_EFILE);
  EXPECT_NE(err.find("cannot open --a"), std::string::npos) << err;
  EXPECT_EQ(Resolve(TempFile("a5", 0), TempFile("b5", 0), &job, &err),
            PROTO_EFILE);
  const char* dir = getenv("TEST_TMPDIR");
  EXPECT_EQ(Resolve(dir ? dir : "/tmp", TempFile("b6", 8), &job, &err),
            PROTO_EFILE);
  EXPECT_NE(err.find("is not a regular file (it is a folder)"),
            std::string::npos)
      << err;
}

// A FIFO with no writer would block open() for good: it is refused at once
// (the test would hang, and hit its time limit, if it were opened blocking).
TEST(JobTest, ResolveRefusesAFifoWithoutBlocking) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string fifo = std::string(dir ? dir : "/tmp") + "/fifo.f64";
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  proto_job_t job;
  std::string err;
  EXPECT_EQ(Resolve(fifo, TempFile("b7", 8), &job, &err), PROTO_EFILE);
  EXPECT_NE(err.find("--a file '" + fifo +
                     "' is not a regular file (it is a "
                     "FIFO)"),
            std::string::npos)
      << err;
  unlink(fifo.c_str());
}

// The fingerprint names the job, not the paths its files were given by:
// ./a and a are one job to the ranks; the journal compares the files.
TEST(JobTest, FingerprintIgnoresHowAFileIsNamed) {
  proto_job_t a, b;
  std::string err;
  ASSERT_EQ(Parse({"dot", "--a", "./x.f64", "--b", "y.f64"}, &a, &err), 0);
  ASSERT_EQ(Parse({"dot", "--a", "x.f64", "--b", "./y.f64"}, &b, &err), 0);
  EXPECT_EQ(proto_job_fingerprint(&a), proto_job_fingerprint(&b));
}

// Every option has its own field: setting one leaves the others as they
// were, whatever the order (--speculate used to reset --progress and
// --status-bind).
TEST(JobTest, AnOptionWritesOnlyItsOwnField) {
  proto_job_t base, job;
  std::string err;
  ASSERT_EQ(Parse({"pi", "--n", "1e6"}, &base, &err), 0);
  const std::vector<std::vector<std::string>> one = {
      {"--chunk", "4096"},
      {"--output", "o"},
      {"--quiet"},
      {"--schedule", "guided"},
      {"--min-chunk", "2048"},
      {"--report", "r"},
      {"--trace", "t"},
      {"--journal", "j"},
      {"--progress"},
      {"--status-port", "9"},
      {"--status-bind", "::1"},
      {"--timeout", "5"},
      {"--timeout-factor", "4"},
      {"--timeout-floor", "2"},
      {"--lost-after", "7"},
      {"--master-timeout", "9"},
      {"--speculate", "on"},
      {"--speculate", "off"},
  };
  for (const auto& opt : one) {
    std::vector<std::string> args = {"pi", "--n", "1e6"};
    args.insert(args.end(), opt.begin(), opt.end());
    ASSERT_EQ(Parse(args, &job, &err), 0) << opt[0] << ": " << err;
    // Exactly the bytes of the option's own field differ.
    const unsigned char* x = reinterpret_cast<const unsigned char*>(&base);
    const unsigned char* y = reinterpret_cast<const unsigned char*>(&job);
    size_t first = sizeof(job), last = 0;
    for (size_t i = 0; i < sizeof(job); i++)
      if (x[i] != y[i]) {
        if (first == sizeof(job)) first = i;
        last = i;
      }
    ASSERT_NE(first, sizeof(job)) << opt[0] << " changed nothing";
    // All changed bytes lie within one field: at most 1 KiB (a path) apart.
    EXPECT_LT(last - first, (size_t)PROTO_PATH_MAX) << opt[0];
  }
  ASSERT_EQ(Parse({"pi", "--n", "1e6", "--status-bind", "::1", "--progress",
                   "--speculate", "on", "--schedule", "static"},
                  &job, &err),
            0);
  EXPECT_STREQ(job.status_bind, "::1");
  EXPECT_EQ(job.progress, 1);
  EXPECT_EQ(proto_job_speculates(&job), 1);
}

TEST(JobTest, OptionFormsAndRepeats) {
  proto_job_t job;
  std::string err;
  ASSERT_EQ(Parse({"pi", "--n=1e6", "--chunk=2048"}, &job, &err), 0) << err;
  EXPECT_EQ(job.n, 1000000u);
  EXPECT_EQ(job.chunk, 2048u);
  EXPECT_EQ(Parse({"pi", "--n", "1e6", "--n", "2e6"}, &job, &err),
            PROTO_EINVAL);
  EXPECT_NE(err.find("--n is given more than once"), std::string::npos) << err;
  EXPECT_EQ(Parse({"pi", "--n", "1e6", "--quiet=yes"}, &job, &err),
            PROTO_EINVAL);
  EXPECT_NE(err.find("--quiet takes no value"), std::string::npos) << err;
  EXPECT_EQ(Parse({"pi", "--n", "1e6", "--a", "x"}, &job, &err), PROTO_EINVAL);
  EXPECT_NE(err.find("--a is an option of the dot job only"), std::string::npos)
      << err;
  EXPECT_EQ(Parse({"pi", "--n", "1e6", "--ch", "4096"}, &job, &err),
            PROTO_EINVAL);  // no abbreviations
  EXPECT_EQ(Parse({"dot", "--a", "", "--b", "y"}, &job, &err), PROTO_EINVAL);
  EXPECT_NE(err.find("--a needs a file name, got an empty one"),
            std::string::npos)
      << err;
}

TEST(JobTest, TimesAreRangeChecked) {
  proto_job_t job;
  std::string err;
  // Each option's least value, and what the message gives as the reason.
  const struct {
    const char* opt;
    const char* least;
    const char* below;
    const char* why;
  } cases[] = {
      {"--timeout", "0.001", "1e-9", "at least 0.001 s (1 ms)"},
      {"--timeout-floor", "0.2", "0.19", "at least 0.2 s (twice the 0.1 s"},
      {"--lost-after", "0.2", "1e-9", "at least 0.2 s (twice the 0.1 s"},
      {"--master-timeout", "2", "1.5", "at least 2 s (twice the 1 s"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Parse({"pi", "--n", "1e6", c.opt, c.below}, &job, &err),
              PROTO_EINVAL)
        << c.opt;
    EXPECT_NE(err.find(c.why), std::string::npos) << err;
    for (const char* bad : {"inf", "nan", "-1", "0", "1e10", "5s"})
      EXPECT_EQ(Parse({"pi", "--n", "1e6", c.opt, bad}, &job, &err),
                PROTO_EINVAL)
          << c.opt << " " << bad;
    EXPECT_EQ(Parse({"pi", "--n", "1e6", c.opt, c.least}, &job, &err), 0)
        << c.opt << ": " << err;
  }
  EXPECT_EQ(Parse({"pi", "--n", "1e6", "--timeout-factor", "0.5"}, &job, &err),
            PROTO_EINVAL);
}

// "1.000...0" is the number 1, however many zeros follow the point; the
// message for a value too large names a value that is too large.
TEST(CountTest, TrailingZerosNeverMakeAValueTooLarge) {
  uint64_t v = 0;
  std::string one = "1." + std::string(200, '0');
  ASSERT_EQ(proto_parse_count(one.c_str(), 10, &v), 0);
  EXPECT_EQ(v, 1u);
  std::string big = "1" + std::string(30, '0');
  EXPECT_EQ(proto_parse_count(big.c_str(), UINT64_MAX, &v), PROTO_ERANGE);
  ASSERT_EQ(proto_parse_count("0.0012e4", 100, &v), 0);
  EXPECT_EQ(v, 12u);
  ASSERT_EQ(proto_parse_count("100.00e-2", 100, &v), 0);
  EXPECT_EQ(v, 1u);
  EXPECT_EQ(proto_parse_count("1.5000", 100, &v), PROTO_EINVAL);
}

}  // namespace
