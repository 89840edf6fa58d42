// The farm under a real Slurm (Debian's slurm-wlm, one node, started by
// tools/slurm-up, which tools/test runs before the tests): srun with
// MPICH's PMI-2, sbatch and salloc. Each run's exit status is checked, and
// the state Slurm recorded for the job (its job-completion log,
// JobCompLoc in the generated slurm.conf). Without a cluster (SLURM_CONF
// unset) every test is skipped and says why.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run.h"

namespace {

#define NEED_SLURM()                                                       \
  do {                                                                     \
    if (getenv("SLURM_CONF") == nullptr || *getenv("SLURM_CONF") == '\0') \
      GTEST_SKIP() << "no Slurm cluster here: tools/test starts one with " \
                      "tools/slurm-up (it needs root and Debian's "        \
                      "slurm-wlm and munge)";                              \
  } while (0)

std::vector<std::string> Env() {
  return {std::string("SLURM_CONF=") + getenv("SLURM_CONF")};
}

// A job name no other test uses, so its record is found by name.
std::string JobName(const std::string& what) {
  return "tf-" + what + "-" + std::to_string(getpid()) + "-" +
         std::to_string(time(nullptr));
}

// The JobState Slurm recorded for the job named name, waiting up to 20 s
// for the record (slurmctld writes it when the job ends); "" if none.
std::string JobState(const std::string& name) {
  std::string conf = getenv("SLURM_CONF");
  std::string log = conf.substr(0, conf.rfind('/')) + "/jobs.txt";
  for (int tries = 0; tries < 200; tries++) {
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      size_t at = line.find(" JobState=");
      if (line.find(" Name=" + name + " ") == std::string::npos ||
          at == std::string::npos)
        continue;
      at += 10;
      return line.substr(at, line.find(' ', at) - at);
    }
    struct timespec pause = {0, 100000000};
    nanosleep(&pause, nullptr);
  }
  return "";
}

std::vector<std::string> Srun(const std::string& name, int tasks,
                              const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"srun", "-J", name, "--mpi=pmi2", "-n",
                                   std::to_string(tasks), run::Binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string Bits(const run::Result& r) { return run::LineAfter(r.out, "PI bits = "); }

// pi --n 1e9 as mpiexec.mpich computes it: every launcher must agree.
const std::string& Reference() {
  static const std::string bits =
      Bits(run::Farm(3, {"pi", "--n", "1000000000", "--quiet"}));
  return bits;
}

TEST(SlurmTest, SrunWithPmi2ExitsZeroAndSlurmRecordsCompleted) {
  NEED_SLURM();
  std::string name = JobName("ok");
  run::Result r =
      run::Run(Srun(name, 3, {"pi", "--n", "1e9", "--quiet"}), 120, Env());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Bits(r), Reference());
  EXPECT_FALSE(Reference().empty());
  EXPECT_EQ(run::CountLines(r.out), 3) << r.out;
  EXPECT_EQ(JobState(name), "COMPLETED");
}

TEST(SlurmTest, ScancelStopsWith143CancelledAndThePrintedSrunResumes) {
  NEED_SLURM();
  std::string journal = run::TempPath("slurm.journal");
  unlink(journal.c_str());
  std::string name = JobName("cancel");
  const std::vector<std::string> args = {"pi",        "--n",     "4e10",
                                         "--journal", journal,   "--progress"};
  run::Child job(Srun(name, 3, args), Env());
  ASSERT_TRUE(job.WaitForErr("taskfarm: pi ", 60));
  run::Result c = run::Run({"scancel", "-n", name}, 30, Env());
  ASSERT_EQ(c.status, 0) << c.err;
  run::Result r = job.Finish(60);
  EXPECT_EQ(r.status, 128 + SIGTERM) << r.err;
  EXPECT_NE(r.err.find("stopped by SIGTERM"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("PI bits"), std::string::npos) << "a partial result";
  EXPECT_EQ(JobState(name), "CANCELLED");

  // The printed command is an srun line with the task count; it finishes
  // the run, with the bits of an uninterrupted one.
  std::string line = run::LineAfter(r.err, "  srun ");
  ASSERT_FALSE(line.empty()) << r.err;
  std::istringstream words("srun " + line);
  std::vector<std::string> argv;
  for (std::string w; words >> w;) argv.push_back(w);
  ASSERT_GE(argv.size(), 5u);
  EXPECT_EQ(argv[1], "--mpi=pmi2");
  EXPECT_EQ(argv[3], "3");
  EXPECT_EQ(argv.back(), "--resume");
  argv.insert(argv.begin() + 1, {"-J", JobName("resume")});
  run::Result resumed = run::Run(argv, 180, Env());
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  run::Result whole = run::Farm(3, {"pi", "--n", "4e10", "--quiet"}, 180);
  ASSERT_EQ(whole.status, 0) << whole.err;
  EXPECT_EQ(Bits(resumed), Bits(whole));
}

TEST(SlurmTest, SrunWithoutPmiIsRefusedWithWhatToType) {
  NEED_SLURM();
  std::vector<std::string> argv = {"srun", "-J", JobName("nopmi"), "--mpi=none",
                                   "-n", "2", run::Binary(), "pi", "--n",
                                   "1e6"};
  run::Result r = run::Run(argv, 60, Env());
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.out, "") << "a result from a world of one";
  EXPECT_NE(r.err.find("srun --mpi=pmi2"), std::string::npos) << r.err;
  // One line from task 0, not one per task.
  EXPECT_EQ(r.err.find("without a PMI"), r.err.rfind("without a PMI")) << r.err;
}

TEST(SlurmTest, SbatchWaitRunsTheReadmeScript) {
  NEED_SLURM();
  std::string script = run::TempPath("job.sh"), out = run::TempPath("job.out");
  std::string name = JobName("batch");
  {
    std::ofstream f(script);
    f << "#!/bin/bash\n#SBATCH -n 3\n#SBATCH -J " << name << "\n"
      << "srun --mpi=pmi2 " << run::Binary() << " pi --n 1e9 --quiet\n";
  }
  chmod(script.c_str(), 0755);
  run::Result r = run::Run({"sbatch", "--wait", "-o", out, script}, 180, Env());
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream f(out);
  std::string text((std::istreambuf_iterator<char>(f)),
                   std::istreambuf_iterator<char>());
  EXPECT_EQ(run::LineAfter(text, "PI bits = "), Reference()) << text;
  EXPECT_EQ(JobState(name), "COMPLETED");
}

TEST(SlurmTest, SallocWithMpiexecInside) {
  NEED_SLURM();
  std::string name = JobName("salloc");
  run::Result r = run::Run({"salloc", "-J", name, "-n", "3", "mpiexec.mpich",
                            "-n", "3", run::Binary(), "pi", "--n", "1e9",
                            "--quiet"},
                           180, Env());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Bits(r), Reference());
  EXPECT_EQ(JobState(name), "COMPLETED");
}

// The pid of the guarded MPI process of `rank` in the Slurm job named name,
// found through /proc (srun's tasks are slurmstepd's children, not srun's),
// or -1 when there is none yet.
pid_t GuardedRank(const std::string& name, int rank) {
  DIR* d = opendir("/proc");
  if (d == nullptr) return -1;
  pid_t found = -1;
  for (struct dirent* e; found < 0 && (e = readdir(d)) != nullptr;) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream env(std::string("/proc/") + e->d_name + "/environ");
    std::string all((std::istreambuf_iterator<char>(env)),
                    std::istreambuf_iterator<char>());
    auto has = [&](const std::string& entry) {
      return all.find(std::string("\0", 1) + entry + std::string("\0", 1)) !=
             std::string::npos;
    };
    all.insert(0, 1, '\0');
    if (has("TASKFARM_GUARDED=1") && has("PMI_RANK=" + std::to_string(rank)) &&
        has("SLURM_JOB_NAME=" + name))
      found = (pid_t)atoi(e->d_name);
  }
  closedir(d);
  return found;
}

// Waits until the job's rank has used `cpu` seconds computing.
pid_t WaitUntilComputing(const std::string& name, int rank, double cpu) {
  for (int i = 0; i < 6000; i++) {
    pid_t p = GuardedRank(name, rank);
    if (p > 0 && run::CpuSeconds(p) >= cpu) return p;
    struct timespec pause = {0, 10000000};
    nanosleep(&pause, nullptr);
  }
  return -1;
}

// Kills rank 2's MPI process of the Slurm job `name` once it computes and
// returns how the job ended; its bits are checked against a clean run.
run::Result KillRank2(run::Child& job, const std::string& name,
                      const std::string& n) {
  pid_t victim = WaitUntilComputing(name, 2, 0.3);
  EXPECT_GT(victim, 0);
  if (victim > 0) {
    EXPECT_EQ(kill(victim, SIGKILL), 0);
  }
  run::Result r = job.Finish(180);
  run::Result whole = run::Farm(3, {"pi", "--n", n, "--quiet"}, 180);
  EXPECT_EQ(Bits(r), Bits(whole));
  EXPECT_FALSE(Bits(r).empty()) << r.err;
  return r;
}

// A worker's MPI process killed under srun costs nothing: the result is
// exact, srun exits 0 and Slurm records COMPLETED (the ranks leave without
// MPI_Finalize, which would wait for the dead one; MPI_Abort would make
// Slurm kill the step: 137, FAILED).
TEST(SlurmTest, KilledWorkerUnderSrunExitsZeroCompleted) {
  NEED_SLURM();
  std::string name = JobName("killed");
  run::Child job(Srun(name, 3, {"pi", "--n", "4e10"}), Env());
  run::Result r = KillRank2(job, name, "4e10");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("died by signal 9"), std::string::npos) << r.err;
  EXPECT_EQ(run::CountLines(r.out), 3) << r.out;
  EXPECT_EQ(JobState(name), "COMPLETED");
}

// The same over UCX's TCP transport, where MPI_Finalize cannot be trusted:
// a clean run and a killed worker both end with srun's status 0 and
// COMPLETED.
TEST(SlurmTest, OverTcpSrunKeepsTheStatus) {
  NEED_SLURM();
  std::vector<std::string> env = Env();
  env.push_back("UCX_TLS=tcp,self");
  env.push_back("UCX_NET_DEVICES=lo");
  std::string name = JobName("tcp");
  run::Result r =
      run::Run(Srun(name, 3, {"pi", "--n", "1e9", "--quiet"}), 120, env);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Bits(r), Reference());
  EXPECT_EQ(JobState(name), "COMPLETED");

  std::string killed = JobName("tcp-killed");
  run::Child job(Srun(killed, 3, {"pi", "--n", "4e10", "--quiet"}), env);
  run::Result k = KillRank2(job, killed, "4e10");
  EXPECT_EQ(k.status, 0) << k.err;
  EXPECT_EQ(JobState(killed), "COMPLETED");
}

// hydra inside an allocation: a killed worker costs nothing either.
TEST(SlurmTest, KilledWorkerUnderSallocAndMpiexec) {
  NEED_SLURM();
  std::string name = JobName("salloc-killed");
  run::Child job({"salloc", "-J", name, "-n", "3", "mpiexec.mpich",
                  "-disable-auto-cleanup", "-n", "3", run::Binary(), "pi",
                  "--n", "4e10", "--quiet"},
                 Env());
  // hydra's proxies run under srun: the ranks are slurmstepd's.
  run::Result r = KillRank2(job, name, "4e10");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(JobState(name), "COMPLETED");
}

}  // namespace
