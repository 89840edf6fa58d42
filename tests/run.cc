// The command runner of run.h: fork, exec, read both pipes with poll, and
// kill the process group at the deadline; under a sanitizer config, collect
// the reports the command's processes wrote.
#include "tests/run.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

extern char** environ;

namespace run {
namespace {

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Where the processes a test starts write sanitizer reports: files named
// report.PID (the sanitizers' log_path adds the pid).
std::string ReportDir() { return TempPath("sanitizer-reports"); }

// Before main: points the sanitizer options present (ASAN_OPTIONS covers
// UBSan and LeakSanitizer too) at ReportDir() for the processes this test
// starts; this process read its own options already and keeps reporting
// on stderr.
struct RouteSanitizerReports {
  RouteSanitizerReports() {
    bool any = false;
    for (const char* name : {"ASAN_OPTIONS", "TSAN_OPTIONS"}) {
      const char* value = getenv(name);
      if (value == nullptr) continue;
      std::string v = value;
      v += (v.empty() ? "" : ":") + std::string("log_path=") + ReportDir() +
           "/report";
      setenv(name, v.c_str(), 1);
      any = true;
    }
    if (any) {
      mkdir(ReportDir().c_str(), 0700);
      ::testing::AddGlobalTestEnvironment(new LeftoverReports);
    }
  }

  // Fails the program for reports that no Child::Finish collected.
  class LeftoverReports : public ::testing::Environment {
    void TearDown() override {
      std::string text = TakeSanitizerReports();
      EXPECT_TRUE(text.empty())
          << "sanitizer reports from processes the tests started:\n"
          << text;
    }
  };
} route_sanitizer_reports;

}  // namespace

std::string TakeSanitizerReports() {
  std::string text;
  DIR* d = opendir(ReportDir().c_str());
  if (d == nullptr) return text;
  while (struct dirent* e = readdir(d)) {
    if (strncmp(e->d_name, "report", 6) != 0) continue;
    std::string path = ReportDir() + "/" + e->d_name;
    FILE* f = fopen(path.c_str(), "r");
    if (f == nullptr) continue;
    text += "==== " + path + "\n";
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
    fclose(f);
    unlink(path.c_str());
  }
  closedir(d);
  return text;
}

std::vector<pid_t> Descendants(pid_t root) {
  // Parent of every process, from /proc/<pid>/stat.
  std::vector<std::pair<pid_t, pid_t>> all;
  DIR* d = opendir("/proc");
  if (d == nullptr) return {};
  while (struct dirent* e = readdir(d)) {
    pid_t pid = (pid_t)atoi(e->d_name);
    if (pid <= 0) continue;
    std::string path = std::string("/proc/") + e->d_name + "/stat";
    FILE* f = fopen(path.c_str(), "r");
    if (f == nullptr) continue;
    char buf[512];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char* close_paren = strrchr(buf, ')');
    if (close_paren == nullptr) continue;
    char state;
    int ppid;
    if (sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2)
      all.push_back({pid, (pid_t)ppid});
  }
  closedir(d);
  std::vector<pid_t> found = {root};
  for (size_t i = 0; i < found.size(); i++)
    for (const auto& pp : all)
      if (pp.second == found[i]) found.push_back(pp.first);
  found.erase(found.begin());
  return found;
}

void KillTree(pid_t root) {
  // Stop the launcher first so it starts nothing new, then the rest.
  std::vector<pid_t> tree = Descendants(root);
  kill(root, SIGKILL);
  for (pid_t p : tree) kill(p, SIGKILL);
}

static std::string Environ(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/environ";
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) return "";
  std::string env;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) env.append(buf, n);
  fclose(f);
  for (char& c : env)
    if (c == '\0') c = '\n';
  return "\n" + env;
}

pid_t RankPid(pid_t root, int rank) {
  std::string want = "\nPMI_RANK=" + std::to_string(rank) + "\n";
  for (pid_t p : Descendants(root)) {
    std::string env = Environ(p);
    if (env.find(want) == std::string::npos) continue;
    bool guarded = env.find("\nTASKFARM_GUARDED=1\n") != std::string::npos;
    if (rank == 0 || guarded) return p;
  }
  return -1;
}

// The fields of /proc/PID/stat after the command's closing parenthesis
// (state first), or "" when the process is gone.
static std::string StatFields(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) return "";
  char buf[1024];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char* p = strrchr(buf, ')');
  return p == nullptr || p[1] == '\0' ? "" : std::string(p + 2);
}

double CpuSeconds(pid_t pid) {
  std::string fields = StatFields(pid);
  if (fields.empty()) return -1;
  // state is field 3 of the whole line; utime 14, stime 15.
  unsigned long long utime = 0, stime = 0;
  if (sscanf(fields.c_str(),
             "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
             &stime) != 2)
    return -1;
  return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

pid_t ParentPid(pid_t pid) {
  long ppid = -1;
  std::string fields = StatFields(pid);
  if (fields.empty() || sscanf(fields.c_str(), "%*c %ld", &ppid) != 1)
    return -1;
  return (pid_t)ppid;
}

bool Running(pid_t pid) {
  std::string fields = StatFields(pid);
  return !fields.empty() && fields[0] != 'Z';
}

Child::Child(const std::vector<std::string>& argv,
             const std::vector<std::string>& env) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return;
  start_ = Now();
  if (!argv.empty()) command_ = argv[0];
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    for (const auto& e : env) putenv(strdup(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  out_ = out[0];
  err_ = err[0];
}

Child::~Child() {
  if (pid_ > 0) {
    KillTree(pid_);
    waitpid(pid_, nullptr, 0);
  }
  if (out_ >= 0) close(out_);
  if (err_ >= 0) close(err_);
}

bool Child::Pump(double timeout_s) {
  struct pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
  std::string* sinks[2] = {&r_.out, &r_.err};
  if (out_ < 0 && err_ < 0) return false;
  int n = poll(fds, 2, (int)(timeout_s * 1000) + 1);
  if (n <= 0) return true;
  for (int i = 0; i < 2; i++) {
    if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
    char buf[4096];
    ssize_t got = read(fds[i].fd, buf, sizeof(buf));
    if (got > 0) {
      sinks[i]->append(buf, (size_t)got);
    } else {
      close(fds[i].fd);
      (i == 0 ? out_ : err_) = -1;
    }
  }
  return out_ >= 0 || err_ >= 0;
}

bool Child::WaitForErr(const std::string& needle, double timeout_s) {
  double deadline = Now() + timeout_s;
  while (r_.err.find(needle) == std::string::npos) {
    double left = deadline - Now();
    if (left <= 0 || !Pump(left))
      return r_.err.find(needle) != std::string::npos;
  }
  return true;
}

Result Child::Finish(double timeout_s) {
  double deadline = Now() + timeout_s;
  for (;;) {
    double left = deadline - Now();
    if (left <= 0) {
      r_.timed_out = true;
      break;
    }
    if (!Pump(left)) break;
  }
  // Whatever the command leaves running goes with it.
  KillTree(pid_);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  r_.seconds = Now() - start_;
  r_.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::string reports = TakeSanitizerReports();
  EXPECT_TRUE(reports.empty()) << "sanitizer reports from " << command_ << ":\n"
                               << reports;
  return r_;
}

Result Run(const std::vector<std::string>& argv, double timeout_s,
           const std::vector<std::string>& env) {
  Child c(argv, env);
  return c.Finish(timeout_s);
}

std::string Binary(const std::string& name) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* ws = getenv("TEST_WORKSPACE");
  if (srcdir && ws) return std::string(srcdir) + "/" + ws + "/" + name;
  return "./" + name;
}

std::vector<std::string> FarmArgv(int ranks,
                                  const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"mpiexec.mpich", "-disable-auto-cleanup",
                                   "-n", std::to_string(ranks), Binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Result Farm(int ranks, const std::vector<std::string>& args, double timeout_s,
            const std::vector<std::string>& env) {
  std::vector<std::string> argv = {"mpiexec.mpich", "-n", std::to_string(ranks),
                                   Binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, timeout_s, env);
}

std::string TempPath(const std::string& name) {
  const char* dir = getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::string LineAfter(const std::string& text, const std::string& prefix) {
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    if (text.compare(at, prefix.size(), prefix) == 0)
      return text.substr(at + prefix.size(), nl - at - prefix.size());
    at = nl + 1;
  }
  return "";
}

int CountLines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

std::string Decimal(unsigned __int128 v) {
  std::string digits;
  do {
    digits.insert(digits.begin(), (char)('0' + (int)(v % 10)));
    v /= 10;
  } while (v != 0);
  return digits;
}

}  // namespace run
