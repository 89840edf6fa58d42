// A job as every rank builds it: a command line parsed and resolved. The
// tests that need a job write the command a user would type instead of
// filling in fields, so they exercise the same path as the binary.
#ifndef TASKFARM_TESTS_JOB_FIXTURE_H_
#define TASKFARM_TESTS_JOB_FIXTURE_H_

#include <string>
#include <vector>

#include "cli/job.h"
#include "gtest/gtest.h"

namespace testjob {

// `taskfarm <args...>` parsed and, with resolve, resolved (the options
// bound, n derived, the input files identified). A failure is a test
// failure that names the command's error.
inline cli_job_t Make(std::vector<std::string> args, bool resolve = true) {
  args.insert(args.begin(), "taskfarm");
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(&s[0]);
  cli_job_t job;
  char err[512] = "";
  EXPECT_EQ(cli_job_parse(&job, (int)argv.size(), argv.data(), err,
                          sizeof(err)),
            0)
      << err;
  if (resolve) {
    EXPECT_EQ(cli_job_resolve(&job, 0, nullptr, err, sizeof(err)), 0) << err;
  }
  return job;
}

}  // namespace testjob

#endif  // TASKFARM_TESTS_JOB_FIXTURE_H_
