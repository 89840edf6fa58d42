// tools/supervise and tools/uneven read hostfiles and --limit values through
// tools/spec (tools/spec.c): the values bash's arithmetic misread (leading
// zeros taken for octal, "08" an error, the rank "02" never matched) now mean
// what they say, and a malformed hostfile is refused. Stand-ins replace the
// MPI job: a fake mpiexec and a fake taskfarm that print their arguments.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <string>

#include "tests/run.h"

namespace {

std::string Script(const std::string& name, const std::string& body) {
  std::string path = run::TempPath(name);
  std::ofstream(path) << "#!/bin/sh\n" << body;
  chmod(path.c_str(), 0755);
  return path;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(SpecScriptsTest, SupervisorCountsSlotsInDecimalAndKeepsTheLines) {
  std::string hosts = run::TempPath("hostfile");
  std::ofstream(hosts) << "localhost:08\n\n  # a comment\n"
                       << "  deadhost:3 # gone\nlocalhost:abc\n";
  std::string ssh = Script(
      "fake-ssh", "case \" $* \" in *\" deadhost \"*) exit 255 ;; esac\n");
  std::string mpiexec = Script("mpiexec.fake", "echo \"mpiexec $*\"\n");
  std::string journal = run::TempPath("slots.journal");
  run::Result r = run::Run(
      {run::Binary("tools/supervise"), "--", mpiexec, "-f", hosts, "-n", "20",
       "taskfarm", "pi", "--n", "1e6", "--journal", journal},
      30, {"HYDRA_LAUNCHER_EXEC=" + ssh});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("deadhost did not answer ssh"), std::string::npos)
      << r.err;
  // 8 slots (bash's $((0 + 08)) failed) and 1 for a word that is no number.
  EXPECT_NE(r.out.find("-n 9 taskfarm"), std::string::npos) << r.out;
  EXPECT_EQ(Slurp(journal + ".live"), "localhost:08\nlocalhost:abc\n");
}

TEST(SpecScriptsTest, SupervisorRefusesAMalformedHostfile) {
  std::string hosts = run::TempPath("badhosts");
  std::ofstream(hosts) << "localhost\n-oProxyCommand=x:2\n";
  std::string mpiexec = Script("mpiexec.fake", "echo \"mpiexec $*\"\n");
  run::Result r = run::Run({run::Binary("tools/supervise"), "--", mpiexec, "-f",
                            hosts, "-n", "2", "taskfarm", "pi", "--n", "1e6",
                            "--journal", run::TempPath("bad.journal")},
                           30);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("line 2: host name '-oProxyCommand=x' starts with '-'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");  // the job never started
}

TEST(SpecScriptsTest, UnevenReadsLeadingZerosAsDecimal) {
  // Without cgroups, --fallback slows rank 2 inside the program: 50% is
  // slow=2 (bash gave the cgroup 40%, octal 050, and never matched "02").
  std::string fake = Script("taskfarm-fake", "echo \"rank-args $*\"\n");
  run::Result r =
      run::Run({run::Binary("tools/uneven"), "-n", "3", "--limit", "02:050",
                "--fallback", "--binary", fake, "--", "pi", "--n", "1e6"},
               60, {"TASKFARM_CGROUP_ROOT=/nonexistent/cpu"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::CountLines(r.out), 3) << r.out;
  EXPECT_NE(r.out.find("rank-args pi --n 1e6 --inject 2:slow=2\n"),
            std::string::npos)
      << r.out;
}

TEST(SpecScriptsTest, UnevenRefusesARankLimitedTwice) {
  for (const char* second : {"2:50", "2:100@0,25@1", "02:30"}) {
    run::Result r =
        run::Run({run::Binary("tools/uneven"), "-n", "3", "--limit", "2:25",
                  "--limit", second, "--", "pi", "--n", "1e6"},
                 30);
    EXPECT_EQ(r.status, 2) << second;
    EXPECT_NE(r.err.find("--limit gives rank 2 twice"), std::string::npos)
        << second << ": " << r.err;
  }
}

}  // namespace
