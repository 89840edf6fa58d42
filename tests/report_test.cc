// The report's derived figures against hand-computed values, and both files
// as JSON a parser accepts, even with quotes and control characters in host
// names and paths.
#include "master/report.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "jobs/dot.h"
#include "tests/job_fixture.h"
#include "tests/reference.h"

namespace {

using nlohmann::json;

struct Fixture {
  cli_job_t job{};
  master_rank_stats_t rank[2]{};
  master_run_stats_t st{};
  Fixture() {
    // Parsed only: the files need not exist to be reported by name.
    job = testjob::Make({"dot", "--a", "a \"quoted\"\tpath", "--b", "b\\path"},
                        false);
    job.n = 400;
    // Worker 1: 300 iterations in 1 s, done at 1 s; worker 2: 100 in 1 s,
    // done at 2 s; the run took 2 s and 4 chunks.
    rank[0] = {};
    rank[0].rank = 1;
    std::strcpy(rank[0].host, "node\"1\"\n");
    rank[0].chunks = 3;
    rank[0].iters = 300;
    rank[0].busy_s = 1;
    rank[0].finish_s = 1;
    rank[1] = {};
    rank[1].rank = 2;
    std::strcpy(rank[1].host, "node2");
    rank[1].chunks = 1;
    rank[1].iters = 100;
    rank[1].busy_s = 1;
    rank[1].finish_s = 2;
    rank[1].lost = 1;
    st.job = &job;
    st.workers = 2;
    st.chunks = 4;
    st.wall_s = 2;
    st.result = "12.5";
    st.bits = "0x1.9p+3";
    st.value = 12.5;
    st.rank = rank;
  }
};

TEST(ReportTest, BalanceFiguresMatchHandComputedValues) {
  Fixture f;
  master_balance_t b;
  master_balance(&f.st, &b);
  EXPECT_DOUBLE_EQ(b.finish_max_s, 2.0);
  EXPECT_DOUBLE_EQ(b.finish_mean_s, 1.5);
  EXPECT_DOUBLE_EQ(b.imbalance, 2.0 / 1.5);
  EXPECT_DOUBLE_EQ(b.finish_cov, 0.5 / 1.5);   // population std 0.5
  EXPECT_DOUBLE_EQ(b.efficiency, 2.0 / 4.0);   // busy / (workers x wall)
  EXPECT_DOUBLE_EQ(b.ideal_s, 400.0 / 400.0);  // work / (300 + 100 it/s)
  EXPECT_DOUBLE_EQ(b.overhead_per_chunk_s, (4.0 - 2.0) / 4.0);
}

std::string Render(bool trace, const Fixture& f, const master_log_t* log) {
  char* text = nullptr;
  size_t len = 0;
  FILE* mem = open_memstream(&text, &len);
  int rc = trace ? master_write_trace(mem, &f.st, log)
                 : master_write_report(mem, &f.st);
  fclose(mem);
  EXPECT_EQ(rc, 0);
  std::string out(text, len);
  free(text);
  return out;
}

TEST(ReportTest, FilesAreJsonWithEscapedStrings) {
  Fixture f;
  json r = json::parse(Render(false, f, nullptr));
  EXPECT_EQ(r["job"]["options"]["a"], "a \"quoted\"\tpath");
  EXPECT_EQ(r["job"]["options"]["b"], "b\\path");
  EXPECT_EQ(r["ranks"][0]["host"], "node\"1\"\n");
  EXPECT_EQ(r["ranks"][1]["lost"], true);
  EXPECT_EQ(r["result"]["bits"], "0x1.9p+3");
  EXPECT_EQ(r["ranks"][0]["speed"].get<double>(), 300.0);
  EXPECT_DOUBLE_EQ(r["ranks"][1]["idle_s"].get<double>(), 1.0);

  master_log_t log{};
  log.on = 1;
  master_event_t slice = {MASTER_EV_ACCEPTED, 1, 0, 1, 0, 300, 1000, 3000};
  master_event_t lost = {MASTER_EV_LOST, 2, 0, 0, 0, 0, 5000, 5000};
  master_log_add(&log, &slice);
  master_log_add(&log, &lost);
  json t = json::parse(Render(true, f, &log));
  master_log_close(&log);
  int slices = 0, instants = 0, names = 0;
  for (const json& e : t["traceEvents"]) {
    if (e["ph"] == "X") {
      slices++;
      EXPECT_EQ(e["ts"].get<double>(), 1.0);  // microseconds
      EXPECT_EQ(e["dur"].get<double>(), 2.0);
      EXPECT_EQ(e["args"]["size"], 300);
    }
    if (e["ph"] == "i") {
      instants++;
      EXPECT_EQ(e["name"], "lost");
      EXPECT_EQ(e["tid"], 2);
    }
    if (e["ph"] == "M" && e["name"] == "thread_name") names++;
  }
  EXPECT_EQ(slices, 1);
  EXPECT_EQ(instants, 1);
  EXPECT_EQ(names, 3);  // the master and two workers
}

// Issue 12, item 8: JSON is valid UTF-8 whatever bytes a path or a host
// name holds; well-formed UTF-8 passes through.
TEST(ReportTest, JsonStringsAreValidUtf8) {
  char out[256];
  master_json_quote("plain \"q\" \\ \x01", out, sizeof(out));
  EXPECT_STREQ(out, "\"plain \\\"q\\\" \\\\ \\u0001\"");
  master_json_quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", out,
                    sizeof(out));
  EXPECT_STREQ(out, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  // A lone continuation byte, a truncated sequence, an overlong '/', a
  // surrogate, and a byte that is never UTF-8.
  master_json_quote(
      "a\x80"
      "b\xc3"
      "c\xc0\xaf"
      "d\xed\xa0\x80"
      "e\xff",
      out, sizeof(out));
  EXPECT_STREQ(
      out, "\"a\\ufffdb\\ufffdc\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffde\\ufffd\"");
  // A buffer too small is cut, NUL-terminated, and the length needed told.
  char small[4];
  EXPECT_EQ(master_json_quote("abcdef", small, sizeof(small)), 8u);
  EXPECT_STREQ(small, "\"ab");
}

// Issue 12, item 9: the reference overflowed 128 bits above n = 8.8e12.
TEST(ReportTest, DotClosedFormIsExactUpToTheLargestN) {
  for (uint64_t n : {0ull, 1ull, 2ull, 3ull, 4ull, 5ull, 1000ull,
                     8800000000000ull, 12000000000000ull}) {
    unsigned __int128 want = ref::DotClosed(n);
    EXPECT_TRUE(dot_closed_form(n) == want) << n;
  }
  // An independent check at the top, where the result needs all 128 bits:
  // 6 x result == n(n+1)(n+2) modulo 2^128.
  const uint64_t n = 12000000000000ull;
  unsigned __int128 r = dot_closed_form(n);
  unsigned __int128 prod = (unsigned __int128)n * (n + 1);
  EXPECT_TRUE(r * 6 == prod * (n + 2));
  EXPECT_TRUE(r > ((unsigned __int128)1 << 127));
}

}  // namespace
