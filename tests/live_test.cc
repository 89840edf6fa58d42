// master/live.c's /metrics text against Prometheus' exposition rules,
// without a running farm: every counter's name ends in _total, every sample
// follows its # HELP and # TYPE lines, names are valid (issue 12, item 8).
#include "master/live.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

TEST(LiveTest, MetricsFollowThePrometheusNamingRules) {
  proto_job_t job = {};
  job.kind = PROTO_JOB_PI;
  job.n = 1000;
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
  ASSERT_FALSE(b.failed);
  std::istringstream in(std::string(b.data, b.len));
  free(b.data);
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

}  // namespace
