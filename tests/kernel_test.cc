// Kernels against closed forms and independent re-implementations.
#include "kernel/kernel.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/isa.h"
#include "cli/job.h"
#include "jobs/dot.h"
#include "jobs/lines.h"
#include "jobs/pi.h"
#include "kernel/products.h"
#include "proto/error.h"
#include "tests/reference.h"

namespace {

// A job as the command line `taskfarm ARGS...` describes it, parsed and
// resolved as every rank does before MPI starts.
std::unique_ptr<cli_job_t> Resolved(std::vector<std::string> args) {
  auto job = std::make_unique<cli_job_t>();
  std::string prog = "taskfarm";
  std::vector<char*> argv = {&prog[0]};
  for (auto& a : args) argv.push_back(&a[0]);
  char err[512] = "";
  int rc =
      cli_job_parse(job.get(), (int)argv.size(), argv.data(), err, sizeof(err));
  EXPECT_EQ(rc, 0) << err;
  if (rc == 0) rc = cli_job_resolve(job.get(), 0, nullptr, err, sizeof(err));
  EXPECT_EQ(rc, 0) << err;
  return job;
}

TEST(KernelTest, DotGenMatchesClosedForm) {
  for (uint64_t n : {1ull, 2ull, 3ull, 10ull, 1000ull, 123457ull}) {
    EXPECT_TRUE(dot_gen(n, 0, n) == ref::DotClosed(n)) << n;
  }
}

// The job's own closed form (its reference) against the independent one,
// up to the documented limit, where n(n+1)(n+2)/6 needs 128 bits.
TEST(KernelTest, DotClosedFormIsTheIndependentOne) {
  std::vector<uint64_t> ns = {1, 2, 3, 4, 5, 6, 1000, (1ull << 32) + 1};
  ns.insert(ns.end(), {9999999999999ull, DOT_N_MAX - 1, DOT_N_MAX});
  for (uint64_t n : ns) {
    EXPECT_TRUE(dot_closed_form(n) == ref::DotClosed(n)) << n;
  }
  EXPECT_EQ(DOT_N_MAX, 12000000000000ull);
}

TEST(KernelTest, DotGenIsAdditiveOverSplits) {
  const uint64_t n = 1000003;
  std::mt19937_64 rng(1);
  unsigned __int128 total = 0;
  for (uint64_t at = 0; at < n;) {
    uint64_t end = std::min<uint64_t>(n, at + 1 + rng() % 50000);
    total += dot_gen(n, at, end);
    at = end;
  }
  EXPECT_TRUE(total == ref::DotClosed(n));
}

TEST(KernelTest, DotGenNearLimitSliceIsExact) {
  // One element near the top of the range: (i + 1)(n - i) needs 88 bits.
  const uint64_t n = 12000000000000ull, i = n / 2;
  unsigned __int128 want = (unsigned __int128)(i + 1) * (n - i);
  EXPECT_TRUE(dot_gen(n, i, i + 1) == want);
}

// The grain's definition re-implemented plainly, one rounding per step
// (volatile), in the order kernel.h states: quad q of the grain (pairs 4q to
// 4q+3) in lane q % 16 while whole rounds of 16 quads last, then the rest
// pair by pair in lane p % 16; lanes combined in halving steps, times 8, a
// lone last term added last.
double GrainByDefinition(uint64_t begin, uint64_t end) {
  double lane[16] = {0};
  uint64_t pairs = (end - begin) / 2, rounds = pairs / 64;
  auto p_of = [&](uint64_t pair) {
    double x = 4.0 * (double)(begin / 2 + pair) + 2.0;
    volatile double sq = x * x;
    volatile double p = sq - 1.0;
    return (double)p;
  };
  for (uint64_t q = 0; q < rounds * 16; q++) {
    volatile double p0 = p_of(4 * q), p1 = p_of(4 * q + 1);
    volatile double p2 = p_of(4 * q + 2), p3 = p_of(4 * q + 3);
    volatile double lo = p0 * p1, hi = p2 * p3;
    volatile double s01 = p0 + p1, s23 = p2 + p3;
    volatile double a = s01 * hi, b = s23 * lo;
    volatile double num = a + b, den = lo * hi;
    volatile double quad = num / den;
    lane[q % 16] += quad;
  }
  for (uint64_t p = rounds * 64; p < pairs; p++) {
    volatile double term = 1.0 / p_of(p);
    lane[p % 16] += term;
  }
  for (int w = 8; w >= 1; w /= 2)
    for (int l = 0; l < w; l++) lane[l] = lane[l] + lane[l + w];
  double s = 8.0 * lane[0];
  if ((end - begin) % 2) s += 4.0 / (2.0 * (double)(end - 1) + 1.0);
  return s;
}

using GrainFn = double (*)(uint64_t, uint64_t);
const GrainFn kPaths[BASE_ISA_PATHS] = {pi_grain_sse2, pi_grain_avx2,
                                        pi_grain_avx512};

// Every compiled path, called by its own symbol, gives the definition's bits
// (a path this CPU lacks is skipped, and the test says so).
TEST(KernelTest, EveryPiPathIsBitwiseTheDefinition) {
  const uint64_t starts[] = {32768, 1u << 20, 999999488, 1ull << 40,
                             (1ull << 50) - 1024};
  for (int path = 0; path < BASE_ISA_PATHS; path++) {
    base_isa_t p = (base_isa_t)path;
    if (!base_isa_supported(p)) {
      printf("pi path %s: skipped, this CPU lacks it\n", base_isa_name(p));
      continue;
    }
    int checked = 0;
    for (uint64_t b : starts) {
      for (uint64_t len :
           {1024ull, 1023ull, 130ull, 128ull, 17ull, 2ull, 1ull}) {
        double got = kPaths[path](b, b + len);
        double want = GrainByDefinition(b, b + len);
        EXPECT_EQ(std::memcmp(&got, &want, sizeof(got)), 0)
            << base_isa_name(p) << ": grain at " << b << " length " << len;
        checked++;
      }
    }
    printf("pi path %s: %d grains bitwise equal to the definition\n",
           base_isa_name(p), checked);
  }
}

// The grain of the largest x the farm accepts stays finite and close to the
// sum of its terms in quad precision.
TEST(KernelTest, PiGrainAtTheTopOfTheRangeIsFiniteAndAccurate) {
  const uint64_t n_max = jobs_find("pi")->kernel->n_max;
  ASSERT_EQ(n_max, 1ull << 50);  // the term index stays exact in a double
  const uint64_t b = n_max - 1024;
  double got = pi_grain(b, b + 1024);
  ref::quad want = 0;
  for (uint64_t i = b; i < b + 1024; i++)
    want += (i % 2 ? -4.0Q : 4.0Q) / (2.0Q * (ref::quad)i + 1.0Q);
  ASSERT_TRUE(std::isfinite(got));
  EXPECT_LE(ref::UlpDistance(got, want), 64.0);
}

double PiByKernel(uint64_t n, uint64_t slice) {
  auto job = Resolved({"pi", "--n", std::to_string(n)});
  EXPECT_EQ(job->n, n);
  kernel_t k;
  EXPECT_EQ(kernel_init(&k, &job->task, job->n), 0) << k.what;
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
    ref::quad want =
        n <= 100001 ? ref::LeibnizDirect(n) : ref::LeibnizClosed(n);
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

// The pi job's reference is pi itself, whatever n.
TEST(KernelTest, PiJobReportsPiAsItsReference) {
  auto job = Resolved({"pi", "--n", "1000"});
  ASSERT_TRUE(job->task.has_reference);
  EXPECT_EQ(job->task.reference, 3.141592653589793);
  EXPECT_EQ((ref::quad)job->task.reference, (ref::quad)(double)ref::Pi());
  EXPECT_STREQ(job->task.reference_what, "pi, the limit of S_n");
}

// The dot job through its kernel: the exact integer over any cut of [0, n),
// the closed form its reference reports, and no float sum.
TEST(KernelTest, DotJobIsTheClosedFormOverAnyCut) {
  std::mt19937_64 rng(11);
  for (uint64_t n : {1ull, 1000ull, 123457ull}) {
    auto job = Resolved({"dot", "--n", std::to_string(n)});
    ASSERT_EQ(job->n, n);
    ASSERT_TRUE(job->task.has_reference);
    char digits[48];
    EXPECT_STREQ(job->task.reference_text,
                 jobs_u128_str(ref::DotClosed(n), digits));
    kernel_t k;
    ASSERT_EQ(kernel_init(&k, &job->task, n), 0) << k.what;
    proto_exact_t acc;
    proto_exact_init(&acc);
    unsigned __int128 isum = 0;
    for (uint64_t at = 0; at < n;) {
      uint64_t end = std::min<uint64_t>(n, at + 1 + rng() % 5000);
      ASSERT_EQ(kernel_add(&k, at, end, &acc, &isum), 0) << k.what;
      at = end;
    }
    kernel_close(&k);
    EXPECT_TRUE(isum == ref::DotClosed(n)) << n;
    EXPECT_EQ(proto_exact_to_double(&acc), 0.0);
  }
}

// What the jobs call picks base_isa()'s path, and that path is one this
// CPU has; every path has a name.
TEST(KernelTest, TheDispatchersTakeTheChosenPath) {
  base_isa_t chosen = base_isa();
  ASSERT_TRUE(base_isa_supported(chosen)) << base_isa_name(chosen);
  EXPECT_TRUE(base_isa_supported(BASE_ISA_SSE2));
  EXPECT_STREQ(base_isa_name(BASE_ISA_SSE2), "sse2");
  EXPECT_STREQ(base_isa_name(BASE_ISA_AVX2), "avx2");
  EXPECT_STREQ(base_isa_name(BASE_ISA_AVX512), "avx512");
  EXPECT_STREQ(base_isa_name(BASE_ISA_PATHS), "?");
  // TASKFARM_PI_PATH names the path when this CPU has it (run this test
  // with --test_env=TASKFARM_PI_PATH=sse2 to take another); else the best.
  const char* want = getenv("TASKFARM_PI_PATH");
  int named = -1;
  for (int p = 0; want != nullptr && p < BASE_ISA_PATHS; p++)
    if (strcmp(want, base_isa_name((base_isa_t)p)) == 0 &&
        base_isa_supported((base_isa_t)p))
      named = p;
  if (named >= 0) {
    EXPECT_EQ((int)chosen, named) << want;
  } else if (want == nullptr) {
    for (int p = chosen + 1; p < BASE_ISA_PATHS; p++)
      EXPECT_FALSE(base_isa_supported((base_isa_t)p))
          << base_isa_name((base_isa_t)p);
  }
  printf("chosen path: %s\n", base_isa_name(chosen));
  const GrainFn grains[BASE_ISA_PATHS] = {pi_grain_sse2, pi_grain_avx2,
                                          pi_grain_avx512};
  for (uint64_t b : {32768ull, 1ull << 33}) {
    double got = pi_grain(b, b + 1000), want_bits = grains[chosen](b, b + 1000);
    EXPECT_EQ(std::memcmp(&got, &want_bits, sizeof(got)), 0) << b;
  }
  EXPECT_TRUE(dot_gen(1000, 3, 997) == dot_gen_scalar(1000, 3, 997));
}

// Writes a and b to files and sums their dot product with the kernel in two
// uneven slices; returns the result and which path each block took.
double KernelFileDot(const std::vector<double>& a, const std::vector<double>& b,
                     const char* name, uint64_t* fast, uint64_t* exact) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string base = std::string(dir ? dir : "/tmp") + "/" + name;
  std::string a_path = base + ".a", b_path = base + ".b";
  FILE* fa = fopen(a_path.c_str(), "wb");
  FILE* fb = fopen(b_path.c_str(), "wb");
  EXPECT_EQ(fwrite(a.data(), 8, a.size(), fa), a.size());
  EXPECT_EQ(fwrite(b.data(), 8, b.size(), fb), b.size());
  fclose(fa);
  fclose(fb);
  auto job = Resolved({"dot", "--a", a_path, "--b", b_path});
  EXPECT_STREQ(job->task.spec.name, "dot-files");
  EXPECT_EQ(job->n, a.size());  // n is the files' length
  kernel_t k;
  EXPECT_EQ(kernel_init(&k, &job->task, job->n), 0) << k.what;
  proto_exact_t acc;
  proto_exact_init(&acc);
  unsigned __int128 unused = 0;
  // The split must not matter.
  uint64_t cut = std::min<uint64_t>(a.size(), a.size() / 4 + 3);
  EXPECT_EQ(kernel_add(&k, 0, cut, &acc, &unused), 0);
  EXPECT_EQ(kernel_add(&k, cut, a.size(), &acc, &unused), 0);
  *fast = k.products.fast;
  *exact = k.products.exact;
  kernel_close(&k);
  return proto_exact_to_double(&acc);
}

// The generated dot product's two paths, each called by its own symbol:
// equal sums on ranges of every length and alignment, up to the largest n,
// and the closed form over whole ranges.
TEST(KernelTest, EveryDotGenPathGivesTheSameSum) {
  if (!base_isa_supported(BASE_ISA_AVX2)) {
    printf("dot gen path avx2: skipped, this CPU lacks it\n");
    return;
  }
  std::mt19937_64 rng(7);
  const uint64_t ns[] = {
      1, 7, 1000, 123457, 12000000000000ull, (1ull << 44) - 1, 1ull << 44};
  for (uint64_t n : ns) {
    if (n <= 200000) {
      EXPECT_TRUE(dot_gen_avx2(n, 0, n) == ref::DotClosed(n)) << n;
    }
    for (int k = 0; k < 50; k++) {
      uint64_t b = rng() % n;
      uint64_t len = 1 + rng() % (k < 25 ? 17 : 300000);
      uint64_t e = b + len < n ? b + len : n;
      EXPECT_TRUE(dot_gen_avx2(n, b, e) == dot_gen_scalar(n, b, e))
          << "n " << n << " [" << b << ", " << e << ")";
    }
  }
}

using DotFastFn = int (*)(const double*, const double*, size_t, double*);
const DotFastFn kDotPaths[BASE_ISA_PATHS] = {
    kernel_dot_fast_sse2, kernel_dot_fast_avx2, kernel_dot_fast_avx512};

// The file dot product's fast path, each compiled level called by its own
// symbol on the same blocks: the same verdict (fast or not) and the same
// lane values to the bit; where it says fast, the exact sum of the lanes is
// the dot product an integer computation gives (mantissas of 26 bits, so
// every product is an integer multiple of 2^-52 and fits in 128 bits).
TEST(KernelTest, EveryDotFastPathGivesTheSameBits) {
  std::mt19937_64 rng(2026);
  const size_t n = 4096 + 5;
  std::vector<double> a(n), b(n);
  int fast_blocks = 0, slow_blocks = 0;
  for (int round = 0; round < 40; round++) {
    __int128 exact = 0;  // in units of 2^-52
    for (size_t i = 0; i < n; i++) {
      int64_t ma = (int64_t)((rng() >> 38) | (1u << 25));
      int64_t mb = (int64_t)((rng() >> 38) | (1u << 25));
      if (rng() & 1) ma = -ma;
      a[i] = std::ldexp((double)ma, -26);
      b[i] = std::ldexp((double)mb, -26);
      if (i < n / 8 * 8) exact += (__int128)ma * mb;
    }
    if (round % 4 == 3) a[17] = 1e-300;              // a tiny product: not fast
    if (round % 4 == 2) a[9] = 1e300, b[9] = 1e300;  // overflow: not fast
    double want[KERNEL_DOT_FAST_OUT];
    int want_ok = kernel_dot_fast_sse2(a.data(), b.data(), n, want);
    for (int path = 1; path < BASE_ISA_PATHS; path++) {
      base_isa_t p = (base_isa_t)path;
      if (!base_isa_supported(p)) {
        if (round == 0)
          printf("dot path %s: skipped, this CPU lacks it\n", base_isa_name(p));
        continue;
      }
      double got[KERNEL_DOT_FAST_OUT];
      int ok = kDotPaths[path](a.data(), b.data(), n, got);
      ASSERT_EQ(ok, want_ok) << base_isa_name(p) << " round " << round;
      if (ok) {
        EXPECT_EQ(std::memcmp(got, want, sizeof(got)), 0)
            << base_isa_name(p) << " round " << round;
      }
    }
    if (!want_ok) {
      slow_blocks++;
      continue;
    }
    fast_blocks++;
    proto_exact_t acc;
    proto_exact_init(&acc);
    for (double v : want) proto_exact_add(&acc, v);
    EXPECT_EQ(proto_exact_to_double(&acc), std::ldexp((double)exact, -52))
        << "round " << round;
  }
  EXPECT_EQ(fast_blocks, 20);
  EXPECT_EQ(slow_blocks, 20);
}

// A file cut short after the run started: the chunk fails with a sentence
// that names the file and says what happened, not a bare error code.
TEST(KernelTest, AFileCutShortFailsWithItsName) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string base = std::string(dir ? dir : "/tmp") + "/short";
  std::string a_path = base + ".a", b_path = base + ".b";
  std::vector<double> v(1000, 1.0);
  for (const std::string& path : {a_path, b_path}) {
    FILE* f = fopen(path.c_str(), "wb");
    ASSERT_EQ(fwrite(v.data(), 8, v.size(), f), v.size());
    fclose(f);
  }
  auto job = Resolved({"dot", "--a", a_path, "--b", b_path});
  ASSERT_EQ(job->n, 1000u);
  kernel_t k;
  ASSERT_EQ(kernel_init(&k, &job->task, job->n), 0) << k.what;
  ASSERT_EQ(truncate(b_path.c_str(), 4000), 0);
  proto_exact_t acc;
  proto_exact_init(&acc);
  unsigned __int128 unused = 0;
  EXPECT_EQ(kernel_add(&k, 0, 400, &acc, &unused), 0);
  EXPECT_EQ(proto_exact_to_double(&acc), 400.0);
  EXPECT_EQ(kernel_add(&k, 400, 1000, &acc, &unused), PROTO_EKERNEL);
  EXPECT_EQ(std::string(k.what),
            "--b file '" + b_path +
                "' ends before byte 8000: it was cut short after the run "
                "started");
  kernel_close(&k);
  unlink(a_path.c_str());
  // A built-in kernel's init that fails: a negative code and its sentence
  // as it is (no prefix: it already names the option and the file).
  EXPECT_LT(kernel_init(&k, &job->task, job->n), 0);
  EXPECT_EQ(std::string(k.what),
            "cannot open --a file '" + a_path + "': No such file or directory");
  kernel_close(&k);
}

uint64_t Bits(double x) {
  uint64_t u;
  std::memcpy(&u, &x, sizeof(u));
  return u;
}

// 27-bit mantissas in [1, 2): products have up to 54 bits, so some round
// and carry an FMA error term; the expansions hold everything, so every
// block takes the fast path. Exact reference in units of 2^-52.
TEST(KernelTest, FileDotFastPathIsExact) {
  std::mt19937_64 rng(78);
  const size_t n = 50000;
  std::vector<double> a(n), b(n);
  __int128 exact = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t ma = (int64_t)((rng() >> 38) | (1u << 26));
    int64_t mb = (int64_t)((rng() >> 38) | (1u << 26));
    if (rng() & 1) ma = -ma;
    a[i] = std::ldexp((double)ma, -26);
    b[i] = std::ldexp((double)mb, -26);
    exact += (__int128)ma * mb;
  }
  uint64_t fast, slow;
  double got = KernelFileDot(a, b, "kfast", &fast, &slow);
  EXPECT_EQ(Bits(got), Bits(std::ldexp((double)exact, -52)));
  EXPECT_GT(fast, 0u);
  EXPECT_EQ(slow, 0u);
}

// Products of two 30-bit mantissas have 60 bits, over a range of 2^40, and
// 1e300 - 1e300 cancels among them: the expansions cannot hold that, so
// blocks fall back to the accumulator path. Exact reference in 2^-40 units.
TEST(KernelTest, FileDotFallbackPathIsExact) {
  std::mt19937_64 rng(77);
  const size_t n = 50000;
  std::vector<double> a(n), b(n);
  __int128 exact = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t ma = (int64_t)((rng() >> 34) | (1u << 29)) * (rng() & 1 ? 1 : -1);
    int64_t mb = (int64_t)((rng() >> 34) | (1u << 29)) * (rng() & 1 ? 1 : -1);
    int ea = -(int)(rng() % 21), eb = -(int)(rng() % 21);
    a[i] = std::ldexp((double)ma, ea);
    b[i] = std::ldexp((double)mb, eb);
    if (i >= 2) exact += (__int128)ma * mb * ((__int128)1 << (ea + eb + 40));
  }
  a[0] = 1e300;
  b[0] = 1;
  a[1] = -1e300;
  b[1] = 1;
  uint64_t fast, slow;
  double got = KernelFileDot(a, b, "kslow", &fast, &slow);
  double want = std::ldexp((double)exact, -40);
  EXPECT_EQ(Bits(got), Bits(want)) << got << " vs " << want;
  EXPECT_GT(slow, 0u);
  // A plain double loop does not get this right, so the test has teeth.
  double naive = 0;
  for (size_t i = 0; i < n; i++) naive += a[i] * b[i];
  EXPECT_NE(naive, want);
}

}  // namespace

namespace {

struct EdgeCase {
  const char* what;
  std::vector<double> a, b;
  double want;  // worked out by hand: the exact sum, rounded once
};

// The exact dot product rounded once, for inputs at the edges of the
// doubles: products that overflow or underflow a double, subnormals, and
// cancellation of huge terms (issue 12, item 1). Each case also runs padded
// to a full block of zeros times ones, so both paths (fast and exact) see it.
TEST(KernelTest, FileDotIsExactAtTheEdgesOfTheDoubles) {
  const double tiny = std::ldexp(1.0, -1074), big = 1.7976931348623157e308;
  const std::vector<EdgeCase> cases = {
      {"huge products cancel", {1e300, 1e300}, {1e300, -1e300}, 0.0},
      {"a small term between huge ones",
       {1e200, 1, -1e200},
       {1e200, 3, 1e200},
       3.0},
      {"1024 products of 2^-1080", std::vector<double>(1024, 0x1p-540),
       std::vector<double>(1024, 0x1p-540), 0x1p-1070},
      {"two halves of the smallest subnormal", {tiny, tiny}, {0.5, 0.5}, tiny},
      {"2^-1074 as a product", {0x1p-537}, {0x1p-537}, tiny},
      {"3/4 of 2^-1074 rounds up", {0x1.8p-538}, {0x1p-537}, tiny},
      {"3/8 of 2^-1074 rounds down", {0x1.8p-538}, {0x1p-538}, 0.0},
      {"half of 2^-1074 rounds to even (zero)",
       {0x1p-538, 0x1p-538},
       {0x1p-538, 0x1p-538},
       0.0},
      {"DBL_MAX times 2, cancelled", {big, big}, {2, -2}, 0.0},
      {"DBL_MAX times 2 overflows", {big}, {2}, INFINITY},
      {"overflow then back in range", {big, big, -big}, {4, 1, 4}, big},
  };
  for (const EdgeCase& c : cases) {
    for (bool padded : {false, true}) {
      std::vector<double> a = c.a, b = c.b;
      if (padded) {
        a.resize(4096, 0.0);
        b.resize(4096, 1.0);
      }
      uint64_t fast = 0, exact = 0;
      double got = KernelFileDot(a, b, "edge", &fast, &exact);
      EXPECT_EQ(std::memcmp(&got, &c.want, sizeof(got)), 0)
          << c.what << (padded ? " (padded)" : "") << ": got " << got
          << " want " << c.want;
    }
  }
}

TEST(KernelTest, FileDotFollowsIeeeForInfinitiesAndNan) {
  uint64_t fast = 0, exact = 0;
  EXPECT_TRUE(
      std::isnan(KernelFileDot({INFINITY}, {0.0}, "nan", &fast, &exact)));
  EXPECT_EQ(KernelFileDot({INFINITY, 1}, {2.0, 1}, "inf", &fast, &exact),
            INFINITY);
  EXPECT_TRUE(std::isnan(
      KernelFileDot({INFINITY, INFINITY}, {1, -1}, "infinf", &fast, &exact)));
  // A negative product too small for any subnormal rounds to -0.
  double z = KernelFileDot({-0x1p-600}, {0x1p-600}, "negzero", &fast, &exact);
  EXPECT_EQ(z, 0.0);
  EXPECT_TRUE(std::signbit(z));
}

// 1000 subnormals m 2^-1074 (m < 2^38) times k/4 (k in [-16, 16]): the exact
// sum is S 2^-1076 with S = sum m k, an integer; rounded once, it is S/4
// rounded to the nearest even integer, times 2^-1074.
TEST(KernelTest, FileDotOfSubnormalsIsExact) {
  std::mt19937_64 rng(7);
  std::vector<double> a, b;
  __int128 s = 0;
  for (int i = 0; i < 1000; i++) {
    int64_t m = (int64_t)(rng() >> 26);  // < 2^38
    int64_t k = (int64_t)(rng() % 33) - 16;
    a.push_back(std::ldexp((double)m, -1074));
    b.push_back((double)k / 4);
    s += (__int128)m * k;
  }
  __int128 mag = s < 0 ? -s : s;
  __int128 q = mag >> 2, rem = mag & 3;
  if (rem > 2 || (rem == 2 && (q & 1))) q++;
  double want = std::ldexp((double)q, -1074) * (s < 0 ? -1 : 1);
  uint64_t fast = 0, exact = 0;
  double got = KernelFileDot(a, b, "subnormal", &fast, &exact);
  EXPECT_EQ(std::memcmp(&got, &want, sizeof(got)), 0)
      << "got " << got << " want " << want;
}

}  // namespace
