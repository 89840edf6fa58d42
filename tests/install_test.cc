// tools/install and tools/deb, used as a kernel writer on a cluster would:
// taskfarm installed into a temporary prefix; examples/zeta.c built with
// `cc $(pkg-config --cflags taskfarm)` against that tree only and run by the
// installed binary, its integer sum checked against the closed form
// (n-1)n(2n-1)/6; the man page checked against the binary's own usage texts
// and option list; the modulefile loaded by a real Lmod (or read, where
// there is none); the .deb's control fields and contents, and the package
// extracted into a scratch root and run. Nothing is installed into the
// machine, and no script here runs Bazel: each gets the binary Bazel built
// for the test (--binary).
#include <gtest/gtest.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run.h"

namespace {

// What a command that must see only the prefix does not inherit from the
// caller: include and pkg-config paths.
const char* const kInherited[] = {"CPATH", "C_INCLUDE_PATH", "PKG_CONFIG_PATH",
                                  "PKG_CONFIG_SYSROOT_DIR"};

const char kLmod[] = "/usr/share/lmod/lmod/libexec/lmod";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> words;
  std::istringstream in(s);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// The real file behind a runfile: the scripts live in the source tree.
std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : path;
}

// sh -c SCRIPT with $1... = args, in the clean environment plus env
// ("NAME=value"). The shell is what run::Run waits for: a program that
// closes its output before it exits (coreutils do, at exit) could
// otherwise be taken for done and killed before its exit status is set.
run::Result Sh(const std::string& script, const std::vector<std::string>& args,
               const std::vector<std::string>& env = {}, double timeout = 60) {
  std::vector<std::string> argv = {"env"};
  for (const char* name : kInherited) argv.insert(argv.end(), {"-u", name});
  argv.insert(argv.end(), env.begin(), env.end());
  argv.insert(argv.end(), {"sh", "-c", script, "sh"});
  argv.insert(argv.end(), args.begin(), args.end());
  return run::Run(argv, timeout);
}

// argv through the shell, for its exit status (see Sh).
run::Result Cmd(const std::vector<std::string>& argv,
                const std::vector<std::string>& env = {}) {
  return Sh("\"$@\"; exit $?", argv, env);
}

std::string FreshDir(const std::string& name) {
  std::string dir = run::TempPath(name);
  Cmd({"rm", "-rf", dir});
  mkdir(dir.c_str(), 0755);
  return dir;
}

// Every file under dir with its bytes, for comparing two installs.
std::map<std::string, std::string> Tree(const std::string& dir) {
  run::Result r = Cmd({"find", dir, "-type", "f"});
  std::map<std::string, std::string> tree;
  for (const std::string& path : Lines(r.out))
    tree[path.substr(dir.size())] = Slurp(path);
  return tree;
}

std::string Version() {
  run::Result r = run::Run({run::Binary(), "--version"}, 30);
  std::string line = Lines(r.out).empty() ? "" : Lines(r.out)[0];
  return line.rfind("taskfarm ", 0) == 0 ? line.substr(9) : "";
}

// The jobs: named under the general help's "jobs:" heading (a line of two
// spaces and a word) and after the options of `taskfarm --options`.
std::vector<std::string> Jobs(const std::string& binary) {
  std::vector<std::string> jobs;
  std::set<std::string> seen;
  bool in_jobs = false;
  for (const std::string& line : Lines(run::Run({binary, "--help"}, 30).out)) {
    if (line == "jobs:") {
      in_jobs = true;
    } else if (Trim(line).empty()) {
      in_jobs = false;
    } else if (in_jobs && line.size() > 2 && line.compare(0, 2, "  ") == 0 &&
               line[2] >= 'a' && line[2] <= 'z') {
      std::string job = Words(line)[0];
      if (seen.insert(job).second) jobs.push_back(job);
    }
  }
  for (const std::string& line :
       Lines(run::Run({binary, "--options"}, 30).out)) {
    std::vector<std::string> w = Words(line);
    for (size_t i = 1; i < w.size(); i++)
      if (seen.insert(w[i]).second) jobs.push_back(w[i]);
  }
  return jobs;
}

struct Install {
  std::string prefix;
  run::Result result;
};

// One install into an empty prefix, shared by the tests that read it.
const Install& Installed() {
  static Install install = [] {
    Install i;
    i.prefix = FreshDir("prefix") + "/opt/taskfarm";
    i.result = run::Run({run::Binary("tools/install"), "--prefix", i.prefix,
                         "--binary", run::Binary()},
                        120);
    return i;
  }();
  return install;
}

TEST(InstallTest, WritesTheLayoutIntoAnEmptyPrefix) {
  const Install& i = Installed();
  ASSERT_EQ(i.result.status, 0) << i.result.err;
  std::string version = Version();
  ASSERT_FALSE(version.empty());
  struct {
    std::string path;
    mode_t mode;
  } files[] = {
      {"bin/taskfarm", 0755},
      {"include/taskfarm/taskfarm_kernel.h", 0644},
      {"lib/pkgconfig/taskfarm.pc", 0644},
      {"share/man/man1/taskfarm.1", 0644},
      {"share/modulefiles/taskfarm/" + version + ".lua", 0644},
  };
  for (const auto& f : files) {
    struct stat st;
    ASSERT_EQ(stat((i.prefix + "/" + f.path).c_str(), &st), 0) << f.path;
    EXPECT_EQ(st.st_mode & 07777, f.mode) << f.path;
  }
  EXPECT_EQ(Slurp(i.prefix + "/bin/taskfarm"), Slurp(run::Binary()));
  // The header declares the interface the binary loads.
  std::string abi = run::LineAfter(
      run::Run({run::Binary(), "--version"}, 30).out, "protocol ");
  ASSERT_NE(abi.find("kernel interface "), std::string::npos) << abi;
  abi = abi.substr(abi.find("kernel interface ") + 17);
  abi = abi.substr(0, abi.find(' '));
  EXPECT_TRUE(Contains(Slurp(i.prefix + "/include/taskfarm/taskfarm_kernel.h"),
                       "#define TASKFARM_KERNEL_ABI " + abi + "\n"))
      << "kernel interface " << abi;
  EXPECT_TRUE(Contains(Slurp(i.prefix + "/lib/pkgconfig/taskfarm.pc"),
                       "\nVersion: " + version + "\n"));
}

// zeta.c alone in a scratch folder (so "taskfarm_kernel.h" cannot come
// from beside it), pkg-config restricted to the prefix.
TEST(InstallTest, AKernelBuiltAgainstThePrefixRunsOnTheInstalledBinary) {
  const Install& i = Installed();
  ASSERT_EQ(i.result.status, 0) << i.result.err;
  std::string dir = FreshDir("kernel");
  Cmd({"cp", run::Binary("examples/zeta.c"), dir + "/zeta.c"});
  std::vector<std::string> env = {"PKG_CONFIG_LIBDIR=" + i.prefix +
                                  "/lib/pkgconfig"};

  run::Result flags = Sh("pkg-config --cflags taskfarm", {}, env);
  ASSERT_EQ(flags.status, 0) << flags.err;
  EXPECT_EQ(Trim(Lines(flags.out)[0]), "-I" + i.prefix + "/include/taskfarm");
  run::Result bare =
      Sh("cd \"$1\" && cc -shared -fPIC -o libbare.so zeta.c -lm", {dir}, env);
  EXPECT_NE(bare.status, 0) << "the header was found without pkg-config";
  EXPECT_TRUE(Contains(bare.err, "taskfarm_kernel.h")) << bare.err;

  run::Result cc =
      Sh("cd \"$1\" && cc $(pkg-config --cflags taskfarm) -O2 -shared -fPIC "
         "-o libzeta.so zeta.c -lm",
         {dir}, env);
  ASSERT_EQ(cc.status, 0) << cc.err;
  run::Result r =
      Sh("cd \"$1\" && mpiexec.mpich -n 3 \"$2/bin/taskfarm\" run "
         "--kernel ./libzeta.so --n 1e6 --arg power=2",
         {dir, i.prefix}, env);
  ASSERT_EQ(r.status, 0) << r.err;
  const unsigned __int128 n = 1000000;
  EXPECT_EQ(run::LineAfter(r.out, "Integer result = "),
            run::Decimal((n - 1) * n * (2 * n - 1) / 6))
      << r.out;
}

std::string RenderedManPage(const std::string& page, run::Result* r) {
  *r = Cmd({"man", "-P", "cat", "-l", page},
           {"MANWIDTH=200", "LC_ALL=C.UTF-8", "MAN_KEEP_FORMATTING="});
  return r->out;
}

TEST(InstallTest, TheManPageHoldsEveryUsageTextAndEveryOption) {
  const Install& i = Installed();
  ASSERT_EQ(i.result.status, 0) << i.result.err;
  std::string binary = i.prefix + "/bin/taskfarm";
  run::Result r;
  std::string page =
      RenderedManPage(i.prefix + "/share/man/man1/taskfarm.1", &r);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::set<std::string> page_lines;
  for (const std::string& line : Lines(page)) page_lines.insert(Trim(line));

  std::vector<std::string> jobs = Jobs(binary);
  EXPECT_GE(jobs.size(), 2u);
  EXPECT_EQ(std::count(jobs.begin(), jobs.end(), "run"), 1);
  std::vector<std::vector<std::string>> texts = {{binary, "--help"}};
  for (const std::string& job : jobs) {
    EXPECT_TRUE(Contains(page, "\n   " + job + "\n")) << "no section " << job;
    texts.push_back({binary, job, "--help"});
  }
  for (const auto& argv : texts) {
    run::Result help = run::Run(argv, 30);
    ASSERT_EQ(help.status, 0) << argv[1];
    for (const std::string& line : Lines(help.out))
      EXPECT_EQ(page_lines.count(Trim(line)), 1u)
          << "`" << argv[1] << "` line missing: " << line;
  }

  // The OPTIONS index: "--name   job job" or "--name   general".
  std::map<std::string, std::string> index;
  size_t at = page.find("\nOPTIONS\n"), end = page.find("\nSEE ALSO\n");
  ASSERT_NE(at, std::string::npos);
  for (const std::string& line : Lines(page.substr(at, end - at))) {
    std::vector<std::string> w = Words(line);
    if (w.empty() || w[0].rfind("--", 0) != 0) continue;
    std::string jobs_of;
    for (size_t k = 1; k < w.size(); k++) jobs_of += (k > 1 ? " " : "") + w[k];
    index[w[0]] = jobs_of;
  }
  run::Result options = run::Run({binary, "--options"}, 30);
  ASSERT_EQ(options.status, 0);
  std::vector<std::string> listed = Lines(options.out);
  EXPECT_GE(listed.size(), 10u);
  for (const std::string& line : listed) {
    std::vector<std::string> w = Words(line);
    std::string want = "general";
    if (w.size() > 1) want = Trim(line.substr(line.find(' ')));
    ASSERT_EQ(index.count(w[0]), 1u) << w[0] << " is not in the man page";
    EXPECT_EQ(index[w[0]], want) << w[0];
  }
  EXPECT_EQ(index.size(), listed.size());
}

TEST(InstallTest, TheModulefileSetsThePaths) {
  const Install& i = Installed();
  ASSERT_EQ(i.result.status, 0) << i.result.err;
  std::string version = Version();
  std::string modules = i.prefix + "/share/modulefiles";
  if (access(kLmod, X_OK) != 0) {
    // No Lmod here: read the file.
    std::string lua = Slurp(modules + "/taskfarm/" + version + ".lua");
    EXPECT_TRUE(Contains(lua, "local root = \"" + i.prefix + "\"\n"));
    for (const char* set : {"\"PATH\", pathJoin(root, \"bin\")",
                            "\"MANPATH\", pathJoin(root, \"share/man\")",
                            "\"PKG_CONFIG_PATH\", pathJoin(root, "
                            "\"lib/pkgconfig\")",
                            "\"CPATH\", pathJoin(root, \"include/taskfarm\")"})
      EXPECT_TRUE(Contains(lua, std::string("prepend_path(") + set + ")"))
          << set;
    EXPECT_TRUE(Contains(lua, "help([["));
    return;
  }
  // A login with nothing set, then `module load taskfarm`.
  run::Result r = run::Run(
      {"env", "-i", "HOME=/tmp", "PATH=/usr/bin:/bin", "MODULEPATH=" + modules,
       "bash", "-c",
       "eval \"$(\"$1\" bash load taskfarm)\" || exit 1\n"
       "echo \"PATH=$PATH\"; echo \"MANPATH=$MANPATH\"\n"
       "echo \"PKG_CONFIG_PATH=$PKG_CONFIG_PATH\"; echo \"CPATH=$CPATH\"\n"
       "echo \"which=$(command -v taskfarm)\"\n"
       "echo \"pc=$(pkg-config --modversion taskfarm)\"\n"
       "echo \"man=$(man -w taskfarm)\"\n"
       "cd \"$2\" && cc -fsyntax-only zeta.c && echo cpath=ok\n"
       "\"$1\" bash help taskfarm 2>&1 | grep -c 'pkg-config --cflags'",
       "bash", kLmod, run::Binary("examples")},
      60);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run::LineAfter(r.out, "PATH="), i.prefix + "/bin:/usr/bin:/bin");
  EXPECT_EQ(run::LineAfter(r.out, "MANPATH="), i.prefix + "/share/man");
  EXPECT_EQ(run::LineAfter(r.out, "PKG_CONFIG_PATH="),
            i.prefix + "/lib/pkgconfig");
  EXPECT_EQ(run::LineAfter(r.out, "CPATH="), i.prefix + "/include/taskfarm");
  EXPECT_EQ(run::LineAfter(r.out, "which="), i.prefix + "/bin/taskfarm");
  EXPECT_EQ(run::LineAfter(r.out, "pc="), version);
  EXPECT_EQ(run::LineAfter(r.out, "man="),
            i.prefix + "/share/man/man1/taskfarm.1");
  EXPECT_TRUE(Contains(r.out, "\ncpath=ok\n")) << r.err;
  EXPECT_TRUE(Contains(r.out, "\n1\n")) << "no help text: " << r.out;
}

TEST(InstallTest, InstallingAgainChangesNothingAndKeepsOtherFiles) {
  std::string prefix = FreshDir("existing");
  mkdir((prefix + "/bin").c_str(), 0755);
  std::ofstream(prefix + "/bin/other") << "someone else's\n";
  std::vector<std::string> argv = {run::Binary("tools/install"), "--prefix",
                                   prefix, "--binary", run::Binary()};
  run::Result first = run::Run(argv, 120);
  ASSERT_EQ(first.status, 0) << first.err;
  std::map<std::string, std::string> before = Tree(prefix);
  run::Result second = run::Run(argv, 120);
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(Tree(prefix), before);
  EXPECT_EQ(before.size(), 6u);  // five files of ours and the other one
  EXPECT_EQ(before["/bin/other"], "someone else's\n");
}

TEST(InstallTest, RefusesWithASentenceAndWritesNothing) {
  std::string dir = FreshDir("refused");
  std::string install = run::Binary("tools/install");
  run::Result r = run::Run({install, "--binary", run::Binary()}, 30);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(Contains(r.err, "--prefix P is required")) << r.err;
  r = run::Run({install, "--prefix", dir + "/p", "--binary", dir + "/none"},
               30);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(Contains(r.err, "is not an executable file")) << r.err;
  r = run::Run({install, "--prefix", dir + "/p", "--binary", "/bin/true"}, 30);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(Contains(r.err, "does not start with 'taskfarm VERSION'"))
      << r.err;
  std::ofstream(dir + "/file") << "x";
  r = run::Run(
      {install, "--prefix", dir + "/file/p", "--binary", run::Binary()}, 30);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(Contains(r.err, dir + "/file is not a directory")) << r.err;
  EXPECT_EQ(Tree(dir).size(), 1u);  // only the file made here
}

// Not root: the scripts and the binary copied where a user can read them,
// a prefix the user owns works and one it cannot write is refused. Run as
// root, the user is nobody (setpriv); run as a user, that user.
TEST(InstallTest, WorksAsAUserAndRefusesAPrefixItCannotWrite) {
  char base[] = "/tmp/taskfarm-install-test.XXXXXX";
  ASSERT_NE(mkdtemp(base), nullptr);
  std::string tree = base;
  struct Remove {
    std::string dir;
    ~Remove() { Cmd({"rm", "-rf", dir}); }
  } remove{tree};
  chmod(tree.c_str(), 0755);
  std::string src = RealPath(run::Binary("tools/install"));
  src = src.substr(0, src.rfind("/tools/"));
  run::Result cp =
      Sh("mkdir -p \"$2/tools\" \"$2/jobs\" \"$2/worker\" \"$2/mine\" "
         "\"$2/locked\" && cp \"$1/tools/install\" \"$1/tools/manpage\" "
         "\"$2/tools/\" && cp \"$3\" \"$2/taskfarm\" && "
         "for h in jobs worker; do if [ -f \"$1/$h/taskfarm_kernel.h\" ]; then "
         "cp \"$1/$h/taskfarm_kernel.h\" \"$2/$h/\"; fi; done && "
         "chmod -R a+rX \"$2\" && chmod 0555 \"$2/locked\"",
         {src, tree, run::Binary()});
  ASSERT_EQ(cp.status, 0) << cp.err;
  std::vector<std::string> as_user;
  if (geteuid() == 0) {
    ASSERT_EQ(Cmd({"chown", "65534:65534", tree + "/mine"}).status, 0);
    as_user = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               "env",     "HOME=/tmp",     "TMPDIR=/tmp"};
  }
  auto install = [&](const std::string& prefix) {
    std::vector<std::string> argv = as_user;
    argv.insert(argv.end(), {tree + "/tools/install", "--prefix", prefix,
                             "--binary", tree + "/taskfarm"});
    return run::Run(argv, 120);
  };
  run::Result mine = install(tree + "/mine/opt");
  run::Result locked = install(tree + "/locked/opt");
  struct stat st;
  bool installed = stat((tree + "/mine/opt/bin/taskfarm").c_str(), &st) == 0;
  bool written = access((tree + "/locked/opt").c_str(), F_OK) == 0;
  EXPECT_EQ(mine.status, 0) << mine.err;
  EXPECT_TRUE(installed);
  if (geteuid() == 0) {
    EXPECT_EQ(st.st_uid, 65534u);
  }
  EXPECT_EQ(locked.status, 2);
  EXPECT_TRUE(Contains(locked.err, "cannot write into " + tree + "/locked"))
      << locked.err;
  EXPECT_FALSE(written);
}

struct Package {
  std::string deb;
  run::Result result;
};

const Package& Built() {
  static Package package = [] {
    Package p;
    std::string out = FreshDir("deb");
    p.result = run::Run(
        {run::Binary("tools/deb"), "--binary", run::Binary(), "--out", out},
        120, {"DEBFULLNAME=Test Maintainer", "DEBEMAIL=test@example.org"});
    p.deb = Trim(p.result.out);
    return p;
  }();
  return package;
}

std::string Architecture() {
  return Trim(Cmd({"dpkg", "--print-architecture"}).out);
}

TEST(DebTest, ControlFieldsNameTheVersionArchitectureAndDependencies) {
  const Package& p = Built();
  ASSERT_EQ(p.result.status, 0) << p.result.err;
  EXPECT_EQ(p.deb, run::TempPath("deb") + "/taskfarm_" + Version() + "_" +
                       Architecture() + ".deb");
  run::Result info = Cmd({"dpkg-deb", "--info", p.deb});
  ASSERT_EQ(info.status, 0) << info.err;
  EXPECT_EQ(run::LineAfter(info.out, " Package: "), "taskfarm");
  EXPECT_EQ(run::LineAfter(info.out, " Version: "), Version());
  EXPECT_EQ(run::LineAfter(info.out, " Architecture: "), Architecture());
  EXPECT_EQ(run::LineAfter(info.out, " Maintainer: "),
            "Test Maintainer <test@example.org>");
  std::set<std::string> depends;
  std::string field = run::LineAfter(info.out, " Depends: ");
  for (std::stringstream in(field); in.good();) {
    std::string item;
    std::getline(in, item, ',');
    depends.insert(Words(item).empty() ? "" : Words(item)[0]);
  }
  EXPECT_EQ(depends.count("mpich"), 1u) << field;
  EXPECT_EQ(depends.count("libuv1"), 1u) << field;
}

TEST(DebTest, ContentsAreTheInstalledTreeUnderUsr) {
  const Package& p = Built();
  ASSERT_EQ(p.result.status, 0) << p.result.err;
  run::Result contents = Cmd({"dpkg-deb", "--contents", p.deb});
  ASSERT_EQ(contents.status, 0) << contents.err;
  std::map<std::string, std::string> files;  // path -> "mode owner"
  for (const std::string& line : Lines(contents.out)) {
    std::vector<std::string> w = Words(line);
    if (w.size() >= 6 && w[0][0] == '-') files[w.back()] = w[0] + " " + w[1];
  }
  EXPECT_EQ(files["./usr/bin/taskfarm"], "-rwxr-xr-x root/root");
  for (const char* f : {"./usr/include/taskfarm/taskfarm_kernel.h",
                        "./usr/lib/pkgconfig/taskfarm.pc",
                        "./usr/share/man/man1/taskfarm.1.gz"})
    EXPECT_EQ(files[f], "-rw-r--r-- root/root") << f;
  EXPECT_EQ(files.size(), 4u) << contents.out;
  EXPECT_FALSE(Contains(contents.out, "./usr/local")) << contents.out;
}

// dpkg-deb -x into a scratch root, never dpkg -i into the machine.
TEST(DebTest, TheExtractedPackageBuildsAndRunsAKernel) {
  const Package& p = Built();
  ASSERT_EQ(p.result.status, 0) << p.result.err;
  std::string root = FreshDir("debroot");
  ASSERT_EQ(Cmd({"dpkg-deb", "-x", p.deb, root}).status, 0);
  EXPECT_TRUE(Contains(Slurp(root + "/usr/lib/pkgconfig/taskfarm.pc"),
                       "\nprefix=/usr\n"));
  run::Result man;
  RenderedManPage(root + "/usr/share/man/man1/taskfarm.1.gz", &man);
  EXPECT_EQ(man.status, 0) << man.err;
  EXPECT_TRUE(Contains(man.out, "\nOPTIONS\n"));

  std::string dir = FreshDir("debkernel");
  Cmd({"cp", run::Binary("examples/zeta.c"), dir + "/zeta.c"});
  std::vector<std::string> env = {
      "PKG_CONFIG_SYSROOT_DIR=" + root,
      "PKG_CONFIG_LIBDIR=" + root + "/usr/lib/pkgconfig"};
  run::Result cc =
      Sh("cd \"$1\" && cc $(pkg-config --cflags taskfarm) -O2 -shared -fPIC "
         "-o libzeta.so zeta.c -lm",
         {dir}, env);
  ASSERT_EQ(cc.status, 0) << cc.err;
  run::Result r =
      Sh("cd \"$1\" && mpiexec.mpich -n 3 \"$2/usr/bin/taskfarm\" run "
         "--kernel ./libzeta.so --n 1e6 --arg power=2",
         {dir, root});
  ASSERT_EQ(r.status, 0) << r.err;
  const unsigned __int128 n = 1000000;
  EXPECT_EQ(run::LineAfter(r.out, "Integer result = "),
            run::Decimal((n - 1) * n * (2 * n - 1) / 6));
}

}  // namespace
