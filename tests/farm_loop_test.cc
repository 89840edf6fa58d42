// The irregular jobs on real ranks. loop: the checksum is the exact sum of
// every iteration's hash (computed here independently) for every schedule
// and rank count, with a worker killed mid-run too; and the work is real:
// an iteration's cost is time. mandelbrot: the iteration sum and the image
// bytes equal an independent computation here, for every schedule and rank
// count, with a fault and through a resume.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/run.h"

namespace {

// splitmix64 of seed*golden + i + 1 (jobs/loop.h), summed modulo 2^128.
std::string Checksum(uint64_t seed, uint64_t n) {
  unsigned __int128 sum = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + i + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    sum += z ^ (z >> 31);
  }
  return run::Decimal(sum);
}

const char* const kSchedules[] = {"static",    "cyclic",    "dynamic", "guided",
                                  "trapezoid", "factoring", "wf",      "awf-b",
                                  "awf-c",     "af"};

std::vector<std::string> LoopArgs(const char* schedule, int ranks) {
  std::vector<std::string> a = {
      "loop", "--n",    "20000", "--cost",     "exponential", "--mean",
      "2000", "--seed", "42",    "--schedule", schedule,      "--quiet"};
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
  for (const char* schedule : kSchedules) {
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
      1, {"loop", "--n", "20000", "--mean", "50000", "--cost", "constant"}, 60);
  ASSERT_EQ(r.status, 0) << r.err;
  double t = std::stod(run::LineAfter(r.out, "Time = "));
  EXPECT_GE(t, 0.9);
  EXPECT_LT(t, 5.0);
}

// --report shows what the adaptive schedules learnt per rank: with
// exponential costs of mean 2 us, af's mean time per iteration is at least
// 2 us (the time is the cost, burnt as work) and what the rank's busy time
// per iteration says (more on a loaded machine), its standard deviation at
// least the costs' own 2 us (timing noise adds to it: 2 ranks computing on
// 2 cores beside the master); awf's weights sum to the worker count.
TEST(FarmLoopTest, TheReportShowsWhatTheSchedulesLearnt) {
  for (const char* schedule : {"af", "awf-b"}) {
    std::string report = run::TempPath(std::string(schedule) + ".json");
    run::Result r = run::Farm(
        3,
        {"loop", "--n", "400000", "--cost", "exponential", "--mean", "2000",
         "--schedule", schedule, "--report", report, "--quiet"},
        60);
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream in(report);
    nlohmann::json rep = nlohmann::json::parse(in);
    double weights = 0;
    for (const auto& rank : rep["ranks"]) {
      const auto& l = rank["learned"];
      EXPECT_GT(l["chunks"].get<int>(), 1) << schedule;
      double mean = l["mean_s_per_iteration"].get<double>();
      // At least the cost burnt; above it only by what the machine's load
      // adds, which the rank's own busy time per iteration measures too.
      EXPECT_GT(mean, 1.0e-6) << schedule;
      double busy = rank["busy_s"].get<double>() /
                    rank["iterations"].get<double>();
      EXPECT_GT(mean, 0.5 * busy) << schedule;
      EXPECT_LT(mean, 2.0 * busy) << schedule;
      if (std::string(schedule) == "af") {
        double sd = l["sd_s_per_iteration"].get<double>();
        EXPECT_GT(sd, 1.0e-6) << schedule;
      }
      weights += l["weight"].get<double>();
    }
    if (std::string(schedule) == "awf-b") {
      EXPECT_NEAR(weights, 2.0, 1e-4);  // each printed to 6 digits
    }
  }
}

// Iterations as long as the silence a worker is allowed (1 s each and
// --timeout-floor 1): the kernel says it is alive through keep_alive, so
// nothing is taken for frozen or computed twice.
TEST(FarmLoopTest, LongIterationsAreNotTakenForSilence) {
  run::Result r = run::Farm(
      3, {"loop", "--n", "4", "--mean", "1e9", "--cost", "constant"}, 60);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Checksum = "), Checksum(1, 4));
  EXPECT_EQ(r.err.find("timed out"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0 chunks re-issued"), std::string::npos) << r.err;
}

TEST(FarmLoopTest, BadProfilesAreRefused) {
  run::Result r = run::Farm(3, {"loop", "--n", "100", "--cost", "uniform",
                                "--mean", "100", "--spread", "200"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("a cost cannot be negative"), std::string::npos)
      << r.err;
  r = run::Farm(3, {"loop", "--n", "100", "--cost", "pareto"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown --cost 'pareto'"), std::string::npos) << r.err;
}

// The escape count of pixel i of a W x H image of [x0,x1] x [y0,y1], row 0
// at the top, at the pixel's centre: written out from the definition.
struct Mandel {
  int w = 160, h = 120, max_iter = 300;
  double x0 = -2.2, y0 = -1.2, x1 = 0.8, y1 = 1.2;
  std::vector<std::string> Args(const std::string& image) const {
    std::vector<std::string> a = {"mandelbrot",
                                  "--size",
                                  std::to_string(w) + "x" + std::to_string(h),
                                  "--region",
                                  "-2.2,-1.2,0.8,1.2",
                                  "--max-iter",
                                  std::to_string(max_iter),
                                  "--quiet"};
    if (!image.empty()) {
      a.push_back("--image");
      a.push_back(image);
    }
    return a;
  }
  int Count(int i) const {
    int row = i / w, col = i % w;
    double cr = x0 + (col + 0.5) * ((x1 - x0) / w);
    double ci = y1 - (row + 0.5) * ((y1 - y0) / h);
    double zr = 0, zi = 0;
    int k = 0;
    while (k < max_iter && zr * zr + zi * zi <= 4.0) {
      double t = zr * zr - zi * zi + cr;
      zi = 2.0 * zr * zi + ci;
      zr = t;
      k++;
    }
    return k;
  }
  std::string Image() const {
    std::string img =
        "P5\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
    for (int i = 0; i < w * h; i++) {
      int k = Count(i);
      int g =
          k >= max_iter ? 0 : (int)(255.0 * std::sqrt((double)k / max_iter));
      img.push_back((char)(k < max_iter && g < 1 ? 1 : g));
    }
    return img;
  }
  std::string Sum() const {
    long long s = 0;
    for (int i = 0; i < w * h; i++) s += Count(i);
    return std::to_string(s);
  }
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Temp(const std::string& name) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string p = std::string(dir ? dir : "/tmp") + "/" + name;
  unlink(p.c_str());
  return p;
}

TEST(FarmMandelbrotTest, SumAndImageAreExactForEveryScheduleAndRankCount) {
  Mandel m;
  const std::string sum = m.Sum(), image = m.Image();
  for (int ranks = 1; ranks <= 5; ranks++)
    for (const char* schedule : kSchedules) {
      if (ranks == 1 && std::string(schedule) == "wf") continue;
      std::string path = Temp("m.pgm");
      std::vector<std::string> args = m.Args(path);
      args.push_back("--schedule");
      args.push_back(schedule);
      if (std::string(schedule) == "wf") {
        std::string w = "1";
        for (int i = 2; i < ranks; i++) w += ",2";
        args.push_back("--weights");
        args.push_back(w);
      }
      run::Result r = run::Farm(ranks, args, 60);
      ASSERT_EQ(r.status, 0) << ranks << " " << schedule << "\n" << r.err;
      EXPECT_EQ(run::LineAfter(r.out, "Iterations = "), sum)
          << ranks << " ranks, " << schedule;
      EXPECT_TRUE(Slurp(path) == image) << ranks << " ranks, " << schedule;
    }
}

TEST(FarmMandelbrotTest, AWorkerKilledChangesNothingOnAnySchedule) {
  Mandel m;
  const std::string sum = m.Sum(), image = m.Image();
  for (const char* schedule : kSchedules) {
    std::string path = Temp("killed.pgm");
    std::vector<std::string> args = m.Args(path);
    args.insert(args.end(), {"--schedule", schedule, "--inject", "2:exit@2c"});
    if (std::string(schedule) == "wf")
      args.insert(args.end(), {"--weights", "1,1,1"});
    run::Result r = run::Run(run::FarmArgv(4, args), 60, {"TASKFARM_FAULTS=1"});
    ASSERT_EQ(r.status, 0) << schedule << "\n" << r.err;
    EXPECT_EQ(run::LineAfter(r.out, "Iterations = "), sum) << schedule;
    EXPECT_TRUE(Slurp(path) == image) << schedule;
  }
}

TEST(FarmMandelbrotTest, AWorkerKilledOrAResumeChangesNothing) {
  Mandel m;
  m.w = 400;
  m.h = 300;
  m.max_iter = 2000;
  const std::string sum = m.Sum(), image = m.Image();
  std::string path = Temp("fault.pgm");
  std::vector<std::string> args = m.Args(path);
  args.insert(args.end(), {"--inject", "1:exit@3c"});
  run::Result r = run::Run(run::FarmArgv(4, args), 60, {"TASKFARM_FAULTS=1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Iterations = "), sum);
  EXPECT_TRUE(Slurp(path) == image);
  // A finished journal resumes over its image; a missing image is refused.
  std::string journal = Temp("m.journal");
  path = Temp("resume.pgm");
  args = m.Args(path);
  args.insert(args.end(), {"--journal", journal});
  r = run::Farm(3, args, 60);
  ASSERT_EQ(r.status, 0) << r.err;
  args.push_back("--resume");
  r = run::Farm(3, args, 60);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Iterations = "), sum);
  EXPECT_TRUE(Slurp(path) == image);
  unlink(path.c_str());
  r = run::Farm(3, args, 60);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("is not the image of the run being resumed"),
            std::string::npos)
      << r.err;
}

}  // namespace
