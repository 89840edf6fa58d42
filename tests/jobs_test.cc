// The job table and what its kernels declare: every entry, option and
// result line checked for what the farm relies on; the integrate job
// against closed forms and an independent sum; the checks of typed options;
// dot's choice between its two forms; and user kernels of both interface
// versions, loaded and computed through kernel_init / kernel_add.
#include "jobs/jobs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cli/job.h"
#include "jobs/dot.h"
#include "jobs/lines.h"
#include "jobs/loop.h"
#include "jobs/options.h"
#include "jobs/taskfarm_kernel.h"
#include "kernel/kernel.h"
#include "kernel/plugin.h"
#include "kernel/probe.h"
#include "proto/error.h"
#include "tests/reference.h"

namespace {

// A file of the test's runfiles (a kernel object built for it).
std::string Runfile(const std::string& name) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* ws = getenv("TEST_WORKSPACE");
  if (srcdir && ws) return std::string(srcdir) + "/" + ws + "/" + name;
  return "./" + name;
}

std::string TempPath(const std::string& name) {
  const char* dir = getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

// A file of count float64 values v(i).
template <typename F>
std::string Doubles(const std::string& name, size_t count, F v) {
  std::string path = TempPath(name);
  FILE* f = fopen(path.c_str(), "wb");
  for (size_t i = 0; i < count; i++) {
    double x = v(i);
    fwrite(&x, sizeof(x), 1, f);
  }
  fclose(f);
  return path;
}

std::unique_ptr<cli_job_t> NewJob() { return std::make_unique<cli_job_t>(); }

// `taskfarm ARGS...` parsed; 0 or the parser's code, its sentence in *err.
int Parse(std::vector<std::string> args, cli_job_t* job, std::string* err) {
  std::string prog = "taskfarm";
  std::vector<char*> argv = {&prog[0]};
  for (auto& a : args) argv.push_back(&a[0]);
  char buf[1024] = "";
  int rc = cli_job_parse(job, (int)argv.size(), argv.data(), buf, sizeof(buf));
  *err = buf;
  return rc;
}

// Parsed and resolved as every rank does before MPI starts.
int Resolve(std::vector<std::string> args, cli_job_t* job, std::string* err) {
  int rc = Parse(args, job, err);
  if (rc < 0) return rc;
  char buf[1024] = "";
  rc = cli_job_resolve(job, 0, nullptr, buf, sizeof(buf));
  *err = buf;
  return rc;
}

std::unique_ptr<cli_job_t> Resolved(std::vector<std::string> args) {
  auto job = NewJob();
  std::string err;
  int rc = Resolve(args, job.get(), &err);
  EXPECT_EQ(rc, 0) << err;
  return job;
}

struct Sums {
  double f;
  unsigned __int128 i;
};

// [0, n) of the job's kernel computed in the pieces [cuts[k], cuts[k+1])
// (cuts from 0 to n), in the order given by order (indices of pieces).
Sums Compute(const cli_job_t& job, const std::vector<uint64_t>& cuts,
             bool reverse = false) {
  kernel_t k;
  EXPECT_EQ(kernel_init(&k, &job.task, job.n), 0) << k.what;
  proto_exact_t acc;
  proto_exact_init(&acc);
  unsigned __int128 isum = 0;
  size_t pieces = cuts.size() - 1;
  for (size_t p = 0; p < pieces; p++) {
    size_t q = reverse ? pieces - 1 - p : p;
    EXPECT_EQ(kernel_add(&k, cuts[q], cuts[q + 1], &acc, &isum), 0) << k.what;
  }
  kernel_close(&k);
  return {proto_exact_to_double(&acc), isum};
}

// Cuts of [0, n) every `step` indices.
std::vector<uint64_t> Every(uint64_t n, uint64_t step) {
  std::vector<uint64_t> cuts;
  for (uint64_t at = 0; at < n; at += step) cuts.push_back(at);
  cuts.push_back(n);
  return cuts;
}

// Random cuts of [0, n) on multiples of align.
std::vector<uint64_t> RandomCuts(uint64_t n, uint64_t align, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> cuts = {0};
  while (cuts.back() < n) {
    uint64_t next = cuts.back() + align * (1 + rng() % 97);
    cuts.push_back(std::min(next, n));
  }
  return cuts;
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, 8) == 0; }

std::string U128(unsigned __int128 v) {
  char buf[48];
  return jobs_u128_str(v, buf);
}

// ---------------------------------------------------------------- the table

TEST(JobsTableTest, EveryEntryHasACommandASummaryAndAKernel) {
  size_t count = 0;
  const jobs_entry_t* const* t = jobs_table(&count);
  ASSERT_GE(count, 9u);
  std::set<std::string> commands;
  for (size_t i = 0; i < count; i++) {
    const jobs_entry_t* e = t[i];
    ASSERT_NE(e->command, nullptr);
    std::string c = e->command;
    commands.insert(c);
    EXPECT_FALSE(c.empty());
    EXPECT_EQ(c.find_first_not_of("abcdefghijklmnopqrstuvwxyz-"),
              std::string::npos)
        << c;
    // One line of `taskfarm --jobs`: "  %-12s %s" within 79 columns.
    ASSERT_NE(e->summary, nullptr) << c;
    std::string s = e->summary;
    EXPECT_GE(s.size(), 10u) << c;
    EXPECT_EQ(s.find('\n'), std::string::npos) << c;
    EXPECT_LE(2 + std::max<size_t>(12, c.size()) + 1 + s.size(), 79u) << c;
    // Sorted by command, then variant; the variants of a command are
    // numbered from 0 without gaps.
    if (i > 0) {
      int order = strcmp(t[i - 1]->command, e->command);
      EXPECT_LE(order, 0) << c;
      if (order == 0) {
        EXPECT_EQ(e->variant, t[i - 1]->variant + 1) << c;
      } else {
        EXPECT_EQ(e->variant, 0) << c;
      }
    } else {
      EXPECT_EQ(e->variant, 0) << c;
    }
    if (e->flags & JOBS_LOADS) {
      EXPECT_EQ(e->kernel, nullptr) << c;
    } else {
      ASSERT_NE(e->kernel, nullptr) << c;
      EXPECT_EQ(e->kernel->abi, (uint32_t)TASKFARM_KERNEL_ABI) << c;
    }
  }
  EXPECT_EQ(commands,
            (std::set<std::string>{"dot", "hello", "integrate", "loop",
                                   "mandelbrot", "noop", "pi", "run"}));
  char names[256];
  jobs_commands(names, sizeof(names), ", ");
  EXPECT_STREQ(names, "dot, hello, integrate, loop, mandelbrot, noop, pi, run");
  for (const std::string& c : commands) {
    const jobs_entry_t* e = jobs_find(c.c_str());
    ASSERT_NE(e, nullptr) << c;
    EXPECT_EQ(e->variant, 0) << c;
  }
  EXPECT_EQ(jobs_find("pie"), nullptr);
  EXPECT_EQ(jobs_find(""), nullptr);
}

// `taskfarm --jobs` lists each command once, with its first summary.
TEST(JobsTableTest, TheListOfJobsHasEveryCommandOnce) {
  char* text = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&text, &len);
  cli_list_jobs(out);
  fclose(out);
  std::string list(text, len);
  free(text);
  size_t count = 0;
  const jobs_entry_t* const* t = jobs_table(&count);
  int lines = 0;
  for (char c : list) lines += c == '\n';
  EXPECT_EQ(lines, 8) << list;
  for (size_t i = 0; i < count; i++) {
    if (t[i]->variant != 0) continue;
    char line[160];
    snprintf(line, sizeof(line), "  %-12s %s\n", t[i]->command, t[i]->summary);
    EXPECT_NE(list.find(line), std::string::npos) << line << list;
  }
}

// Every built-in kernel is a descriptor the farm can run: jobs_spec_of
// takes it, and what it copies is the descriptor's.
TEST(JobsTableTest, EveryKernelHasAValidDeclaration) {
  size_t count = 0;
  const jobs_entry_t* const* t = jobs_table(&count);
  for (size_t i = 0; i < count; i++) {
    const taskfarm_kernel_t* d = t[i]->kernel;
    if (d == nullptr) continue;
    jobs_spec_t spec;
    char why[256] = "";
    ASSERT_EQ(jobs_spec_of(d, &spec, why, sizeof(why)), 0)
        << t[i]->command << ": " << why;
    EXPECT_STREQ(spec.name, d->name);
    EXPECT_EQ(spec.version, d->version);
    EXPECT_GE(spec.align, 1u);
    EXPECT_EQ(spec.n_max, d->n_max > 0 ? d->n_max : JOBS_N_MAX_DEFAULT);
    EXPECT_EQ(spec.chunk_max,
              d->chunk_max > 0 ? d->chunk_max : JOBS_CHUNK_MAX_DEFAULT);
    EXPECT_EQ(spec.declares, 1) << d->name;
    // Its help: lines, each ending in a newline.
    ASSERT_NE(d->help, nullptr) << d->name;
    std::string help = d->help;
    EXPECT_GT(help.size(), 20u) << d->name;
    EXPECT_EQ(help.back(), '\n') << d->name;
    ASSERT_NE(d->n_what, nullptr) << d->name;
    EXPECT_STREQ(spec.n_what, d->n_what);
    // Its result lines, all of them copied.
    ASSERT_NE(d->lines, nullptr) << d->name;
    int lines = 0;
    while (d->lines[lines] != nullptr) lines++;
    ASSERT_EQ(spec.nlines, lines) << d->name;
    for (int l = 0; l < lines; l++) EXPECT_STREQ(spec.line[l], d->lines[l]);
  }
}

// A whole number of type COUNT, INTEGER or REAL as the option's type reads
// it; false when text is not one.
bool NumberOf(const taskfarm_option_t* o, const char* text, double* v) {
  char* end = nullptr;
  switch (o->type) {
    case TASKFARM_OPT_COUNT: {
      uint64_t c;
      if (jobs_parse_count(text, UINT64_MAX, &c) != 0) return false;
      *v = (double)c;
      return true;
    }
    case TASKFARM_OPT_INTEGER:
      *v = (double)strtoll(text, &end, 10);
      return end != text && *end == '\0';
    default:
      *v = strtod(text, &end);
      return end != text && *end == '\0' && std::isfinite(*v);
  }
}

// Every declared option has its help, and its default is a value it takes:
// within [min, max] for a number, one of its choices for a choice.
TEST(JobsTableTest, EveryOptionHasHelpAndADefaultItTakes) {
  size_t count = 0;
  const jobs_entry_t* const* t = jobs_table(&count);
  int options = 0, defaults = 0;
  for (size_t i = 0; i < count; i++) {
    const taskfarm_kernel_t* d = t[i]->kernel;
    if (d == nullptr) continue;
    ASSERT_NE(d->options, nullptr) << d->name;
    for (const taskfarm_option_t* o = d->options; o->name != nullptr; o++) {
      options++;
      std::string what = std::string(d->name) + " --" + o->name;
      ASSERT_NE(o->help, nullptr) << what;
      EXPECT_GT(strlen(o->help), 8u) << what;
      EXPECT_EQ(strchr(o->help, '\n'), nullptr) << what << ": one line";
      ASSERT_NE(o->value, nullptr) << what;
      EXPECT_GT(strlen(o->value), 0u) << what;
      EXPECT_GE(o->type, (uint32_t)TASKFARM_OPT_COUNT) << what;
      EXPECT_LE(o->type, (uint32_t)TASKFARM_OPT_OUTPUT) << what;
      bool numeric = o->type == TASKFARM_OPT_COUNT ||
                     o->type == TASKFARM_OPT_INTEGER ||
                     o->type == TASKFARM_OPT_REAL;
      bool ranged = !(o->min == 0 && o->max == 0);
      if (ranged) {
        EXPECT_TRUE(numeric) << what << ": a range on a non-number";
        EXPECT_LT(o->min, o->max) << what;
      }
      if (o->type == TASKFARM_OPT_CHOICE) {
        ASSERT_NE(o->choices, nullptr) << what;
        ASSERT_NE(o->choices[0], nullptr) << what;
      }
      if (o->def == nullptr) continue;
      defaults++;
      if (numeric) {
        double v = 0;
        ASSERT_TRUE(NumberOf(o, o->def, &v)) << what << " default " << o->def;
        if (ranged) {
          EXPECT_GE(v, o->min) << what << " default " << o->def;
          EXPECT_LE(v, o->max) << what << " default " << o->def;
        }
      } else if (o->type == TASKFARM_OPT_CHOICE) {
        bool found = false;
        for (int c = 0; o->choices[c] != nullptr; c++)
          found = found || strcmp(o->choices[c], o->def) == 0;
        EXPECT_TRUE(found) << what << " default " << o->def;
      } else {
        EXPECT_GT(strlen(o->def), 0u) << what;
        EXPECT_LT(strlen(o->def), 256u) << what;
      }
    }
    // The farm agrees: every default binds, to the value it names, and an
    // option without one stays unset.
    static jobs_task_t task;
    memset(&task, 0, sizeof(task));
    char err[512] = "";
    ASSERT_EQ(jobs_bind(d, nullptr, nullptr, 0, "--", &task, err, sizeof(err)),
              0)
        << d->name << ": " << err;
    int k = 0;
    for (const taskfarm_option_t* o = d->options; o->name != nullptr;
         o++, k++) {
      ASSERT_LT(k, task.nvalues);
      const jobs_value_t& v = task.value[k];
      EXPECT_STREQ(v.key, o->name);
      EXPECT_EQ(v.type, o->type) << o->name;
      EXPECT_EQ(v.set, o->def != nullptr) << o->name;
      if (o->def == nullptr) continue;
      double want, got;
      if (NumberOf(o, o->def, &want)) {
        ASSERT_TRUE(NumberOf(o, v.value, &got)) << o->name << ": " << v.value;
        EXPECT_EQ(got, want) << o->name;
      } else {
        EXPECT_STREQ(v.value, o->def) << o->name;
      }
    }
    EXPECT_EQ(k, task.nvalues) << d->name;
  }
  EXPECT_GE(options, 13);
  EXPECT_GE(defaults, 9);
}

// Each option's help says what --help prints of it: its name and value,
// its help's words, its choices, its range and its default.
TEST(JobsTableTest, EveryOptionAppearsInItsJobsHelpAndList) {
  char* list_text = nullptr;
  size_t list_len = 0;
  FILE* list = open_memstream(&list_text, &list_len);
  cli_list_options(list);
  fclose(list);
  std::string all(list_text, list_len);
  free(list_text);
  size_t count = 0;
  const jobs_entry_t* const* t = jobs_table(&count);
  for (size_t i = 0; i < count; i++) {
    const taskfarm_kernel_t* d = t[i]->kernel;
    if (d == nullptr) continue;
    char* text = nullptr;
    size_t len = 0;
    FILE* out = open_memstream(&text, &len);
    jobs_options_help(d, "--", out);
    fclose(out);
    std::string help(text, len);
    free(text);
    // Words as --help wraps them: one space between words.
    std::string flat;
    for (char c : help) {
      if (c == '\n' || c == ' ') {
        if (!flat.empty() && flat.back() != ' ') flat += ' ';
      } else {
        flat += c;
      }
    }
    for (const taskfarm_option_t* o = d->options; o->name != nullptr; o++) {
      std::string head = std::string("--") + o->name + " " + o->value;
      EXPECT_NE(flat.find(head), std::string::npos) << head << "\n" << help;
      EXPECT_NE(flat.find(o->help), std::string::npos) << o->help << "\n"
                                                       << help;
      if (o->def != nullptr) {
        EXPECT_NE(flat.find(std::string("default ") + o->def),
                  std::string::npos)
            << o->name << "\n"
            << help;
      }
      for (int c = 0; o->type == TASKFARM_OPT_CHOICE && o->choices[c]; c++) {
        EXPECT_NE(flat.find(o->choices[c]), std::string::npos)
            << o->choices[c] << "\n"
            << help;
      }
      // `taskfarm --options` names it with the job that takes it.
      std::string line = std::string("\n--") + o->name + " ";
      size_t at = all.find(line);
      ASSERT_NE(at, std::string::npos) << line << all;
      std::string rest = all.substr(at + 1, all.find('\n', at + 1) - at - 1);
      EXPECT_NE((rest + " ").find(std::string(" ") + t[i]->command + " "),
                std::string::npos)
          << rest;
    }
  }
  // A loaded kernel's options are written --arg NAME=VALUE.
  const taskfarm_kernel_t* integrate = jobs_find("integrate")->kernel;
  char* text = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&text, &len);
  jobs_options_help(integrate, "--arg ", out);
  fclose(out);
  std::string help(text, len);
  free(text);
  EXPECT_NE(help.find("  --arg from=A "), std::string::npos) << help;
  EXPECT_NE(help.find("; from -1000000 to 1000000; default 0"),
            std::string::npos)
      << help;
}

// ------------------------------------------------------------ result lines

const char* OptionOf(const void* ctx, const char* name) {
  (void)ctx;
  if (strcmp(name, "size") == 0) return "640x480";
  return nullptr;
}

jobs_result_t SampleResult() {
  jobs_result_t r{};
  r.value = 3.0;
  r.sum = (unsigned __int128)1 << 100;
  r.has_reference = 1;
  r.reference = 2.5;
  r.n = 12345;
  r.chunks = 67;
  r.ranks = 3;
  r.option = OptionOf;
  r.ctx = nullptr;
  return r;
}

std::string Format(const char* tmpl, const jobs_result_t& r) {
  char out[256];
  int rc = jobs_format_line(tmpl, &r, out, sizeof(out));
  EXPECT_EQ(rc, 0) << tmpl << ": " << out;
  return out;
}

// Every template of every built-in job is one jobs_check_line takes, and
// formats with every field filled in.
TEST(JobsLinesTest, EveryTemplateFormats) {
  const jobs_result_t r = SampleResult();
  size_t count = 0;
  const jobs_entry_t* const* t = jobs_table(&count);
  int checked = 0;
  for (size_t i = 0; i < count; i++) {
    const taskfarm_kernel_t* d = t[i]->kernel;
    if (d == nullptr) continue;
    for (int l = 0; d->lines[l] != nullptr; l++) {
      char why[256] = "";
      EXPECT_EQ(jobs_check_line(d->lines[l], why, sizeof(why)), 0)
          << d->lines[l] << ": " << why;
      std::string out = Format(d->lines[l], r);
      EXPECT_EQ(out.find('{'), std::string::npos) << out;
      EXPECT_EQ(out.find('}'), std::string::npos) << out;
      EXPECT_EQ(out.find("nan"), std::string::npos) << out;
      EXPECT_GT(out.size(), 5u) << out;
      checked++;
    }
  }
  EXPECT_GE(checked, 12);
  // What the jobs print, field by field.
  const jobs_entry_t* pi = jobs_find("pi");
  EXPECT_EQ(Format(pi->kernel->lines[0], r),
            "PI is approximately 3.0000000000000000, Error is "
            "0.5000000000000000");
  EXPECT_EQ(Format(pi->kernel->lines[1], r), "PI bits = 0x1.8p+1");
  EXPECT_EQ(Format(jobs_find("dot")->kernel->lines[0], r),
            "Dot product is 1267650600228229401496703205376");
  EXPECT_EQ(Format(jobs_find("noop")->kernel->lines[0], r), "Chunks = 67");
  EXPECT_EQ(Format(jobs_find("hello")->kernel->lines[0], r),
            "3 ranks said hello");
  EXPECT_EQ(Format(jobs_find("mandelbrot")->kernel->lines[1], r),
            "Pixels = 640x480");
  EXPECT_EQ(Format(jobs_find("loop")->kernel->lines[1], r),
            "Iterations = 12345");
}

TEST(JobsLinesTest, FieldsAndFormats) {
  jobs_result_t r = SampleResult();
  EXPECT_EQ(Format("{float}", r), "3");
  EXPECT_EQ(Format("{float:.3e}|{float:+08.2f}|{float:a}", r),
            "3.000e+00|+0003.00|0x1.8p+1");
  EXPECT_EQ(Format("{uint} {n} {chunks} {ranks}", r),
            "1267650600228229401496703205376 12345 67 3");
  r.sum = (unsigned __int128)0 - 5;
  EXPECT_EQ(Format("{int}", r), "-5");
  EXPECT_EQ(Format("{uint}", r), "340282366920938463463374607431768211451");
  r.sum = ~(unsigned __int128)0 >> 1;  // the largest signed value
  EXPECT_EQ(Format("{int}", r), "170141183460469231731687303715884105727");
  r.sum = (unsigned __int128)1 << 127;  // the smallest
  EXPECT_EQ(Format("{int}", r), "-170141183460469231731687303715884105728");
  r.value = -0.1;
  r.reference = 0.1;
  EXPECT_EQ(Format("{error:.2f} {opt:size} [{opt:none}]", r),
            "0.20 640x480 []");
  // A template is not a format string: a % stays a %.
  EXPECT_EQ(Format("100% of {n} %s %n", r), "100% of 12345 %s %n");
}

TEST(JobsLinesTest, ABadTemplateIsRefusedWithASentence) {
  const struct {
    const char* tmpl;
    const char* says;
  } cases[] = {
      {"Result = {floot}",
       "no field {floot} (fields: float, bits, int, uint, error, n, chunks, "
       "ranks, opt:NAME)"},
      {"{float:d}", "field {float} has no format 'd'"},
      {"{float:%s}", "field {float} has no format '%s'"},
      {"{float:.3f%n}", "field {float} has no format '.3f%n'"},
      {"{float:100f}", "field {float} has no format '100f'"},
      {"{bits:.3f}", "field {bits} has no format '.3f'"},
      {"{int:x}", "field {int} has no format 'x'"},
      {"Result = {float", "a field opened with { is never closed"},
      // Flags beyond five would not fit the conversion the field is
      // printed with: cut, it would be a conversion with no letter.
      {"{float:------------------------------.1f}",
       "field {float} has no format '------------------------------.1f'"},
  };
  for (const auto& c : cases) {
    char why[256] = "";
    EXPECT_EQ(jobs_check_line(c.tmpl, why, sizeof(why)), -1) << c.tmpl;
    EXPECT_NE(std::string(why).find(c.says), std::string::npos)
        << c.tmpl << ": " << why;
    char out[256];
    EXPECT_EQ(jobs_format_line(c.tmpl, nullptr, out, sizeof(out)), -1);
  }
  // A descriptor with such a line is one the farm cannot run.
  static const char* const kLines[] = {"Value = {floot}", nullptr};
  taskfarm_kernel_t d{};
  d.abi = TASKFARM_KERNEL_ABI;
  d.name = "bad-lines";
  d.result = TASKFARM_RESULT_FLOAT;
  d.compute = [](void*, uint64_t, uint64_t, const taskfarm_out_t*, char*,
                 size_t) { return 0; };
  d.lines = kLines;
  jobs_spec_t spec;
  char why[256] = "";
  EXPECT_EQ(jobs_spec_of(&d, &spec, why, sizeof(why)), -1);
  EXPECT_NE(std::string(why).find(
                "has a result line that cannot be printed: no field {floot}"),
            std::string::npos)
      << why;
}

// Malformed option declarations are refused with a sentence naming them.
TEST(JobsLinesTest, ABadOptionDeclarationIsRefused) {
  static const char* const kNoWords[] = {nullptr};
  const struct {
    taskfarm_option_t options[3];
    const char* says;
  } cases[] = {
      {{{"Bad Name", TASKFARM_OPT_TEXT, "X", "h", nullptr, 0, 0, nullptr},
        {nullptr, 0, nullptr, nullptr, nullptr, 0, 0, nullptr}},
       "declares an option named 'Bad Name'"},
      {{{"pick", TASKFARM_OPT_CHOICE, "X", "h", nullptr, 0, 0, kNoWords},
        {nullptr, 0, nullptr, nullptr, nullptr, 0, 0, nullptr}},
       "declares option 'pick' of no known type (5) or a choice of no words"},
      {{{"odd", 42, "X", "h", nullptr, 0, 0, nullptr},
        {nullptr, 0, nullptr, nullptr, nullptr, 0, 0, nullptr}},
       "declares option 'odd' of no known type (42)"},
      {{{"twice", TASKFARM_OPT_TEXT, "X", "h", nullptr, 0, 0, nullptr},
        {"twice", TASKFARM_OPT_REAL, "X", "h", nullptr, 0, 0, nullptr},
        {nullptr, 0, nullptr, nullptr, nullptr, 0, 0, nullptr}},
       "declares option 'twice' twice"},
  };
  for (const auto& c : cases) {
    taskfarm_kernel_t d{};
    d.abi = TASKFARM_KERNEL_ABI;
    d.name = "bad-options";
    d.result = TASKFARM_RESULT_INT;
    d.compute = [](void*, uint64_t, uint64_t, const taskfarm_out_t*, char*,
                   size_t) { return 0; };
    d.options = c.options;
    jobs_spec_t spec;
    char why[256] = "";
    EXPECT_EQ(jobs_spec_of(&d, &spec, why, sizeof(why)), -1) << c.says;
    EXPECT_NE(std::string(why).find(c.says), std::string::npos) << why;
  }
}

// A short buffer holds the start of a line, and nothing past its end is
// written (nor, since the fix, is a pointer past its end formed: no
// sanitizer here sees that, so this pins the cut alone).
TEST(JobsLinesTest, AShortBufferIsCutNeverOverrun) {
  const jobs_result_t r = SampleResult();
  const std::string whole = "12345 of 640x480";
  for (size_t len : {1, 2, 5, 6, 9, 16, 17, 40}) {
    std::vector<char> out(len + 8, '#');
    ASSERT_EQ(jobs_format_line("{n} of {opt:size}", &r, out.data(), len), 0);
    EXPECT_EQ(std::string(out.data()), whole.substr(0, len - 1)) << len;
    EXPECT_EQ(std::string(out.data() + len, 8), "########") << len;
  }
  char none = '#';
  EXPECT_EQ(jobs_format_line("{n} of {opt:size}", &r, &none, 0), 0);
  EXPECT_EQ(none, '#');
  const std::string commands =
      "dot, hello, integrate, loop, mandelbrot, noop, pi, run";
  for (size_t len : {1, 3, 4, 5, 11, 54, 55}) {
    std::vector<char> buf(len + 8, '#');
    jobs_commands(buf.data(), len, ", ");
    EXPECT_EQ(std::string(buf.data()), commands.substr(0, len - 1)) << len;
    EXPECT_EQ(std::string(buf.data() + len, 8), "########") << len;
  }
  jobs_commands(&none, 0, ", ");
  EXPECT_EQ(none, '#');
}

// ------------------------------------------------------------- descriptors

int ComputeNothing(void*, uint64_t, uint64_t, const taskfarm_out_t*, char*,
                   size_t) {
  return 0;
}

// A version 2 descriptor the farm takes: a name, a compute, a float sum.
taskfarm_kernel_t Descriptor() {
  taskfarm_kernel_t d{};
  d.abi = TASKFARM_KERNEL_ABI;
  d.name = "tested";
  d.result = TASKFARM_RESULT_FLOAT;
  d.compute = ComputeNothing;
  return d;
}

// What jobs_spec_of says of d: "" when it takes it (spec, when given, is
// then what it copied).
std::string SpecWhy(const taskfarm_kernel_t& d, jobs_spec_t* spec = nullptr) {
  jobs_spec_t own;
  char why[512] = "";
  int rc = jobs_spec_of(&d, spec != nullptr ? spec : &own, why, sizeof(why));
  EXPECT_EQ(rc == 0, why[0] == '\0') << why;
  return why;
}

TEST(JobsSpecTest, ABadDescriptorIsRefusedNamingWhatIsWrong) {
  taskfarm_kernel_t d = Descriptor();
  d.name = "Bad Name";
  EXPECT_EQ(SpecWhy(d),
            "is named 'Bad Name': a kernel's name is lower-case letters, "
            "digits, '-' and '_', shorter than 64 bytes");
  d = Descriptor();
  d.name = nullptr;
  EXPECT_EQ(SpecWhy(d), "has a descriptor without a name");
  d = Descriptor();
  d.compute = nullptr;
  EXPECT_EQ(SpecWhy(d), "has a descriptor without a compute function");
  for (uint32_t result : {4u, 5u, 0x80000000u}) {
    d = Descriptor();
    d.result = result;
    EXPECT_EQ(SpecWhy(d), "declares a result of " + std::to_string(result) +
                              ", not TASKFARM_RESULT_FLOAT (1) and/or "
                              "TASKFARM_RESULT_INT (2)");
  }
  // A result of 0, no sum, is hello's (it computes nothing, n is 0): taken,
  // with no default lines. A loaded kernel's is refused when it is loaded.
  EXPECT_EQ(jobs_find("hello")->kernel->result, 0u);
  d = Descriptor();
  d.result = 0;
  jobs_spec_t spec;
  EXPECT_EQ(SpecWhy(d, &spec), "");
  EXPECT_EQ(spec.nlines, 0);
}

// No kernel declares an n whose arithmetic (2n, n rounded up to its
// alignment) overflows: n_max is at most 2^60, whatever it says.
TEST(JobsSpecTest, TheLargestNIsAtMostTwoToThe60) {
  const uint64_t cap = 1ull << 60;
  const struct {
    uint64_t declared, taken;
  } cases[] = {{0, cap},   {5, 5},         {cap - 1, cap - 1},
               {cap, cap}, {cap + 1, cap}, {UINT64_MAX, cap}};
  for (const auto& c : cases) {
    taskfarm_kernel_t d = Descriptor();
    d.n_max = c.declared;
    jobs_spec_t spec;
    ASSERT_EQ(SpecWhy(d, &spec), "") << c.declared;
    EXPECT_EQ(spec.n_max, c.taken) << c.declared;
  }
  EXPECT_EQ(JOBS_N_MAX_DEFAULT, cap);
  taskfarm_kernel_t d = Descriptor();
  d.n_max = UINT64_MAX;
  d.align = 1ull << 61;
  EXPECT_EQ(SpecWhy(d),
            "declares an alignment of 2305843009213693952, more than its "
            "largest n, 1152921504606846976");
}

// A job's task holds the identities of JOBS_INPUTS_MAX files.
TEST(JobsSpecTest, AtMostFourInputOptions) {
  static const taskfarm_option_t kFive[] = {
      {"a", TASKFARM_OPT_INPUT, "FILE", "a file", nullptr, 0, 0, nullptr},
      {"b", TASKFARM_OPT_INPUT, "FILE", "a file", nullptr, 0, 0, nullptr},
      {"out", TASKFARM_OPT_OUTPUT, "FILE", "a file", nullptr, 0, 0, nullptr},
      {"c", TASKFARM_OPT_INPUT, "FILE", "a file", nullptr, 0, 0, nullptr},
      {"d", TASKFARM_OPT_INPUT, "FILE", "a file", nullptr, 0, 0, nullptr},
      {"e", TASKFARM_OPT_INPUT, "FILE", "a file", nullptr, 0, 0, nullptr},
      {nullptr, 0, nullptr, nullptr, nullptr, 0, 0, nullptr}};
  ASSERT_EQ(JOBS_INPUTS_MAX, 4);
  taskfarm_kernel_t d = Descriptor();
  d.options = kFive;
  EXPECT_EQ(SpecWhy(d),
            "declares INPUT option 'e' beyond the 4 input files a job reads");
  // The first five (four inputs and an output) are taken.
  taskfarm_option_t four[6];
  memcpy(four, kFive, 5 * sizeof(four[0]));
  four[5] = kFive[6];
  d.options = four;
  jobs_spec_t spec;
  EXPECT_EQ(SpecWhy(d, &spec), "");
  EXPECT_EQ(spec.declares, 1);
}

// {opt:NAME} prints an option's value: a kernel that declares its options
// can print only those.
TEST(JobsSpecTest, AResultLineNamesOnlyDeclaredOptions) {
  static const taskfarm_option_t kPower[] = {
      {"power", TASKFARM_OPT_INTEGER, "P", "the power", "2", 1, 16, nullptr},
      {nullptr, 0, nullptr, nullptr, nullptr, 0, 0, nullptr}};
  static const taskfarm_option_t kNone[] = {
      {nullptr, 0, nullptr, nullptr, nullptr, 0, 0, nullptr}};
  static const char* const kGood[] = {"Power = {opt:power}", nullptr};
  static const char* const kColour[] = {"Power = {opt:power}",
                                        "Colour = {opt:colour}", nullptr};
  static const char* const kPrefix[] = {"Power = {opt:pow}", nullptr};
  taskfarm_kernel_t d = Descriptor();
  d.options = kPower;
  d.lines = kGood;
  EXPECT_EQ(SpecWhy(d), "");
  d.lines = kColour;
  EXPECT_EQ(SpecWhy(d),
            "has a result line that cannot be printed: field {opt:colour} "
            "names no option the kernel declares");
  d.lines = kPrefix;
  EXPECT_EQ(SpecWhy(d),
            "has a result line that cannot be printed: field {opt:pow} "
            "names no option the kernel declares");
  // An empty list declares that it takes none.
  d.options = kNone;
  d.lines = kGood;
  EXPECT_EQ(SpecWhy(d),
            "has a result line that cannot be printed: field {opt:power} "
            "names no option the kernel declares");
  // A kernel that declares no list takes any --arg KEY=VALUE, and may
  // print any.
  d.options = nullptr;
  d.lines = kColour;
  EXPECT_EQ(SpecWhy(d), "");
  char why[256] = "";
  EXPECT_EQ(jobs_check_line_of("{opt:colour}", nullptr, why, sizeof(why)), 0)
      << why;
  EXPECT_EQ(jobs_check_line_of("{opt:colour}", kPower, why, sizeof(why)), -1);
  EXPECT_STREQ(why, "field {opt:colour} names no option the kernel declares");
}

// A range the farm can print and check: finite bounds in order, a count's
// from 0, and a whole number within them for a count or an integer.
TEST(JobsSpecTest, ABadRangeIsRefusedWithItsBounds) {
  const struct {
    uint32_t type;
    double min, max;
    const char* says;  // "" when taken
  } cases[] = {
      {TASKFARM_OPT_COUNT, -1, 10,
       "declares count option 'x' with the range [-1, 10]: a count's range "
       "starts at 0 or above"},
      {TASKFARM_OPT_COUNT, -0.5, 0.5,
       "declares count option 'x' with the range [-0.5, 0.5]: a count's "
       "range starts at 0 or above"},
      {TASKFARM_OPT_COUNT, -1e30, -1e20,
       "declares count option 'x' with the range [-1e+30, -1e+20]: a "
       "count's range starts at 0 or above"},
      {TASKFARM_OPT_INTEGER, 5, 1,
       "declares option 'x' with the range [5, 1]: its bounds must be "
       "finite, the first at most the second"},
      {TASKFARM_OPT_REAL, 0, NAN,
       "declares option 'x' with the range [0, nan]: its bounds must be "
       "finite, the first at most the second"},
      {TASKFARM_OPT_REAL, -INFINITY, 0,
       "declares option 'x' with the range [-inf, 0]: its bounds must be "
       "finite, the first at most the second"},
      {TASKFARM_OPT_COUNT, 0, INFINITY,
       "declares option 'x' with the range [0, inf]: its bounds must be "
       "finite, the first at most the second"},
      {TASKFARM_OPT_INTEGER, 0.25, 0.75,
       "declares option 'x' with the range [0.25, 0.75], which holds no "
       "whole number"},
      {TASKFARM_OPT_COUNT, 1.5, 1.5,
       "declares option 'x' with the range [1.5, 1.5], which holds no "
       "whole number"},
      {TASKFARM_OPT_REAL, 0.25, 0.75, ""},
      {TASKFARM_OPT_INTEGER, 3, 3, ""},
      {TASKFARM_OPT_INTEGER, -9.2e18, 9.2e18, ""},
      {TASKFARM_OPT_COUNT, 0, 1.8e19, ""},
      {TASKFARM_OPT_COUNT, 0, 1e30, ""},
  };
  for (const auto& c : cases) {
    taskfarm_option_t options[2] = {
        {"x", c.type, "X", "a number", nullptr, c.min, c.max, nullptr},
        {nullptr, 0, nullptr, nullptr, nullptr, 0, 0, nullptr}};
    taskfarm_kernel_t d = Descriptor();
    d.options = options;
    EXPECT_EQ(SpecWhy(d), c.says) << c.type << " " << c.min << " " << c.max;
  }
}

// ---------------------------------------------------------------- integrate

struct Integrand {
  const char* function;
  double a, b;
  double integral;  // the closed form
  double (*f)(double);
  double (*df)(double);  // f', for the midpoint rule's h^2 term
};

double PiF(double x) { return 4.0 / (1.0 + x * x); }
double PiDf(double x) { return -8.0 * x / ((1 + x * x) * (1 + x * x)); }
double Sin(double x) { return std::sin(x); }
double Cos(double x) { return std::cos(x); }
double Exp(double x) { return std::exp(x); }
double Gauss(double x) { return std::exp(-x * x); }
double GaussDf(double x) { return -2 * x * std::exp(-x * x); }

const Integrand kIntegrands[] = {
    {"pi", 0, 1, M_PI, PiF, PiDf},
    {"sin", 0, 3, 1 - std::cos(3.0), Sin, Cos},
    {"exp", -1, 2, std::exp(2.0) - std::exp(-1.0), Exp, Exp},
    {"gauss", -2, 1.5, std::sqrt(M_PI) / 2 * (std::erf(1.5) + std::erf(2.0)),
     Gauss, GaussDf},
};

std::vector<std::string> IntegrateArgs(const Integrand& g, uint64_t n) {
  char a[32], b[32];
  snprintf(a, sizeof(a), "%.17g", g.a);
  snprintf(b, sizeof(b), "%.17g", g.b);
  return {"integrate",
          "--n",
          std::to_string(n),
          "--function",
          g.function,
          "--from",
          a,
          "--to",
          b};
}

// The midpoint rule as jobs/integrate.c documents it, each term f(x) h
// rounded to a double as the kernel adds it, the terms summed in quad
// precision (exactly: they share a sign and span fewer than 113 bits) and
// rounded once.
double MidpointByDefinition(const Integrand& g, uint64_t n) {
  double h = (g.b - g.a) / (double)n;
  ref::quad s = 0;
  for (uint64_t i = 0; i < n; i++) {
    volatile double x = g.a + ((double)i + 0.5) * h;
    volatile double term = g.f(x) * h;
    s += term;
  }
  return (double)s;
}

// The default job is MPICH's cpi: 4/(1+x^2) over [0, 1], pi as reference.
TEST(IntegrateTest, TheDefaultIsCpi) {
  auto job = Resolved({"integrate", "--n", "1000"});
  EXPECT_STREQ(jobs_value(&job->task, "function"), "pi");
  EXPECT_STREQ(jobs_value(&job->task, "from"), "0");
  EXPECT_STREQ(jobs_value(&job->task, "to"), "1");
  ASSERT_TRUE(job->task.has_reference);
  EXPECT_EQ(job->task.reference, M_PI);
  EXPECT_STREQ(job->task.reference_what, "the closed form F(to) - F(from)");
  Sums s = Compute(*job, {0, 1000});
  // Midpoint rule on 4/(1+x^2): pi + h^2/12 (f'(1) - f'(0) = -2), and the
  // h^4 term vanishes (f'''(0) = f'''(1) = 0).
  EXPECT_NEAR(s.f, M_PI + 1e-6 / 12, 1e-14);
  EXPECT_TRUE(s.i == 0);
  // Ten times the intervals: a hundredth of the error.
  auto fine = Resolved({"integrate", "--n", "10000"});
  Sums t = Compute(*fine, {0, 10000});
  EXPECT_NEAR((s.f - M_PI) / (t.f - M_PI), 100, 1e-3);
}

// Each integrand against its closed form (the reference the job reports)
// with the midpoint rule's h^2 term, and bit for bit against the rule
// summed independently.
TEST(IntegrateTest, MatchesTheClosedForms) {
  const uint64_t n = 4000;
  for (const Integrand& g : kIntegrands) {
    auto job = Resolved(IntegrateArgs(g, n));
    ASSERT_EQ(job->n, n);
    ASSERT_TRUE(job->task.has_reference) << g.function;
    EXPECT_NEAR(job->task.reference, g.integral, 1e-15 * std::fabs(g.integral))
        << g.function;
    double h = (g.b - g.a) / (double)n;
    double want = g.integral - h * h / 24 * (g.df(g.b) - g.df(g.a));
    Sums s = Compute(*job, {0, n});
    EXPECT_NEAR(s.f, want, 1e-12) << g.function;
    // The h^2 term is there: far beyond the tolerance above.
    EXPECT_GT(std::fabs(s.f - g.integral), 1e-9) << g.function;
    double def = MidpointByDefinition(g, n);
    EXPECT_TRUE(SameBits(s.f, def))
        << g.function << ": " << s.f << " vs " << def;
  }
}

// The same bits however [0, n) is cut, in whatever order the pieces come,
// and whatever --chunk says.
TEST(IntegrateTest, BitsDoNotDependOnTheCuts) {
  const uint64_t n = 30011;
  for (const Integrand& g : kIntegrands) {
    auto job = Resolved(IntegrateArgs(g, n));
    double whole = Compute(*job, {0, n}).f;
    EXPECT_TRUE(SameBits(Compute(*job, Every(n, 1)).f, whole)) << g.function;
    EXPECT_TRUE(SameBits(Compute(*job, Every(n, 1000), true).f, whole))
        << g.function;
    for (uint64_t seed : {1, 2, 3}) {
      EXPECT_TRUE(SameBits(Compute(*job, RandomCuts(n, 1, seed)).f, whole))
          << g.function << " seed " << seed;
    }
    for (const char* chunk : {"7", "4096", "30010"}) {
      std::vector<std::string> args = IntegrateArgs(g, n);
      args.insert(args.end(), {"--chunk", chunk});
      auto chunked = Resolved(args);
      ASSERT_EQ(chunked->chunk, std::stoull(chunk));
      EXPECT_EQ(cli_job_fingerprint(chunked.get()),
                cli_job_fingerprint(job.get()));
      EXPECT_TRUE(
          SameBits(Compute(*chunked, Every(n, chunked->chunk)).f, whole))
          << g.function << " --chunk " << chunk;
    }
  }
}

TEST(IntegrateTest, OptionsAreCheckedAndCanonical) {
  auto job = NewJob();
  std::string err;
  // One value, one form: the fingerprint does not see how it was written.
  auto a = Resolved({"integrate", "--n", "100", "--from", "0.50"});
  auto b = Resolved({"integrate", "--n", "100", "--from", "5e-1"});
  auto c = Resolved({"integrate", "--n", "100", "--from", "0.25"});
  auto d = Resolved(
      {"integrate", "--n", "100", "--function", "sin", "--from", "0.5"});
  EXPECT_STREQ(jobs_value(&a->task, "from"), "0.5");
  EXPECT_STREQ(jobs_value(&b->task, "from"), "0.5");
  EXPECT_EQ(cli_job_fingerprint(a.get()), cli_job_fingerprint(b.get()));
  EXPECT_NE(cli_job_fingerprint(a.get()), cli_job_fingerprint(c.get()));
  EXPECT_NE(cli_job_fingerprint(a.get()), cli_job_fingerprint(d.get()));
  EXPECT_NE(cli_job_results_fingerprint(a.get()),
            cli_job_results_fingerprint(d.get()));
  // Its largest n keeps i + 1/2 exact in a double.
  EXPECT_EQ(jobs_find("integrate")->kernel->n_max, 1ull << 52);
  EXPECT_EQ(Resolve({"integrate", "--n", "4503599627370497"}, job.get(), &err),
            PROTO_ERANGE);
  EXPECT_NE(err.find("--n 4503599627370497 is beyond the supported maximum "
                     "4503599627370496 of integrate"),
            std::string::npos)
      << err;
  EXPECT_EQ(Resolve({"integrate", "--n", "10", "--from", "3", "--to", "2"},
                    job.get(), &err),
            PROTO_EINVAL);
  EXPECT_EQ(err, "integrate needs --from below --to, got [3, 2]");
  EXPECT_EQ(Resolve({"integrate", "--n", "10", "--from", "1", "--to", "1"},
                    job.get(), &err),
            PROTO_EINVAL);
  EXPECT_EQ(err, "integrate needs --from below --to, got [1, 1]");
}

// Bounds are written back as the farm holds them: every digit that tells
// two doubles apart.
TEST(IntegrateTest, ARefusedIntervalShowsItsBoundsExactly) {
  auto job = NewJob();
  std::string err;
  EXPECT_EQ(Resolve({"integrate", "--n", "10", "--from", "0.30000000000000004",
                     "--to", "0.3"},
                    job.get(), &err),
            PROTO_EINVAL);
  EXPECT_EQ(err,
            "integrate needs --from below --to, got [0.30000000000000004, "
            "0.29999999999999999]");
  EXPECT_EQ(Resolve({"integrate", "--n", "10", "--from", "1", "--to",
                     "0.99999999999999989"},
                    job.get(), &err),
            PROTO_EINVAL);
  EXPECT_EQ(err,
            "integrate needs --from below --to, got [1, "
            "0.99999999999999989]");
}

// exp grows to the largest double at 709.78: beyond 709 its terms, sum or
// reference could be infinite, and the run would print inf and nan.
TEST(IntegrateTest, ExpIsRefusedWhereItCouldOverflow) {
  const std::string says =
      "integrate --function exp needs --to at most 709, where exp stays "
      "below half the largest double, got ";
  auto refused = NewJob();
  std::string err;
  for (const char* to : {"1000", "709.5", "709.00000000000011"}) {
    EXPECT_EQ(
        Resolve({"integrate", "--n", "10", "--function", "exp", "--to", to},
                refused.get(), &err),
        PROTO_EINVAL)
        << to;
    EXPECT_EQ(err, says + to);
  }
  EXPECT_EQ(Resolve({"integrate", "--n", "10", "--function", "exp", "--from",
                     "710", "--to", "711"},
                    refused.get(), &err),
            PROTO_EINVAL);
  EXPECT_EQ(err, says + "711");
  // At 709: finite, the closed form exp(709) - exp(708) less the midpoint
  // rule's h^2 term, h^2/24 of it (f'' = f), here h = 1/1000.
  auto job = Resolved({"integrate", "--n", "1000", "--function", "exp",
                       "--from", "708", "--to", "709"});
  const double closed = std::exp(709.0) - std::exp(708.0);
  ASSERT_TRUE(job->task.has_reference);
  EXPECT_NEAR(job->task.reference / closed, 1, 1e-15);
  Sums s = Compute(*job, RandomCuts(1000, 1, 4));
  ASSERT_TRUE(std::isfinite(s.f));
  EXPECT_NEAR(s.f / closed, 1 - 1e-6 / 24, 1e-12);
  // The widest interval up to 709: its last midpoint is within 1/2 of 709.
  auto wide = Resolved({"integrate", "--n", "1000000", "--function", "exp",
                        "--from", "-1e6", "--to", "709"});
  Sums w = Compute(*wide, {0, 1000000});
  EXPECT_TRUE(std::isfinite(w.f));
  EXPECT_GT(w.f, std::exp(708.0));
  EXPECT_LT(w.f, std::exp(709.0));
  // gauss, exp(-x^2), is at most 1: it takes the widest bounds.
  auto gauss = Resolved({"integrate", "--n", "1000", "--function", "gauss",
                         "--from", "-1e6", "--to", "1e6"});
  EXPECT_TRUE(std::isfinite(Compute(*gauss, {0, 1000}).f));
}

// ---------------------------------------------------------------------- loop

// splitmix64's output for state seed * golden + i + 1 (Vigna), written out.
uint64_t Splitmix(uint64_t seed, uint64_t i) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + i + 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The loop job's checksum is the exact sum of its iterations' hashes, for
// any cut; its --cost choices are the profiles' names, in their order.
TEST(LoopJobTest, TheChecksumIsTheSumOfTheHashes) {
  const uint64_t n = 5000;
  auto job = Resolved({"loop", "--n", std::to_string(n), "--seed", "12345",
                       "--cost", "bimodal", "--mean", "100", "--spread", "50"});
  unsigned __int128 want = 0;
  for (uint64_t i = 0; i < n; i++) want += Splitmix(12345, i);
  for (uint64_t seed : {1, 2}) {
    kernel_t k;
    ASSERT_EQ(kernel_init(&k, &job->task, n), 0) << k.what;
    k.scale = 1;  // a unit of work per microsecond: no time to speak of
    proto_exact_t acc;
    proto_exact_init(&acc);
    unsigned __int128 isum = 0;
    std::vector<uint64_t> cuts = RandomCuts(n, 1, seed);
    for (size_t p = 0; p + 1 < cuts.size(); p++)
      ASSERT_EQ(kernel_add(&k, cuts[p], cuts[p + 1], &acc, &isum), 0);
    kernel_close(&k);
    EXPECT_EQ(U128(isum), U128(want));
    EXPECT_EQ(proto_exact_to_double(&acc), 0.0);
  }
  const taskfarm_option_t* cost = jobs_find("loop")->kernel->options;
  ASSERT_STREQ(cost->name, "cost");
  int c = 0;
  for (; cost->choices[c] != nullptr; c++)
    EXPECT_STREQ(cost->choices[c], loop_cost_name((loop_cost_t)c));
  EXPECT_EQ(c, (int)LOOP_COST_COUNT);
  EXPECT_EQ(loop_cost_name(LOOP_COST_COUNT), nullptr);
}

// ------------------------------------------------------------ typed options

struct Refusal {
  std::vector<std::string> args;
  std::string says;  // the whole sentence, or its start when it ends in ...
};

void ExpectRefused(const std::vector<Refusal>& cases) {
  auto job = NewJob();
  for (const Refusal& c : cases) {
    std::string err;
    int rc = Resolve(c.args, job.get(), &err);
    std::string what = c.args[0];
    for (size_t i = 1; i < c.args.size(); i++) what += " " + c.args[i];
    EXPECT_EQ(rc, PROTO_EINVAL) << what << ": " << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    if (c.says.size() > 3 && c.says.substr(c.says.size() - 3) == "...") {
      EXPECT_EQ(err.substr(0, c.says.size() - 3),
                c.says.substr(0, c.says.size() - 3))
          << what;
    } else {
      EXPECT_EQ(err, c.says) << what;
    }
  }
}

TEST(TypedOptionsTest, BuiltInJobsRefuseBadValuesNamingTheOption) {
  ExpectRefused({
      {{"integrate", "--n", "10", "--function", "tan"},
       "unknown --function 'tan': use pi, sin, exp or gauss"},
      {{"integrate", "--n", "10", "--function", ""},
       "unknown --function '': use pi, sin, exp or gauss"},
      {{"integrate", "--n", "10", "--from", "abc"},
       "--from takes a number from -1000000 to 1000000, got 'abc'"},
      {{"integrate", "--n", "10", "--from", "1x"},
       "--from takes a number from -1000000 to 1000000, got '1x'"},
      {{"integrate", "--n", "10", "--to", "2e6"},
       "--to takes a number from -1000000 to 1000000, got '2e6'"},
      {{"integrate", "--n", "10", "--to", "-1000000.5"},
       "--to takes a number from -1000000 to 1000000, got '-1000000.5'"},
      {{"integrate", "--n", "10", "--to", "nan"},
       "--to takes a number from -1000000 to 1000000, got 'nan'"},
      {{"integrate", "--n", "10", "--to", "inf"},
       "--to takes a number from -1000000 to 1000000, got 'inf'"},
      {{"integrate", "--n", "10", "--from", "1e400"},
       "--from takes a number from -1000000 to 1000000, got '1e400'"},
      {{"loop", "--n", "10", "--cost", "lognormal"},
       "unknown --cost 'lognormal': use constant, uniform, normal, "
       "exponential, gamma, increasing, decreasing or bimodal"},
      {{"loop", "--n", "10", "--mean", "0"},
       "--mean takes a number from 1 to 1000000000, got '0'"},
      {{"loop", "--n", "10", "--seed", "1.5"},
       "--seed takes a whole number from 0 to ..."},
      {{"loop", "--n", "10", "--seed", "-1"},
       "--seed takes a whole number from 0 to ..."},
      {{"loop", "--n", "10", "--cost", "uniform", "--mean", "100", "--spread",
        "200"},
       "--cost uniform needs --spread (200) at most --mean (100): a cost "
       "cannot be negative"},
      {{"loop", "--n", "10", "--cost", "gamma", "--spread", "0"},
       "--cost gamma needs --spread > 0 (its standard deviation)"},
      {{"mandelbrot", "--max-iter", "0"},
       "--max-iter takes a whole number from 1 to 1000000000 (such as 1000000 "
       "or 1e6), got '0'"},
      {{"mandelbrot", "--max-iter", "2e9"},
       "--max-iter takes a whole number from 1 to 1000000000 (such as 1000000 "
       "or 1e6), got '2e9'"},
      {{"mandelbrot", "--size", "10x0"},
       "--size takes WxH, two whole numbers from 1 to 1000000 in digits "
       "alone such as 1024x768, got '10x0'"},
      {{"mandelbrot", "--image", ""},
       "--image needs a file name, got an empty one"},
  });
  // The same values, written well, are taken.
  auto job = NewJob();
  std::string err;
  EXPECT_EQ(Resolve({"loop", "--n", "10", "--seed", "1e3", "--cost", "gamma",
                     "--mean", "100", "--spread", "50"},
                    job.get(), &err),
            0)
      << err;
  EXPECT_STREQ(jobs_value(&job->task, "seed"), "1000");
  EXPECT_STREQ(jobs_value(&job->task, "cost"), "gamma");
  EXPECT_EQ(jobs_value(&job->task, "nothing"), nullptr);
  EXPECT_EQ(Resolve({"mandelbrot", "--max-iter", "1e9", "--size", "4x3"},
                    job.get(), &err),
            0)
      << err;
  EXPECT_EQ(job->n, 12u);  // n from the options: its pixels
  EXPECT_STREQ(jobs_value(&job->task, "max-iter"), "1000000000");
  EXPECT_EQ(jobs_value(&job->task, "image"), nullptr);
}

std::string Zeta() { return Runfile("examples/libzeta.so"); }

TEST(TypedOptionsTest, ALoadedKernelsOptionsAreCheckedBeforeItRuns) {
  const std::string z = Zeta();
  auto run = [&](std::vector<std::string> more) {
    std::vector<std::string> args = {"run", "--kernel", z, "--n", "100"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  ExpectRefused({
      {run({"--arg", "power=abc"}),
       "--arg power takes a whole number from 1 to 16, got 'abc'"},
      {run({"--arg", "power=0"}),
       "--arg power takes a whole number from 1 to 16, got '0'"},
      {run({"--arg", "power=17"}),
       "--arg power takes a whole number from 1 to 16, got '17'"},
      {run({"--arg", "power=2.5"}),
       "--arg power takes a whole number from 1 to 16, got '2.5'"},
      {run({"--arg", "power="}),
       "--arg power takes a whole number from 1 to 16, got ''"},
      {run({"--arg", "power=99999999999999999999"}),
       "--arg power takes a whole number from 1 to 16, got "
       "'99999999999999999999'"},
      {run({"--arg", "colour=1"}),
       "zeta takes no option --arg colour (it takes --arg power, --arg "
       "fail_at)"},
      {run({"--arg", "power"}), "--arg takes KEY=VALUE, got 'power'"},
      {run({"--arg", "=2"}), "--arg takes KEY=VALUE, got '=2'"},
      {run({"--arg", "power=2", "--arg", "power=3"}),
       "--arg power is given more than once"},
      {{"run", "--n", "10"},
       "run needs --kernel FILE, a shared object built against "
       "taskfarm_kernel.h"},
      {{"run", "--kernel", z, "--n", "10", "--power", "2"},
       "unknown option '--power' for job run (see taskfarm run --help)"},
  });
  auto job = NewJob();
  std::string err;
  EXPECT_EQ(Resolve({"run", "--kernel", z, "--n", "2e12"}, job.get(), &err),
            PROTO_ERANGE);
  EXPECT_EQ(err,
            "--n 2000000000000 is beyond the supported maximum 1099511627776 "
            "of zeta");
  // Taken: canonical, the defaults filled in.
  ASSERT_EQ(Resolve(run({"--arg", "power=+4"}), job.get(), &err), 0) << err;
  EXPECT_STREQ(jobs_value(&job->task, "power"), "4");
  EXPECT_EQ(jobs_value(&job->task, "fail_at"), nullptr);
  EXPECT_STREQ(job->task.spec.name, "zeta");
  EXPECT_EQ(job->task.spec.declares, 1);
  ASSERT_TRUE(job->task.has_reference);
  EXPECT_DOUBLE_EQ(job->task.reference, std::pow(M_PI, 4) / 90);
  // Computed in this process: the integer sum of i^2, i < n, exactly, and
  // zeta(4)'s partial sum within a few ulp of quad precision.
  for (uint64_t seed : {5, 6}) {
    Sums s = Compute(*job, RandomCuts(100, 1, seed));
    EXPECT_EQ(U128(s.i), U128((unsigned __int128)99 * 100 * 199 / 6));
    ref::quad want = 0;
    for (int i = 100; i >= 1; i--) want += 1 / ((ref::quad)i * i * i * i);
    EXPECT_LE(ref::UlpDistance(s.f, want), 4.0);
  }
}

// --size is text, kept and printed as given ("Pixels = WxH") and part of
// the fingerprint: only its one spelling is taken.
TEST(TypedOptionsTest, MandelbrotTakesOnlyTheOneSpellingOfASize) {
  const std::string says =
      "--size takes WxH, two whole numbers from 1 to 1000000 in digits alone "
      "such as 1024x768, got '";
  std::vector<Refusal> cases;
  for (const char* size :
       {"+4x+4",     " 4x 4",     "4x 4", "+4x4",  "4x+4",
        "04x4",      "4x04",      "4X4",  "4x4x4", "x4",
        "4x",        "4",         "",     "0x4",   "4x0",
        "1000001x1", "1x1000001", "4x4 ", "4 x4",  "18446744073709551620x1",
        "4.0x4",     "0x4x4"})
    cases.push_back({{"mandelbrot", "--size", size}, says + size + "'"});
  ExpectRefused(cases);
  auto job = Resolved({"mandelbrot", "--size", "1000000x3"});
  EXPECT_EQ(job->n, 3000000u);
  EXPECT_STREQ(jobs_value(&job->task, "size"), "1000000x3");
  jobs_result_t r{};
  r.option = [](const void* ctx, const char* name) {
    return jobs_value(static_cast<const jobs_task_t*>(ctx), name);
  };
  r.ctx = &job->task;
  EXPECT_EQ(Format(job->task.spec.line[1], r), "Pixels = 1000000x3");
}

// A subnormal number is a finite number: taken, and kept in the form that
// reads back as the same double; only an overflow is refused.
TEST(TypedOptionsTest, ASubnormalNumberIsTaken) {
  const struct {
    const char* given;
    const char* kept;
    double value;  // 2^-1074 times a whole number, or 0
  } cases[] = {
      {"1e-310", "9.9999999999999694e-311",
       std::ldexp(20240225330731.0, -1074)},
      {"-1e-310", "-9.9999999999999694e-311",
       -std::ldexp(20240225330731.0, -1074)},
      {"4.9406564584124654e-324", "4.9406564584124654e-324",
       std::ldexp(1.0, -1074)},
      {"1e-400", "0", 0.0},  // below half the least: rounds to 0
  };
  for (const auto& c : cases) {
    auto job = Resolved({"integrate", "--n", "10", "--from", c.given});
    EXPECT_STREQ(jobs_value(&job->task, "from"), c.kept) << c.given;
    EXPECT_TRUE(SameBits(strtod(c.kept, nullptr), c.value)) << c.given;
  }
  ExpectRefused({
      {{"integrate", "--n", "10", "--from", "-1e309"},
       "--from takes a number from -1000000 to 1000000, got '-1e309'"},
      {{"integrate", "--n", "10", "--to", "1.8e308"},
       "--to takes a number from -1000000 to 1000000, got '1.8e308'"},
  });
}

// One option's value bound as a loaded kernel's: "" and its canonical
// form in *kept, or the refusal.
std::string BindOne(const taskfarm_option_t& o, const char* text,
                    std::string* kept) {
  const taskfarm_option_t options[2] = {
      o, {nullptr, 0, nullptr, nullptr, nullptr, 0, 0, nullptr}};
  taskfarm_kernel_t d = Descriptor();
  d.options = options;
  static jobs_task_t task;
  memset(&task, 0, sizeof(task));
  const char* keys[] = {o.name};
  const char* texts[] = {text};
  char err[512] = "";
  int rc = jobs_bind(&d, keys, texts, 1, "--arg ", &task, err, sizeof(err));
  EXPECT_EQ(rc == 0, err[0] == '\0') << err;
  *kept = rc == 0 ? task.value[0].value : "";
  return err;
}

// One option's help, its words one space apart.
std::string HelpOf(const taskfarm_option_t& o) {
  const taskfarm_option_t options[2] = {
      o, {nullptr, 0, nullptr, nullptr, nullptr, 0, 0, nullptr}};
  taskfarm_kernel_t d = Descriptor();
  d.options = options;
  char* text = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&text, &len);
  jobs_options_help(&d, "--arg ", out);
  fclose(out);
  std::string flat;
  for (size_t i = 0; i < len; i++) {
    char c = text[i] == '\n' ? ' ' : text[i];
    if (c != ' ' || (!flat.empty() && flat.back() != ' ')) flat += c;
  }
  free(text);
  return flat;
}

// The range --help prints of a count or an integer is the one its values
// are checked against: bounds rounded inward, and 9.2e18 (1.8e19 for a
// count), which no double says exactly, the type's end.
TEST(TypedOptionsTest, AWholeNumberRangeIsPrintedAsItIsChecked) {
  const struct {
    uint32_t type;
    double min, max;
    const char* range;             // as --help prints it
    std::vector<const char*> in;   // taken as they are
    std::vector<const char*> out;  // refused
  } cases[] = {
      {TASKFARM_OPT_INTEGER,
       0,
       9.2e18,
       "from 0 to 9223372036854775807",
       {"0", "9223372036854775807"},
       {"-1", "9223372036854775808"}},
      {TASKFARM_OPT_INTEGER,
       -9.2e18,
       0,
       "from -9223372036854775808 to 0",
       {"-9223372036854775808", "0"},
       {"-9223372036854775809", "1"}},
      {TASKFARM_OPT_COUNT,
       0,
       1.8e19,
       "from 0 to 18446744073709551615",
       {"0", "18446744073709551615"},
       {"18446744073709551616", "-1"}},
      {TASKFARM_OPT_INTEGER,
       0.5,
       10.5,
       "from 1 to 10",
       {"1", "10"},
       {"0", "11"}},
      {TASKFARM_OPT_INTEGER,
       -10.5,
       -0.5,
       "from -10 to -1",
       {"-10", "-1"},
       {"-11", "0"}},
      {TASKFARM_OPT_COUNT, 1.5, 3.5, "from 2 to 3", {"2", "3"}, {"1", "4"}},
  };
  for (const auto& c : cases) {
    const taskfarm_option_t o = {"k",     c.type, "K",   "a whole number",
                                 nullptr, c.min,  c.max, nullptr};
    const std::string range = c.range;
    EXPECT_NE(HelpOf(o).find("--arg k=K a whole number; " + range),
              std::string::npos)
        << HelpOf(o);
    std::string kept;
    for (const char* text : c.in) {
      EXPECT_EQ(BindOne(o, text, &kept), "") << range << ": " << text;
      EXPECT_EQ(kept, text);
    }
    for (const char* text : c.out) {
      std::string want = "--arg k takes a whole number " + range;
      if (c.type == TASKFARM_OPT_COUNT) want += " (such as 1000000 or 1e6)";
      EXPECT_EQ(BindOne(o, text, &kept), want + ", got '" + text + "'");
    }
  }
  // The example kernel's fail_at, declared up to 9.2e18.
  auto job = Resolved({"run", "--kernel", Zeta(), "--n", "100", "--arg",
                       "fail_at=9223372036854775807"});
  EXPECT_STREQ(jobs_value(&job->task, "fail_at"), "9223372036854775807");
}

// ------------------------------------------------------------ dot's forms

TEST(DotFormsTest, TheOptionsGivenPickTheForm) {
  auto job = NewJob();
  std::string err;
  std::string a = Doubles("dot.a", 1000, [](size_t i) { return i + 1.0; });
  std::string b = Doubles("dot.b", 1000, [](size_t i) { return 1000.0 - i; });
  // --n: the generated vectors, an exact integer.
  ASSERT_EQ(Resolve({"dot", "--n", "1000"}, job.get(), &err), 0) << err;
  EXPECT_EQ(job->task.entry->variant, 0);
  EXPECT_STREQ(job->task.spec.name, "dot");
  EXPECT_EQ(job->task.spec.result, (uint32_t)TASKFARM_RESULT_INT);
  EXPECT_STREQ(job->task.reference_text, "167167000");
  Sums gen = Compute(*job, RandomCuts(1000, 1, 9));
  EXPECT_EQ(U128(gen.i), "167167000");  // 1000 * 1001 * 1002 / 6
  // --a and --b: the files, the same vectors as doubles, n their length.
  ASSERT_EQ(Resolve({"dot", "--a", a, "--b", b}, job.get(), &err), 0) << err;
  EXPECT_EQ(job->task.entry->variant, 1);
  EXPECT_STREQ(job->task.spec.name, "dot-files");
  EXPECT_EQ(job->task.spec.result, (uint32_t)TASKFARM_RESULT_FLOAT);
  EXPECT_EQ(job->n, 1000u);
  EXPECT_EQ(job->task.ninputs, 2);
  EXPECT_FALSE(job->task.has_reference);
  Sums files = Compute(*job, RandomCuts(1000, 1, 10));
  EXPECT_EQ(files.f, 167167000.0);
  // The order of the options does not matter; one file alone is the file
  // form, which needs both.
  ASSERT_EQ(Resolve({"dot", "--b", b, "--a", a}, job.get(), &err), 0) << err;
  EXPECT_EQ(job->task.entry->variant, 1);
  EXPECT_EQ(Resolve({"dot", "--a", a}, job.get(), &err), PROTO_EINVAL);
  EXPECT_EQ(err, "dot with files needs both --a FILE and --b FILE");
  // No option: the first form, which needs --n.
  EXPECT_EQ(Resolve({"dot"}, job.get(), &err), PROTO_EINVAL);
  EXPECT_EQ(err, "dot needs --n N, the number of elements (e.g. --n 1e9)");
  EXPECT_EQ(job->task.entry->variant, 0);
}

TEST(DotFormsTest, AMixedSetIsRefused) {
  auto job = NewJob();
  std::string err;
  std::string a = Doubles("mix.a", 10, [](size_t i) { return (double)i; });
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"dot", "--n", "10", "--a", a},
           {"dot", "--a", a, "--n", "10"},
           {"dot", "--n", "10", "--a", a, "--b", a},
           {"dot", "--b", a, "--n", "10"},
       }) {
    EXPECT_EQ(Parse(args, job.get(), &err), PROTO_EINVAL) << args[1];
    EXPECT_EQ(err,
              "dot takes either --n N or --a FILE --b FILE, not options of "
              "both forms");
  }
  // An option of no form of dot names the job it belongs to.
  EXPECT_EQ(Parse({"dot", "--n", "10", "--size", "4x4"}, job.get(), &err),
            PROTO_EINVAL);
  EXPECT_EQ(err, "--size is an option of the mandelbrot job only");
  EXPECT_EQ(Parse({"pi", "--n", "10", "--a", a}, job.get(), &err),
            PROTO_EINVAL);
  EXPECT_EQ(err, "--a is an option of the dot job only");
}

// ------------------------------------------------------- version 1 kernels

std::string Abi(int version) {
  return Runfile("tests/libabi" + std::to_string(version) + "_kernel.so");
}

// A version 1 object loads: its descriptor is read up to close and no
// further, every newer field zero (the object has other bytes there).
TEST(Abi1KernelTest, LoadsWithNoneOfTheNewerFields) {
  void* dl = nullptr;
  taskfarm_kernel_t d;
  memset(&d, 0xff, sizeof(d));
  char what[512] = "";
  ASSERT_EQ(plugin_load(Abi(1).c_str(), &dl, &d, what, sizeof(what)), 0)
      << what;
  EXPECT_EQ(d.abi, 1u);
  EXPECT_STREQ(d.name, "abi1");
  EXPECT_EQ(d.version, 7u);
  EXPECT_EQ(d.result, (uint32_t)(TASKFARM_RESULT_FLOAT | TASKFARM_RESULT_INT));
  EXPECT_EQ(d.align, 4u);
  EXPECT_NE(d.init, nullptr);
  EXPECT_NE(d.compute, nullptr);
  EXPECT_NE(d.close, nullptr);
  EXPECT_EQ(d.help, nullptr);
  EXPECT_EQ(d.options, nullptr);
  EXPECT_EQ(d.lines, nullptr);
  EXPECT_EQ(d.n_what, nullptr);
  EXPECT_EQ(d.size, nullptr);
  EXPECT_EQ(d.prepare, nullptr);
  EXPECT_EQ(d.reference, nullptr);
  EXPECT_EQ(d.calibrate, nullptr);
  EXPECT_EQ(d.slice, 0u);
  EXPECT_EQ(d.chunk_max, 0u);
  plugin_unload(dl);
}

TEST(Abi1KernelTest, RunsWithItsArgumentsAsGivenAndTheDefaults) {
  const uint64_t n = 1001;
  auto job = Resolved({"run", "--kernel", Abi(1), "--n", std::to_string(n),
                       "--arg", "step=3", "--chunk", "5"});
  const jobs_task_t& task = job->task;
  EXPECT_EQ(job->n, n);
  EXPECT_NE(task.kernel_hash, 0u);
  EXPECT_STREQ(task.spec.name, "abi1");
  EXPECT_EQ(task.spec.abi, 1u);
  EXPECT_EQ(task.spec.version, 7u);
  EXPECT_EQ(task.spec.align, 4u);
  EXPECT_EQ(job->chunk, 8u);  // on the kernel's alignment
  EXPECT_EQ(task.spec.n_max, JOBS_N_MAX_DEFAULT);
  EXPECT_EQ(task.spec.chunk_max, JOBS_CHUNK_MAX_DEFAULT);
  EXPECT_EQ(task.spec.slice, 0u);
  EXPECT_EQ(task.spec.hooks, 0u);
  EXPECT_EQ(task.spec.declares, 0);
  EXPECT_STREQ(task.spec.n_what, "indices");
  EXPECT_FALSE(task.has_reference);
  // The default result lines, by its result.
  ASSERT_EQ(task.spec.nlines, 3);
  EXPECT_STREQ(task.spec.line[0], "Result = {float:.17g}");
  EXPECT_STREQ(task.spec.line[1], "Result bits = {bits}");
  EXPECT_STREQ(task.spec.line[2], "Integer result = {int}");
  for (int l = 0; l < 3; l++) {
    char why[256];
    EXPECT_EQ(jobs_check_line(task.spec.line[l], why, sizeof(why)), 0) << why;
  }
  // Its --arg list as given, undeclared.
  ASSERT_EQ(task.nvalues, 1);
  EXPECT_STREQ(task.value[0].key, "step");
  EXPECT_STREQ(task.value[0].value, "3");
  EXPECT_EQ(task.value[0].type, 0u);
  EXPECT_TRUE(task.value[0].set);
  // The closed forms, over cuts on its alignment, in any order.
  const unsigned __int128 cubes =
      (unsigned __int128)(n * (n - 1) / 2) * (n * (n - 1) / 2);
  const double quarters = 3.0 * (double)(n * (n - 1)) / 8;
  for (uint64_t seed : {1, 2}) {
    Sums s = Compute(*job, RandomCuts(n, 4, seed), seed == 2);
    EXPECT_EQ(s.f, quarters);
    EXPECT_EQ(U128(s.i), U128(cubes));
  }
  Sums whole = Compute(*job, {0, n});
  EXPECT_EQ(whole.f, quarters);
  EXPECT_EQ(U128(whole.i), "250500250000");
  // Another step is another job; the results fingerprint keeps its name
  // and version, not its bytes.
  auto other = Resolved(
      {"run", "--kernel", Abi(1), "--n", std::to_string(n), "--arg", "step=4"});
  EXPECT_NE(cli_job_fingerprint(job.get()), cli_job_fingerprint(other.get()));
  EXPECT_EQ(Compute(*other, {0, n}).f, 4.0 * (double)(n * (n - 1)) / 8);
}

TEST(Abi1KernelTest, ItsInitsRefusalIsASentenceNamingTheObject) {
  const std::string so = Abi(1);
  ExpectRefused({
      {{"run", "--kernel", so, "--n", "10", "--arg", "colour=1"},
       "--kernel '" + so +
           "' (abi1): unknown argument 'colour' (abi1 takes step=K)"},
      {{"run", "--kernel", so, "--n", "10", "--arg", "step=x"},
       "--kernel '" + so +
           "' (abi1): step takes a whole number from 1 to 1000, got 'x'"},
  });
  // Its help says it declares no options.
  auto job = NewJob();
  std::string err;
  ASSERT_EQ(Parse({"run", "--kernel", so, "--help"}, job.get(), &err), 0)
      << err;
  ASSERT_TRUE(job->help);
  static char help[JOBS_HELP_MAX];
  char why[512] = "";
  ASSERT_EQ(kernel_help(&job->task, help, sizeof(help), 30, why, sizeof(why)),
            0)
      << why;
  EXPECT_NE(std::string(help).find(
                "Kernel abi1 declares no options: --arg KEY=VALUE passes any "
                "on to its init as given."),
            std::string::npos)
      << help;
}

// Objects of an interface this taskfarm does not load are refused, in the
// probe before any rank starts and by kernel_init itself, with a sentence
// that names the object, its version and the versions that load.
TEST(Abi1KernelTest, AnUnknownInterfaceVersionIsRefused) {
  for (int version : {99, 0}) {
    const std::string so = Abi(version);
    const std::string says =
        "--kernel '" + so + "' was built for kernel interface version " +
        std::to_string(version) +
        "; this taskfarm loads versions 1 to 2 (rebuild it against this "
        "taskfarm's taskfarm_kernel.h)";
    ExpectRefused({{{"run", "--kernel", so, "--n", "10"}, says}});
    auto job = NewJob();
    std::string err;
    ASSERT_EQ(Parse({"run", "--kernel", so, "--n", "10"}, job.get(), &err), 0)
        << err;
    kernel_t k;
    EXPECT_LT(kernel_init(&k, &job->task, 10), 0);
    EXPECT_EQ(std::string(k.what), says);
    proto_exact_t acc;
    proto_exact_init(&acc);
    unsigned __int128 isum = 0;
    EXPECT_LT(kernel_add(&k, 0, 10, &acc, &isum), 0);  // never computes
    kernel_close(&k);
    void* dl = nullptr;
    taskfarm_kernel_t d;
    char what[512] = "";
    EXPECT_EQ(plugin_load(so.c_str(), &dl, &d, what, sizeof(what)),
              PROTO_EINVAL);
    EXPECT_EQ(std::string(what), says);
    plugin_unload(dl);
  }
}

}  // namespace
