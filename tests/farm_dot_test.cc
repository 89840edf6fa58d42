// Multi-rank dot products: generated vectors against the closed form, and
// float files against an exact integer reference, for several rank counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tests/reference.h"
#include "tests/run.h"

namespace {

std::string U128(unsigned __int128 v) {
  std::string s;
  do {
    s.insert(s.begin(), (char)('0' + (int)(v % 10)));
    v /= 10;
  } while (v);
  return s;
}

std::string DotClosed(uint64_t n) { return U128(ref::DotClosed(n)); }

TEST(FarmDotTest, ExactForSeveralNAndRankCounts) {
  for (uint64_t n : {1ull, 2ull, 10ull, 1000003ull, 300000000ull}) {
    for (int ranks : {1, 2, 5}) {
      run::Result r =
          run::Farm(ranks, {"dot", "--n", std::to_string(n), "--quiet"});
      ASSERT_FALSE(r.timed_out);
      ASSERT_EQ(r.status, 0) << r.err;
      EXPECT_EQ(run::LineAfter(r.out, "Dot product is "), DotClosed(n))
          << "n=" << n << " ranks=" << ranks;
    }
  }
}

TEST(FarmDotTest, ResultBeyondSixtyFourBits) {
  // n(n+1)(n+2)/6 for n = 2e9 is about 1.3e27, far past 2^64.
  run::Result r = run::Farm(3, {"dot", "--n", "2e9", "--quiet"});
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "Dot product is "), DotClosed(2000000000));
}

void WriteF64(const std::string& path, const std::vector<double>& v) {
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(fwrite(v.data(), 8, v.size(), f), v.size());
  fclose(f);
}

// Values m * 2^e with |m| <= 10^6 and e in [-40, 0] make every product a
// multiple of 2^-80 below 2^40, so the exact dot product is a 128-bit integer
// times 2^-80, and converting that integer to double rounds it once.
TEST(FarmDotTest, FilesGiveTheExactlyRoundedResult) {
  std::mt19937_64 rng(2024);
  const size_t n = 200003;
  std::vector<double> a(n), b(n);
  __int128 exact = 0;  // in units of 2^-80
  for (size_t i = 0; i < n; i++) {
    int64_t ma = (int64_t)(rng() % 2000001) - 1000000;
    int64_t mb = (int64_t)(rng() % 2000001) - 1000000;
    int ea = (int)(rng() % 41) - 40, eb = (int)(rng() % 41) - 40;
    a[i] = std::ldexp((double)ma, ea);
    b[i] = std::ldexp((double)mb, eb);
    if (i >= 2) exact += (__int128)(ma * mb) * ((__int128)1 << (ea + eb + 80));
  }
  // A cancellation no float loop survives: 1e300 - 1e300 among the rest.
  a[0] = 1e300;
  b[0] = 1;
  a[1] = -1e300;
  b[1] = 1;
  const double want = std::ldexp((double)exact, -80);
  std::string fa = run::TempPath("a.f64"), fb = run::TempPath("b.f64");
  WriteF64(fa, a);
  WriteF64(fb, b);
  for (int ranks : {1, 2, 4}) {
    for (const char* chunk : {"1000", "65536"}) {
      run::Result r = run::Farm(
          ranks, {"dot", "--a", fa, "--b", fb, "--chunk", chunk, "--quiet"});
      ASSERT_FALSE(r.timed_out);
      ASSERT_EQ(r.status, 0) << r.err;
      std::string hex = run::LineAfter(r.out, "Dot bits = ");
      EXPECT_EQ(strtod(hex.c_str(), nullptr), want)
          << ranks << " ranks, chunk " << chunk << ": " << r.out;
      EXPECT_EQ(run::LineAfter(r.out, "Elements = "), std::to_string(n));
    }
  }
}

}  // namespace
