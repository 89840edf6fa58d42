// How a job ends (master/ending.h): every row of the table in
// docs/fault-tolerance.md, "Ending", and how UCX_TLS is read.
#include "master/ending.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace {

struct Row {
  const char* what;
  proto_launcher_t launcher;
  const char* ucx_tls;
  int hosts;
  std::vector<int> missing;
  std::set<int> gone;  // of the missing, those known gone
  int status;
  master_ending_t want;
};

int Gone(void* ctx, int rank) {
  return static_cast<const std::set<int>*>(ctx)->count(rank) > 0;
}

const proto_launcher_t kHydra = PROTO_LAUNCH_HYDRA;
const proto_launcher_t kSlurm = PROTO_LAUNCH_SLURM;
const char* const kTcp = "tcp,self";

// The rows of the docs' table, in its order.
const Row kRows[] = {
    // Every worker said BYE, one host, shared memory.
    {"hydra, all BYE, one host, shm, 0", kHydra, nullptr, 1, {}, {}, 0,
     MASTER_END_FINALIZE},
    {"hydra, all BYE, one host, shm, 130", kHydra, nullptr, 1, {}, {}, 130,
     MASTER_END_ABORT},
    {"slurm, all BYE, one host, shm, 0", kSlurm, "sm,self", 1, {}, {}, 0,
     MASTER_END_FINALIZE},
    {"slurm, all BYE, one host, shm, 143", kSlurm, nullptr, 1, {}, {}, 143,
     MASTER_END_FINALIZE},
    // Where MPI_Finalize cannot be trusted: TCP, several hosts.
    {"hydra, all BYE, TCP", kHydra, kTcp, 1, {}, {}, 0, MASTER_END_ABORT},
    {"hydra, all BYE, two hosts", kHydra, nullptr, 2, {}, {}, 0,
     MASTER_END_ABORT},
    {"slurm, all BYE, TCP", kSlurm, kTcp, 1, {}, {}, 0, MASTER_END_LEAVE},
    {"slurm, all BYE, two hosts", kSlurm, nullptr, 2, {}, {}, 1,
     MASTER_END_LEAVE},
    // A worker that did not say BYE.
    {"hydra, one missing, known gone", kHydra, nullptr, 1, {2}, {2}, 0,
     MASTER_END_ABORT},
    {"slurm, one missing, known gone", kSlurm, nullptr, 1, {2}, {2}, 0,
     MASTER_END_LEAVE},
    {"slurm, two missing, both gone, TCP", kSlurm, kTcp, 3, {1, 3}, {1, 3},
     0, MASTER_END_LEAVE},
    {"slurm, two missing, one not known gone", kSlurm, kTcp, 3, {1, 3}, {3},
     0, MASTER_END_ABORT},
    {"slurm, one missing, not known gone", kSlurm, nullptr, 1, {2}, {}, 0,
     MASTER_END_ABORT},
    // No launcher: a world of one, nobody to wait for.
    {"alone", PROTO_LAUNCH_NONE, nullptr, 1, {}, {}, 0, MASTER_END_FINALIZE},
};

TEST(EndingTest, EveryRowOfTheTable) {
  for (const Row& r : kRows) {
    std::set<int> gone = r.gone;
    master_ending_facts_t f = {r.launcher,
                               r.ucx_tls,
                               r.hosts,
                               r.missing.data(),
                               (int)r.missing.size(),
                               r.status,
                               Gone,
                               &gone};
    char why[256];
    EXPECT_EQ(master_choose_ending(&f, why, sizeof(why)), r.want) << r.what;
    // Leaving with missing ranks, or aborting under Slurm, is explained.
    bool explained = r.launcher == kSlurm && !r.missing.empty();
    EXPECT_EQ(why[0] != '\0', explained) << r.what << ": " << why;
  }
}

TEST(EndingTest, SharedMemoryIsReadFromUcxTls) {
  for (const char* yes : {"", "sm", "shm,tcp", "tcp,posix", "all", "sysv",
                          "cma,self", "^tcp", "self,xpmem", "knem"})
    EXPECT_TRUE(master_ucx_shared_memory(yes)) << yes;
  EXPECT_TRUE(master_ucx_shared_memory(nullptr));
  for (const char* no : {"tcp", "tcp,self", "self", "rc,ud", "smx", "shmem",
                         "ts"})
    EXPECT_FALSE(master_ucx_shared_memory(no)) << no;
}

}  // namespace
