// The launch scripts' parsers (tools/spec.h): hostfile lines as
// tools/supervise reads them, --limit values as tools/uneven reads them,
// and the --inject value tools/uneven --fallback derives from a limit.
#include "tools/spec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

spec_host_t Host(const std::string& line, int* rc = nullptr) {
  spec_host_t h;
  char err[256];
  int r = spec_host_line(line.data(), line.size(), &h, err, sizeof(err));
  if (rc) *rc = r;
  return h;
}

TEST(SpecHostTest, TheFirstWordIsTheEntryAndACommentIsIgnored) {
  spec_host_t h = Host("  node1:4 # the big one");
  EXPECT_STREQ(h.host, "node1");
  EXPECT_EQ(h.slots, 4);
  h = Host("node2\tenv=x");
  EXPECT_STREQ(h.host, "node2");
  EXPECT_EQ(h.slots, 1);
  h = Host("node3:2\r");
  EXPECT_STREQ(h.host, "node3");
  EXPECT_EQ(h.slots, 2);
}

TEST(SpecHostTest, BlankAndCommentLinesNameNoHost) {
  for (const char* line : {"", "   ", "# all of it", "\t# indented", "\r"}) {
    int rc;
    spec_host_t h = Host(line, &rc);
    EXPECT_EQ(rc, 0) << line;
    EXPECT_STREQ(h.host, "") << line;
    EXPECT_EQ(h.slots, 0) << line;
  }
}

TEST(SpecHostTest, SlotsAreDecimalAndANonNumberCountsOne) {
  EXPECT_EQ(Host("n:08").slots, 8);  // bash's arithmetic failed on 08
  EXPECT_EQ(Host("n:010").slots, 10);
  EXPECT_EQ(Host("n:abc").slots, 1);
  EXPECT_EQ(Host("n:").slots, 1);
  EXPECT_EQ(Host("n:1000000").slots, 1000000);
}

TEST(SpecHostTest, MalformedLinesAreRefused) {
  for (const std::string& line :
       {std::string("-oProxyCommand=x"), std::string(":4"), std::string("n:0"),
        std::string("n:1000001"), std::string("n:99999999999999999999"),
        std::string("a\x01z"), std::string("n\0x", 3), std::string(300, 'h')}) {
    int rc;
    Host(line, &rc);
    EXPECT_EQ(rc, SPEC_EINVAL) << line;
  }
}

spec_limit_t Limit(const char* text, int* rc, std::string* err = nullptr) {
  spec_limit_t l;
  char buf[256];
  *rc = spec_limit_parse(text, &l, buf, sizeof(buf));
  if (err) *err = buf;
  return l;
}

TEST(SpecLimitTest, APlainPercentIsOneStepAtLaunch) {
  int rc;
  spec_limit_t l = Limit("2:25", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(l.rank, 2);
  EXPECT_EQ(l.timeline, 0);
  EXPECT_EQ(l.nsteps, 1);
  EXPECT_EQ(spec_limit_start(&l), 25);
  // Leading zeros are decimal: bash's $((p * 1000)) read 050 as octal 40,
  // and the rank "02" as a key that never matched rank 2.
  l = Limit("02:050", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(l.rank, 2);
  EXPECT_EQ(spec_limit_start(&l), 50);
}

TEST(SpecLimitTest, ATimelineKeepsItsTimesAsGiven) {
  int rc;
  spec_limit_t l = Limit("2:100@0,25@.5,100@2.", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(l.timeline, 1);
  ASSERT_EQ(l.nsteps, 3);
  EXPECT_EQ(l.pct[1], 25);
  EXPECT_EQ(l.at[1], 0.5);
  EXPECT_STREQ(l.at_text[1], ".5");
  EXPECT_EQ(l.at[2], 2.0);
  EXPECT_EQ(spec_limit_start(&l), 100);
  l = Limit("1:20@0.3", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(spec_limit_start(&l), 100);  // 100 before the first step
}

TEST(SpecLimitTest, BadValuesAreRefusedWithTheScriptsSentences) {
  struct {
    const char* text;
    const char* says;
  } cases[] = {
      {"1:0", "must be 1..100, got 0"},
      {"1:101", "must be 1..100, got 101"},
      {"2:50@2,25@1", "the times must rise, got '50@2,25@1'"},
      {"2:50@1,25@1", "the times must rise"},
      {"2:25,30", "--limit takes RANK:PERCENT"},
      {"2:25@1,30", "--limit takes RANK:PERCENT"},
      {"2:.", "--limit takes RANK:PERCENT"},
      {"2:5@1.2.3", "--limit takes RANK:PERCENT"},
      {"2:5@1e3", "--limit takes RANK:PERCENT"},
      {"2:5@-1", "--limit takes RANK:PERCENT"},
      {":5", "--limit takes RANK:PERCENT"},
      {"2:", "--limit takes RANK:PERCENT"},
      {"2:5@1,", "--limit takes RANK:PERCENT"},
      {"1000001:5", "is beyond 1000000"},
      {"2:5@2000000000", "at most 1e9 s"},
      {"2:5@1,5@2,5@3,5@4,5@5,5@6,5@7,5@8,5@9", "at most 8 steps"},
      {"2:5@000000000000000000000001", "at most 23 characters"},
  };
  for (const auto& c : cases) {
    int rc;
    std::string err;
    Limit(c.text, &rc, &err);
    EXPECT_EQ(rc, SPEC_EINVAL) << c.text;
    EXPECT_NE(err.find(c.says), std::string::npos) << c.text << ": " << err;
  }
}

TEST(SpecLimitTest, TheInjectValueSlowsTheSameRankTheSameWay) {
  int rc;
  char buf[256];
  spec_limit_t l = Limit("2:25", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(spec_limit_inject(&l, buf, sizeof(buf)), 8);
  EXPECT_STREQ(buf, "2:slow=4");
  l = Limit("3:30", &rc);
  spec_limit_inject(&l, buf, sizeof(buf));
  EXPECT_STREQ(buf, "3:slow=3.33333");
  l = Limit("2:100", &rc);
  EXPECT_EQ(spec_limit_inject(&l, buf, sizeof(buf)), 0);
  EXPECT_STREQ(buf, "");
  l = Limit("2:100@0,025@1,100@2", &rc);
  spec_limit_inject(&l, buf, sizeof(buf));
  EXPECT_STREQ(buf, "2:speed=100@0,25@1,100@2");
  EXPECT_EQ(spec_limit_inject(&l, buf, 10), SPEC_EINVAL);
  EXPECT_STREQ(buf, "");
}

}  // namespace
