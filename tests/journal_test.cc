// The journal file: records come back exactly; a torn tail, a damaged
// record, another job's journal, a newer format or a damaged header are
// detected; a journal that cannot be used is never modified. And the chunk
// table's preloaded ranges: cuts never cross them.
#include "master/journal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "master/chunks.h"
#include "proto/error.h"
#include "tests/job_fixture.h"

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

cli_job_t PiJob(uint64_t n) {
  return testjob::Make({"pi", "--n", std::to_string(n)});
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

void Write(const std::string& path, const cli_job_t& job, uint64_t from,
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

int Load(const std::string& path, const cli_job_t& job,
         master_journal_load_t* load, std::string* err) {
  master_journal_t j;
  char buf[1024];
  int rc =
      master_journal_open(&j, path.c_str(), &job, 1, load, buf, sizeof(buf));
  *err = buf;
  if (rc == 0) master_journal_close(&j);
  return rc;
}

// The sums and ranges of records [from, to), as a load must give them.
void ExpectDone(const master_done_t& got, uint64_t from, uint64_t to,
                uint64_t skip = UINT64_MAX) {
  master_done_t want;
  master_done_init(&want);
  for (uint64_t k = from; k < to; k++) {
    if (k == skip) continue;
    master_record_t r = Record(k);
    ASSERT_EQ(master_done_add(&want, &r), 0);
  }
  ASSERT_EQ(got.count, want.count);
  EXPECT_EQ(got.iters, want.iters);
  for (size_t i = 0; i < 2 * want.count; i++)
    ASSERT_EQ(got.range[i], want.range[i]) << i;
  EXPECT_TRUE(got.isum == want.isum);
  master_done_t a = got, b = want;
  proto_exact_normalize(&a.fsum);
  proto_exact_normalize(&b.fsum);
  EXPECT_TRUE(proto_exact_equal(&a.fsum, &b.fsum));
  master_done_free(&want);
}

// Where record k of a journal starts.
size_t RecordAt(const std::string& bytes, int k) {
  uint32_t size = 0;
  std::memcpy(&size, bytes.data() + 12, 4);  // the header's size
  size_t start = size;
  for (int i = 0; i < k; i++) {
    std::memcpy(&size, bytes.data() + start + 4, 4);
    start += size;
  }
  return start;
}

TEST(JournalTest, RecordsComeBackExactly) {
  std::string path = TempFile("roundtrip.journal");
  cli_job_t job = PiJob(1024 * 100);
  Write(path, job, 0, 40, false);
  Write(path, job, 40, 60, true);  // a resumed run appends
  master_journal_load_t load;
  std::string err;
  ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
  EXPECT_EQ(load.damaged, 0u);
  EXPECT_EQ(load.torn_bytes, 0u);
  ExpectDone(load.done, 0, 60);
  master_journal_free_load(&load);
}

// Reading streams the file through a window of 1 MiB: a journal several
// times that size comes back whole, and records that straddle the window's
// edges are read right.
TEST(JournalTest, AJournalLargerThanTheReadWindowComesBackExactly) {
  std::string path = TempFile("large.journal");
  cli_job_t job = PiJob(1024 * 40000);
  Write(path, job, 0, 40000, false);
  EXPECT_GT(Slurp(path).size(), 4u << 20);
  master_journal_load_t load;
  std::string err;
  ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
  ExpectDone(load.done, 0, 40000);
  master_journal_free_load(&load);
}

TEST(JournalTest, TornTailIsCutOffAndAppendsFollowTheLastGoodRecord) {
  std::string path = TempFile("torn.journal");
  cli_job_t job = PiJob(1024 * 100);
  Write(path, job, 0, 10, false);
  std::string bytes = Slurp(path);
  Spit(path, bytes.substr(0, bytes.size() - 7));  // last record cut short
  master_journal_load_t load;
  std::string err;
  ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
  ExpectDone(load.done, 0, 9);
  EXPECT_GT(load.torn_bytes, 0u);
  master_journal_free_load(&load);
  // The tail is gone from the file; what is appended next is read back.
  Write(path, job, 9, 12, true);
  ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
  EXPECT_EQ(load.torn_bytes, 0u);
  ExpectDone(load.done, 0, 12);
  master_journal_free_load(&load);
}

TEST(JournalTest, DamagedRecordIsLeftOutAndTheRestKept) {
  std::string path = TempFile("flipped.journal");
  cli_job_t job = PiJob(1024 * 100);
  Write(path, job, 0, 10, false);
  std::string bytes = Slurp(path);
  size_t start = RecordAt(bytes, 4);
  uint32_t size = 0;
  std::memcpy(&size, bytes.data() + start + 4, 4);
  for (size_t at : {size_t(3), size_t(20), size_t(size - 6)}) {
    std::string flipped = bytes;
    flipped[start + at] ^= 0x10;
    Spit(path, flipped);
    master_journal_load_t load;
    std::string err;
    ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
    EXPECT_EQ(load.damaged, 1u) << at;
    EXPECT_EQ(load.damaged_bytes, size) << at;
    ExpectDone(load.done, 0, 10, 4);
    master_journal_free_load(&load);
  }
}

// A record whose CRC checks out but whose digits are not normalised (or
// whose flags are unknown) is damaged too: added to the resume's sums, such
// digits overflowed its accumulator (found by tests/fuzz/journal_fuzz.c).
TEST(JournalTest, ARecordWithUnnormalisedDigitsIsLeftOut) {
  std::string path = TempFile("unnormalised.journal");
  cli_job_t job = PiJob(1024 * 100);
  Write(path, job, 0, 10, false);
  std::string bytes = Slurp(path);
  size_t start = RecordAt(bytes, 4);
  uint32_t size = 0;
  std::memcpy(&size, bytes.data() + start + 4, 4);
  for (size_t at : {size_t(56 + 4), size_t(48)}) {  // a digit's top half; flags
    std::string bad = bytes;
    bad[start + at] = (char)0x80;
    uint32_t crc = master_crc32c(0, bad.data() + start, size - 4);
    std::memcpy(&bad[start + size - 4], &crc, 4);
    Spit(path, bad);
    master_journal_load_t load;
    std::string err;
    ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
    EXPECT_EQ(load.damaged, 1u) << at;
    ExpectDone(load.done, 0, 10, 4);
    master_journal_free_load(&load);
  }
}

// 43 records in a row each with one flipped byte: one damaged stretch, and
// the count of records in it is 43, not 1.
TEST(JournalTest, DamagedRecordsInARowAreCountedOneByOne) {
  std::string path = TempFile("stretch.journal");
  cli_job_t job = PiJob(1024 * 100);
  Write(path, job, 0, 60, false);
  std::string bytes = Slurp(path);
  for (int k = 10; k < 53; k++) bytes[RecordAt(bytes, k) + 20] ^= 0x01;
  Spit(path, bytes);
  master_journal_load_t load;
  std::string err;
  ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
  EXPECT_EQ(load.damaged, 1u);
  EXPECT_EQ(load.damaged_records, 43u);
  EXPECT_EQ(load.done.count, 17u);
  EXPECT_EQ(load.done.iters, 17u * 1024);
  master_journal_free_load(&load);
}

// The same range recorded twice loses nothing; a record overlapping
// another's range is left out.
TEST(JournalTest, RepeatedAndOverlappingRecordsAreToldApart) {
  std::string path = TempFile("overlap.journal");
  cli_job_t job = PiJob(1024 * 100);
  Write(path, job, 0, 10, false);
  {
    master_journal_t j;
    master_journal_load_t load;
    char err[512];
    ASSERT_EQ(
        master_journal_open(&j, path.c_str(), &job, 1, &load, err, sizeof(err)),
        0)
        << err;
    master_journal_free_load(&load);
    master_record_t again = Record(3);  // the same range
    master_record_t wide = Record(5);   // over chunks 5 and 6
    wide.end += 1024;
    ASSERT_EQ(master_journal_append(&j, &again), 0);
    ASSERT_EQ(master_journal_append(&j, &wide), 0);
    ASSERT_EQ(master_journal_close(&j), 0);
  }
  master_journal_load_t load;
  std::string err;
  ASSERT_EQ(Load(path, job, &load, &err), 0) << err;
  EXPECT_EQ(load.repeated, 1u);
  EXPECT_EQ(load.overlapping, 1u);
  EXPECT_EQ(load.damaged, 0u);
  ExpectDone(load.done, 0, 10);
  master_journal_free_load(&load);
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
    cli_job_t job;
    const char* says;
  } cases[] = {
      {good, PiJob(1024 * 101), "belongs to another job (pi n=102400)"},
      {std::string("hello, world\n"), PiJob(1024 * 100),
       "is not a taskfarm journal"},
      {good.substr(0, 8) + Version(MASTER_JOURNAL_VERSION + 1) +
           good.substr(12),
       PiJob(1024 * 100), "written by a newer taskfarm"},
      {good.substr(0, 8) + Version(MASTER_JOURNAL_OLDEST - 1) +
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
  cli_job_t job = PiJob(1024 * 100);
  EXPECT_EQ(
      master_journal_open(&j, path.c_str(), &job, 0, &load, err, sizeof(err)),
      PROTO_EJOURNAL);
  EXPECT_NE(std::string(err).find("already exists"), std::string::npos) << err;
  EXPECT_EQ(Slurp(path), good);
}

// A withdrawal voids the latest record of its range written before it;
// a record of that range written after it counts again. The withdrawn
// partial is not in the sums.
TEST(JournalTest, AWithdrawalVoidsTheRecordBeforeIt) {
  std::string path = TempFile("withdrawn.journal");
  cli_job_t job = PiJob(1024 * 6);
  Write(path, job, 0, 6, false);
  master_journal_t j;
  master_journal_load_t load;
  char err[512];
  ASSERT_EQ(master_journal_open(&j, path.c_str(), &job, 1, &load, err,
                                sizeof(err)),
            0)
      << err;
  master_journal_free_load(&load);
  // Record 2 and record 4 are withdrawn (a refused rank's); record 4 is
  // then written again (another rank computed it).
  for (uint64_t k : {2, 4}) {
    master_record_t w = Record(k);
    w.revoked = 1;
    ASSERT_EQ(master_journal_append(&j, &w), 0);
  }
  master_record_t again = Record(4);
  ASSERT_EQ(master_journal_append(&j, &again), 0);
  ASSERT_EQ(master_journal_close(&j), 0);
  std::string e;
  ASSERT_EQ(Load(path, job, &load, &e), 0) << e;
  EXPECT_EQ(load.revoked, 2u);
  EXPECT_EQ(load.repeated, 0u);
  EXPECT_EQ(load.damaged, 0u);
  ExpectDone(load.done, 0, 6, 2);
  master_journal_free_load(&load);
}

// A journal of an older format (here 3) was fingerprinted from another
// description of the job: it is refused with the reason and what to do,
// and left as it was.
TEST(JournalTest, AnOlderFormatIsRefusedWithTheReasonAndUntouched) {
  std::string path = TempFile("three.journal");
  cli_job_t job = PiJob(1024 * 4);
  Write(path, job, 0, 4, false);
  std::string bytes = Slurp(path);
  uint32_t hsize = 0;
  std::memcpy(&hsize, bytes.data() + 12, 4);
  std::string header = bytes.substr(0, hsize - 4);
  uint32_t three = 3;
  std::memcpy(&header[8], &three, 4);
  uint32_t crc = master_crc32c(0, header.data(), header.size());
  std::string fixed = header + std::string((const char*)&crc, 4) +
                      bytes.substr(hsize);
  Spit(path, fixed);
  master_journal_load_t load;
  std::string e;
  ASSERT_EQ(Load(path, job, &load, &e), PROTO_EJOURNAL);
  EXPECT_NE(e.find("has format version 3, written by an older taskfarm"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("finish it with the older build"), std::string::npos) << e;
  EXPECT_EQ(Slurp(path), fixed);
}

// The largest header a job can make (every input file a kernel may read,
// each with the longest path) is written whole and resumed: the header's
// buffer is sized for it, not for two inputs.
TEST(JournalTest, TheLargestHeaderIsWrittenAndResumed) {
  std::string path = TempFile("largest.journal");
  cli_job_t job = PiJob(1024 * 4);
  job.task.ninputs = JOBS_INPUTS_MAX;
  for (int k = 0; k < JOBS_INPUTS_MAX; k++) {
    jobs_input_t* in = &job.task.input[k];
    std::string p = "/" + std::string(JOBS_PATH_MAX - 3, (char)('a' + k));
    std::snprintf(in->path, sizeof(in->path), "%s", p.c_str());
    in->size = 800 + (uint64_t)k;
    in->ino = 7 + (uint64_t)k;
  }
  Write(path, job, 0, 4, false);
  std::string bytes = Slurp(path);
  uint32_t hsize = 0;
  ASSERT_GE(bytes.size(), 16u);
  std::memcpy(&hsize, bytes.data() + 12, 4);
  // Each path is 2 bytes short of the longest (its NUL, and one more).
  EXPECT_EQ(hsize, (uint32_t)MASTER_JOURNAL_HEADER_MAX - 2 * JOBS_INPUTS_MAX);
  master_journal_load_t load;
  std::string e;
  ASSERT_EQ(Load(path, job, &load, &e), 0) << e;
  ExpectDone(load.done, 0, 4);
  master_journal_free_load(&load);
}

// A dot journal of two files: the files' identity is checked on resume.
class InputJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempFile("inputs");
    mkdir(dir_.c_str(), 0755);
    a_ = dir_ + "/a.f64";
    b_ = dir_ + "/b.f64";
    Spit(a_, std::string(800, '\x01'));
    Spit(b_, std::string(800, '\x02'));
    journal_ = dir_ + "/j";
    unlink(journal_.c_str());
  }
  // Parses and resolves dot --a A --b B from folder cwd.
  cli_job_t Job(const std::string& a, const std::string& b) {
    return testjob::Make({"dot", "--a", a, "--b", b});
  }
  std::string dir_, a_, b_, journal_;
};

TEST_F(InputJournalTest, AFileChangedInPlaceIsRefusedByName) {
  cli_job_t job = Job(a_, b_);
  Write(journal_, job, 0, 0, false);
  std::string before = Slurp(journal_);
  // Same length, same modification time, other contents.
  struct stat st;
  ASSERT_EQ(stat(b_.c_str(), &st), 0);
  Spit(b_, std::string(800, '\x03'));
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, b_.c_str(), times, 0), 0);
  cli_job_t again = Job(a_, b_);
  master_journal_load_t load;
  std::string err;
  EXPECT_EQ(Load(journal_, again, &load, &err), PROTO_EJOURNAL);
  EXPECT_NE(err.find(std::string("--b file '") + again.task.input[1].path +
                     "' changed"),
            std::string::npos)
      << err;
  EXPECT_EQ(Slurp(journal_), before);
}

TEST_F(InputJournalTest, TheSameFilesByAnotherPathResume) {
  Write(journal_, Job(a_, b_), 0, 0, false);
  // dir/./a.f64 and dir//b.f64 are the same files.
  cli_job_t job = Job(dir_ + "/./a.f64", dir_ + "//b.f64");
  master_journal_load_t load;
  std::string err;
  EXPECT_EQ(Load(journal_, job, &load, &err), 0) << err;
  master_journal_free_load(&load);
}

TEST_F(InputJournalTest, OtherFilesAreAnotherJob) {
  cli_job_t first = Job(a_, b_);
  Write(journal_, first, 0, 0, false);
  std::string c = dir_ + "/c.f64";
  Spit(c, std::string(800, '\x02'));
  cli_job_t job = Job(a_, c);
  master_journal_load_t load;
  std::string err;
  EXPECT_EQ(Load(journal_, job, &load, &err), PROTO_EJOURNAL);
  EXPECT_NE(err.find(std::string("its --b file was '") +
                     first.task.input[1].path + "'"),
            std::string::npos)
      << err;
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
