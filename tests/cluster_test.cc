// Several hosts for real, on one machine: each test builds its own cluster
// with tools/cluster (a login host and three compute hosts, each a network
// namespace with its own hostname and sshd, linked through a bridge), runs
// the farm across them with hydra's ssh launcher and UCX's TCP on the
// links, breaks one host the way clusters break, and checks the outcome:
// exit 0 with the bits of a run on one host, or, where hydra itself cannot
// go on, tools/supervise finishing the run from its journal on the hosts
// that still answer. Skipped, with the reason, where network namespaces or
// sshd cannot be had.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "tests/run.h"

namespace {

const char kN[] = "1e11";  // about 10 s on five workers sharing two cores

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void Pause(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, nullptr);
}

std::string Bits(const run::Result& r) {
  return run::LineAfter(r.out, "PI bits = ");
}

// pi --n kN on one host over shared memory: every run below must match it.
const std::string& Reference() {
  static const std::string bits =
      Bits(run::Farm(3, {"pi", "--n", kN, "--quiet"}, 300));
  return bits;
}

class Cluster {
 public:
  Cluster() {
    static int count = 0;
    dir_ = run::TempPath("cluster" + std::to_string(getpid()) + "-" +
                         std::to_string(count++));
    run::Result r = run::Run({Tool(), "up", dir_, "3"}, 120);
    status_ = r.status;
    why_ = r.err;
  }
  ~Cluster() {
    if (status_ == 0) run::Run({Tool(), "down", dir_}, 60);
  }
  int status() const { return status_; }
  const std::string& why() const { return why_; }
  std::string hosts() const { return dir_ + "/hosts"; }

  // argv run on the login host, where mpiexec starts ranks over ssh.
  std::vector<std::string> On(const std::vector<std::string>& argv) const {
    std::vector<std::string> a = {Tool(), "run", dir_};
    a.insert(a.end(), argv.begin(), argv.end());
    return a;
  }
  // mpiexec over the three compute hosts, 2 ranks each, then the farm.
  std::vector<std::string> Farm(const std::vector<std::string>& args,
                                int ranks = 6) const {
    std::vector<std::string> a = {"mpiexec.mpich", "-disable-auto-cleanup",
                                  "-f", hosts(), "-n", std::to_string(ranks),
                                  run::Binary()};
    a.insert(a.end(), args.begin(), args.end());
    return On(a);
  }
  std::vector<std::string> Supervised(const std::vector<std::string>& args,
                                      int ranks = 6) const {
    std::vector<std::string> a = {run::Binary("tools/supervise"), "--delay",
                                  "0.5", "--", "mpiexec.mpich",
                                  "-disable-auto-cleanup", "-f", hosts(),
                                  "-n", std::to_string(ranks), run::Binary()};
    a.insert(a.end(), args.begin(), args.end());
    return On(a);
  }
  // A fault verb of tools/cluster on one host.
  void Fault(const std::string& verb, const std::string& host,
             const std::vector<std::string>& more = {}) const {
    std::vector<std::string> a = {Tool(), verb, dir_, host};
    a.insert(a.end(), more.begin(), more.end());
    run::Result r = run::Run(a, 60, Env());
    EXPECT_EQ(r.status, 0) << verb << " " << host << ": " << r.err;
  }
  // taskfarm processes still on a host (its network namespace).
  int Ranks(const std::string& host) const {
    run::Result r = run::Run({"ip", "netns", "pids", Prefix() + "-" + host}, 10);
    int n = 0;
    size_t at = 0;
    while (at < r.out.size()) {
      size_t end = r.out.find('\n', at);
      if (end == std::string::npos) end = r.out.size();
      std::string pid = r.out.substr(at, end - at);
      at = end + 1;
      // The guard and its MPI process (which re-executes /proc/self/exe,
      // so its name is "exe") both run the taskfarm binary.
      char exe[4096];
      ssize_t len =
          readlink(("/proc/" + pid + "/exe").c_str(), exe, sizeof(exe) - 1);
      if (len <= 0) continue;
      exe[len] = '\0';
      std::string path(exe);
      if (path.size() >= 8 && path.compare(path.size() - 8, 8, "taskfarm") == 0)
        n++;
    }
    return n;
  }
  // ps lines of every process on a host.
  std::string Processes(const std::string& host) const {
    run::Result r = run::Run(
        {"sh", "-c",
         "for p in $(ip netns pids " + Prefix() + "-" + host +
             "); do ps -o pid=,stat=,etimes=,wchan:24=,args= -p $p; done"},
        10);
    return r.out;
  }
  static std::vector<std::string> Env() {
    return {"LINKEM=" + run::Binary("tools/linkem")};
  }

 private:
  static std::string Tool() { return run::Binary("tools/cluster"); }
  std::string Prefix() const {
    std::ifstream in(dir_ + "/prefix");
    std::string p;
    std::getline(in, p);
    return p;
  }
  std::string dir_;
  int status_ = -1;
  std::string why_;
};

#define NEED_CLUSTER(c)                                                    \
  do {                                                                     \
    if ((c).status() == 77)                                                \
      GTEST_SKIP() << "no emulated hosts here: " << (c).why();             \
    ASSERT_EQ((c).status(), 0) << "tools/cluster up failed: " << (c).why(); \
  } while (0)

std::string NewJournal(const std::string& name) {
  std::string j = run::TempPath(name + ".journal");
  unlink(j.c_str());
  unlink((j + ".live").c_str());
  return j;
}

off_t Size(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

// Waits until the journal holds about 30 chunks (a 132-byte header, 76 to
// 84 bytes a pi chunk): the run is well under way on every host.
bool WaitUntilUnderWay(const std::string& journal, double timeout_s) {
  double end = Now() + timeout_s;
  while (Now() < end) {
    if (Size(journal) >= 132 + 30 * 84) return true;
    Pause(0.02);
  }
  return false;
}

void Report(const char* what, const run::Result& r, double fault_at) {
  printf("[cluster] %s: exit %d, %.1f s in all, %.1f s from the fault\n",
         what, r.status, r.seconds, r.seconds - fault_at);
}

// Starts argv (a run journaling to journal), applies `verb` to host once
// the run is well under way, calls then() (what the scenario does next,
// while the run goes on), and returns how the run ended, its times printed
// as `what`.
run::Result WithFault(const Cluster& c, const std::vector<std::string>& argv,
                      const std::string& journal, const std::string& verb,
                      const std::string& host, const char* what,
                      const std::function<void()>& then = [] {}) {
  double start = Now();
  run::Child job(argv);
  if (!WaitUntilUnderWay(journal, 120)) {
    ADD_FAILURE() << "the run did not get under way";
    return job.Finish(1);
  }
  c.Fault(verb, host);
  double fault_at = Now() - start;
  then();
  run::Result r = job.Finish(300);
  Report(what, r, fault_at);
  return r;
}

TEST(ClusterTest, BitsAcrossHostsEqualOneHost) {
  Cluster c;
  NEED_CLUSTER(c);
  run::Result r = run::Run(c.Farm({"pi", "--n", kN}), 300);
  Report("no fault", r, 0);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Bits(r), Reference());
  EXPECT_EQ(run::CountLines(r.out), 3) << r.out;
  // The ranks really ran on three hosts.
  for (const char* h : {"node1 pid", "node2 pid", "node3 pid"})
    EXPECT_NE(r.err.find(h), std::string::npos) << h << "\n" << r.err;
}

// One scenario of the common shape: a run journaling pi --n kN, a fault
// on one host once it is under way, and an outcome of exit 0 with the bits
// of a run on one host and what stderr must say.
struct Scenario {
  const char* name;  // the test's name
  const char* what;  // printed with its times
  bool supervised;   // run under tools/supervise
  const char* verb;  // tools/cluster's fault
  const char* host;
  std::vector<std::string> extra;  // more options of the run
  std::vector<std::string> said;   // on stderr
  const char* undo;   // the verb that undoes the fault, or nullptr ...
  double undo_after;  // ... this long after it (< 0: once the run ended)
};

const Scenario kScenarios[] = {
    // Every process of a worker host killed, its hydra proxy and sshd too:
    // hydra ends the whole job at once (the proxy's socket closes).
    // tools/supervise finds node3 no longer answering ssh and finishes on
    // the other two hosts.
    {"WorkerHostCrashUnderSuperviseFinishesOnTheOthers",
     "worker host crash, supervised",
     true,
     "crash",
     "node3",
     {},
     {"node3 did not answer ssh", "-n 6 becomes -n 4",
      "resuming from journal"},
     nullptr,
     0},
    // A worker host gone silent (link down, every process killed): no reset
    // reaches hydra, the master loses node3's ranks and finishes without
    // them. They must be declared lost before the others finish: on a fast
    // CPU the run outlasts the fault by less than the default 3 s.
    {"WorkerHostPowerOffCostsOnlyItsRanks",
     "worker host power-off",
     false,
     "poweroff",
     "node3",
     {"--lost-after", "0.5"},
     {"lost ranks: 2"},
     nullptr,
     0},
    // rank 0's host gone silent: nothing tells hydra, which would wait for
    // it for ever. tools/supervise, watching that host, ends the job and
    // reruns on the two hosts that answer.
    {"MasterHostPowerOffUnderSuperviseFinishesOnTheOthers",
     "master host power-off, supervised",
     true,
     "poweroff",
     "node1",
     {},
     {"node1, rank 0's host, has not answered", "node1 did not answer ssh"},
     nullptr,
     0},
    // rank 0's host crashed (every process killed): hydra ends at once, the
    // rerun starts rank 0 on node2.
    {"MasterHostCrashUnderSuperviseFinishesOnTheOthers",
     "master host crash, supervised",
     true,
     "crash",
     "node1",
     {},
     {"node1 did not answer ssh"},
     nullptr,
     0},
    // A partition that heals after 4 s: the ranks come back and take work.
    {"PartitionThatHealsFinishes",
     "worker host partitioned for 4 s",
     false,
     "partition",
     "node3",
     {},
     {},
     "heal",
     4},
    // Every process of a worker host stopped (SIGSTOP): its ranks are taken
    // for lost and the run finishes without them.
    {"FrozenWorkerHostFinishes",
     "worker host frozen",
     false,
     "freeze",
     "node3",
     {},
     {},
     "thaw",
     -1},
};

class ClusterFaultTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(ClusterFaultTest, FinishesWithTheBitsOfOneHost) {
  const Scenario& s = GetParam();
  Cluster c;
  NEED_CLUSTER(c);
  std::string journal = NewJournal(s.name);
  std::vector<std::string> args = {"pi", "--n", kN, "--journal", journal};
  args.insert(args.end(), s.extra.begin(), s.extra.end());
  run::Result r =
      WithFault(c, s.supervised ? c.Supervised(args) : c.Farm(args), journal,
                s.verb, s.host, s.what, [&] {
                  if (s.undo == nullptr || s.undo_after < 0) return;
                  Pause(s.undo_after);  // the length of the fault itself
                  c.Fault(s.undo, s.host);
                });
  if (s.undo != nullptr && s.undo_after < 0) c.Fault(s.undo, s.host);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Bits(r), Reference());
  for (const std::string& said : s.said)
    EXPECT_NE(r.err.find(said), std::string::npos) << said << "\n" << r.err;
}

INSTANTIATE_TEST_SUITE_P(Hosts, ClusterFaultTest,
                         ::testing::ValuesIn(kScenarios),
                         [](const ::testing::TestParamInfo<Scenario>& i) {
                           return std::string(i.param.name);
                         });

// A worker host cut off for good: the run finishes without it, and its
// ranks, which hear nothing more from the master, leave within
// --master-timeout on their own.
TEST(ClusterTest, PartitionForGoodFinishesAndTheCutOffRanksLeave) {
  Cluster c;
  NEED_CLUSTER(c);
  std::string journal = NewJournal("partition");
  int left = -1;
  double gone = 0;
  run::Result r = WithFault(
      c,
      c.Farm({"pi", "--n", kN, "--journal", journal, "--master-timeout", "5"}),
      journal, "partition", "node3", "worker host partitioned for good",
      [&] {
        double cut = Now();
        do {
          left = c.Ranks("node3");
          if (left > 0) Pause(0.05);
        } while (left > 0 && Now() < cut + 5 + 10);
        gone = Now() - cut;
      });
  EXPECT_EQ(left, 0) << "taskfarm processes still on node3 " << gone
                     << " s after the cut:\n"
                     << c.Processes("node3");
  printf("[cluster] the cut-off ranks were gone %.1f s after the cut\n", gone);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Bits(r), Reference());
}

// 50 ms each way and 5% of the packets lost on one host's link, for the
// whole run, start-up included.
TEST(ClusterTest, BadLinkFinishes) {
  Cluster c;
  NEED_CLUSTER(c);
  c.Fault("badlink", "node3", {"50", "0.05"});
  run::Result r = run::Run(c.Farm({"pi", "--n", kN}), 300);
  c.Fault("goodlink", "node3");
  Report("50 ms and 5% loss on a worker host's link", r, 0);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Bits(r), Reference());
}

// rank 0's host frozen: its master still holds the journal, so no second
// master may take it over. tools/supervise ends the job, finds the rerun
// refused and says why and what to do; once the frozen host is restarted
// (here: its processes killed) the same supervised command finishes.
TEST(ClusterTest, FrozenMasterHostEndsWithWhatToDoAndTheJournalFinishes) {
  Cluster c;
  NEED_CLUSTER(c);
  std::string journal = NewJournal("master-freeze");
  run::Result r =
      WithFault(c, c.Supervised({"pi", "--n", kN, "--journal", journal}),
                journal, "freeze", "node1", "master host frozen, supervised");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("is in use by another taskfarm run"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("still holds it on node1"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("PI bits"), std::string::npos) << r.out;

  c.Fault("crash", "node1");
  run::Result again = run::Run(
      c.Supervised({"pi", "--n", kN, "--journal", journal, "--resume"}), 300);
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(Bits(again), Reference());
}

}  // namespace
