// Every schedule on real ranks: the result is bitwise the one of the static
// schedule (and of the dynamic one with other rank counts); the --report and
// --trace files parse as JSON and account for every chunk exactly once.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/run.h"

namespace {

using nlohmann::json;

const char* const kSchedules[] = {"static",    "cyclic",    "dynamic", "guided",
                                  "trapezoid", "factoring", "wf",      "awf-b",
                                  "awf-c",     "af"};
const uint64_t kN = 300000007;

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return json::parse(in);  // throws, failing the test, when malformed
}

struct Outcome {
  std::string bits;
  json report;
  json trace;
};

Outcome RunSchedule(const std::string& schedule, int ranks,
                    const std::string& job = "pi") {
  std::string report = run::TempPath("report-" + schedule + ".json");
  std::string trace = run::TempPath("trace-" + schedule + ".json");
  std::vector<std::string> args = {
      job,        "--n",  std::to_string(kN), "--schedule", schedule,
      "--report", report, "--trace",          trace,        "--quiet"};
  if (schedule == "wf") {
    std::string w = "1";
    for (int i = 2; i < ranks; i++) w += "," + std::to_string(i);
    args.push_back("--weights");
    args.push_back(w);
  }
  run::Result r = run::Farm(ranks, args);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.status, 0) << r.err;
  Outcome o;
  o.bits = job == "pi" ? run::LineAfter(r.out, "PI bits = ")
                       : run::LineAfter(r.out, "Dot product is ");
  o.report = ReadJson(report);
  o.trace = ReadJson(trace);
  return o;
}

// The accepted slices of the trace: one per chunk, tiling [0, n).
void CheckTrace(const json& trace, const json& report) {
  uint64_t chunks = report["chunks"].get<uint64_t>();
  std::vector<int> seen(chunks, 0);
  std::map<uint64_t, uint64_t> ranges;  // begin -> end
  for (const json& e : trace["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ASSERT_GE(e["dur"].get<double>(), 0);
    ASSERT_GE(e["ts"].get<double>(), 0);
    if (e["args"]["outcome"] != "accepted") continue;
    uint64_t id = e["args"]["chunk"].get<uint64_t>();
    ASSERT_LT(id, chunks);
    seen[id]++;
    uint64_t begin = e["args"]["begin"].get<uint64_t>();
    uint64_t end = e["args"]["end"].get<uint64_t>();
    ASSERT_LT(begin, end);
    ASSERT_EQ(e["args"]["size"].get<uint64_t>(), end - begin);
    int tid = e["tid"].get<int>();
    ASSERT_GE(tid, 1);
    ASSERT_LE(tid, report["job"]["workers"].get<int>());
    ranges[begin] = end;
  }
  for (uint64_t id = 0; id < chunks; id++)
    EXPECT_EQ(seen[id], 1) << "chunk " << id;
  uint64_t at = 0;
  for (const auto& [begin, end] : ranges) {
    ASSERT_EQ(begin, at);
    at = end;
  }
  EXPECT_EQ(at, report["job"]["n"].get<uint64_t>());
}

void CheckReport(const json& report, const std::string& schedule, int ranks,
                 const std::string& bits) {
  EXPECT_EQ(report["format"], "taskfarm-report-2");
  EXPECT_EQ(report["job"]["schedule"], schedule);
  EXPECT_EQ(report["job"]["n"].get<uint64_t>(), kN);
  EXPECT_EQ(report["job"]["workers"].get<int>(), ranks - 1);
  EXPECT_EQ(report["result"]["bits"], bits);
  EXPECT_TRUE(report["result"]["complete"].get<bool>());
  EXPECT_LT(report["result"]["error"].get<double>(), 1e-8);
  uint64_t iters = 0, chunks = 0;
  for (const json& r : report["ranks"]) {
    iters += r["iterations"].get<uint64_t>();
    chunks += r["chunks"].get<uint64_t>();
    EXPECT_LE(r["busy_s"].get<double>(),
              report["wall_s"].get<double>() * 1.001 + 1e-3);
    EXPECT_FALSE(r["lost"].get<bool>());
  }
  EXPECT_EQ(iters + report["master_iterations"].get<uint64_t>(), kN);
  EXPECT_EQ(chunks, report["chunks"].get<uint64_t>());
  const json& b = report["balance"];
  EXPECT_GE(b["imbalance"].get<double>(), 1.0);
  EXPECT_GT(b["efficiency"].get<double>(), 0.0);
  EXPECT_LE(b["efficiency"].get<double>(), 1.001);
  EXPECT_GE(b["finish_max_s"].get<double>(), b["finish_mean_s"].get<double>());
}

TEST(FarmScheduleTest, EveryScheduleGivesTheStaticBits) {
  Outcome base = RunSchedule("static", 3);
  ASSERT_FALSE(base.bits.empty());
  for (const char* schedule : kSchedules) {
    SCOPED_TRACE(schedule);
    Outcome o =
        std::string(schedule) == "static" ? base : RunSchedule(schedule, 3);
    EXPECT_EQ(o.bits, base.bits);
    CheckReport(o.report, schedule, 3, base.bits);
    CheckTrace(o.trace, o.report);
  }
}

TEST(FarmScheduleTest, AdaptiveSchedulesOnFourWorkersGiveTheSameBits) {
  Outcome base = RunSchedule("static", 3);
  for (const char* schedule : {"af", "awf-c", "guided"}) {
    SCOPED_TRACE(schedule);
    Outcome o = RunSchedule(schedule, 5);
    EXPECT_EQ(o.bits, base.bits);
    CheckReport(o.report, schedule, 5, base.bits);
    CheckTrace(o.trace, o.report);
  }
}

TEST(FarmScheduleTest, DotReportHasTheClosedForm) {
  Outcome o = RunSchedule("factoring", 3, "dot");
  // n (n + 1) (n + 2) / 6 for n = 300000007.
  EXPECT_EQ(o.bits, "4500000360000009550000084");
  EXPECT_EQ(o.report["result"]["value"], o.bits);
  EXPECT_EQ(o.report["result"]["reference"], o.bits);
  EXPECT_EQ(o.report["result"]["error"].get<double>(), 0.0);
}

TEST(FarmScheduleTest, TraceRecordsFaultsAndStillEveryChunkOnce) {
  std::string report = run::TempPath("report-fault.json");
  std::string trace = run::TempPath("trace-fault.json");
  run::Result r = run::Run(
      // Long enough (about 2.5 s) for rank 2 to be declared lost.
      run::FarmArgv(4, {"pi", "--n", "6e10", "--inject", "2:freeze@2c",
                        "--timeout-floor", "0.5", "--lost-after", "1",
                        "--report", report, "--trace", trace, "--quiet"}),
      60, {"TASKFARM_FAULTS=1"});
  ASSERT_EQ(r.status, 0) << r.err;
  json rep = ReadJson(report);
  json tr = ReadJson(trace);
  CheckTrace(tr, rep);
  std::map<std::string, int> rank2;
  for (const json& e : tr["traceEvents"])
    if (e["ph"] == "i" && e["tid"] == 2) rank2[e["name"]]++;
  EXPECT_GE(rank2["timeout"], 1);
  EXPECT_GE(rank2["reissue"], 1);
  EXPECT_EQ(rank2["lost"], 1);
  EXPECT_TRUE(rep["ranks"][1]["lost"].get<bool>());
  EXPECT_GE(rep["faults"]["reissued"].get<uint64_t>(), 1u);
}

TEST(FarmScheduleTest, WrongWeightCountIsABadCommandLine) {
  run::Result r = run::Farm(
      3, {"pi", "--n", "1e6", "--schedule", "wf", "--weights", "1,2,3"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--weights has 3 values but the run has 2 workers"),
            std::string::npos)
      << r.err;
}

}  // namespace
