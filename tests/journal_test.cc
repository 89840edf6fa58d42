// The journal file: records come back exactly; a torn tail, a damaged
// record, another job's journal, a newer format or a damaged header are
// detected; a journal that cannot be used is never modified. And the chunk
// table's preloaded ranges: cuts never cross them.
#include "master/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "master/chunks.h"
#include "proto/error.h"

namespace {

std::string TempFile(const std::string& name) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/" + name;
  unlink(path.c_str());
  return path;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

proto_job_t PiJob(uint64_t n) {
  proto_job_t job{};
  job.kind = PROTO_JOB_PI;
  job.n = n;
  return job;
}

// Record k of a pi journal over [0, 1024 * count): chunk k of 1024 terms
// with a float partial that needs several digits.
master_record_t Record(uint64_t k) {
  master_record_t r{};
  r.begin = 1024 * k;
  r.end = 1024 * (k + 1);
  r.rank = 1 + (int)(k % 3);
  r.attempt = 1;
  r.isum = (unsigned __int128)k << 70 | 12345;
  proto_exact_init(&r.fsum);
  proto_exact_add(&r.fsum, 1.0 / (double)(k + 3));
  proto_exact_add(&r.fsum, -1e-300 * (double)k);
  proto_exact_add(&r.fsum, 1e300);
  proto_exact_normalize(&r.fsum);
  return r;
}

void Write(const std::string& path, const proto_job_t& job, uint64_t from,
           uint64_t to, bool resume) {
  master_journal_t j;
  master_journal_load_t load;
  char err[512];
  ASSERT_EQ(master_journal_open(&j, path.c_str(), &job, resume, &load, err,
                                sizeof(err)),
            0)
      << err;
  master_journal_free_load(&load);
  for (uint64_t k = from; k < to; k++) {
    master_record_t r = Record(k);
    ASSERT_EQ(master_journal_append(&j, &r), 0);
  }
  ASSERT_EQ(master_journal_close(&j), 0);
}

int Load(const std::string& path, const proto_job_t& job,
         master_journal_load_t* load, std::string* err) {
  master_journal_t j;
  char buf[1024];
  int rc =
      master_journal_open(&j, path.c_str(), &job, 1, load, buf, sizeof(buf));
  *err = buf;
  if (rc == 0) master_journal_close(&j);
  return rc;
}

TEST(JournalTest, RecordsComeBackExactly) {
  std::string path = TempFile("roundtrip.journal");
  proto_job_t job = PiJob(1024 * 100);
  Write(path, job, 0, 40, false);
  Write(path, job, 40, 60, true);  // a resumed run appends
  master_journal_load_t load;
  std::string err;
  ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
  ASSERT_EQ(load.count, 60u);
  EXPECT_EQ(load.iters, 60u * 1024);
  EXPECT_EQ(load.skipped, 0u);
  EXPECT_EQ(load.torn_bytes, 0u);
  for (uint64_t k = 0; k < 60; k++) {
    master_record_t want = Record(k);
    EXPECT_EQ(load.rec[k].begin, want.begin);
    EXPECT_EQ(load.rec[k].end, want.end);
    EXPECT_EQ(load.rec[k].rank, want.rank);
    EXPECT_TRUE(load.rec[k].isum == want.isum);
    EXPECT_TRUE(proto_exact_equal(&load.rec[k].fsum, &want.fsum)) << k;
  }
  master_journal_free_load(&load);
}

TEST(JournalTest, TornTailIsCutOffAndAppendsFollowTheLastGoodRecord) {
  std::string path = TempFile("torn.journal");
  proto_job_t job = PiJob(1024 * 100);
  Write(path, job, 0, 10, false);
  std::string bytes = Slurp(path);
  Spit(path, bytes.substr(0, bytes.size() - 7));  // last record cut short
  master_journal_load_t load;
  std::string err;
  ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
  EXPECT_EQ(load.count, 9u);
  EXPECT_GT(load.torn_bytes, 0u);
  master_journal_free_load(&load);
  // The tail is gone from the file; what is appended next is read back.
  Write(path, job, 9, 12, true);
  ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
  EXPECT_EQ(load.count, 12u);
  EXPECT_EQ(load.torn_bytes, 0u);
  EXPECT_EQ(load.iters, 12u * 1024);
  master_journal_free_load(&load);
}

TEST(JournalTest, DamagedRecordIsLeftOutAndTheRestKept) {
  std::string path = TempFile("flipped.journal");
  proto_job_t job = PiJob(1024 * 100);
  Write(path, job, 0, 10, false);
  std::string bytes = Slurp(path);
  // Records differ in size: walk their size fields to record 4.
  size_t start = MASTER_JOURNAL_HEADER;
  uint32_t size = 0;
  for (int k = 0; k <= 4; k++) {
    std::memcpy(&size, bytes.data() + start + 4, 4);
    if (k < 4) start += size;
  }
  for (size_t at : {size_t(3), size_t(20), size_t(size - 6)}) {
    std::string flipped = bytes;
    flipped[start + at] ^= 0x10;
    Spit(path, flipped);
    master_journal_load_t load;
    std::string err;
    ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
    EXPECT_EQ(load.count, 9u) << at;
    EXPECT_EQ(load.skipped, 1u) << at;
    EXPECT_EQ(load.iters, 9u * 1024);
    for (size_t i = 0; i < load.count; i++)
      EXPECT_NE(load.rec[i].begin, 4u * 1024);
    master_journal_free_load(&load);
  }
}

// A format version as the header stores it (little-endian 32 bits).
std::string Version(uint32_t v) {
  char b[4] = {(char)(v & 0xff), (char)(v >> 8 & 0xff), (char)(v >> 16 & 0xff),
               (char)(v >> 24)};
  return std::string(b, 4);
}

TEST(JournalTest, UnusableJournalsGetAnErrorAndStayAsTheyWere) {
  std::string path = TempFile("other.journal");
  Write(path, PiJob(1024 * 100), 0, 5, false);
  std::string good = Slurp(path);
  struct Case {
    std::string bytes;
    proto_job_t job;
    const char* says;
  } cases[] = {
      {good, PiJob(1024 * 101), "belongs to another job (pi n=102400)"},
      {std::string("hello, world\n"), PiJob(1024 * 100),
       "is not a taskfarm journal"},
      {good.substr(0, 8) + Version(MASTER_JOURNAL_VERSION + 1) +
           good.substr(12),
       PiJob(1024 * 100), "written by a newer taskfarm"},
      {good.substr(0, 8) + Version(MASTER_JOURNAL_VERSION - 1) +
           good.substr(12),
       PiJob(1024 * 100), "written by an older taskfarm"},
      {good.substr(0, 50) + "X" + good.substr(51), PiJob(1024 * 100),
       "damaged header"},
  };
  for (const Case& c : cases) {
    Spit(path, c.bytes);
    master_journal_load_t load;
    std::string err;
    EXPECT_EQ(Load(path, c.job, &load, &err), PROTO_EJOURNAL) << c.says;
    EXPECT_NE(err.find(c.says), std::string::npos) << err;
    EXPECT_EQ(Slurp(path), c.bytes) << "the file was modified: " << c.says;
  }
  // Without --resume an existing journal is never overwritten.
  Spit(path, good);
  master_journal_t j;
  master_journal_load_t load;
  char err[512];
  proto_job_t job = PiJob(1024 * 100);
  EXPECT_EQ(
      master_journal_open(&j, path.c_str(), &job, 0, &load, err, sizeof(err)),
      PROTO_EJOURNAL);
  EXPECT_NE(std::string(err).find("already exists"), std::string::npos) << err;
  EXPECT_EQ(Slurp(path), good);
}

TEST(JournalTest, PreloadedRangesAreNeverCut) {
  master_table_t t;
  ASSERT_EQ(master_table_init(&t, 100000, 1), 0);
  const uint64_t known[] = {0, 500, 1200, 3000, 3000, 3100, 99000, 100000};
  ASSERT_EQ(master_table_preload(&t, known, 4), 0);
  EXPECT_EQ(t.done_iters, 500u);  // the first range is entered at once
  EXPECT_EQ(t.next_begin, 500u);
  std::vector<int> covered(100000, 0);
  size_t id;
  while (master_table_cut(&t, 1000, &id) == 1) {
    const master_chunk_t& c = t.chunk[id];
    EXPECT_EQ(c.state, MASTER_CHUNK_PENDING);
    for (uint64_t i = c.begin; i < c.end; i++) covered[i]++;
    ASSERT_EQ(master_table_issue(&t, id, 1), 1);
    ASSERT_EQ(master_table_complete(&t, 1, id, 1, c.begin, c.end),
              MASTER_ACCEPT);
  }
  for (size_t k = 0; k < 4; k++)
    for (uint64_t i = known[2 * k]; i < known[2 * k + 1]; i++) covered[i]++;
  for (int v : covered) ASSERT_EQ(v, 1);
  EXPECT_TRUE(master_table_finished(&t));
  master_table_close(&t);
  // Overlapping or unsorted ranges are refused.
  ASSERT_EQ(master_table_init(&t, 1000, 1), 0);
  const uint64_t bad[] = {0, 500, 400, 600};
  EXPECT_EQ(master_table_preload(&t, bad, 2), PROTO_EINVAL);
  master_table_close(&t);
}

TEST(JournalTest, Crc32cMatchesTheStandardCheckValue) {
  EXPECT_EQ(master_crc32c(0, "123456789", 9), 0xE3069283u);
  // In pieces, and over lengths that exercise the 8-byte steps.
  EXPECT_EQ(master_crc32c(master_crc32c(0, "1234", 4), "56789", 5),
            0xE3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(master_crc32c(0, zeros.data(), 32), 0x8A9136AAu);
}

}  // namespace
