// master/event_loop.c's journal upkeep, without MPI: a fake farm whose every poll
// accepts a chunk. Queued records are written in batches and made durable
// about once a second by an fdatasync on libuv's thread pool, whose
// completion comes back to the loop; nothing is lost on the way. Built
// under --config=tsan too (the "tsan" tag): the thread pool's request and
// the loop thread's bookkeeping must not race.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "master/event_loop.h"
#include "base/clock.h"
#include "tests/job_fixture.h"

namespace {

constexpr uint64_t kSecond = 1000000000;

// The fake farm the loop drives.
struct Farm {
  master_loop_t* loop = nullptr;
  master_journal_t* journal = nullptr;
  uint64_t start_ns = 0;
  uint64_t appended = 0;      // records queued so far
  uint64_t limit = 0;         // ... at most
  bool saw_sync = false;      // a poll ran while a sync was in flight
  int failed = 0;             // the rc of ops.fail, 0 if never called
  uint64_t sync_seen_ns = 0;  // when a poll first saw a sync in flight
};

master_record_t Record(uint64_t k) {
  master_record_t r{};
  r.begin = 1024 * k;
  r.end = 1024 * (k + 1);
  r.rank = 1 + (int)(k % 2);
  r.attempt = 1;
  r.isum = k * k + 1;
  proto_exact_init(&r.fsum);
  return r;
}

int Poll(void* ctx) {
  Farm* f = static_cast<Farm*>(ctx);
  if (f->loop->sync_busy && !f->saw_sync) {
    f->saw_sync = true;
    f->sync_seen_ns = base_now_ns();
  }
  if (f->appended == f->limit) return 0;
  master_record_t r = Record(f->appended);
  if (master_journal_append(f->journal, &r) != 0) return 0;
  f->appended++;
  return 1;
}

// Over once a sync went out and came back, or after 20 s (a failure).
int Done(void* ctx) {
  Farm* f = static_cast<Farm*>(ctx);
  return (f->saw_sync && !f->loop->sync_busy) ||
         base_now_ns() - f->start_ns > 20 * kSecond;
}

void Nothing(void*) {}
int Zero(void*) { return 0; }
uint64_t ChunkNs(void*) { return kSecond; }
void Signal(void*, int) {}
void Fail(void* ctx, int rc) { static_cast<Farm*>(ctx)->failed = rc; }

TEST(MasterLoopTest, JournalIsSyncedOnTheThreadPoolAndLosesNothing) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/loop.journal";
  unlink(path.c_str());
  cli_job_t job = testjob::Make({"pi", "--n", std::to_string(1024 * 20000)});

  master_journal_t journal;
  master_journal_load_t load;
  char err[512];
  ASSERT_EQ(master_journal_open(&journal, path.c_str(), &job, 0, &load, err,
                                sizeof(err)),
            0)
      << err;
  master_journal_free_load(&load);

  master_loop_t loop;
  Farm f;
  f.loop = &loop;
  f.journal = &journal;
  f.limit = 20000;
  master_loop_ops_t ops{};
  ops.ctx = &f;
  ops.poll = Poll;
  ops.tick = Nothing;
  ops.done = Done;
  ops.solo = Zero;
  ops.min_chunk_ns = ChunkNs;
  ops.signal = Signal;
  ops.live = Nothing;
  ops.fail = Fail;
  ASSERT_EQ(master_loop_init(&loop, &job, &ops), 0);
  f.start_ns = base_now_ns();
  ASSERT_EQ(master_loop_run(&loop, &journal), 0);
  uint64_t ended_ns = base_now_ns();
  master_loop_close(&loop);

  EXPECT_EQ(f.failed, 0);
  ASSERT_TRUE(f.saw_sync) << "no fdatasync went out in 20 s";
  EXPECT_FALSE(loop.sync_busy);
  // One second of queued records first (master/event_loop.c's SYNC_NS), then the
  // sync; its completion reached the loop, which kept polling meanwhile.
  EXPECT_GE(f.sync_seen_ns - f.start_ns, 1 * kSecond);
  EXPECT_LT(ended_ns - f.start_ns, 20 * kSecond);
  EXPECT_GT(f.appended, 0u);
  EXPECT_EQ(journal.appended, f.appended);
  ASSERT_EQ(master_journal_close(&journal), 0);

  // Every record queued is in the file, exactly.
  master_journal_t again;
  ASSERT_EQ(master_journal_open(&again, path.c_str(), &job, 1, &load, err,
                                sizeof(err)),
            0)
      << err;
  unsigned __int128 isum = 0;
  for (uint64_t k = 0; k < f.appended; k++) isum += k * k + 1;
  EXPECT_EQ(load.done.count, f.appended);
  EXPECT_EQ(load.done.iters, 1024 * f.appended);
  EXPECT_TRUE(load.done.isum == isum);
  EXPECT_EQ(load.damaged + load.torn_bytes + load.overlapping, 0u);
  master_journal_free_load(&load);
  ASSERT_EQ(master_journal_close(&again), 0);
}

}  // namespace
