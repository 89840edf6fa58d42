// How a rank tells its launcher from its environment, and the resume
// command written back for each launcher.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>

#include <map>
#include <string>

extern "C" {
#include "master/resume.h"
#include "base/launch.h"
}

namespace {

std::map<std::string, std::string>* g_env;

const char* Get(const char* name) {
  auto it = g_env->find(name);
  return it == g_env->end() ? nullptr : it->second.c_str();
}

base_launch_t Detect(std::map<std::string, std::string> env) {
  g_env = &env;
  return base_launch_detect(Get);
}

TEST(LaunchTest, HydraSlurmAndNone) {
  base_launch_t l = Detect({{"PMI_RANK", "2"}, {"PMI_SIZE", "4"},
                             {"PMI_FD", "6"}, {"HYDI_CONTROL_FD", "7"}});
  EXPECT_EQ(l.kind, BASE_LAUNCH_HYDRA);
  EXPECT_EQ(l.rank, 2);
  EXPECT_EQ(l.size, 4);
  // mpiexec inside an sbatch script: hydra's ranks inherit SLURM_*.
  l = Detect({{"PMI_RANK", "0"}, {"PMI_SIZE", "3"}, {"PMI_FD", "6"},
              {"HYDI_CONTROL_FD", "7"}, {"SLURM_PROCID", "0"},
              {"SLURM_STEP_NUM_TASKS", "1"}, {"SLURM_MPI_TYPE", "pmi2"}});
  EXPECT_EQ(l.kind, BASE_LAUNCH_HYDRA);
  l = Detect({{"PMI_RANK", "1"}, {"PMI_SIZE", "3"}, {"PMI_FD", "11"},
              {"PMI_JOBID", "9.0"}, {"SLURM_MPI_TYPE", "pmi2"},
              {"SLURM_PROCID", "1"}, {"SLURM_STEP_NUM_TASKS", "3"}});
  EXPECT_EQ(l.kind, BASE_LAUNCH_SLURM);
  EXPECT_EQ(l.rank, 1);
  EXPECT_EQ(l.size, 3);
  l = Detect({{"SLURM_PROCID", "1"}, {"SLURM_STEP_NUM_TASKS", "3"},
              {"SLURM_NTASKS", "3"}});
  EXPECT_EQ(l.kind, BASE_LAUNCH_SLURM_NOPMI);
  EXPECT_EQ(l.rank, 1);
  EXPECT_EQ(l.size, 3);
  // A batch script's own process is one task: a plain run.
  l = Detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "3"}});
  EXPECT_EQ(l.kind, BASE_LAUNCH_NONE);
  EXPECT_EQ(l.size, 1);
  l = Detect({});
  EXPECT_EQ(l.kind, BASE_LAUNCH_NONE);
  EXPECT_EQ(l.rank, 0);
  // A PMI_RANK without a PMI socket is not a launcher; junk is not a rank.
  EXPECT_EQ(Detect({{"PMI_RANK", "1"}, {"PMI_SIZE", "2"}}).kind,
            BASE_LAUNCH_NONE);
  EXPECT_EQ(Detect({{"PMI_RANK", "x"}, {"PMI_SIZE", "2"}, {"PMI_FD", "6"}})
                .kind,
            BASE_LAUNCH_NONE);
}

std::string Resume(base_launch_t launch, std::vector<const char*> args,
                   std::vector<const char*> env, int hosts = 1) {
  std::vector<char*> argv, envp;
  for (const char* a : args) argv.push_back(const_cast<char*>(a));
  for (const char* e : env) envp.push_back(const_cast<char*>(e));
  envp.push_back(nullptr);
  char* text = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&text, &len);
  master_resume_t r = {launch,  (int)argv.size(), argv.data(),
                       "/opt/tf/taskfarm", envp.data(), hosts};
  master_resume_write(out, &r);
  fclose(out);
  std::string s(text, len);
  free(text);
  return s;
}

TEST(ResumeTest, EachLauncherGetsItsOwnCommand) {
  base_launch_t hydra = {BASE_LAUNCH_HYDRA, 0, 4};
  EXPECT_EQ(Resume(hydra, {"bin/taskfarm", "pi", "--journal", "j"},
                   {"HOME=/root", "UCX_TLS=tcp,self",
                    "MPIR_CVAR_CH3_INTERFACE_HOSTNAME=vm"}),
            "  UCX_TLS=tcp,self mpiexec.mpich -disable-auto-cleanup -n 4 "
            "bin/taskfarm pi --journal j --resume\n");
  EXPECT_EQ(Resume(hydra, {"taskfarm", "pi", "--resume"}, {}, 3),
            "  mpiexec.mpich -disable-auto-cleanup -n 4 /opt/tf/taskfarm pi "
            "--resume\n  (this run spanned 3 hosts: give mpiexec the same -f "
            "hostfile or -hosts list)\n");
  base_launch_t slurm = {BASE_LAUNCH_SLURM, 0, 3};
  std::string s = Resume(slurm, {"./taskfarm", "pi", "--journal", "a b"}, {});
  EXPECT_EQ(s.substr(0, s.find('\n')),
            "  srun --mpi=pmi2 -n 3 ./taskfarm pi --journal 'a b' --resume");
  base_launch_t none = {BASE_LAUNCH_NONE, 0, 1};
  EXPECT_EQ(Resume(none, {"./taskfarm", "pi", "--x", "it's"}, {}),
            "  ./taskfarm pi --x 'it'\\''s' --resume\n");
}

TEST(ResumeTest, KeepsWhatMpiReads) {
  EXPECT_TRUE(master_resume_keeps("UCX_NET_DEVICES=lo"));
  EXPECT_TRUE(master_resume_keeps("MPIR_CVAR_ENABLE_FT=1"));
  EXPECT_TRUE(master_resume_keeps("HYDRA_HOST_FILE=/etc/hosts.mpi"));
  EXPECT_FALSE(master_resume_keeps("MPIR_CVAR_CH3_INTERFACE_HOSTNAME=vm"));
  EXPECT_FALSE(master_resume_keeps("PATH=/bin"));
  EXPECT_FALSE(master_resume_keeps("UCX_TLS"));
}

}  // namespace
