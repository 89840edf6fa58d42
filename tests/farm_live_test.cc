// Seeing a run: the progress line in a pseudo-terminal (and not in a pipe
// unless asked), and the HTTP status endpoint: /status and /metrics agree
// with each other and with the job, and malformed, oversized, slow and
// excess requests do not disturb the farm.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/reference.h"
#include "tests/run.h"

namespace {

using nlohmann::json;

// Runs argv on a pseudo-terminal and returns everything it wrote there.
std::string RunOnPty(const std::vector<std::string>& argv, int* status) {
  int master_fd = -1;
  pid_t pid = forkpty(&master_fd, nullptr, nullptr, nullptr);
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    struct pollfd p = {master_fd, POLLIN, 0};
    if (poll(&p, 1, 60000) <= 0) break;  // a hang ends the read
    ssize_t n = read(master_fd, buf, sizeof(buf));
    if (n <= 0) break;  // EIO once the terminal's last user is gone
    out.append(buf, (size_t)n);
  }
  close(master_fd);
  run::KillTree(pid);
  waitpid(pid, status, 0);
  return out;
}

TEST(FarmLiveTest, ProgressLineOnATerminalOnly) {
  std::vector<std::string> argv = run::FarmArgv(3, {"pi", "--n", "3e10"});
  int status = 0;
  std::string tty = RunOnPty(argv, &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << tty;
  // Redrawn in place: carriage return, the line, erase to the end.
  EXPECT_NE(tty.find("\rpi "), std::string::npos) << tty;
  EXPECT_NE(tty.find("it/s  ETA "), std::string::npos) << tty;
  EXPECT_NE(tty.find("workers 2 (0 lost)\033[K"), std::string::npos) << tty;
  EXPECT_NE(tty.find("PI bits = "), std::string::npos) << tty;
  // Percentages only grow.
  double last = -1;
  for (size_t at = tty.find("\rpi "); at != std::string::npos;
       at = tty.find("\rpi ", at + 1)) {
    double pct = atof(tty.c_str() + at + 4);
    EXPECT_GE(pct, last);
    EXPECT_LE(pct, 100.0);
    last = pct;
  }
  // --quiet silences it on a terminal too.
  argv.push_back("--quiet");
  std::string quiet = RunOnPty(argv, &status);
  EXPECT_EQ(quiet.find("ETA"), std::string::npos) << quiet;
  // Not a terminal: nothing unless --progress, then plain lines.
  run::Result pipe = run::Farm(3, {"pi", "--n", "3e10"});
  EXPECT_EQ(pipe.err.find("ETA"), std::string::npos) << pipe.err;
  run::Result asked = run::Farm(3, {"pi", "--n", "3e10", "--progress"});
  EXPECT_NE(asked.err.find("taskfarm: pi "), std::string::npos) << asked.err;
  EXPECT_EQ(asked.err.find('\r'), std::string::npos);
}

int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, (sockaddr*)&a, sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(s, (sockaddr*)&a, &len);
  close(s);
  return ntohs(a.sin_port);
}

int Connect(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, (sockaddr*)&a, sizeof(a)) != 0) {
    close(s);
    return -1;
  }
  return s;
}

// Reads until the server closes (or timeout_s passes: "" then).
std::string ReadAll(int s, double timeout_s, bool* closed) {
  std::string out;
  char buf[8192];
  *closed = false;
  for (;;) {
    struct pollfd p = {s, POLLIN, 0};
    if (poll(&p, 1, (int)(timeout_s * 1000)) <= 0) return out;
    ssize_t n = recv(s, buf, sizeof(buf), 0);
    if (n <= 0) {
      *closed = true;
      return out;
    }
    out.append(buf, (size_t)n);
  }
}

// Sends raw bytes, returns the whole response.
std::string Ask(int port, const std::string& request) {
  int s = Connect(port);
  if (s < 0) return "";
  send(s, request.data(), request.size(), MSG_NOSIGNAL);
  bool closed;
  std::string r = ReadAll(s, 10, &closed);
  close(s);
  return r;
}

std::string Body(const std::string& response) {
  size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

// name{labels} value lines of a Prometheus text body.
std::map<std::string, double> Metrics(const std::string& body) {
  std::map<std::string, double> m;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.rfind(' ');
    m[line.substr(0, sp)] = atof(line.c_str() + sp + 1);
  }
  return m;
}

// Far longer than every request below takes on any machine (hours): the
// run is stopped with SIGTERM once they are done. A fixed size that is
// "long enough" was not, on a faster CPU.
const uint64_t kN = 1ull << 50;

TEST(FarmLiveTest, StatusEndpointAddsUpAndShrugsOffBadRequests) {
  int port = FreePort();
  run::Child job(run::FarmArgv(3, {"pi", "--n", std::to_string(kN),
                                   "--status-port", std::to_string(port)}));
  ASSERT_TRUE(job.WaitForErr("status at http://127.0.0.1:", 30));

  // Good requests while the farm runs: the figures add up.
  // Asked until the first results are in (a condition, with a deadline).
  std::string status;
  json st;
  for (int tries = 0; tries < 200; tries++) {
    status = Ask(port, "GET /status HTTP/1.0\r\nHost: x\r\n\r\n");
    ASSERT_NE(status.find("HTTP/1.1 200 OK"), std::string::npos) << status;
    st = json::parse(Body(status));
    if (st["progress"]["done_iterations"].get<uint64_t>() > 0) break;
    struct pollfd none = {-1, 0, 0};
    poll(&none, 0, 50);
  }
  EXPECT_NE(status.find("Content-Type: application/json"), std::string::npos);
  uint64_t n = kN;
  EXPECT_EQ(st["job"]["n"].get<uint64_t>(), n);
  EXPECT_EQ(st["job"]["workers"].get<int>(), 2);
  EXPECT_EQ(st["workers"]["alive"].get<int>(), 2);
  uint64_t done = st["progress"]["done_iterations"].get<uint64_t>();
  EXPECT_GT(done, 0u);
  EXPECT_LT(done, n);
  EXPECT_EQ(done, st["totals"]["rank_iterations"].get<uint64_t>() +
                      st["progress"]["resumed_iterations"].get<uint64_t>() +
                      st["progress"]["master_iterations"].get<uint64_t>());
  EXPECT_NEAR(st["progress"]["percent"].get<double>(), 100.0 * done / n, 1e-6);
  uint64_t sum = 0;
  for (const json& r : st["ranks"]) {
    EXPECT_EQ(r["state"], "active");
    sum += r["iterations"].get<uint64_t>();
  }
  EXPECT_EQ(sum, st["totals"]["rank_iterations"].get<uint64_t>());

  std::string metrics = Ask(port, "GET /metrics HTTP/1.1\r\n\r\n");
  ASSERT_NE(metrics.find("HTTP/1.1 200 OK"), std::string::npos) << metrics;
  std::map<std::string, double> m = Metrics(Body(metrics));
  EXPECT_EQ(m["taskfarm_iterations_target"], (double)n);
  double ranks = m["taskfarm_rank_iterations_total{rank=\"1\"}"] +
                 m["taskfarm_rank_iterations_total{rank=\"2\"}"];
  EXPECT_EQ(m["taskfarm_iterations_done"],
            ranks + m["taskfarm_iterations_resumed"]);
  EXPECT_GE(m["taskfarm_iterations_done"], (double)done);  // it moved on
  EXPECT_NEAR(m["taskfarm_progress_ratio"],
              m["taskfarm_iterations_done"] / (double)n, 1e-8);
  EXPECT_EQ(m["taskfarm_workers{state=\"alive\"}"], 2);

  // Idle connections up to the limit and beyond: the excess is closed.
  std::vector<int> idle;
  for (int i = 0; i < 20; i++) idle.push_back(Connect(port));
  int dropped = 0;
  for (int s : idle) {
    bool closed;
    ReadAll(s, 0.2, &closed);
    dropped += closed;
  }
  EXPECT_GE(dropped, 4);
  for (int s : idle) close(s);

  // Bad requests get an error status and the connection closed.
  EXPECT_NE(Ask(port, "BLAH\r\n\r\n").find("HTTP/1.1 400"), std::string::npos);
  EXPECT_NE(Ask(port, "POST /status HTTP/1.1\r\n\r\n").find("HTTP/1.1 405"),
            std::string::npos);
  EXPECT_NE(Ask(port, "GET /nope HTTP/1.1\r\n\r\n").find("HTTP/1.1 404"),
            std::string::npos);
  // HEAD and the absolute form are HTTP (RFC 9110, 9112); a malformed
  // header line, version or method is a 400 (issue 12, item 8).
  std::string head = Ask(port, "HEAD /status HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(head.find("HTTP/1.1 200 OK"), 0u) << head;
  EXPECT_EQ(Body(head), "") << head;
  EXPECT_NE(head.find("Content-Type: application/json"), std::string::npos);
  EXPECT_EQ(Ask(port, "GET http://127.0.0.1/metrics HTTP/1.1\r\n\r\n")
                .find("HTTP/1.1 200 OK"),
            0u);
  for (const char* bad :
       {"GET /status HTTP/1.1\r\nno colon here\r\n\r\n",
        "GET /status HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "GET /status HTTP/1.1x\r\n\r\n", "GET /status HTTP/2.0\r\n\r\n",
        " /status HTTP/1.1\r\n\r\n", "GET status HTTP/1.1\r\n\r\n"})
    EXPECT_EQ(Ask(port, bad).find("HTTP/1.1 400"), 0u) << bad;
  std::string big = "GET /status HTTP/1.1\r\nX-Pad: " + std::string(9000, 'a');
  EXPECT_NE(Ask(port, big).find("HTTP/1.1 431"), std::string::npos);
  // A slow client that never finishes its request is dropped.
  int slow = Connect(port);
  send(slow, "GET /sta", 8, MSG_NOSIGNAL);
  bool closed;
  std::string nothing = ReadAll(slow, 6, &closed);
  EXPECT_TRUE(closed) << "slow request not dropped";
  EXPECT_EQ(nothing, "");
  close(slow);

  // A flood: at most STATUS_RATE (100) a second are rendered, the rest get
  // 429 at once.
  int ok = 0, limited = 0;
  for (int i = 0; i < 150; i++) {
    std::string r = Ask(port, "GET /metrics HTTP/1.1\r\n\r\n");
    ok += r.find("HTTP/1.1 200") == 0;
    limited += r.find("HTTP/1.1 429") == 0;
  }
  EXPECT_EQ(ok + limited, 150);
  EXPECT_GE(limited, 1);
  EXPECT_LE(ok, 2 * 100);
  // The server still answers (a new second), and the farm was not disturbed.
  for (int tries = 0; tries < 40; tries++) {
    if (Ask(port, "GET /status HTTP/1.1\r\n\r\n").find("HTTP/1.1 200") == 0)
      break;
    struct pollfd none = {-1, 0, 0};
    poll(&none, 0, 50);
  }
  std::string last = Ask(port, "GET /status HTTP/1.1\r\n\r\n");
  ASSERT_EQ(last.find("HTTP/1.1 200"), 0u) << last;
  // The farm went on meanwhile, and it stops cleanly.
  json after = json::parse(Body(last));
  EXPECT_GT(after["progress"]["done_iterations"].get<uint64_t>(), done);
  EXPECT_EQ(after["workers"]["alive"].get<int>(), 2);
  kill(job.pid(), SIGTERM);
  run::Result r = job.Finish(120);
  EXPECT_EQ(r.status, 128 + SIGTERM) << r.err;
  EXPECT_NE(r.err.find("stopped by SIGTERM"), std::string::npos) << r.err;
}

TEST(FarmLiveTest, BusyPortIsAClearError) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(s, (sockaddr*)&a, sizeof(a)), 0);
  listen(s, 1);
  socklen_t len = sizeof(a);
  getsockname(s, (sockaddr*)&a, &len);
  std::string journal = run::TempPath("busy-port.journal");
  unlink(journal.c_str());
  run::Result r =
      run::Farm(3, {"pi", "--n", "1e9", "--status-port",
                    std::to_string(ntohs(a.sin_port)), "--journal", journal});
  close(s);
  // A usage error (a supervisor does not retry it), one line, and the
  // journal is not created: the port is bound first.
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(run::CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("cannot serve --status-port"), std::string::npos)
      << r.err;
  EXPECT_NE(access(journal.c_str(), F_OK), 0) << "a journal was left behind";
}

}  // namespace
