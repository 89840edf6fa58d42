// Kernels against closed forms and independent re-implementations.
#include "worker/kernel.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "tests/reference.h"

namespace {

unsigned __int128 DotClosed(uint64_t n) {
  unsigned __int128 a = n, b = (unsigned __int128)n + 1,
                    c = (unsigned __int128)n + 2;
  // Divide before multiplying out so nothing overflows.
  if (a % 2 == 0) a /= 2; else b /= 2;
  if (a % 3 == 0) a /= 3; else if (b % 3 == 0) b /= 3; else c /= 3;
  return a * b * c;
}

TEST(KernelTest, DotGenMatchesClosedForm) {
  for (uint64_t n : {1ull, 2ull, 3ull, 10ull, 1000ull, 123457ull}) {
    EXPECT_TRUE(kernel_dot_gen(n, 0, n) == DotClosed(n)) << n;
  }
}

TEST(KernelTest, DotGenIsAdditiveOverSplits) {
  const uint64_t n = 1000003;
  std::mt19937_64 rng(1);
  unsigned __int128 total = 0;
  for (uint64_t at = 0; at < n;) {
    uint64_t end = std::min<uint64_t>(n, at + 1 + rng() % 50000);
    total += kernel_dot_gen(n, at, end);
    at = end;
  }
  EXPECT_TRUE(total == DotClosed(n));
}

TEST(KernelTest, DotGenNearLimitSliceIsExact) {
  // One element near the top of the range: (i + 1)(n - i) needs 88 bits.
  const uint64_t n = 12000000000000ull, i = n / 2;
  unsigned __int128 want = (unsigned __int128)(i + 1) * (n - i);
  EXPECT_TRUE(kernel_dot_gen(n, i, i + 1) == want);
}

// The grain's definition re-implemented plainly: pair p of the grain goes to
// lane p % 16 in order, lanes combine in halving steps, a lone term last.
double GrainByDefinition(uint64_t begin, uint64_t end) {
  double lane[16] = {0};
  uint64_t pairs = (end - begin) / 2;
  for (uint64_t p = 0; p < pairs; p++) {
    double x = 4.0 * (double)(begin / 2 + p) + 2.0;
    volatile double sq = x * x;  // keep every operation a separate rounding
    volatile double den = sq - 1.0;
    volatile double term = 8.0 / den;
    lane[p % 16] += term;
  }
  for (int w = 8; w >= 1; w /= 2)
    for (int l = 0; l < w; l++) lane[l] = lane[l] + lane[l + w];
  double s = lane[0];
  if ((end - begin) % 2) s += 4.0 / (2.0 * (double)(end - 1) + 1.0);
  return s;
}

TEST(KernelTest, PiGrainIsBitwiseTheDefinition) {
  const uint64_t starts[] = {32768, 1u << 20, 999999488, 1ull << 40};
  for (uint64_t b : starts) {
    for (uint64_t len : {1024ull, 1023ull, 17ull, 2ull, 1ull}) {
      double got = kernel_pi_grain(b, b + len);
      double want = GrainByDefinition(b, b + len);
      EXPECT_EQ(std::memcmp(&got, &want, sizeof(got)), 0)
          << "grain at " << b << " length " << len;
    }
  }
}

double PiByKernel(uint64_t n, uint64_t slice) {
  proto_job_t job = {};
  job.kind = PROTO_JOB_PI;
  job.n = n;
  kernel_t k;
  EXPECT_EQ(kernel_init(&k, &job), 0);
  proto_exact_t acc;
  proto_exact_init(&acc);
  unsigned __int128 unused = 0;
  for (uint64_t at = 0; at < n; at += slice)
    EXPECT_EQ(kernel_add(&k, at, std::min(n, at + slice), &acc, &unused), 0);
  kernel_close(&k);
  return proto_exact_to_double(&acc);
}

TEST(KernelTest, ReferencesAgree) {
  for (uint64_t n : {1ull, 2ull, 7ull, 1000ull, 12345ull}) {
    ref::quad d = ref::LeibnizDirect(n) - ref::LeibnizClosed(n);
    if (d < 0) d = -d;
    EXPECT_LT((double)d, 1e-30) << n;
  }
}

TEST(KernelTest, PiWithinTwoUlpOfExactPartialSum) {
  for (uint64_t n : {1ull, 2ull, 3ull, 1023ull, 1025ull, 32767ull, 32768ull,
                     32769ull, 100001ull, 1000000ull, 123456789ull}) {
    double got = PiByKernel(n, 1u << 20);
    ref::quad want = n <= 100001 ? ref::LeibnizDirect(n) : ref::LeibnizClosed(n);
    EXPECT_LE(ref::UlpDistance(got, want), 2.0) << "n = " << n;
  }
}

TEST(KernelTest, PiIndependentOfSlicing) {
  const uint64_t n = 5000001;
  double whole = PiByKernel(n, n);
  for (uint64_t slice : {1024ull, 3072ull, 65536ull, 1ull << 21}) {
    double part = PiByKernel(n, slice);
    EXPECT_EQ(std::memcmp(&whole, &part, sizeof(part)), 0) << slice;
  }
}

}  // namespace
