// Multi-rank pi runs: the printed bits are the same for every rank count and
// chunk size, with and without mpiexec, and lie within 2 ulp of S_n.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "tests/reference.h"
#include "tests/run.h"

namespace {

double PiBits(const run::Result& r) {
  std::string hex = run::LineAfter(r.out, "PI bits = ");
  EXPECT_FALSE(hex.empty()) << r.out << r.err;
  return strtod(hex.c_str(), nullptr);
}

TEST(FarmPiTest, BitwiseIdenticalAcrossRanksAndChunks) {
  const std::string n = "10000003";
  run::Result solo = run::Run({run::Binary(), "pi", "--n", n, "--quiet"}, 60);
  ASSERT_EQ(solo.status, 0) << solo.err;
  double want = PiBits(solo);
  EXPECT_LE(ref::UlpDistance(want, ref::LeibnizClosed(10000003)), 2.0);
  for (int ranks = 1; ranks <= 5; ranks++) {
    for (const char* chunk : {"1024", "5120", "auto"}) {
      std::vector<std::string> args = {"pi", "--n", n, "--quiet"};
      if (std::string(chunk) != "auto") {
        args.push_back("--chunk");
        args.push_back(chunk);
      }
      run::Result r = run::Farm(ranks, args);
      ASSERT_FALSE(r.timed_out);
      ASSERT_EQ(r.status, 0) << r.err;
      double got = PiBits(r);
      EXPECT_EQ(got, want) << ranks << " ranks, chunk " << chunk;
    }
  }
}

// Within 2 ulp of S_n against the independent closed form (the digamma
// function in quad precision, tests/reference.h) at n = 1e9 and 1e11.
TEST(FarmPiTest, LargeNWithinTwoUlp) {
  for (uint64_t n : {1000000000ull, 1000000001ull, 100000000000ull}) {
    run::Result r = run::Farm(3, {"pi", "--n", std::to_string(n)}, 120);
    ASSERT_FALSE(r.timed_out);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_LE(ref::UlpDistance(PiBits(r), ref::LeibnizClosed(n)), 2.0) << n;
    // The tutorial's lines are kept.
    EXPECT_NE(r.out.find("PI is approximately 3.14159"), std::string::npos);
    EXPECT_NE(r.out.find("Time = "), std::string::npos);
  }
}

TEST(FarmPiTest, TinyRunsAreExactSums) {
  // n = 1: 4; n = 2: S_2 = 8/3 exactly, so the result is 8/3 correctly
  // rounded (4.0 - 4.0 / 3.0 would round twice); fewer terms than ranks.
  run::Result r = run::Farm(4, {"pi", "--n", "1", "--quiet"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(PiBits(r), 4.0);
  r = run::Farm(4, {"pi", "--n", "2", "--quiet"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(PiBits(r), 8.0 / 3.0);
}

TEST(FarmPiTest, TcpTransportGivesSameBits) {
  // The path between hosts: UCX over TCP, kept on the loopback device.
  const std::vector<std::string> args = {"pi", "--n", "20000001", "--quiet"};
  run::Result shm = run::Farm(3, args);
  run::Result tcp =
      run::Farm(3, args, 60, {"UCX_TLS=tcp,self", "UCX_NET_DEVICES=lo"});
  ASSERT_EQ(shm.status, 0) << shm.err;
  ASSERT_EQ(tcp.status, 0) << tcp.err;
  EXPECT_EQ(PiBits(tcp), PiBits(shm));
}

}  // namespace
