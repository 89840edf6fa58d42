// The status server's request parser, without a socket: what each request
// is answered with, how a request arriving in pieces is waited for, and
// that a full buffer without the end of the headers is a 431.
#include "master/status_request.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

// Parses text in a buffer of cap bytes (default: room to spare).
int Parse(const std::string& text, status_request_t* req, size_t cap = 0) {
  static std::vector<char> buf;
  if (cap == 0) cap = text.size() + 100;
  buf.assign(cap, 'x');
  text.copy(buf.data(), text.size());
  return status_request_parse(buf.data(), text.size(), cap, req);
}

TEST(StatusRequestTest, AGetGivesItsPathWithoutTheQuery) {
  status_request_t req;
  EXPECT_EQ(Parse("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", &req), 200);
  EXPECT_STREQ(req.path, "/metrics");
  EXPECT_EQ(req.head, 0);
  EXPECT_EQ(Parse("GET /status HTTP/1.0\n\n", &req), 200);
  EXPECT_STREQ(req.path, "/status");
}

TEST(StatusRequestTest, HeadAndTheAbsoluteFormAreAccepted) {
  status_request_t req;
  EXPECT_EQ(Parse("HEAD /status HTTP/1.1\r\nHost: x\r\n\r\n", &req), 200);
  EXPECT_EQ(req.head, 1);
  EXPECT_EQ(Parse("GET http://127.0.0.1:8080/metrics HTTP/1.1\r\n\r\n", &req),
            200);
  EXPECT_STREQ(req.path, "/metrics");
  EXPECT_EQ(Parse("GET http://127.0.0.1 HTTP/1.1\r\n\r\n", &req), 200);
  EXPECT_STREQ(req.path, "/");
}

TEST(StatusRequestTest, MalformedRequestsAre400) {
  status_request_t req;
  for (const char* bad :
       {"BLAH\r\n\r\n", "GET /status HTTP/1.1\r\nno colon here\r\n\r\n",
        "GET /status HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "GET /status HTTP/1.1\r\nX: a\x01z\r\n\r\n",
        "GET /status HTTP/1.1x\r\n\r\n", "GET /status HTTP/2.0\r\n\r\n",
        " /status HTTP/1.1\r\n\r\n", "GET status HTTP/1.1\r\n\r\n",
        "GET  /status HTTP/1.1\r\n\r\n", "G(T /status HTTP/1.1\r\n\r\n"})
    EXPECT_EQ(Parse(bad, &req), 400) << bad;
  EXPECT_EQ(Parse(std::string("GET /st\0us HTTP/1.1\r\n\r\n", 24), &req), 400);
}

TEST(StatusRequestTest, OtherMethodsAre405) {
  status_request_t req;
  EXPECT_EQ(Parse("POST /status HTTP/1.1\r\n\r\n", &req), 405);
  EXPECT_EQ(Parse("DELETE / HTTP/1.0\n\n", &req), 405);
}

TEST(StatusRequestTest, AnIncompleteRequestWaitsUntilTheBufferIsFull) {
  status_request_t req;
  std::string part = "GET /status HTTP/1.1\r\nHost: x\r\n";
  EXPECT_EQ(Parse(part, &req), STATUS_REQUEST_PARTIAL);
  EXPECT_EQ(Parse(part, &req, part.size() + 1), 431);
  // A NUL byte is refused before the request is complete.
  EXPECT_EQ(Parse(std::string("GET \0", 5), &req), 400);
}

TEST(StatusRequestTest, ItNeverReadsPastTheTerminatorItWrites) {
  // The terminator lands at buf[len]: a request that fills the buffer to
  // its last byte but one is parsed from exactly those bytes.
  status_request_t req;
  std::string text = "GET /x HTTP/1.1\r\n\r\n";
  EXPECT_EQ(Parse(text, &req, text.size() + 1), 200);
  EXPECT_STREQ(req.path, "/x");
}

}  // namespace
