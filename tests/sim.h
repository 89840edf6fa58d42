// A deterministic simulator of a whole farm around the real master/farm.c:
// a simulated clock, simulated workers of different speeds, messages
// delayed and reordered within MPI's rules (FIFO per pair of ranks), and
// faults drawn from one seed: workers that die, freeze and come back, greet
// late, greet with another job's fingerprint or another protocol version,
// send duplicates, stale attempts, wrong ranges, garbage or oversized
// messages; links that break; the master stopped by a signal and resumed
// from its journal records; workers that lie (a range or progress they were
// not given) and faulty cores whose partials are sometimes wrong. After
// every farm call it runs farm_check(), and after every run it checks what
// the farm promises (see Check in sim.cc). The same seed gives the same run.
#ifndef TASKFARM_TESTS_SIM_H_
#define TASKFARM_TESTS_SIM_H_

#include <cstdint>
#include <string>

namespace sim {

struct Options {
  uint64_t seed = 1;
  int workers = 0;       // 0: drawn from the seed (1 to 8)
  bool faults = true;    // draw faults; false: every worker honest
  double chunk_ms = 0;   // scale mode: mean compute time of a chunk
  uint64_t n = 0;        // 0: drawn from the seed
  bool verbose = false;  // print the farm's log lines
  double verify = -1;    // --verify; -1: drawn from the seed (all whenever
                         // a corrupting worker is drawn)
  double corrupt = 0;    // > 0: rank 1 spoils this fraction of its partials
                         // and the others are honest (detection rates)
  bool check = true;     // farm_check() after every farm call
};

struct Outcome {
  bool ok = false;
  std::string failure;     // what check failed, when !ok
  double sim_seconds = 0;  // simulated time the run took
  uint64_t messages = 0;   // messages the farm handled
  uint64_t decisions = 0;  // farm_* calls (messages, ticks, solo steps)
  double farm_cpu_s = 0;   // CPU time spent inside farm_* calls
  uint64_t stops = 0;      // times the master was stopped and resumed
  int workers = 0;
  std::string schedule;
  double verify = 0;       // the run's --verify
  bool exact = false;      // the result is the reference
  uint64_t spoiled = 0;    // partials corrupting workers sent
  bool caught = false;     // every corrupting worker that spoiled one was
                           // refused (corrupt mode: rank 1 was)
  double catch_odds = 0;   // corrupt mode: the sum, over rank 1's spoiled
                           // partials, of the chance each had to be compared
                           // (1 for a copy checking a done chunk, --verify
                           // for a first result): the expected number of
                           // runs in which it is caught
  double catch_var = 0;    // ... and the variance of that number
  bool compared = false;   // corrupt mode: one of them was compared
  uint64_t chunks = 0;     // chunks cut
  uint64_t checks = 0;     // results confirmed by a second computation
  uint64_t liars = 0;      // ranks refused for lying
};

// Runs one simulated farm.
Outcome Run(const Options& opt);

// The command that replays a seed.
std::string Replay(const Options& opt);

}  // namespace sim

#endif  // TASKFARM_TESTS_SIM_H_
