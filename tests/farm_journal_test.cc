// Long runs on real ranks: a job killed outright (SIGKILL to every process,
// at random moments) or stopped by a signal resumes from its journal to the
// bits of an unbroken run; damaged and foreign journals are handled; the
// supervisor finishes a run whose MPI job dies.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run.h"

namespace {

const char kN[] = "6e10";  // about 2.5 s on two workers here

std::string Bits(const run::Result& r) {
  return run::LineAfter(r.out, "PI bits = ");
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The bits of the unbroken run, computed once.
const std::string& Reference() {
  static std::string bits;
  if (bits.empty()) {
    run::Result r = run::Farm(3, {"pi", "--n", kN, "--quiet"}, 120);
    EXPECT_EQ(r.status, 0) << r.err;
    bits = Bits(r);
  }
  return bits;
}

std::vector<std::string> JournalArgs(const std::string& journal, bool resume) {
  std::vector<std::string> a = {"pi", "--n", kN, "--journal", journal};
  if (resume) a.push_back("--resume");
  return a;
}

// A journal path in the test's temporary directory, not there yet.
std::string NewJournal(const std::string& name) {
  std::string path = run::TempPath(name);
  unlink(path.c_str());
  return path;
}

// A journaled run on 3 ranks that prints progress once a second, so a test
// knows it is computing when "taskfarm: pi " appears.
std::vector<std::string> ProgressFarm(const std::string& journal) {
  std::vector<std::string> args = JournalArgs(journal, false);
  args.push_back("--progress");
  return run::FarmArgv(3, args);
}

void SleepSeconds(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0) continue;
}

TEST(FarmJournalTest, KilledJobResumesToTheSameBits) {
  const std::string& want = Reference();
  ASSERT_FALSE(want.empty());
  int rounds = getenv("KILL_ROUNDS") ? atoi(getenv("KILL_ROUNDS")) : 3;
  std::mt19937 rng((unsigned)time(nullptr));
  for (int round = 0; round < rounds; round++) {
    std::string journal = NewJournal("killed-" + std::to_string(round));
    // The kill lands at a random moment of the run: that time is the test's
    // input, not a wait for something to happen.
    double at = std::uniform_real_distribution<double>(0.3, 2.2)(rng);
    {
      run::Child job(run::FarmArgv(3, JournalArgs(journal, false)));
      SleepSeconds(at);
      run::KillTree(job.pid());
      job.Finish(10);
    }
    run::Result r = run::Run(run::FarmArgv(3, JournalArgs(journal, true)), 120);
    ASSERT_EQ(r.status, 0) << "killed at " << at << " s\n" << r.err;
    EXPECT_EQ(Bits(r), want) << "killed at " << at << " s";
    EXPECT_NE(r.err.find("resuming from journal"), std::string::npos) << r.err;
  }
}

// The command after "resume with:" in a stop message, split at spaces (the
// test's paths need no quoting): the NAME=value words it starts with (the
// environment the farm keeps for a resume: UCX_*, MPIR_CVAR_*, ...; a
// shell reads them as such) in env, the command in argv.
struct Command {
  std::vector<std::string> env;
  std::vector<std::string> argv;
};

Command ResumeCommand(const std::string& err) {
  size_t at = err.find("resume with:\n");
  if (at == std::string::npos) return {};
  std::istringstream line(
      err.substr(at + 13, err.find('\n', at + 13) - (at + 13)));
  Command c;
  for (std::string word; line >> word;) {
    size_t eq = word.find('=');
    bool assignment = c.argv.empty() && eq != std::string::npos && eq > 0 &&
                      word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "abcdefghijklmnopqrstuvwxyz"
                                             "0123456789_") == eq;
    (assignment ? c.env : c.argv).push_back(word);
  }
  return c;
}

TEST(FarmJournalTest, SigintStopsCleanlyAndThePrintedCommandResumes) {
  const std::string& want = Reference();
  std::string journal = NewJournal("sigint");
  run::Child job(ProgressFarm(journal));
  // The progress line says the farm is computing.
  ASSERT_TRUE(job.WaitForErr("taskfarm: pi ", 30));
  pid_t worker = run::RankPid(job.pid(), 1);
  ASSERT_GT(worker, 0);
  kill(job.pid(), SIGINT);  // to mpiexec, as a Ctrl-C would
  run::Result r = job.Finish(30);
  EXPECT_EQ(r.status, 130) << r.err;
  EXPECT_NE(r.err.find("stopped by SIGINT"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("PI bits"), std::string::npos) << "a partial result";
  // No rank is left running.
  for (int tries = 0; kill(worker, 0) == 0 && tries < 100; tries++)
    SleepSeconds(0.05);
  EXPECT_NE(kill(worker, 0), 0) << "worker " << worker << " still runs";
  Command again = ResumeCommand(r.err);
  ASSERT_GE(again.argv.size(), 4u) << r.err;
  EXPECT_EQ(again.argv.back(), "--resume");
  run::Result done = run::Run(again.argv, 120, again.env);
  ASSERT_EQ(done.status, 0) << done.err;
  EXPECT_EQ(Bits(done), want);
}

TEST(FarmJournalTest, SecondSignalEndsAtOnceAndTheJournalStillResumes) {
  const std::string& want = Reference();
  std::string journal = NewJournal("twice");
  run::Child job(ProgressFarm(journal));
  ASSERT_TRUE(job.WaitForErr("taskfarm: pi ", 30));
  pid_t master = run::RankPid(job.pid(), 0);
  ASSERT_GT(master, 0);
  kill(master, SIGTERM);
  ASSERT_TRUE(job.WaitForErr("handing out no more work", 10));
  kill(master, SIGTERM);
  run::Result r = job.Finish(30);
  EXPECT_EQ(r.status, 143) << r.err;
  EXPECT_NE(r.err.find("second signal"), std::string::npos) << r.err;
  run::Result done =
      run::Run(run::FarmArgv(3, JournalArgs(journal, true)), 120);
  ASSERT_EQ(done.status, 0) << done.err;
  EXPECT_EQ(Bits(done), want);
}

// hydra's mpiexec treats a second SIGINT as "kill everything" (status
// 255): a stop must be over before a user's second Ctrl-C 50 ms later.
// The gap is the test's input, not a wait for something to happen.
TEST(FarmJournalTest, TwoSigintsFiftyMillisecondsApartStillEnd130) {
  const std::string& want = Reference();
  for (int round = 0; round < 3; round++) {
    std::string journal = NewJournal("double-" + std::to_string(round));
    run::Child job(ProgressFarm(journal));
    ASSERT_TRUE(job.WaitForErr("taskfarm: pi ", 30));
    kill(job.pid(), SIGINT);
    SleepSeconds(0.05);
    kill(job.pid(), SIGINT);
    run::Result r = job.Finish(30);
    EXPECT_EQ(r.status, 130) << r.err;
    EXPECT_NE(r.err.find("all of it is in journal"), std::string::npos)
        << r.err;
    run::Result done =
        run::Run(run::FarmArgv(3, JournalArgs(journal, true)), 120);
    ASSERT_EQ(done.status, 0) << done.err;
    EXPECT_EQ(Bits(done), want);
  }
}

TEST(FarmJournalTest, MasterAloneStopsAndResumesTheSameWay) {
  // Without mpiexec the master computes on its own loop: same signals, same
  // journal, the bits of the multi-rank run.
  const std::string& want = Reference();
  std::string journal = NewJournal("solo");
  std::vector<std::string> args = {run::Binary()};
  std::vector<std::string> job = JournalArgs(journal, false);
  args.insert(args.end(), job.begin(), job.end());
  args.push_back("--progress");
  run::Child solo(args);
  ASSERT_TRUE(solo.WaitForErr("taskfarm: pi ", 30));
  kill(solo.pid(), SIGTERM);
  run::Result r = solo.Finish(30);
  EXPECT_EQ(r.status, 143) << r.err;
  Command again = ResumeCommand(r.err);
  ASSERT_FALSE(again.argv.empty()) << r.err;
  EXPECT_EQ(again.argv[0], run::Binary());
  run::Result done = run::Run(again.argv, 120, again.env);
  ASSERT_EQ(done.status, 0) << done.err;
  EXPECT_EQ(Bits(done), want);
}

TEST(FarmJournalTest, DamagedJournalsResumeOrAreRefused) {
  // A small job: its journal is complete, then damaged in several ways.
  const std::vector<std::string> small = {"pi", "--n", "3e9"};
  run::Result plain = run::Farm(3, small);
  ASSERT_EQ(plain.status, 0) << plain.err;
  std::string journal = NewJournal("damaged");
  std::vector<std::string> args = small;
  args.insert(args.end(), {"--journal", journal});
  run::Result first = run::Run(run::FarmArgv(3, args), 60);
  ASSERT_EQ(first.status, 0) << first.err;
  std::string good = Slurp(journal);
  args.push_back("--resume");

  // A torn last record (a write cut short): cut off, its chunk recomputed.
  std::ofstream(journal, std::ios::binary | std::ios::trunc)
      << good.substr(0, good.size() - 9);
  run::Result torn = run::Run(run::FarmArgv(3, args), 60);
  ASSERT_EQ(torn.status, 0) << torn.err;
  EXPECT_NE(torn.err.find("cut off"), std::string::npos) << torn.err;
  EXPECT_EQ(Bits(torn), Bits(plain));

  // A flipped byte inside a record: left out, recomputed.
  std::string flipped = good;
  flipped[128 + 30] ^= 0x01;
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << flipped;
  run::Result bad = run::Run(run::FarmArgv(3, args), 60);
  ASSERT_EQ(bad.status, 0) << bad.err;
  EXPECT_NE(bad.err.find("left out"), std::string::npos) << bad.err;
  EXPECT_EQ(Bits(bad), Bits(plain));

  // Another job's journal: refused, exit 2, the file untouched.
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << good;
  run::Result other = run::Run(
      run::FarmArgv(3, {"pi", "--n", "4e9", "--journal", journal, "--resume"}),
      60);
  EXPECT_EQ(other.status, 2) << other.err;
  EXPECT_NE(other.err.find("belongs to another job"), std::string::npos)
      << other.err;
  EXPECT_EQ(Slurp(journal), good);
}

TEST(FarmJournalTest, SecondRunOnTheSameJournalIsRefused) {
  std::string journal = NewJournal("busy");
  run::Child first(ProgressFarm(journal));
  ASSERT_TRUE(first.WaitForErr("taskfarm: pi ", 30));
  run::Result second =
      run::Run(run::FarmArgv(3, JournalArgs(journal, true)), 60);
  EXPECT_EQ(second.status, 2) << second.err;
  EXPECT_NE(second.err.find("is in use by another taskfarm run"),
            std::string::npos)
      << second.err;
  run::KillTree(first.pid());
  first.Finish(10);
}

TEST(FarmJournalTest, SupervisorFinishesARunWhoseJobDies) {
  const std::string& want = Reference();
  std::string journal = NewJournal("supervised");
  std::vector<std::string> argv = {run::Binary("tools/supervise"), "--delay",
                                   "0.2", "--"};
  std::vector<std::string> job = run::FarmArgv(3, JournalArgs(journal, false));
  argv.insert(argv.end(), job.begin(), job.end());
  argv.push_back("--progress");
  run::Child sup(argv);
  ASSERT_TRUE(sup.WaitForErr("taskfarm: pi ", 30));
  // SIGKILL of the master takes the whole MPI job down (hydra ends a job
  // whose rank died by a signal; docs/fault-tolerance.md).
  pid_t master = run::RankPid(sup.pid(), 0);
  ASSERT_GT(master, 0);
  kill(master, SIGKILL);
  run::Result r = sup.Finish(120);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("resuming from the journal (restart 1 of 10)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(Bits(r), want);
}

TEST(FarmJournalTest, SupervisorRefusesAJobWithoutJournal) {
  run::Result r = run::Run({run::Binary("tools/supervise"), "--", "true"}, 10);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("no --journal"), std::string::npos) << r.err;
}

// Before a run the supervisor tries every host of the hostfile with the
// launcher's ssh and leaves out those that do not answer (hydra would wait
// for ever for one): the run gets the others' hostfile and -n lowered to
// their slots. Here the ssh is a stand-in that fails for one host name.
TEST(FarmJournalTest, SupervisorLeavesOutHostsThatDoNotAnswer) {
  std::string journal = NewJournal("dropped-hosts");
  std::string hosts = run::TempPath("hostfile");
  std::string ssh = run::TempPath("fake-ssh");
  {
    std::ofstream f(hosts);
    f << "localhost:2\n# a comment\ndeadhost:2\n";
    std::ofstream g(ssh);
    g << "#!/bin/sh\ncase \" $* \" in *\" deadhost \"*) exit 255 ;; esac\n"
         "exit 0\n";
  }
  chmod(ssh.c_str(), 0755);
  std::vector<std::string> argv = {run::Binary("tools/supervise"), "--",
                                   "mpiexec.mpich", "-disable-auto-cleanup",
                                   "-f", hosts, "-n", "4", run::Binary(),
                                   "pi", "--n", "1e9", "--journal", journal,
                                   "--quiet"};
  run::Result r = run::Run(argv, 120, {"HYDRA_LAUNCHER_EXEC=" + ssh});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("deadhost did not answer ssh"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("-n 4 becomes -n 2"), std::string::npos) << r.err;
  std::ifstream live(journal + ".live");
  std::string text((std::istreambuf_iterator<char>(live)),
                   std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "localhost:2\n");
  run::Result whole = run::Farm(2, {"pi", "--n", "1e9", "--quiet"});
  EXPECT_EQ(Bits(r), Bits(whole));
}

}  // namespace

