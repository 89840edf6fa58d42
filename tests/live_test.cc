// master/live.c's /metrics text against Prometheus' exposition rules,
// without a running farm: every counter's name ends in _total, every sample
// follows its # HELP and # TYPE lines, names are valid (issue 12, item 8).
#include "master/live.h"
#include "tests/job_fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

// The /metrics text of a farm with two workers, one of them lost.
std::string SampleMetrics() {
  cli_job_t job = testjob::Make({"pi", "--n", "1000"});
  master_rank_stats_t rank[2] = {};
  rank[0].rank = 1;
  rank[0].state = "active";
  rank[1].rank = 2;
  rank[1].state = "lost";
  master_run_stats_t st = {};
  st.job = &job;
  st.workers = 2;
  st.rank = rank;
  master_live_t live = {};
  status_buf_t b = {};
  master_render_metrics(&st, &live, &b);
  EXPECT_FALSE(b.failed);
  std::string text(b.data, b.len);
  free(b.data);
  return text;
}

TEST(LiveTest, MetricsFollowThePrometheusNamingRules) {
  std::istringstream in(SampleMetrics());
  const std::regex name_re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  std::set<std::string> typed;
  std::string line, type;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name;
      t >> name >> type;
      EXPECT_TRUE(std::regex_match(name, name_re)) << line;
      if (type == "counter") {
        EXPECT_TRUE(name.size() > 6 &&
                    name.compare(name.size() - 6, 6, "_total") == 0)
            << "a counter without _total: " << line;
      }
      EXPECT_TRUE(typed.insert(name).second) << "typed twice: " << line;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_TRUE(typed.count(name)) << "a sample before its TYPE: " << line;
    samples++;
  }
  EXPECT_GT(samples, 10);
}

// Prometheus' own checker, where tools/setup could install it.
TEST(LiveTest, PromtoolAcceptsTheMetrics) {
  const char* tool = nullptr;
  for (const char* p : {"/usr/local/bin/promtool", "/usr/bin/promtool"})
    if (access(p, X_OK) == 0) tool = p;
  if (tool == nullptr)
    GTEST_SKIP() << "promtool is not installed (tools/setup takes it from "
                    "Debian's prometheus package): only the naming rules "
                    "above were checked";
  const char* dir = getenv("TEST_TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/metrics.txt";
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::string text = SampleMetrics();
  fwrite(text.data(), 1, text.size(), f);
  fclose(f);
  std::string cmd = std::string(tool) + " check metrics < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string said;
  char buf[512];
  for (size_t got; (got = fread(buf, 1, sizeof(buf), p)) > 0;)
    said.append(buf, got);
  int status = pclose(p);
  EXPECT_EQ(status, 0) << said;
  EXPECT_EQ(said, "") << "promtool has remarks";
}

}  // namespace
