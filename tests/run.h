// Runs a command (usually mpiexec.mpich) under a hard time limit, capturing
// what it prints. A command still running at the limit is killed together
// with every process it started (hydra puts each rank in its own session,
// so the tree is found through /proc, never by name): a hang is a failure,
// never a stuck test run.
//
// In a sanitizer build (--config=asan or --config=tsan, which set
// ASAN_OPTIONS or TSAN_OPTIONS), every process a test starts writes its
// sanitizer reports to files in the test's temporary directory instead of
// a stderr that may never be read (a worker's death is tolerated by the
// farm; the master silences its stderr before MPI_Abort; a batch job writes
// to a file). Each command's reports fail the test when it finishes; any
// left (from processes started otherwise) fail the program at its end.
#ifndef TASKFARM_TESTS_RUN_H_
#define TASKFARM_TESTS_RUN_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace run {

struct Result {
  int status = -1;         // exit status, or 128 + signal
  bool timed_out = false;  // killed at the time limit
  std::string out;         // standard output
  std::string err;         // standard error
  double seconds = 0;      // wall time
};

// A command running in the background whose output is read as it comes.
class Child {
 public:
  Child(const std::vector<std::string>& argv,
        const std::vector<std::string>& env = {});
  ~Child();  // kills the tree if still running
  pid_t pid() const { return pid_; }
  // Reads output until stderr contains needle; false at the time limit.
  bool WaitForErr(const std::string& needle, double timeout_s);
  // Reads output until the command ends (or kills it at the limit).
  Result Finish(double timeout_s);

 private:
  bool Pump(double timeout_s);  // one read round; false when both pipes shut
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  double start_ = 0;
  std::string command_;  // argv[0], for the failure message
  Result r_;
};

// The text of every sanitizer report written since the last call (and
// removes their files); "" when there is none.
std::string TakeSanitizerReports();

// Runs argv with extra environment entries ("NAME=value") for at most
// timeout_s seconds.
Result Run(const std::vector<std::string>& argv, double timeout_s,
           const std::vector<std::string>& env = {});

// mpiexec.mpich -n ranks <binary> args..., on the shared-memory transport.
Result Farm(int ranks, const std::vector<std::string>& args,
            double timeout_s = 60, const std::vector<std::string>& env = {});

// The argv of the fault-tolerant launch: mpiexec.mpich -disable-auto-cleanup
// -n ranks <binary> args...
std::vector<std::string> FarmArgv(int ranks,
                                  const std::vector<std::string>& args);

// Every process descended from root (not root itself).
std::vector<pid_t> Descendants(pid_t root);

// Kills root and all its descendants with SIGKILL, by pid.
void KillTree(pid_t root);

// The pid of the MPI process of `rank` started under root (for a worker:
// the guarded child, not its guard), or -1 if there is none yet.
pid_t RankPid(pid_t root, int rank);

// CPU seconds (user + system) a process has used, or -1.
double CpuSeconds(pid_t pid);

// The parent of pid, or -1 when pid is gone.
pid_t ParentPid(pid_t pid);

// true while pid exists and is not a zombie (a zombie holds no socket and
// runs nothing).
bool Running(pid_t pid);

// The taskfarm binary built by Bazel, found through the test's runfiles.
std::string Binary(const std::string& name = "taskfarm");

// A path inside the test's private temporary directory.
std::string TempPath(const std::string& name);

// The first line of text starting with prefix, without the prefix; "" if
// there is none.
std::string LineAfter(const std::string& text, const std::string& prefix);

// The number of lines in text.
int CountLines(const std::string& text);

// v in decimal, as the farm prints its exact integer results.
std::string Decimal(unsigned __int128 v);

}  // namespace run

#endif  // TASKFARM_TESTS_RUN_H_
