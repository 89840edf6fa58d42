// tools/sim: runs the farm simulator (tests/sim.h) for many seeds, or one
// seed verbosely, or the scale measurement. Prints every failure with the
// command that replays it; exits 1 if any seed failed.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/sim.h"

namespace {

const char kUsage[] =
    "usage: tools/sim [--seeds N] [--seed S] [--workers W] [--no-faults]\n"
    "                 [--n N] [--verbose] [--no-check]\n"
    "       tools/sim --scale W --chunk-ms MS [--seeds N]\n"
    "Runs the real master/farm.c against simulated workers and faults.\n"
    "  --seeds N     run seeds S, S+1, ..., S+N-1 (default 1000)\n"
    "  --seed S      the first seed (default 1)\n"
    "  --workers W   simulated workers (default: drawn from each seed, 1-8)\n"
    "  --no-faults   every worker honest and healthy\n"
    "  --n N         indices in the run (default: drawn from each seed)\n"
    "  --verbose     print the farm's log lines and each worker's faults\n"
    "  --no-check    skip farm_check() after every farm call (faster)\n"
    "  --scale W     measure the farm's CPU cost per decision with W honest\n"
    "                workers whose chunks take --chunk-ms each\n";

}  // namespace

int main(int argc, char** argv) {
  sim::Options opt;
  uint64_t seeds = 1000;
  bool scale = false, seeds_given = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--help") {
      fputs(kUsage, stdout);
      return 0;
    } else if (a == "--no-faults") {
      opt.faults = false;
    } else if (a == "--verbose") {
      opt.verbose = true;
    } else if (a == "--no-check") {
      opt.check = false;
    } else if (v != nullptr && a == "--seeds") {
      seeds = strtoull(v, nullptr, 10), i++, seeds_given = true;
    } else if (v != nullptr && a == "--seed") {
      opt.seed = strtoull(v, nullptr, 10), i++;
      if (!seeds_given) seeds = 1;
    } else if (v != nullptr && a == "--workers") {
      opt.workers = atoi(v), i++;
    } else if (v != nullptr && a == "--n") {
      opt.n = strtoull(v, nullptr, 10), i++;
    } else if (v != nullptr && a == "--scale") {
      opt.workers = atoi(v), i++, scale = true;
    } else if (v != nullptr && a == "--chunk-ms") {
      opt.chunk_ms = atof(v), i++;
    } else {
      fprintf(stderr, "tools/sim: unknown or incomplete option '%s'\n%s",
              a.c_str(), kUsage);
      return 2;
    }
  }
  if (scale) {
    if (opt.workers < 1 || !(opt.chunk_ms > 0)) {
      fprintf(stderr, "tools/sim: --scale needs W >= 1 and --chunk-ms > 0\n");
      return 2;
    }
    opt.faults = false;
    if (opt.n == 0) opt.n = (uint64_t)opt.workers * 20 * 1000;
    sim::Outcome o = sim::Run(opt);
    if (!o.ok) {
      printf("FAILED: %s\n", o.failure.c_str());
      return 1;
    }
    double per = o.farm_cpu_s / (double)o.decisions;
    // Each worker sends about one message per chunk, plus a heartbeat
    // every 100 ms of a chunk: its message rate is what the master must
    // keep up with.
    double per_worker = (1 + opt.chunk_ms / 100.0) / (opt.chunk_ms / 1e3);
    printf(
        "workers %d, chunk %.3g ms: %llu messages, %llu decisions, "
        "farm CPU %.3f s over %.1f simulated s; %.0f ns per decision; "
        "one master core feeds %.3g workers\n",
        o.workers, opt.chunk_ms, (unsigned long long)o.messages,
        (unsigned long long)o.decisions, o.farm_cpu_s, o.sim_seconds, per * 1e9,
        1.0 / (per * per_worker));
    return 0;
  }
  uint64_t failed = 0;
  for (uint64_t k = 0; k < seeds; k++) {
    sim::Options one = opt;
    one.seed = opt.seed + k;
    sim::Outcome o = sim::Run(one);
    if (!o.ok) {
      failed++;
      printf("seed %llu FAILED (%d workers, %s): %s\n  replay: %s\n",
             (unsigned long long)one.seed, o.workers, o.schedule.c_str(),
             o.failure.c_str(), sim::Replay(one).c_str());
    } else if (seeds == 1) {
      printf(
          "seed %llu passed: %d workers, %s, %.3f simulated s, %llu "
          "messages, %llu stops\n",
          (unsigned long long)one.seed, o.workers, o.schedule.c_str(),
          o.sim_seconds, (unsigned long long)o.messages,
          (unsigned long long)o.stops);
    }
  }
  printf("%llu seeds, %llu failed\n", (unsigned long long)seeds,
         (unsigned long long)failed);
  return failed ? 1 : 0;
}
