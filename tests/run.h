// Runs a command (usually mpiexec.mpich) in its own process group under a
// hard time limit, capturing what it prints. A command still running at the
// limit is killed, group and all, and reported as timed out: a hang is a
// failure, never a stuck test run.
#ifndef TASKFARM_TESTS_RUN_H_
#define TASKFARM_TESTS_RUN_H_

#include <string>
#include <vector>

namespace run {

struct Result {
  int status = -1;         // exit status, or 128 + signal
  bool timed_out = false;  // killed at the time limit
  std::string out;         // standard output
  std::string err;         // standard error
};

// Runs argv with extra environment entries ("NAME=value") for at most
// timeout_s seconds.
Result Run(const std::vector<std::string>& argv, double timeout_s,
           const std::vector<std::string>& env = {});

// mpiexec.mpich -n ranks <binary> args..., on the shared-memory transport.
Result Farm(int ranks, const std::vector<std::string>& args,
            double timeout_s = 60, const std::vector<std::string>& env = {});

// The taskfarm binary built by Bazel, found through the test's runfiles.
std::string Binary(const std::string& name = "taskfarm");

// A path inside the test's private temporary directory.
std::string TempPath(const std::string& name);

// The first line of text starting with prefix, without the prefix; "" if
// there is none.
std::string LineAfter(const std::string& text, const std::string& prefix);

// The number of lines in text.
int CountLines(const std::string& text);

}  // namespace run

#endif  // TASKFARM_TESTS_RUN_H_
