// master/farm.c driven directly: time and messages passed in, what it sends
// and journals captured. One test per defect the state machine was split
// out to fix, every message kind in every peer state, and the farm's trust
// in nobody: lies, wrong values, poison chunks. farm_check() runs after
// every farm call.
#include "master/farm.h"
#include "master/farm_private.h"

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
  // Without --verify in args, none: the picks are random, and most tests
  // count messages and records exactly.
  Farm(std::vector<std::string> args, int workers, const char* host = "node0") {
    args.insert(args.begin(), "taskfarm");
    bool verify = false;
    for (auto& a : args) verify |= a == "--verify";
    if (!verify) {
      args.push_back("--verify");
      args.push_back("off");
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    char err[256];
    EXPECT_EQ(
        cli_job_parse(&job, (int)argv.size(), argv.data(), err, sizeof(err)),
        0)
        << err;
    EXPECT_EQ(cli_job_resolve(&job, 0, nullptr, err, sizeof(err)), 0) << err;
    farm_io_t io = {this, SendCb, RecordCb, LogCb, nullptr};
    farm_config_t config = {};
    config.host = host;
    config.key[0] = 0x0123456789abcdefull;
    config.key[1] = 0xfedcba9876543210ull;
    config.death_port = 40000;
    config.death_addr[0] = 0x0100007f;
    EXPECT_EQ(farm_open(&fp, &job, workers, &io, nullptr, &config, now), 0);
    Check();
  }

  // The farm's invariants, after every call.
  void Check() {
    char why[512];
    ASSERT_EQ(farm_check(fp, why, sizeof(why)), 0) << why;
  }
  void Message(int rank, const proto_msg_t* m, uint64_t at) {
    farm_message(fp, rank, m, at);
    Check();
  }
  void Tick(uint64_t at) {
    farm_tick(fp, at);
    Check();
  }
  void Bad(int rank, int rc, int tag, size_t len, uint32_t version,
           uint64_t at) {
    farm_bad_message(fp, rank, rc, tag, len, version, at);
    Check();
  }
  void LinkError(int rank, const char* what, uint64_t at) {
    farm_link_error(fp, rank, what, at);
    Check();
  }
  void Stop(farm_stop_t how, uint64_t at) {
    farm_stop(fp, how, at);
    Check();
  }
  // The result so far, every rank's and the master's.
  u128 Sum() {
    proto_exact_t fsum;
    u128 isum;
    farm_result(fp, &fsum, &isum);
    return isum;
  }
  ~Farm() { farm_close(fp); }

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
    m.pid = 100 + (uint64_t)rank;
    m.fingerprint = fingerprint ? fingerprint : cli_job_fingerprint(&job);
    Message(rank, &m, now);
  }
  // The orders rank was sent and still holds, per the farm.
  const farm_peer_t& Peer(int rank) { return fp->peer[rank - 1]; }
  proto_msg_t Result(const farm_order_t& o) {
    proto_msg_t m = {};
    m.kind = PROTO_TAG_RESULT;
    m.chunk = o.chunk;
    m.attempt = o.attempt;
    m.begin = fp->table.chunk[o.chunk].begin;
    m.end = fp->table.chunk[o.chunk].end;
    m.busy_ns = 1000;
    m.isum = Partial(m.begin, m.end);
    proto_exact_init(&m.fsum);
    return m;
  }
  // rank answers its oldest order honestly.
  void Answer(int rank) {
    ASSERT_GT(Peer(rank).norders, 0);
    proto_msg_t m = Result(Peer(rank).order[0]);
    Message(rank, &m, now);
  }
  // Honest ranks answer until the run is over (or nobody holds anything).
  void Drain(const std::vector<int>& honest) {
    for (int guard = 0; guard < 100000 && !fp->done; guard++) {
      bool any = false;
      for (int r : honest)
        if (fp->peer[r - 1].norders > 0) {
          Answer(r);
          any = true;
        }
      now += kMs;
      Tick(now);
      if (!any && farm_solo_wanted(fp)) {
        farm_solo_t s;
        ASSERT_EQ(farm_solo_take(fp, &s), 1);
        proto_msg_t r = {};
        r.isum = Partial(s.begin, s.end);
        proto_exact_init(&r.fsum);
        farm_solo_done(fp, &s, &r, now);
        Check();
      }
    }
  }
  // Honest ranks finish the run: it must end with the exact sum of [0, n).
  void ExpectExactEnd(const std::vector<int>& honest) {
    Drain(honest);
    ASSERT_TRUE(farm_finished(fp));
    EXPECT_TRUE(Sum() == Partial(0, job.n));
  }
  // Rank 1 greeted; rank 2 stays silent past the hello wait and is lost.
  void LetRank2MissItsHello() {
    now += (FARM_HELLO_WAIT_S + 1) * kS;
    Tick(now);
    ASSERT_EQ(Peer(2).state, FARM_LOST);
  }
  int Count(int rank, proto_tag_t kind) {
    int c = 0;
    for (auto& s : sent) c += s.rank == rank && s.msg.kind == kind;
    return c;
  }

  cli_job_t job;
  farm_t* fp = nullptr;
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
  t.Message(2, &forged, t.now);
  t.ExpectExactEnd({1});
}

TEST(FarmTest, MessagesBeforeHelloAreDroppedAndDoNotReadmit) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.LetRank2MissItsHello();
  proto_msg_t beat = {};
  beat.kind = PROTO_TAG_PROGRESS;
  t.Message(2, &beat, t.now);
  EXPECT_EQ(t.Peer(2).state, FARM_LOST);
  EXPECT_EQ(t.Peer(2).rejected, 1u);
  t.Hello(2);  // the right job, late: it takes work
  EXPECT_EQ(t.Peer(2).state, FARM_ACTIVE);
  EXPECT_GT(t.Peer(2).norders, 0);
}

// Defect 2a: a RESULT with the right chunk and attempt but another range
// dropped the order before it was judged invalid: the chunk had no holder.
// Such a RESULT can only be a lie: the rank is refused, and the chunk it
// held goes to another.
TEST(FarmTest, ResultWithWrongRangeGivesTheChunkToAnother) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.Hello(2);
  farm_order_t o = t.Peer(1).order[0];
  proto_msg_t lie = t.Result(o);
  lie.end -= 1;
  lie.isum = 7;
  t.Message(1, &lie, t.now);
  EXPECT_EQ(t.Peer(1).state, FARM_REFUSED);
  EXPECT_NE(std::string(t.Peer(1).why).find("RESULT for ["),
            std::string::npos)
      << t.Peer(1).why;
  EXPECT_EQ(t.Count(1, PROTO_TAG_REFUSE), 1);
  // The lying order is closed; the chunk is in line or already re-issued.
  const master_chunk_t& c = t.fp->table.chunk[o.chunk];
  EXPECT_LT(find_order_of(t.Peer(1), o), 0);
  EXPECT_TRUE(c.queued || (c.state == MASTER_CHUNK_ISSUED && c.live > 0 &&
                           c.attempts > o.attempt));
  t.ExpectExactEnd({2});
}

// Defect 2b: another protocol version from an active rank refused it but
// left its orders open: the run never ended.
TEST(FarmTest, VersionChangeMidRunGivesUpTheRanksOrders) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.Hello(2);
  ASSERT_GT(t.Peer(1).norders, 0);
  t.Bad(1, PROTO_EVERSION, PROTO_TAG_RESULT,
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
    ASSERT_TRUE(farm_finished(t.fp)) << sched;
    EXPECT_TRUE(t.Sum() == Partial(0, 100000)) << sched;
  }
}

// Defect 3 (the farm's half; tests/farm_rogue_test has MPI's): a message
// too large for any kind is dropped and counted, never fatal.
TEST(FarmTest, OversizedMessageIsRejected) {
  Farm t(kDot, 1);
  t.Hello(1);
  t.Bad(1, PROTO_EMSGSIZE, PROTO_TAG_RESULT,
                   PROTO_MAX_BYTES + 1, 0, t.now);
  EXPECT_EQ(t.Peer(1).rejected, 1u);
  EXPECT_EQ(t.Peer(1).state, FARM_ACTIVE);
  EXPECT_EQ(t.fp->rc, 0);
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
    t.Tick(t.now);  // silent: timed out, the chunk back in line
    proto_msg_t beat = {};
    beat.kind = PROTO_TAG_PROGRESS;
    t.Message(1, &beat, t.now);
    t.now += kMs;
    t.Tick(t.now);  // fed again
    ASSERT_EQ(t.fp->rc, 0) << "after " << k << " timeouts";
  }
  EXPECT_GT(t.fp->table.chunk[0].attempts, 2u * MASTER_MAX_ATTEMPTS);
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
  m.done = 90000000000ull;
  m.busy_ns = 600ull * kS;  // done x busy overflows 64 bits
  t.Message(1, &m, t.now);
  EXPECT_NEAR(t.Peer(1).speed, 9e10 / 600e9, 1e-6);
  m.done = 1e11 + 1;  // past the end: a lie
  m.busy_ns = 601ull * kS;
  t.Message(1, &m, t.now);
  EXPECT_EQ(t.Peer(1).state, FARM_REFUSED);
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
  t.Tick(t.now);  // pings fail
  t.send_rc = 0;
  EXPECT_EQ(t.fp->rc, 0);
  EXPECT_EQ(t.Peer(1).state, FARM_GONE);
  EXPECT_EQ(t.Peer(2).state, FARM_GONE);
  // The master computes the rest itself.
  t.ExpectExactEnd({});
}

TEST(FarmTest, LinkErrorLosesTheRankForGood) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.Hello(2);
  t.LinkError(1, "MPI_Irecv from rank 1 failed: test", t.now);
  EXPECT_EQ(t.Peer(1).state, FARM_GONE);
  EXPECT_EQ(t.Peer(1).norders, 0);
  proto_msg_t late = {};
  late.kind = PROTO_TAG_PROGRESS;
  t.Message(1, &late, t.now);
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
        t.Message(1, &beat, t.now);
        t.Tick(t.now);
        t.Tick(t.now + kS);
      }
      if (s == FARM_GONE) t.LinkError(2, "test", t.now);
      ASSERT_EQ(t.Peer(2).state, s) << farm_state_name(s);
      proto_msg_t m = {};
      m.kind = (proto_tag_t)kind;
      m.fingerprint = cli_job_fingerprint(&t.job);
      m.attempt = 1;
      m.end = 1000;
      m.isum = 42;  // not the partial of [0, 1000)
      proto_exact_init(&m.fsum);
      t.Message(2, &m, t.now);
      t.Drain({1});
      ASSERT_TRUE(farm_finished(t.fp))
          << farm_state_name(s) << " " << proto_tag_name(kind);
      EXPECT_TRUE(t.Sum() == Partial(0, 100000))
          << farm_state_name(s) << " " << proto_tag_name(kind);
    }
  }
}

TEST(FarmTest, DuplicateResultIsCountedOnce) {
  Farm t(kDot, 1);
  t.Hello(1);
  proto_msg_t m = t.Result(t.Peer(1).order[0]);
  t.Message(1, &m, t.now);
  t.Message(1, &m, t.now);
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
    t.Message(1, &fail, t.now);
  }
  EXPECT_EQ(t.Peer(1).state, FARM_ACTIVE);
  t.ExpectExactEnd({1});
}

TEST(FarmTest, StopWithdrawsQueuedOrdersAndEndsAfterGrace) {
  Farm t(kDot, 1);
  t.Hello(1);
  ASSERT_GT(t.Peer(1).norders, 1);
  t.Stop(FARM_STOP_DRAIN, t.now);
  EXPECT_EQ(t.Peer(1).norders, 1);
  EXPECT_FALSE(t.fp->done);
  t.Tick(t.now + FARM_STOP_GRACE_MS * kMs + 1);
  EXPECT_TRUE(t.fp->done);
  EXPECT_FALSE(farm_finished(t.fp));
}

TEST(FarmTest, ResumedRunSkipsJournaledRanges) {
  cli_job_t job;
  std::vector<std::string> args = {"taskfarm", "dot",     "--n",
                                   "10000",    "--chunk", "1000"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  char err[256];
  ASSERT_EQ(cli_job_parse(&job, 6, argv.data(), err, sizeof(err)), 0);
  master_record_t rec[2] = {};
  rec[0].begin = 0;
  rec[0].end = 3000;
  rec[0].isum = Partial(0, 3000);
  rec[1].begin = 7000;
  rec[1].end = 8000;
  rec[1].isum = Partial(7000, 8000);
  proto_exact_init(&rec[0].fsum);
  proto_exact_init(&rec[1].fsum);
  farm_t* fp = nullptr;
  farm_io_t io = {nullptr, Farm::SendCb, nullptr, nullptr, nullptr};
  master_done_t done;
  master_done_init(&done);
  ASSERT_EQ(master_done_add(&done, &rec[0]), 0);
  ASSERT_EQ(master_done_add(&done, &rec[1]), 0);
  farm_config_t config = {};
  ASSERT_EQ(farm_open(&fp, &job, 0, &io, &done, &config, 0), 0);
  master_done_free(&done);
  farm_solo_t s;
  uint64_t computed = 0;
  while (farm_solo_wanted(fp)) {
    ASSERT_EQ(farm_solo_take(fp, &s), 1);
    EXPECT_TRUE(s.end <= 7000 || s.begin >= 8000);
    EXPECT_GE(s.begin, 3000u);
    proto_msg_t r = {};
    r.isum = Partial(s.begin, s.end);
    proto_exact_init(&r.fsum);
    computed += s.end - s.begin;
    farm_solo_done(fp, &s, &r, 1);
  }
  EXPECT_TRUE(farm_finished(fp));
  EXPECT_EQ(computed, 6000u);
  proto_exact_t fsum;
  u128 isum;
  farm_result(fp, &fsum, &isum);
  EXPECT_TRUE(isum == Partial(0, 10000));
  char why[256];
  EXPECT_EQ(farm_check(fp, why, sizeof(why)), 0) << why;
  farm_close(fp);
}

// A run on several hosts without --journal is warned about once, after
// FARM_JOURNAL_HINT_S: a dead host makes hydra end the whole job. Not on
// one host, not with a journal, not before.
TEST(FarmTest, SeveralHostsWithoutJournalAreWarnedOnceAfterAMinute) {
  auto run = [](std::vector<std::string> args, const char* host2) {
    Farm t(args, 2, "node1");
    const char* hosts[] = {"node1", host2};
    for (int r = 1; r <= 2; r++) {
      proto_msg_t m = {};
      m.kind = PROTO_TAG_HELLO;
      m.fingerprint = cli_job_fingerprint(&t.job);
      m.pid = 100 + r;
      snprintf(m.host, sizeof(m.host), "%s", hosts[r - 1]);
      t.Message(r, &m, t.now);
    }
    std::vector<std::string> logs;
    for (uint64_t s : {FARM_JOURNAL_HINT_S - 1, FARM_JOURNAL_HINT_S + 1,
                       3 * FARM_JOURNAL_HINT_S}) {
      t.now = s * kS;
      t.Tick(t.now);
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


namespace {

// ---- trust nothing --------------------------------------------------------

// The orders rank holds right now (copies: answering changes them).
std::vector<farm_order_t> Orders(Farm& t, int rank) {
  const farm_peer_t& p = t.Peer(rank);
  return std::vector<farm_order_t>(p.order, p.order + p.norders);
}

// A RESULT for an attempt never given to the rank is a lie: the rank is
// refused, and every chunk it delivered before is withdrawn (the journal
// says so) and computed again by the others.
TEST(FarmTest, ALiarIsRefusedAndEverythingItDeliveredIsComputedAgain) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.Hello(2);
  for (int k = 0; k < 5; k++) t.Answer(1);
  ASSERT_EQ(t.Peer(1).chunks, 5u);
  size_t records = t.records.size();
  // Rank 2's order, answered by rank 1.
  proto_msg_t lie = t.Result(t.Peer(2).order[0]);
  t.Message(1, &lie, t.now);
  EXPECT_EQ(t.Peer(1).state, FARM_REFUSED);
  EXPECT_EQ(t.Peer(1).revoked, 5u);
  EXPECT_EQ(t.Peer(1).chunks, 0u);
  EXPECT_EQ(t.fp->liars, 1u);
  ASSERT_EQ(t.records.size(), records + 5);
  for (size_t i = records; i < t.records.size(); i++) {
    EXPECT_TRUE(t.records[i].revoked);
    EXPECT_EQ(t.records[i].rank, 1);
  }
  EXPECT_NE(t.log.find("rank 1 (? pid 101) is refused: it sent a RESULT for "
                       "chunk"),
            std::string::npos)
      << t.log;
  t.ExpectExactEnd({2});
  EXPECT_EQ(t.Peer(2).iters, 100000u);
}

TEST(FarmTest, ProgressAndFailForAttemptsNeverGivenAreLies) {
  for (proto_tag_t kind : {PROTO_TAG_PROGRESS, PROTO_TAG_FAIL}) {
    Farm t(kDot, 2);
    t.Hello(1);
    t.Hello(2);
    farm_order_t o = t.Peer(2).order[0];
    proto_msg_t lie = {};
    lie.kind = kind;
    lie.chunk = o.chunk;
    lie.attempt = o.attempt;
    lie.code = PROTO_EIO;
    t.Message(1, &lie, t.now);
    EXPECT_EQ(t.Peer(1).state, FARM_REFUSED) << proto_tag_name(kind);
    EXPECT_EQ(t.Peer(2).state, FARM_ACTIVE);
    t.ExpectExactEnd({2});
  }
}

// With --verify all every accepted result is computed again by another
// rank: a wrong value of the right order is found, a third computation
// agrees with the honest one, the rank that was wrong is refused, and its
// wrong partial never reaches the journal (it was held back for the check).
TEST(FarmTest, VerifyAllCatchesAWrongValueAndRefusesItsRank) {
  std::vector<std::string> args = kDot;
  args.insert(args.end(), {"--verify", "all"});
  Farm t(args, 3);
  t.Hello(1);
  t.Hello(2);
  t.Hello(3);
  farm_order_t o = t.Peer(1).order[0];
  proto_msg_t wrong = t.Result(o);
  wrong.isum += 1;
  t.Message(1, &wrong, t.now);
  EXPECT_EQ(t.fp->checks_open, 1);
  EXPECT_TRUE(t.records.empty()) << "journaled before its check";
  t.ExpectExactEnd({2, 3});
  EXPECT_EQ(t.Peer(1).state, FARM_REFUSED);
  EXPECT_NE(std::string(t.Peer(1).why).find("differs from those of rank"),
            std::string::npos)
      << t.Peer(1).why;
  EXPECT_GE(t.fp->mismatches, 1u);
  EXPECT_EQ(t.fp->liars, 1u);
  for (const master_record_t& r : t.records) {
    EXPECT_NE(r.rank, 1);
    EXPECT_TRUE(r.isum == Partial(r.begin, r.end));
  }
  EXPECT_EQ(t.records.size(), t.fp->table.count);
}

// One worker and the master: the master checks the worker's results, and
// when they disagree it computes the chunk a second time to confirm its
// own: then the worker is refused and the master computes the rest.
TEST(FarmTest, TheMasterDecidesWhenNoOtherRankCan) {
  Farm t({"dot", "--n", "10000", "--chunk", "1000", "--verify", "all"}, 1);
  t.Hello(1);
  farm_order_t o = t.Peer(1).order[0];
  proto_msg_t wrong = t.Result(o);
  wrong.isum ^= 1;
  t.Message(1, &wrong, t.now);
  ASSERT_TRUE(farm_solo_wanted(t.fp));
  t.ExpectExactEnd({});
  EXPECT_EQ(t.Peer(1).state, FARM_REFUSED);
  EXPECT_NE(std::string(t.Peer(1).why).find("the master computed twice"),
            std::string::npos)
      << t.Peer(1).why;
}

// The same rank computing one chunk twice with different bits is refused
// (a faulty core, or a kernel that is not deterministic).
TEST(FarmTest, ARankThatDisagreesWithItselfIsRefused) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.Hello(2);
  farm_order_t o = t.Peer(1).order[0];
  proto_msg_t m = t.Result(o);
  t.Message(1, &m, t.now);
  m.isum += 3;  // the same order again, other bits
  t.Message(1, &m, t.now);
  EXPECT_EQ(t.Peer(1).state, FARM_REFUSED);
  EXPECT_EQ(t.fp->inconsistent, 1u);
  t.ExpectExactEnd({2});
}

// Every computation of a chunk differs: nothing can be verified, and the
// run ends saying the kernel is not deterministic.
TEST(FarmTest, AKernelThatNeverAgreesEndsTheRun) {
  std::vector<std::string> args = kDot;
  args.insert(args.end(), {"--verify", "all"});
  Farm t(args, 3);
  for (int r = 1; r <= 3; r++) t.Hello(r);
  uint64_t noise = 1;
  for (int guard = 0; guard < 1000 && !t.fp->done; guard++) {
    for (int r = 1; r <= 3; r++) {
      if (t.Peer(r).norders == 0) continue;
      proto_msg_t m = t.Result(t.Peer(r).order[0]);
      m.isum += noise++;
      t.Message(r, &m, t.now);
    }
    t.now += kMs;
    t.Tick(t.now);
    if (farm_solo_wanted(t.fp)) {
      farm_solo_t s;
      ASSERT_EQ(farm_solo_take(t.fp, &s), 1);
      proto_msg_t r = {};
      r.isum = Partial(s.begin, s.end) + noise++;
      proto_exact_init(&r.fsum);
      farm_solo_done(t.fp, &s, &r, t.now);
      t.Check();
    }
  }
  EXPECT_TRUE(t.fp->done);
  EXPECT_EQ(t.fp->rc, PROTO_ENONDET);
  EXPECT_NE(t.log.find("not deterministic"), std::string::npos) << t.log;
}

// A copy that happened to be out anyway (a duplicate) is compared for
// free, even with --verify off; a mismatch is then only reported.
TEST(FarmTest, DuplicatesAreAlwaysCompared) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.Hello(2);
  farm_order_t o = t.Peer(1).order[0];
  proto_msg_t m = t.Result(o);
  t.Message(1, &m, t.now);
  // Rank 2 was given the same chunk by a re-issue: its result arrives late.
  // Simulated by the accepted chunk's digest and another rank's vote.
  EXPECT_EQ(t.fp->mismatches, 0u);
  t.Message(1, &m, t.now);  // the same bits again: nothing learnt
  EXPECT_EQ(t.fp->mismatches, 0u);
  EXPECT_EQ(t.Peer(1).state, FARM_ACTIVE);
}

// A chunk whose computation killed two ranks is poison: nobody gets it
// again, the rest is finished, and the run ends with PROTO_EPOISON and
// the chunk named.
TEST(FarmTest, AChunkThatKillsTwoRanksIsPoison) {
  Farm t(kDot, 3);
  for (int r = 1; r <= 3; r++) t.Hello(r);
  farm_order_t o = t.Peer(1).order[0];
  uint64_t begin = t.fp->table.chunk[o.chunk].begin;
  proto_msg_t death = {};
  death.kind = PROTO_TAG_FAIL;
  death.chunk = o.chunk;
  death.attempt = o.attempt;
  death.code = PROTO_EKILLED;
  death.detail = 11;
  t.Message(1, &death, t.now);
  EXPECT_EQ(t.fp->poisoned, 0u);
  EXPECT_EQ(t.Peer(1).state, FARM_ACTIVE) << "a death is the chunk's fault";
  // Whoever gets it next dies of it too.
  int second = 0;
  for (int guard = 0; guard < 100 && second == 0; guard++) {
    for (int r = 1; r <= 3 && second == 0; r++)
      for (const farm_order_t& h : Orders(t, r))
        if (h.chunk == o.chunk && r != 1) {
          death.chunk = h.chunk;
          death.attempt = h.attempt;
          death.code = PROTO_EFROZE;
          death.detail = 1000;
          t.Message(r, &death, t.now);
          second = r;
        }
    if (second == 0) t.Answer(2), t.Answer(3);
  }
  ASSERT_NE(second, 0);
  EXPECT_EQ(t.fp->poisoned, 1u);
  t.Drain({1, 2, 3});
  EXPECT_TRUE(t.fp->done);
  EXPECT_EQ(t.fp->rc, PROTO_EPOISON);
  EXPECT_FALSE(farm_finished(t.fp));
  EXPECT_EQ(t.fp->table.done_iters, 100000u - 1000u);
  char line[512];
  ASSERT_EQ(farm_describe_poison(t.fp, 0, line, sizeof(line)), 0);
  std::string text = line;
  EXPECT_NE(text.find("[" + std::to_string(begin) + ", " +
                      std::to_string(begin + 1000) +
                      ") killed or froze its computation 2 times: rank"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("signal 11"), std::string::npos) << text;
  EXPECT_NE(text.find("no progress for 1.0 s"), std::string::npos) << text;
  EXPECT_EQ(farm_describe_poison(t.fp, 1, line, sizeof(line)), -1);
}

}  // namespace

namespace {

// The guard's report of a death: believed with the token WELCOME gave that
// rank and the pid its HELLO said, ignored otherwise; believed, it loses
// the rank for good at once and its chunks go to the others.
TEST(FarmTest, ADeathReportNeedsTheRanksTokenAndPid) {
  Farm t(kDot, 2);
  t.Hello(1);
  t.Hello(2);
  uint64_t token = 0;
  for (const Sent& s : t.sent)
    if (s.rank == 1 && s.msg.kind == PROTO_TAG_WELCOME) {
      token = s.msg.token;
      EXPECT_EQ(s.msg.port, 40000u);
      EXPECT_EQ(s.msg.addr[0], 0x0100007fu);
    }
  ASSERT_NE(token, 0u);
  uint64_t rank2 = 0;
  for (const Sent& s : t.sent)
    if (s.rank == 2 && s.msg.kind == PROTO_TAG_WELCOME) rank2 = s.msg.token;
  EXPECT_NE(rank2, token) << "each rank has its own token";
  proto_death_t d = {token ^ 1, 1, 101, 9, 0};
  farm_death_report(t.fp, &d, t.now);  // another token: a forgery
  EXPECT_EQ(t.Peer(1).state, FARM_ACTIVE);
  d = {rank2, 1, 101, 9, 0};  // rank 2's token for rank 1
  farm_death_report(t.fp, &d, t.now);
  EXPECT_EQ(t.Peer(1).state, FARM_ACTIVE);
  d = {token, 1, 999, 9, 0};  // another process
  farm_death_report(t.fp, &d, t.now);
  EXPECT_EQ(t.Peer(1).state, FARM_ACTIVE);
  t.Check();
  d = {token, 1, 101, 9, 0};
  farm_death_report(t.fp, &d, t.now);
  t.Check();
  EXPECT_EQ(t.Peer(1).state, FARM_GONE);
  EXPECT_TRUE(t.Peer(1).died);
  EXPECT_EQ(t.Peer(1).norders, 0);
  EXPECT_NE(t.log.find("died by signal 9 (Killed), its guard says"),
            std::string::npos)
      << t.log;
  t.ExpectExactEnd({2});
}

}  // namespace

namespace {

// With one worker left, the chunk that kills it can only go back to it:
// its deaths count again (nobody else is left to try), so the chunk is
// poisoned instead of handed out for ever.
TEST(FarmTest, AChunkThatKillsTheOnlyWorkerIsPoisonToo) {
  Farm t({"dot", "--n", "10000", "--chunk", "1000"}, 1);
  t.Hello(1);
  farm_order_t o = t.Peer(1).order[0];
  for (int k = 0; k < 10 && t.fp->poisoned == 0; k++) {
    int i = -1;
    for (int j = 0; j < t.Peer(1).norders; j++)
      if (t.Peer(1).order[j].chunk == o.chunk) i = j;
    ASSERT_GE(i, 0) << "the chunk went nowhere after death " << k;
    proto_msg_t death = {};
    death.kind = PROTO_TAG_FAIL;
    death.chunk = o.chunk;
    death.attempt = t.Peer(1).order[i].attempt;
    death.code = PROTO_EEXITED;
    t.Message(1, &death, t.now);
  }
  EXPECT_EQ(t.fp->poisoned, 1u);
  t.Drain({1});
  EXPECT_EQ(t.fp->rc, PROTO_EPOISON);
}

}  // namespace
