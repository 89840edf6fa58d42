// base/watchdog.c's thread: it ends the process with the status and the
// sentence it was given once its deadline passes, not before; a push moves
// the deadline, a disarm stops it, and the thread takes no signal meant for
// the main thread. Each case runs in a forked child (the watchdog ends the
// whole process), whose exit status, stderr and lifetime the parent checks;
// the parent never arms it. Built under --config=tsan too (the "tsan" tag):
// a race between the thread and its callers fails the stderr comparison.
#include "base/watchdog.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>
#include <string>

#include "base/clock.h"

namespace {

constexpr uint64_t kMs = 1000000;

struct Outcome {
  bool exited = false;  // ended with a status (not by a signal, not killed)
  int status = -1;      // its exit status
  std::string err;      // everything it wrote on stderr
  double seconds = 0;   // from the fork to its end
};

double Now() { return (double)base_now_ns() / 1e9; }

// Runs body in a child process that exits 0 when body returns; the child is
// killed after limit_s seconds (then exited is false).
Outcome InChild(const std::function<void()>& body, double limit_s = 20) {
  Outcome o;
  int pipefd[2];
  if (pipe(pipefd) != 0) return o;
  double start = Now();
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    dup2(pipefd[1], STDERR_FILENO);
    body();
    _exit(0);
  }
  close(pipefd[1]);
  double deadline = start + limit_s;
  bool killed = false;
  for (;;) {
    double left = deadline - Now();
    if (left <= 0) {
      kill(pid, SIGKILL);
      killed = true;
      break;
    }
    struct pollfd p = {pipefd[0], POLLIN, 0};
    if (poll(&p, 1, (int)(left * 1000) + 1) <= 0) continue;
    char buf[512];
    ssize_t n = read(pipefd[0], buf, sizeof(buf));
    if (n <= 0) break;  // the child, and every copy of its stderr, ended
    o.err.append(buf, (size_t)n);
  }
  close(pipefd[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  o.seconds = Now() - start;
  o.exited = !killed && WIFEXITED(wstatus);
  o.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  return o;
}

// Waits until the clock reaches t (nanosleep may wake early on a signal).
void SleepUntil(uint64_t t) {
  for (uint64_t now; (now = base_now_ns()) < t;) {
    struct timespec d = {(time_t)((t - now) / 1000000000u),
                         (long)((t - now) % 1000000000u)};
    nanosleep(&d, nullptr);
  }
}

TEST(WatchdogTest, FiresWithItsStatusAndSentenceOnceTheDeadlinePasses) {
  Outcome o = InChild([] {
    base_watchdog_arm(base_now_ns() + 300 * kMs, 7,
                       "worker 3: nothing from the master for 0.3 s");
    SleepUntil(base_now_ns() + 15000 * kMs);  // the watchdog ends it first
  });
  EXPECT_TRUE(o.exited);
  EXPECT_EQ(o.status, 7);
  EXPECT_EQ(o.err, "taskfarm: worker 3: nothing from the master for 0.3 s\n");
  EXPECT_GE(o.seconds, 0.3);
  EXPECT_LT(o.seconds, 10.0);
}

TEST(WatchdogTest, DoesNotFireWhilePushedAhead) {
  Outcome o = InChild([] {
    uint64_t start = base_now_ns();
    base_watchdog_arm(start + 1000 * kMs, 9, "pushed too late");
    // Three times the first deadline, each push a full second ahead.
    while (base_now_ns() < start + 3000 * kMs) {
      base_watchdog_push(base_now_ns() + 1000 * kMs);
      SleepUntil(base_now_ns() + 10 * kMs);
    }
    base_watchdog_disarm();
  });
  EXPECT_TRUE(o.exited);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_GE(o.seconds, 3.0);
}

TEST(WatchdogTest, APushCanBringTheDeadlineCloser) {
  Outcome o = InChild([] {
    base_watchdog_arm(base_now_ns() + 60000 * kMs, 4, "brought forward");
    base_watchdog_push(base_now_ns() + 200 * kMs);
    SleepUntil(base_now_ns() + 15000 * kMs);
  });
  EXPECT_TRUE(o.exited);
  EXPECT_EQ(o.status, 4);
  EXPECT_EQ(o.err, "taskfarm: brought forward\n");
  EXPECT_LT(o.seconds, 10.0);
}

TEST(WatchdogTest, DisarmStopsIt) {
  Outcome o = InChild([] {
    uint64_t deadline = base_now_ns() + 200 * kMs;
    base_watchdog_arm(deadline, 5, "disarmed yet fired");
    base_watchdog_disarm();
    // Past the deadline by ten of the thread's 100 ms steps.
    SleepUntil(deadline + 1000 * kMs);
  });
  EXPECT_TRUE(o.exited);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
}

TEST(WatchdogTest, PushWhileDisarmedArmsNothing) {
  Outcome o = InChild([] {
    uint64_t deadline = base_now_ns() + 200 * kMs;
    base_watchdog_arm(base_now_ns() + 60000 * kMs, 6, "armed by a push");
    base_watchdog_disarm();
    base_watchdog_push(deadline);
    SleepUntil(deadline + 1000 * kMs);
  });
  EXPECT_TRUE(o.exited);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
}

TEST(WatchdogTest, ArmingAgainReplacesStatusAndSentence) {
  Outcome o = InChild([] {
    base_watchdog_arm(base_now_ns() + 60000 * kMs, 11, "the first");
    base_watchdog_disarm();
    base_watchdog_arm(base_now_ns() + 200 * kMs, 12, "the second");
    SleepUntil(base_now_ns() + 15000 * kMs);
  });
  EXPECT_TRUE(o.exited);
  EXPECT_EQ(o.status, 12);
  EXPECT_EQ(o.err, "taskfarm: the second\n");
}

TEST(WatchdogTest, KeepsAtMost255BytesOfTheSentence) {
  Outcome o = InChild([] {
    std::string longer(400, 'x');
    base_watchdog_arm(base_now_ns() + 100 * kMs, 3, longer.c_str());
    SleepUntil(base_now_ns() + 15000 * kMs);
  });
  EXPECT_EQ(o.status, 3);
  EXPECT_EQ(o.err, "taskfarm: " + std::string(255, 'x') + "\n");
}

// The threads of this process, by id.
std::set<int> Threads() {
  std::set<int> tids;
  DIR* d = opendir("/proc/self/task");
  while (struct dirent* e = d ? readdir(d) : nullptr)
    if (atoi(e->d_name) > 0) tids.insert(atoi(e->d_name));
  if (d) closedir(d);
  return tids;
}

// The first line of /proc/self/task/TID/FILE that starts with prefix.
std::string TaskLine(int tid, const char* file, const char* prefix) {
  std::string path =
      "/proc/self/task/" + std::to_string(tid) + "/" + std::string(file);
  FILE* f = fopen(path.c_str(), "r");
  char line[512];
  std::string found;
  while (f && fgets(line, sizeof(line), f))
    if (strncmp(line, prefix, strlen(prefix)) == 0) {
      found = line;
      break;
    }
  if (f) fclose(f);
  return found;
}

// The signals hydra and the user send (SIGINT, SIGTERM, SIGUSR1) must reach
// the main thread, which handles them: the watchdog's thread blocks them,
// as /proc/self/task/TID/status shows (SigBlk, a hexadecimal mask). glibc
// starts every thread with all signals blocked and sets the mask it
// inherits a moment later, so the mask is read once the thread sleeps in
// its loop (/proc/self/task/TID/syscall: nanosleep or clock_nanosleep).
TEST(WatchdogTest, ItsThreadBlocksTheSignalsTheMainThreadHandles) {
  Outcome o = InChild([] {
    std::set<int> before = Threads();
    if (base_watchdog_arm(base_now_ns() + 60000 * kMs, 2, "late") != 0) {
      fprintf(stderr, "no thread started\n");
      return;
    }
    // Every thread started since (a sanitizer may start one of its own
    // with the first thread of a process: that one must block them too).
    std::set<int> added;
    for (int tid : Threads())
      if (before.count(tid) == 0) added.insert(tid);
    if (added.empty()) fprintf(stderr, "no thread started\n");
    for (int tid : added) {
      uint64_t give_up = base_now_ns() + 10000 * kMs;
      for (;;) {
        std::string call = TaskLine(tid, "syscall", "");
        int nr = atoi(call.c_str());
        if (nr == SYS_nanosleep || nr == SYS_clock_nanosleep) break;
        if (base_now_ns() > give_up) {
          fprintf(stderr, "thread %d never slept: %s\n", tid, call.c_str());
          break;
        }
        SleepUntil(base_now_ns() + 1 * kMs);
      }
      unsigned long long mask = 0;
      std::string blocked = TaskLine(tid, "status", "SigBlk:");
      if (sscanf(blocked.c_str(), "SigBlk: %llx", &mask) != 1)
        fprintf(stderr, "thread %d: no SigBlk line\n", tid);
      for (int sig : {SIGINT, SIGTERM, SIGUSR1, SIGCHLD})
        if (!(mask & (1ull << (sig - 1))))
          fprintf(stderr, "thread %d takes signal %d\n", tid, sig);
    }
    base_watchdog_disarm();
  });
  EXPECT_TRUE(o.exited);
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(o.err, "");
}

}  // namespace
