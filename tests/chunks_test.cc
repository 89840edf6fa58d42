// The chunk table: coverage, alignment, exactly-once acceptance, requeue.
#include "master/chunks.h"

#include <gtest/gtest.h>

#include <vector>

#include "master/schedule.h"
#include "tests/job_fixture.h"

namespace {

TEST(ChunksTest, CutsCoverRangeOnceAligned) {
  master_table_t t;
  ASSERT_EQ(master_table_init(&t, 10000, 1024), 0);
  std::vector<int> covered(10000, 0);
  size_t id;
  uint64_t sizes[] = {1, 3000, 5000, 100000};
  int k = 0;
  while (master_table_next(&t, sizes[k++ % 4], &id) == 1) {
    const master_chunk_t& c = t.chunk[id];
    EXPECT_LT(c.begin, c.end);
    EXPECT_EQ(c.begin % 1024, 0u);
    EXPECT_TRUE(c.end % 1024 == 0 || c.end == 10000);
    for (uint64_t i = c.begin; i < c.end; i++) covered[i]++;
  }
  for (int v : covered) ASSERT_EQ(v, 1);
  master_table_close(&t);
}

TEST(ChunksTest, FirstResultWinsAndDuplicateIsDropped) {
  master_table_t t;
  ASSERT_EQ(master_table_init(&t, 100, 1), 0);
  size_t id;
  ASSERT_EQ(master_table_next(&t, 100, &id), 1);
  EXPECT_EQ(master_table_issue(&t, id, 3), 1);
  EXPECT_EQ(master_table_issue(&t, id, 4), 2);
  EXPECT_EQ(master_table_complete(&t, 4, id, 2, 0, 100), MASTER_ACCEPT);
  EXPECT_EQ(master_table_complete(&t, 3, id, 1, 0, 100), MASTER_DUPLICATE);
  EXPECT_EQ(master_table_complete(&t, 4, id, 2, 0, 100), MASTER_DUPLICATE);
  EXPECT_TRUE(master_table_finished(&t));
  EXPECT_EQ(t.done_iters, 100u);
  master_table_close(&t);
}

TEST(ChunksTest, ResultsThatDoNotMatchAreInvalid) {
  master_table_t t;
  ASSERT_EQ(master_table_init(&t, 100, 1), 0);
  size_t id;
  ASSERT_EQ(master_table_next(&t, 50, &id), 1);
  ASSERT_EQ(master_table_issue(&t, id, 2), 1);
  EXPECT_EQ(master_table_complete(&t, 3, id, 1, 0, 50),
            MASTER_INVALID);  // rank
  EXPECT_EQ(master_table_complete(&t, 2, id, 2, 0, 50),
            MASTER_INVALID);  // attempt
  EXPECT_EQ(master_table_complete(&t, 2, id, 0, 0, 50), MASTER_INVALID);
  EXPECT_EQ(master_table_complete(&t, 2, id, 1, 0, 49),
            MASTER_INVALID);  // range
  EXPECT_EQ(master_table_complete(&t, 2, 7, 1, 0, 50), MASTER_INVALID);  // id
  EXPECT_FALSE(master_table_finished(&t));
  EXPECT_EQ(master_table_complete(&t, 2, id, 1, 0, 50), MASTER_ACCEPT);
  EXPECT_FALSE(master_table_finished(&t));  // [50, 100) not cut yet
  master_table_close(&t);
}

TEST(ChunksTest, AbandonedChunkIsReissuedFirst) {
  master_table_t t;
  ASSERT_EQ(master_table_init(&t, 300, 1), 0);
  size_t a, b, c;
  ASSERT_EQ(master_table_next(&t, 100, &a), 1);
  ASSERT_EQ(master_table_issue(&t, a, 1), 1);
  ASSERT_EQ(master_table_next(&t, 100, &b), 1);
  ASSERT_EQ(master_table_issue(&t, b, 2), 1);
  EXPECT_EQ(master_table_unissued(&t), 100u);
  ASSERT_EQ(master_table_abandon(&t, a), 0);
  EXPECT_EQ(master_table_unissued(&t), 200u);
  ASSERT_EQ(master_table_next(&t, 100, &c), 1);
  EXPECT_EQ(c, a);
  EXPECT_EQ(master_table_issue(&t, c, 2), 2);
  // The first attempt's late result still counts if it arrives first.
  EXPECT_EQ(master_table_complete(&t, 1, a, 1, 0, 100), MASTER_ACCEPT);
  EXPECT_EQ(master_table_complete(&t, 2, a, 2, 0, 100), MASTER_DUPLICATE);
  master_table_close(&t);
}

TEST(ChunksTest, LateResultRemovesRequeuedChunk) {
  master_table_t t;
  ASSERT_EQ(master_table_init(&t, 100, 1), 0);
  size_t a, next;
  ASSERT_EQ(master_table_next(&t, 100, &a), 1);
  ASSERT_EQ(master_table_issue(&t, a, 1), 1);
  ASSERT_EQ(master_table_abandon(&t, a), 0);
  EXPECT_EQ(master_table_complete(&t, 1, a, 1, 0, 100), MASTER_ACCEPT);
  EXPECT_EQ(master_table_next(&t, 100, &next), 0);
  EXPECT_TRUE(master_table_finished(&t));
  master_table_close(&t);
}

TEST(ChunksTest, TimedOutChunkIsReissuedWhileFirstAttemptLives) {
  master_table_t t;
  ASSERT_EQ(master_table_init(&t, 100, 1), 0);
  size_t a, b, none;
  ASSERT_EQ(master_table_next(&t, 100, &a), 1);
  ASSERT_EQ(master_table_issue(&t, a, 1), 1);
  ASSERT_EQ(master_table_requeue(&t, a), 0);
  ASSERT_EQ(master_table_requeue(&t, a), 0);  // queued once only
  EXPECT_EQ(master_table_unissued(&t), 100u);
  ASSERT_EQ(master_table_next(&t, 100, &b), 1);
  EXPECT_EQ(b, a);
  EXPECT_EQ(master_table_issue(&t, b, 2), 2);
  EXPECT_EQ(master_table_next(&t, 100, &none), 0);
  // The slow first attempt finishes first after all: it counts, once.
  EXPECT_EQ(master_table_complete(&t, 1, a, 1, 0, 100), MASTER_ACCEPT);
  EXPECT_EQ(master_table_complete(&t, 2, a, 2, 0, 100), MASTER_DUPLICATE);
  EXPECT_EQ(t.done_iters, 100u);
  master_table_close(&t);
}

TEST(ChunksTest, DoneChunkIsNotRequeued) {
  master_table_t t;
  ASSERT_EQ(master_table_init(&t, 10, 1), 0);
  size_t a, none;
  ASSERT_EQ(master_table_next(&t, 10, &a), 1);
  ASSERT_EQ(master_table_issue(&t, a, 1), 1);
  ASSERT_EQ(master_table_complete(&t, 1, a, 1, 0, 10), MASTER_ACCEPT);
  ASSERT_EQ(master_table_requeue(&t, a), 0);
  EXPECT_EQ(master_table_next(&t, 10, &none), 0);
  master_table_close(&t);
}

// Attempts are not limited (running out used to end the run); the table
// remembers the holders of the newest MASTER_MAX_ATTEMPTS, and a result for
// an older one is invalid.
TEST(ChunksTest, AttemptsAreUnboundedAndOldOnesForgotten) {
  master_table_t t;
  ASSERT_EQ(master_table_init(&t, 10, 1), 0);
  size_t id;
  ASSERT_EQ(master_table_next(&t, 10, &id), 1);
  const uint32_t kMany = 3 * MASTER_MAX_ATTEMPTS + 1;
  for (uint32_t k = 1; k <= kMany; k++) {
    ASSERT_EQ(master_table_issue(&t, id, (int)(k % 5) + 1), k);
    if (k > 1) {
      ASSERT_EQ(master_table_abandon(&t, id), 0);
    }
  }
  EXPECT_EQ(master_table_holder(&t, id, kMany), (int)(kMany % 5) + 1);
  EXPECT_EQ(master_table_holder(&t, id, kMany - MASTER_MAX_ATTEMPTS + 1),
            (int)((kMany - MASTER_MAX_ATTEMPTS + 1) % 5) + 1);
  EXPECT_EQ(master_table_holder(&t, id, kMany - MASTER_MAX_ATTEMPTS), -1);
  EXPECT_EQ(master_table_holder(&t, id, kMany + 1), -1);
  EXPECT_EQ(master_table_complete(&t, 2, id, 1, 0, 10), MASTER_INVALID);
  EXPECT_EQ(master_table_complete(&t, (int)(kMany % 5) + 1, id, kMany, 0, 10),
            MASTER_ACCEPT);
  master_table_close(&t);
}

TEST(ScheduleTest, AutomaticChunkIsAlignedAndBounded) {
  // pi's kernel works in blocks of 1024 terms (its declared alignment).
  cli_job_t job = testjob::Make({"pi", "--n", "1000000"});
  const uint64_t grain = job.task.spec.align;
  EXPECT_EQ(grain, 1024u);
  uint64_t s = master_chunk_size(&job, 2);
  EXPECT_EQ(s % grain, 0u);
  EXPECT_GE(s, grain);
  EXPECT_LE(s, job.n / 64 + grain);
  job.n = 10;
  EXPECT_EQ(master_chunk_size(&job, 8), grain);
  cli_job_t dot = testjob::Make({"dot", "--n", "10"});
  EXPECT_EQ(dot.task.spec.align, 1u);
  EXPECT_EQ(master_chunk_size(&dot, 8), 1u);
  dot.chunk = 7;
  EXPECT_EQ(master_chunk_size(&dot, 8), 7u);
}

}  // namespace
