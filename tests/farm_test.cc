// master/farm.c driven directly: time and messages passed in, what it sends
// and journals captured. One test per defect the state machine was split
// out to fix, and every message kind in every peer state.
#include "master/farm.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/error.h"

namespace {

using u128 = unsigned __int128;
constexpr uint64_t kMs = 1000000;
constexpr uint64_t kS = 1000 * kMs;

u128 Partial(uint64_t b, uint64_t e) {
  return (u128)e * (e + 1) / 2 - (u128)b * (b + 1) / 2;
}

struct Sent {
  int rank;
  proto_msg_t msg;
};

class Farm {
 public:
  Farm(std::vector<std::string> args, int workers) {
    args.insert(args.begin(), "taskfarm");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    char err[256];
    EXPECT_EQ(
        proto_job_parse(&job, (int)argv.size(), argv.data(), err, sizeof(err)),
        0)
        << err;
    EXPECT_EQ(proto_job_resolve(&job, err, sizeof(err)), 0) << err;
    farm_io_t io = {this, SendCb, RecordCb, LogCb, nullptr};
    EXPECT_EQ(farm_init(&f, &job, workers, &io, nullptr, now), 0);
  }
  ~Farm() { farm_close(&f); }

  static int SendCb(void* ctx, int rank, const proto_msg_t* m) {
    Farm* self = static_cast<Farm*>(ctx);
    self->sent.push_back({rank, *m});
    return self->send_rc;
  }
  static int RecordCb(void* ctx, const master_record_t* r) {
    static_cast<Farm*>(ctx)->records.push_back(*r);
    return 0;
  }
  static void LogCb(void* ctx, farm_log_level_t, const char* line) {
    static_cast<Farm*>(ctx)->log += std::string(line) + "\n";
  }

  void Hello(int rank, uint64_t fingerprint = 0) {
    proto_msg_t m = {};
    m.kind = PROTO_TAG_HELLO;
    m.fingerprint = fingerprint ? fingerprint : proto_job_fingerprint(&job);
    farm_message(&f, rank, &m, now);
  }
  // The orders rank was sent and still holds, per the farm.
  const farm_peer_t& Peer(int rank) { return f.peer[rank - 1]; }
  proto_msg_t Result(const farm_order_t& o) {
    proto_msg_t m = {};
    m.kind = PROTO_TAG_RESULT;
    m.chunk = o.chunk;
    m.attempt = o.attempt;
    m.begin = f.table.chunk[o.chunk].begin;
    m.end = f.table.chunk[o.chunk].end;
    m.busy_ns = 1000;
    m.isum = Partial(m.begin, m.end);
    proto_exact_init(&m.fsum);
    return m;
  }
  // rank answers its oldest order honestly.
  void Answer(int rank) {
    ASSERT_GT(Peer(rank).norders, 0);
    proto_msg_t m = Result(Peer(rank).order[0]);
    farm_message(&f, rank, &m, now);
  }
  // Honest ranks answer until the run is over (or nobody holds anything).
  void Drain(const std::vector<int>& honest) {
    for (int guard = 0; guard < 100000 && !f.done; guard++) {
      bool any = false;
      for (int r : honest)
        if (f.peer[r - 1].norders > 0) {
          Answer(r);
          any = true;
        }
      now += kMs;
      farm_tick(&f, now);
      if (!any && farm_solo_wanted(&f)) {
        farm_solo_t s;
        ASSERT_EQ(farm_solo_take(&f, &s), 1);
        proto_msg_t r = {};
        r.isum = Partial(s.begin, s.end);
        proto_exact_init(&r.fsum);
        farm_solo_done(&f, &s, &r, now);
      }
    }
  }
  // Honest ranks finish the run: it must end with the exact sum of [0, n).
  void ExpectExactEnd(const std::vector<int>& honest) {
    Drain(honest);
    ASSERT_TRUE(farm_finished(&f));
    EXPECT_TRUE(f.isum == Partial(0, job.n));
  }
  // Rank 1 greeted; rank 2 stays silent past the hello wait and is lost.
  void LetRank2MissItsHello() {
    now += (FARM_HELLO_WAIT_S + 1) * kS;
    farm_tick(&f, now);
    ASSERT_EQ(Peer(2).state, FARM_LOST);
  }
  int Count(int rank, proto_tag_t kind) {
    int c = 0;
    for (auto& s : sent) c += s.rank == rank && s.msg.kind == kind;
    return c;
  }

  proto_job_t job;
  farm_t f;
  uint64_t now = 1 * kS;
  int send_rc = 0;
  std::vector<Sent> sent;
  std::vector<master_record_t> records;
  std::string log;
};

int find_order_of(const farm_peer_t& p, const farm_order_t& o) {
  for (int i = 0; i < p.norders; i++)
    if (p.order[i].chunk == o.chunk && p.order[i].attempt == o.attempt)
      return i;
  return -1;
}

const std::vector<std::string> kDot = {"dot", "--n", "100000", "--chunk",
                                       "1000"};

// Defect 1: a rank lost for not greeting in time, greeting later with
// another job's fingerprint, was re-admitted and its results added.
TEST(FarmTest, LateGreeterIsCheckedLikeAnyOther) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.LetRank2MissItsHello();
  t.Hello(2, 12345);  // another job
  EXPECT_EQ(t.Peer(2).state, FARM_REFUSED);
  EXPECT_EQ(t.Count(2, PROTO_TAG_REFUSE), 1);
  EXPECT_EQ(t.Count(2, PROTO_TAG_WORK), 0);
  // Its forged results never count.
  proto_msg_t forged = t.Result(t.Peer(1).order[0]);
  forged.isum += 1;
  farm_message(&t.f, 2, &forged, t.now);
  t.ExpectExactEnd({1});
}

TEST(FarmTest, MessagesBeforeHelloAreDroppedAndDoNotReadmit) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.LetRank2MissItsHello();
  proto_msg_t beat = {};
  beat.kind = PROTO_TAG_PROGRESS;
  farm_message(&t.f, 2, &beat, t.now);
  EXPECT_EQ(t.Peer(2).state, FARM_LOST);
  EXPECT_EQ(t.Peer(2).rejected, 1u);
  t.Hello(2);  // the right job, late: it takes work
  EXPECT_EQ(t.Peer(2).state, FARM_ACTIVE);
  EXPECT_GT(t.Peer(2).norders, 0);
}

// Defect 2a: a RESULT with the right chunk and attempt but another range
// dropped the order before it was judged invalid: the chunk had no holder.
TEST(FarmTest, ResultWithWrongRangeGivesTheChunkToAnother) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.Hello(2);
  farm_order_t o = t.Peer(1).order[0];
  proto_msg_t lie = t.Result(o);
  lie.end -= 1;
  lie.isum = 7;
  farm_message(&t.f, 1, &lie, t.now);
  EXPECT_EQ(t.Peer(1).rejected, 1u);
  // The lying order is closed; the chunk is in line or already re-issued.
  const master_chunk_t& c = t.f.table.chunk[o.chunk];
  EXPECT_LT(find_order_of(t.Peer(1), o), 0);
  EXPECT_TRUE(c.queued || (c.state == MASTER_CHUNK_ISSUED && c.live > 0 &&
                           c.attempts > o.attempt));
  t.ExpectExactEnd({1, 2});
}

// Defect 2b: another protocol version from an active rank refused it but
// left its orders open: the run never ended.
TEST(FarmTest, VersionChangeMidRunGivesUpTheRanksOrders) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.Hello(2);
  ASSERT_GT(t.Peer(1).norders, 0);
  farm_bad_message(&t.f, 1, PROTO_EVERSION, PROTO_TAG_RESULT,
                   proto_size(PROTO_TAG_RESULT), PROTO_VERSION + 1, t.now);
  EXPECT_EQ(t.Peer(1).state, FARM_REFUSED);
  EXPECT_EQ(t.Peer(1).norders, 0);
  t.ExpectExactEnd({2});
}

// Defect 2c: with a static schedule a refused rank's chunks were never
// given to anyone.
TEST(FarmTest, StaticChunksOfARefusedRankGoToOthers) {
  for (const char* sched : {"static", "cyclic"}) {
    std::vector<std::string> args = kDot;
    args.push_back("--schedule");
    args.push_back(sched);
    Farm t(args, 2);
    t.Hello(1);
    t.Hello(2, 999);  // another job
    ASSERT_EQ(t.Peer(2).state, FARM_REFUSED);
    t.Drain({1});
    ASSERT_TRUE(farm_finished(&t.f)) << sched;
    EXPECT_TRUE(t.f.isum == Partial(0, 100000)) << sched;
  }
}

// Defect 3 (the farm's half; tests/farm_rogue_test has MPI's): a message
// too large for any kind is dropped and counted, never fatal.
TEST(FarmTest, OversizedMessageIsRejected) {
  Farm t(kDot, 1);
  t.Hello(1);
  farm_bad_message(&t.f, 1, PROTO_EMSGSIZE, PROTO_TAG_RESULT,
                   PROTO_MAX_BYTES + 1, 0, t.now);
  EXPECT_EQ(t.Peer(1).rejected, 1u);
  EXPECT_EQ(t.Peer(1).state, FARM_ACTIVE);
  EXPECT_EQ(t.f.rc, 0);
}

// Defect 4: a chunk re-issued more than MASTER_MAX_ATTEMPTS times ended the
// run.
TEST(FarmTest, ManyAttemptsOfOneChunkDoNotEndTheRun) {
  Farm t({"dot", "--n", "1000", "--chunk", "1000", "--timeout-floor", "1",
          "--lost-after", "1.5"},
         1);
  t.Hello(1);
  // The single chunk's holder falls silent until it is lost, again and
  // again; each time it speaks up it is back and gets the chunk again.
  for (int k = 0; k < 40; k++) {
    t.now += 2 * kS;
    farm_tick(&t.f, t.now);  // silent: timed out, the chunk back in line
    proto_msg_t beat = {};
    beat.kind = PROTO_TAG_PROGRESS;
    farm_message(&t.f, 1, &beat, t.now);
    t.now += kMs;
    farm_tick(&t.f, t.now);  // fed again
    ASSERT_EQ(t.f.rc, 0) << "after " << k << " timeouts";
  }
  EXPECT_GT(t.f.table.chunk[0].attempts, 2u * MASTER_MAX_ATTEMPTS);
  t.ExpectExactEnd({1});
}

// Defect 5: PROGRESS with huge counts overflowed the speed estimate, and
// one past its chunk's size was believed.
TEST(FarmTest, ProgressIsCheckedAndCannotOverflow) {
  Farm t({"dot", "--n", "1e12", "--chunk", "1e11"}, 1);
  t.Hello(1);
  farm_order_t o = t.Peer(1).order[0];
  proto_msg_t m = {};
  m.kind = PROTO_TAG_PROGRESS;
  m.chunk = o.chunk;
  m.attempt = o.attempt;
  m.done = 1e11 + 1;  // past the end
  m.busy_ns = 1;
  farm_message(&t.f, 1, &m, t.now);
  EXPECT_EQ(t.Peer(1).rejected, 1u);
  EXPECT_EQ(t.Peer(1).speed, 0);
  m.done = 90000000000ull;
  m.busy_ns = 600ull * kS;  // done x busy overflows 64 bits
  farm_message(&t.f, 1, &m, t.now);
  EXPECT_NEAR(t.Peer(1).speed, 9e10 / 600e9, 1e-6);
}

// A send that fails (the link to a dead rank over TCP) loses that rank
// alone; the run goes on.
TEST(FarmTest, FailedSendLosesOnlyThatRank) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.Hello(2);
  t.send_rc = PROTO_EMPI;
  t.now += 2 * kS;
  farm_tick(&t.f, t.now);  // pings fail
  t.send_rc = 0;
  EXPECT_EQ(t.f.rc, 0);
  EXPECT_EQ(t.Peer(1).state, FARM_GONE);
  EXPECT_EQ(t.Peer(2).state, FARM_GONE);
  // The master computes the rest itself.
  t.ExpectExactEnd({});
}

TEST(FarmTest, LinkErrorLosesTheRankForGood) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.Hello(2);
  farm_link_error(&t.f, 1, "MPI_Irecv from rank 1 failed: test", t.now);
  EXPECT_EQ(t.Peer(1).state, FARM_GONE);
  EXPECT_EQ(t.Peer(1).norders, 0);
  proto_msg_t late = {};
  late.kind = PROTO_TAG_PROGRESS;
  farm_message(&t.f, 1, &late, t.now);
  EXPECT_EQ(t.Peer(1).state, FARM_GONE);
  t.ExpectExactEnd({2});
}

// Every message kind in every peer state: nothing is accepted from a rank
// that did not greet with this job, nothing crashes, and the result stays
// exact.
TEST(FarmTest, EveryKindInEveryState) {
  const farm_state_t states[] = {FARM_WAITING, FARM_ACTIVE, FARM_REFUSED,
                                 FARM_LOST, FARM_GONE};
  for (farm_state_t s : states) {
    for (int kind = 1; kind <= PROTO_TAG_MAX; kind++) {
      Farm t(kDot, 2);
      t.Hello(1);
      if (s != FARM_WAITING) t.Hello(2, s == FARM_REFUSED ? 5 : 0);
      if (s == FARM_LOST) {
        t.now += 10 * kS;  // silent while holding work
        proto_msg_t beat = {};
        beat.kind = PROTO_TAG_PROGRESS;
        farm_message(&t.f, 1, &beat, t.now);
        farm_tick(&t.f, t.now);
        farm_tick(&t.f, t.now + kS);
      }
      if (s == FARM_GONE) farm_link_error(&t.f, 2, "test", t.now);
      ASSERT_EQ(t.Peer(2).state, s) << farm_state_name(s);
      proto_msg_t m = {};
      m.kind = (proto_tag_t)kind;
      m.fingerprint = proto_job_fingerprint(&t.job);
      m.attempt = 1;
      m.end = 1000;
      m.isum = 42;  // not the partial of [0, 1000)
      proto_exact_init(&m.fsum);
      farm_message(&t.f, 2, &m, t.now);
      t.Drain({1});
      ASSERT_TRUE(farm_finished(&t.f))
          << farm_state_name(s) << " " << proto_tag_name(kind);
      EXPECT_TRUE(t.f.isum == Partial(0, 100000))
          << farm_state_name(s) << " " << proto_tag_name(kind);
    }
  }
}

TEST(FarmTest, DuplicateResultIsCountedOnce) {
  Farm t(kDot, 1);
  t.Hello(1);
  proto_msg_t m = t.Result(t.Peer(1).order[0]);
  farm_message(&t.f, 1, &m, t.now);
  farm_message(&t.f, 1, &m, t.now);
  EXPECT_EQ(t.Peer(1).duplicates, 1u);
  EXPECT_EQ(t.Peer(1).chunks, 1u);
  EXPECT_EQ(t.records.size(), 1u);
}

TEST(FarmTest, FullWorkerQueueIsBackPressureNotFailure) {
  Farm t(kDot, 1);
  t.Hello(1);
  for (int k = 0; k < 10; k++) {
    farm_order_t o = t.Peer(1).order[t.Peer(1).norders - 1];
    proto_msg_t fail = {};
    fail.kind = PROTO_TAG_FAIL;
    fail.chunk = o.chunk;
    fail.attempt = o.attempt;
    fail.code = PROTO_EQUEUE;
    farm_message(&t.f, 1, &fail, t.now);
  }
  EXPECT_EQ(t.Peer(1).state, FARM_ACTIVE);
  t.ExpectExactEnd({1});
}

TEST(FarmTest, StopWithdrawsQueuedOrdersAndEndsAfterGrace) {
  Farm t(kDot, 1);
  t.Hello(1);
  ASSERT_GT(t.Peer(1).norders, 1);
  farm_stop(&t.f, 15, t.now);
  EXPECT_EQ(t.Peer(1).norders, 1);
  EXPECT_FALSE(t.f.done);
  farm_tick(&t.f, t.now + FARM_STOP_GRACE_MS * kMs + 1);
  EXPECT_TRUE(t.f.done);
  EXPECT_FALSE(farm_finished(&t.f));
}

TEST(FarmTest, ResumedRunSkipsJournaledRanges) {
  proto_job_t job;
  std::vector<std::string> args = {"taskfarm", "dot",     "--n",
                                   "10000",    "--chunk", "1000"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  char err[256];
  ASSERT_EQ(proto_job_parse(&job, 6, argv.data(), err, sizeof(err)), 0);
  master_record_t rec[2] = {};
  rec[0].begin = 0;
  rec[0].end = 3000;
  rec[0].isum = Partial(0, 3000);
  rec[1].begin = 7000;
  rec[1].end = 8000;
  rec[1].isum = Partial(7000, 8000);
  proto_exact_init(&rec[0].fsum);
  proto_exact_init(&rec[1].fsum);
  farm_t f;
  farm_io_t io = {nullptr, Farm::SendCb, nullptr, nullptr, nullptr};
  master_done_t done;
  master_done_init(&done);
  ASSERT_EQ(master_done_add(&done, &rec[0]), 0);
  ASSERT_EQ(master_done_add(&done, &rec[1]), 0);
  ASSERT_EQ(farm_init(&f, &job, 0, &io, &done, 0), 0);
  master_done_free(&done);
  farm_solo_t s;
  uint64_t computed = 0;
  while (farm_solo_wanted(&f)) {
    ASSERT_EQ(farm_solo_take(&f, &s), 1);
    EXPECT_TRUE(s.end <= 7000 || s.begin >= 8000);
    EXPECT_GE(s.begin, 3000u);
    proto_msg_t r = {};
    r.isum = Partial(s.begin, s.end);
    proto_exact_init(&r.fsum);
    computed += s.end - s.begin;
    farm_solo_done(&f, &s, &r, 1);
  }
  EXPECT_TRUE(farm_finished(&f));
  EXPECT_EQ(computed, 6000u);
  EXPECT_TRUE(f.isum == Partial(0, 10000));
  farm_close(&f);
}

// A run on several hosts without --journal is warned about once, after
// FARM_JOURNAL_HINT_S: a dead host makes hydra end the whole job. Not on
// one host, not with a journal, not before.
TEST(FarmTest, SeveralHostsWithoutJournalAreWarnedOnceAfterAMinute) {
  auto run = [](std::vector<std::string> args, const char* host2) {
    Farm t(args, 2);
    farm_set_self_host(&t.f, "node1");
    const char* hosts[] = {"node1", host2};
    for (int r = 1; r <= 2; r++) {
      proto_msg_t m = {};
      m.kind = PROTO_TAG_HELLO;
      m.fingerprint = proto_job_fingerprint(&t.job);
      m.pid = 100 + r;
      snprintf(m.host, sizeof(m.host), "%s", hosts[r - 1]);
      farm_message(&t.f, r, &m, t.now);
    }
    std::vector<std::string> logs;
    for (uint64_t s : {FARM_JOURNAL_HINT_S - 1, FARM_JOURNAL_HINT_S + 1,
                       3 * FARM_JOURNAL_HINT_S}) {
      t.now = s * kS;
      farm_tick(&t.f, t.now);
      logs.push_back(t.log);
    }
    return logs;
  };
  const std::string hint = "without --journal";
  auto two = run({"dot", "--n", "1e12"}, "node2");
  EXPECT_EQ(two[0].find(hint), std::string::npos) << two[0];
  ASSERT_NE(two[1].find("on 2 hosts without --journal"), std::string::npos)
      << two[1];
  EXPECT_EQ(two[2].find(hint), two[2].rfind(hint)) << "warned twice";
  auto one = run({"dot", "--n", "1e12"}, "node1");
  EXPECT_EQ(one[2].find(hint), std::string::npos) << one[2];
  auto journaled = run({"dot", "--n", "1e12", "--journal", "j"}, "node2");
  EXPECT_EQ(journaled[2].find(hint), std::string::npos) << journaled[2];
}

}  // namespace

