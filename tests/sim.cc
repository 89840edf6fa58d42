// The simulator of sim.h. One event queue ordered by (time, sequence); every
// message gets a delivery time no earlier than the previous message between
// the same two ranks, so each pair stays FIFO as MPI guarantees, while
// messages of different pairs reorder freely. Workers behave as
// worker/worker.c does (an order ring, heartbeats while computing, cancel
// of queued orders) unless their kind says they misbehave.
#include "tests/sim.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "master/farm.h"
#include "master/farm_private.h"
#include "proto/error.h"
#include "cli/job.h"

namespace sim {
namespace {

using u128 = unsigned __int128;

constexpr uint64_t kMs = 1000000;
constexpr uint64_t kS = 1000 * kMs;
constexpr uint64_t kTick = 2 * kMs;     // the master's timer period
constexpr uint64_t kBeat = 100 * kMs;   // a worker's heartbeat period
constexpr uint64_t kLimit = 3600 * kS;  // a run longer than this never ends
constexpr int kRing = 16;               // worker/orders.h's ring

// The partial of [b, e): the sum of i + 1, an exact integer.
u128 Partial(uint64_t b, uint64_t e) {
  u128 hi = (u128)e * (e + 1) / 2, lo = (u128)b * (b + 1) / 2;
  return hi - lo;
}

enum Kind {
  kHonest,
  kWrongFingerprint,  // greets with another job's fingerprint, then forges
  kVersionAtHello,    // greets in another protocol version, then forges
  kVersionLater,      // honest, then another version and forged results
  kDuplicator,        // sends every result twice
  kStale,             // later sends results for orders cancelled before
  kWrongRange,        // its first result names a range it was not given
  kGarbage,           // malformed, oversized, misplaced and forged messages
  kLateGreeter,       // greets after the master stopped waiting for it
  kCorrupter,         // a faulty core: some of its partials have a wrong
                      // value for the right order (a bit of its own flipped)
  kProgressLiar,      // reports progress past the end of its chunk
  kKinds,
};

const char* kKindName[] = {"honest",        "wrong-fingerprint", "version",
                           "version-later", "duplicator",        "stale",
                           "wrong-range",   "garbage",           "late",
                           "corrupter",     "progress-liar"};

struct Order {
  uint64_t chunk, attempt, begin, end;
};

struct Worker {
  int rank = 0;
  Kind kind = kHonest;
  double speed = 0;  // indices per ns
  uint64_t die_at = 0, freeze_from = 0, freeze_to = 0;
  bool dead = false, left = false, refused_sent = false;
  std::deque<Order> ring;
  std::vector<Order> cancelled;  // for kStale
  bool computing = false;
  uint64_t token = 0, started = 0;
  uint64_t to_master = 0, from_master = 0;  // FIFO delivery times
  int results = 0;
  double corrupt = 0;       // kCorrupter: the fraction of partials it spoils
  uint64_t corrupted = 0;   // partials it spoiled
  uint64_t caught_at = 0;   // kCorrupter: partials spoiled when refused
  bool refused = false;     // it was told REFUSE
  uint64_t welcome = 0;     // the death token WELCOME gave it
  bool guarded = false;     // its guard reports its death
};

enum EvType {
  kToMaster,
  kToWorker,
  kFinish,
  kBeatEv,
  kIdleBeat,
  kTickEv,
  kStop,
  kSolo,
  kDeath  // a guard's death report arrives at the master
};

struct Event {
  uint64_t t = 0, seq = 0;
  EvType type = kTickEv;
  int w = 0;  // worker index
  uint64_t token = 0;
  int bad = 0;  // kToMaster: a proto_decode error instead of msg
  bool spoiled = false;  // kToMaster: a RESULT whose partial is wrong
  int tag = 0;
  size_t len = 0;
  uint32_t version = 0;
  proto_msg_t msg;
};

struct Later {
  bool operator()(const Event* a, const Event* b) const {
    return a->t != b->t ? a->t > b->t : a->seq > b->seq;
  }
};

// The clock for the scale measurement: CLOCK_MONOTONIC is read in user
// space (vDSO) in about 20 ns, where the thread CPU clock is a system call;
// the simulator is single-threaded and measured on an otherwise idle core.
uint64_t CpuNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct CallbackClock;

class World {
 public:
  explicit World(const Options& opt) : opt_(opt), rng_(opt.seed) {
  }
  ~World() {
    while (!q_.empty()) {
      delete q_.top();
      q_.pop();
    }
    farm_close(farm_);
  }
  Outcome Go();

 private:
  static int Send(void* ctx, int rank, const proto_msg_t* m);
  static int Record(void* ctx, const master_record_t* r);
  static void Log(void* ctx, farm_log_level_t level, const char* line);

  uint64_t Rand(uint64_t lo, uint64_t hi) {  // in [lo, hi]
    return lo + rng_() % (hi - lo + 1);
  }
  double Unit() { return (double)(rng_() >> 11) / 9007199254740992.0; }
  Event* New(EvType type, uint64_t t, int w) {
    Event* e = new Event();
    e->type = type;
    e->t = t;
    e->seq = seq_++;
    e->w = w;
    return e;
  }
  uint64_t Delay() {
    // Mostly microseconds; now and then a long stall in the network.
    return Rand(1000, 50000) +
           (opt_.faults && Rand(0, 99) == 0 ? Rand(0, 300) * kMs : 0);
  }
  void ToMaster(Worker& x, const proto_msg_t& m, int bad = 0, int tag = 0,
                size_t len = 0, uint32_t version = 0, bool spoiled = false);
  void Odds(const Event& e, bool was_done);  // corrupt mode's arithmetic
  bool compared_ = false;  // corrupt mode: a spoiled partial was compared
  void Setup();
  void StartWorkers();
  void Handle(Event* e);
  void WorkerGets(Worker& x, const proto_msg_t& m);
  void StartNext(Worker& x);
  void Finish(Worker& x);
  void Beat(Worker& x, uint64_t token);
  void Forge(Worker& x, uint64_t chunk);
  bool Frozen(const Worker& x) const {
    return now_ >= x.freeze_from && now_ < x.freeze_to;
  }
  std::string Check();
  void Call();  // accounts one farm_* call that just ended
  void Invariants();  // farm_check() after a farm call
  std::string broken_;  // the first invariant that did not hold
  bool corrupters_ = false;  // corrupting workers may be drawn
  // A range of indices whose computation kills the kernel's process (a
  // poison range): [poison_from_, poison_to_), empty when none.
  uint64_t poison_from_ = 0, poison_to_ = 0;
  bool Poisoned(uint64_t b, uint64_t e) const {
    return b < poison_to_ && poison_from_ < e;
  }
  uint64_t call_start_ = 0;
  uint64_t callback_ns_ = 0;  // spent in callbacks during the current call
  friend struct CallbackClock;
  char buf_[256];

  Options opt_;
  std::mt19937_64 rng_;
  cli_job_t job_;
  farm_t* farm_ = nullptr;
  std::vector<Worker> w_;
  std::priority_queue<Event*, std::vector<Event*>, Later> q_;
  uint64_t now_ = 0, seq_ = 0;
  bool tcp_ = false;  // sends to a dead worker fail, as over TCP
  int segment_ = 0;   // runs so far (a stop and resume starts one)
  std::vector<master_record_t> journal_;
  std::vector<int> record_segment_;
  std::set<std::pair<int, int>> untrusted_;  // (segment, rank)
  bool solo_on_ = false;
  farm_solo_t solo_;
  double master_speed_ = 0;
  uint64_t limit_ = kLimit;
  Outcome out_;
  std::vector<std::string> log_;
};

// The time the callbacks take is the simulator's, not the farm's: the
// scale measurement subtracts it.
struct CallbackClock {
  explicit CallbackClock(World* w, bool on) : world(w), on(on) {
    if (on) t0 = CpuNs();
  }
  ~CallbackClock();
  World* world;
  bool on;
  uint64_t t0 = 0;
};

int World::Send(void* ctx, int rank, const proto_msg_t* m) {
  World* s = static_cast<World*>(ctx);
  CallbackClock clock(s, s->opt_.chunk_ms > 0);
  Worker& x = s->w_[rank - 1];
  if (x.dead && s->tcp_) return PROTO_EMPI;  // the endpoint failed
  if (s->opt_.faults && s->Rand(0, 999) == 0) return FARM_SEND_BUSY;
  Event* e = s->New(kToWorker, 0, rank - 1);
  e->t = std::max(s->now_ + s->Delay(), x.from_master);
  x.from_master = e->t;
  e->msg = *m;
  s->q_.push(e);
  return 0;
}

int World::Record(void* ctx, const master_record_t* r) {
  World* s = static_cast<World*>(ctx);
  CallbackClock clock(s, s->opt_.chunk_ms > 0);
  if (r->revoked) {
    // As the journal reads a withdrawal: the latest record of the range.
    for (size_t i = s->journal_.size(); i-- > 0;) {
      if (s->journal_[i].begin != r->begin || s->journal_[i].end != r->end)
        continue;
      s->journal_.erase(s->journal_.begin() + (long)i);
      s->record_segment_.erase(s->record_segment_.begin() + (long)i);
      return 0;
    }
    s->broken_ = "a withdrawal of a range never recorded";
    return 0;
  }
  s->journal_.push_back(*r);
  s->record_segment_.push_back(s->segment_);
  return 0;
}

void World::Log(void* ctx, farm_log_level_t, const char* line) {
  World* s = static_cast<World*>(ctx);
  if (s->opt_.verbose) fprintf(stderr, "[%.6f] %s\n", s->now_ / 1e9, line);
}

void World::ToMaster(Worker& x, const proto_msg_t& m, int bad, int tag,
                     size_t len, uint32_t version, bool spoiled) {
  Event* e = New(kToMaster, 0, x.rank - 1);
  e->t = std::max(now_ + Delay(), x.to_master);
  x.to_master = e->t;
  e->msg = m;
  e->bad = bad;
  e->tag = tag;
  e->len = len;
  e->version = version;
  e->spoiled = spoiled;
  q_.push(e);
}

// Corrupt mode: a spoiled partial from rank 1 arrived. Its chance of being
// compared is 1 when its chunk was done already (a check or a duplicate),
// else --verify (a first result, picked or not). Counted up to the first
// one that was compared: the expected number of runs in which rank 1 is
// caught is the expectation of that sum.
void World::Odds(const Event& e, bool was_done) {
  if (opt_.corrupt == 0 || e.w != 0 || compared_) return;
  double p = was_done ? 1.0 : out_.verify;
  out_.catch_odds += p;
  out_.catch_var += p * (1 - p);
  const master_chunk_t& c = farm_->table.chunk[e.msg.chunk];
  compared_ = was_done || (c.state == MASTER_CHUNK_DONE &&
                           c.check != MASTER_CHECK_NONE);
  out_.compared = compared_;
}

void World::Setup() {
  int workers = opt_.workers > 0 ? opt_.workers : (int)Rand(1, 8);
  bool scale = opt_.chunk_ms > 0;
  cli_sched_t sched = scale ? CLI_SCHED_DYNAMIC
                              : (cli_sched_t)Rand(0, CLI_SCHED_COUNT - 1);
  uint64_t n = opt_.n            ? opt_.n
               : Rand(1, 4) == 1 ? Rand(1, 3000)
                                 : Rand(1000, 2000000);
  std::vector<std::string> args = {"taskfarm",   "dot",
                                   "--n",        std::to_string(n),
                                   "--schedule", cli_sched_name(sched)};
  if (scale) {
    // Twenty chunks per worker of chunk_ms each.
    args.push_back("--chunk");
    args.push_back(std::to_string(std::max<uint64_t>(1, n / (20 * workers))));
  } else if (Rand(0, 2) == 0) {
    args.push_back("--chunk");
    args.push_back(std::to_string(Rand(1, std::max<uint64_t>(1, n / 4))));
  }
  if (sched == CLI_SCHED_WF) {
    std::string ws;
    for (int i = 0; i < workers; i++)
      ws += (i ? "," : "") + std::to_string(Rand(1, 4));
    args.push_back("--weights");
    args.push_back(ws);
  }
  if (!scale && Rand(0, 3) == 0 && opt_.corrupt == 0) {
    args.push_back("--speculate");
    args.push_back("on");
  }
  if (opt_.corrupt > 0) {
    // No copies but the checks: no speculation, no deadline that passes
    // (a re-issued chunk's late duplicate would be a comparison the
    // arithmetic of --verify does not count).
    args.insert(args.end(), {"--speculate", "off", "--timeout-factor", "1e6"});
  }
  // Corrupting workers give a wrong result unless every chunk is checked.
  corrupters_ = opt_.faults && opt_.corrupt == 0 && Rand(0, 3) == 0;
  double verify = opt_.verify;
  if (verify < 0) {
    static const double kVerify[] = {0, 0.05, 0.3, 1};
    verify = corrupters_ ? 1 : kVerify[Rand(0, 3)];
  }
  args.push_back("--verify");
  args.push_back(std::to_string(verify));
  out_.verify = verify;
  // Now and then a stretch of indices kills every kernel that computes it.
  if (opt_.faults && opt_.corrupt == 0 && Rand(0, 9) == 0) {
    poison_from_ = Rand(0, n - 1);
    poison_to_ = std::min<uint64_t>(n, poison_from_ + Rand(1, 3));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  char err[256];
  if (cli_job_parse(&job_, (int)argv.size(), argv.data(), err, sizeof(err)) <
          0 ||
      cli_job_resolve(&job_, 0, NULL, err, sizeof(err)) < 0) {
    out_.failure = std::string("job: ") + err;
    return;
  }
  out_.workers = workers;
  out_.schedule = cli_sched_name(sched);
  tcp_ = opt_.faults && Rand(0, 1) == 1;
  w_.assign(workers, Worker());
  // Mean speed: a chunk of the automatic size takes about 1 to 200 ms (or
  // chunk_ms in scale mode); workers differ up to tenfold.
  double chunk = (double)master_chunk_size(&job_, workers);
  double mean_ns = scale ? opt_.chunk_ms * 1e6 : (double)Rand(1, 200) * 1e6;
  for (int i = 0; i < workers; i++) {
    Worker& x = w_[i];
    x.rank = i + 1;
    double spread = scale ? 0.9 + 0.2 * Unit() : 0.1 + 0.9 * Unit();
    x.speed = chunk / mean_ns * spread;
  }
  master_speed_ = chunk / mean_ns;
  // A run that never ends: past the time the slowest rank alone would need
  // for all of it, four times over.
  double slowest = master_speed_;
  for (const Worker& x : w_) slowest = std::min(slowest, x.speed);
  limit_ = std::max<uint64_t>(kLimit, (uint64_t)(4.0 * (double)n / slowest));
}

void World::StartWorkers() {
  uint64_t expected = (uint64_t)((double)job_.n / master_speed_ /
                                 std::max<size_t>(1, w_.size()));
  for (Worker& x : w_) {
    int rank = x.rank;
    double speed = x.speed;
    x = Worker();
    x.rank = rank;
    x.speed = speed;
    // The first run draws the faults; a resumed run has healthy workers.
    if (opt_.corrupt > 0 && segment_ == 0 && rank == 1) {
      x.kind = kCorrupter;
      x.corrupt = opt_.corrupt;
    } else if (opt_.faults && segment_ == 0) {
      int r = (int)Rand(0, 99);
      if (r < 45) {
        x.kind = kHonest;
      } else {
        x.kind = (Kind)Rand(1, kKinds - 1);
      }
      if (x.kind == kCorrupter && !corrupters_) x.kind = kHonest;
      if (x.kind == kCorrupter) x.corrupt = 0.05 + 0.95 * Unit();
      if (Rand(0, 5) == 0) x.die_at = Rand(0, expected + 1);
      // Most deaths are reported by the rank's guard a moment later.
      x.guarded = Rand(0, 3) != 0;
      if (x.die_at && x.guarded)
        q_.push(New(kDeath, now_ + x.die_at + Rand(1, 5) * kMs, rank - 1));
      if (Rand(0, 5) == 0) {
        x.freeze_from = Rand(0, expected + 1);
        x.freeze_to = x.freeze_from + Rand(100, 6000) * kMs;
      }
    }
    if (x.kind == kWrongFingerprint || x.kind == kVersionAtHello)
      untrusted_.insert({segment_, rank});
    if (opt_.verbose)
      fprintf(stderr,
              "rank %d: %s, %.3g it/ns, dies at %.3f s, frozen "
              "%.3f-%.3f s\n",
              rank, kKindName[x.kind], x.speed, x.die_at / 1e9,
              x.freeze_from / 1e9, x.freeze_to / 1e9);
    // Late greeters, and half the ranks of another job, greet after the
    // master stopped waiting for them.
    bool late = x.kind == kLateGreeter ||
                (x.kind == kWrongFingerprint && Rand(0, 1) == 1);
    uint64_t hello_at =
        late ? farm_->hello_wait_ns + Rand(1, 5000) * kMs : Rand(0, 5) * kMs;
    Event* e = New(kToMaster, hello_at, rank - 1);
    proto_msg_t hello = {};
    hello.kind = PROTO_TAG_HELLO;
    hello.fingerprint =
        cli_job_fingerprint(&job_) + (x.kind == kWrongFingerprint ? 1 : 0);
    hello.pid = 1000 + rank;
    snprintf(hello.host, sizeof(hello.host), "sim%d", rank);
    e->msg = hello;
    if (x.kind == kVersionAtHello) {
      e->bad = PROTO_EVERSION;
      e->tag = PROTO_TAG_HELLO;
      e->len = proto_size(PROTO_TAG_HELLO);
      e->version = PROTO_VERSION + 1;
    }
    e->t = now_ + hello_at;
    x.to_master = e->t;
    q_.push(e);
    if (x.kind == kHonest || x.kind == kLateGreeter || x.kind == kDuplicator ||
        x.kind == kStale || x.kind == kCorrupter || x.kind == kProgressLiar)
      q_.push(New(kIdleBeat, e->t + kS, rank - 1));
    if (x.kind == kWrongFingerprint || x.kind == kVersionAtHello) {
      // It forges results for the first chunks anyway.
      for (uint64_t c = 0; c < 3; c++) {
        Event* f = New(kToMaster, e->t + (c + 1) * kMs, rank - 1);
        f->msg.kind = PROTO_TAG_RESULT;
        f->msg.chunk = c;
        f->msg.attempt = 1;
        f->msg.begin = 0;
        f->msg.end = std::min<uint64_t>(job_.n, farm_->chunk_size);
        f->msg.isum = 123456789;
        proto_exact_init(&f->msg.fsum);
        x.to_master = f->t;
        q_.push(f);
      }
    }
  }
}

void World::Forge(Worker& x, uint64_t chunk) {
  proto_msg_t m = {};
  m.kind = PROTO_TAG_RESULT;
  m.chunk = chunk;
  m.attempt = 1;
  m.begin = 0;
  m.end = 1;
  m.isum = 987654321;
  proto_exact_init(&m.fsum);
  ToMaster(x, m);
}

void World::StartNext(Worker& x) {
  if (x.computing || x.ring.empty() || x.dead || x.left) return;
  const Order& o = x.ring.front();
  x.computing = true;
  x.token++;
  x.started = now_;
  uint64_t ns = (uint64_t)((double)(o.end - o.begin) / x.speed) + 1000;
  Event* e = New(kFinish, now_ + ns, x.rank - 1);
  e->token = x.token;
  q_.push(e);
  if (ns > kBeat) {
    Event* b = New(kBeatEv, now_ + kBeat, x.rank - 1);
    b->token = x.token;
    q_.push(b);
  }
}

void World::Beat(Worker& x, uint64_t token) {
  if (!x.computing || x.token != token) return;
  const Order& o = x.ring.front();
  uint64_t busy = now_ - x.started;
  uint64_t done =
      std::min<uint64_t>(o.end - o.begin, (uint64_t)((double)busy * x.speed));
  if (x.kind == kProgressLiar && x.results >= 1) done = o.end - o.begin + 5;
  proto_msg_t m = {};
  m.kind = PROTO_TAG_PROGRESS;
  m.chunk = o.chunk;
  m.attempt = o.attempt;
  m.done = done;
  m.busy_ns = busy;
  ToMaster(x, m);
  Event* b = New(kBeatEv, now_ + kBeat, x.rank - 1);
  b->token = token;
  q_.push(b);
}

void World::Finish(Worker& x) {
  Order o = x.ring.front();
  x.ring.pop_front();
  x.computing = false;
  proto_msg_t m = {};
  m.kind = PROTO_TAG_RESULT;
  m.chunk = o.chunk;
  m.attempt = o.attempt;
  m.begin = o.begin;
  m.end = o.end;
  m.busy_ns = now_ - x.started;
  m.isum = Partial(o.begin, o.end);
  proto_exact_init(&m.fsum);
  x.results++;
  if (Poisoned(o.begin, o.end)) {
    // The kernel's process died computing it: the worker says so.
    proto_msg_t fail = {};
    fail.kind = PROTO_TAG_FAIL;
    fail.chunk = o.chunk;
    fail.attempt = o.attempt;
    fail.code = PROTO_EKILLED;
    fail.detail = 11;
    ToMaster(x, fail);
    StartNext(x);
    return;
  }
  switch (x.kind) {
    case kWrongRange:
      if (x.results == 1 && o.end - o.begin > 1) {
        m.end = o.end - 1;
        m.isum = Partial(o.begin, o.end - 1) + 7;
      }
      ToMaster(x, m);
      break;
    case kDuplicator:
      ToMaster(x, m);
      ToMaster(x, m);
      break;
    case kWrongFingerprint:
    case kVersionAtHello:
      // Work given to a rank of another job or version: its answer is
      // another job's partial.
      m.isum += 1;
      ToMaster(x, m);
      break;
    case kGarbage: {
      // A forged death report for another rank, with a made-up token.
      if (w_.size() > 1) {
        proto_death_t d = {};
        d.token = rng_();
        d.rank = (int)(x.rank % (int)w_.size()) + 1;
        d.pid = 1000 + (uint64_t)d.rank;
        d.signal = 9;
        farm_death_report(farm_, &d, now_);
        Invariants();
      }
      ToMaster(x, m, PROTO_EBADMSG, (int)Rand(0, 200), Rand(0, 700));
      ToMaster(x, m, PROTO_EMSGSIZE, PROTO_TAG_RESULT, PROTO_MAX_BYTES + 1);
      proto_msg_t work = {};
      work.kind = PROTO_TAG_WORK;
      ToMaster(x, work);
      proto_msg_t hello = {};
      hello.kind = PROTO_TAG_HELLO;
      hello.fingerprint = cli_job_fingerprint(&job_);
      ToMaster(x, hello);
      Forge(x, o.chunk + 1);
      ToMaster(x, m);
      break;
    }
    case kVersionLater:
      if (x.results == 3)
        ToMaster(x, m, PROTO_EVERSION, PROTO_TAG_RESULT,
                 proto_size(PROTO_TAG_RESULT), PROTO_VERSION + 1);
      if (x.results >= 3) m.isum += 1000;  // from here on, lies
      ToMaster(x, m);
      break;
    case kCorrupter:
      if (Unit() < x.corrupt) {
        // Its own wrong value: no two ranks ever agree on a wrong one.
        m.isum += (u128)x.rank * 1000003u + 1;
        x.corrupted++;
        ToMaster(x, m, 0, 0, 0, 0, true);
        break;
      }
      ToMaster(x, m);
      break;
    case kProgressLiar:
      if (x.results == 2) {
        proto_msg_t lie = {};
        lie.kind = PROTO_TAG_PROGRESS;
        lie.chunk = o.chunk;
        lie.attempt = o.attempt;
        lie.done = o.end - o.begin + 1;
        ToMaster(x, lie);
      }
      ToMaster(x, m);
      break;
    case kStale:
      ToMaster(x, m);
      if (!x.cancelled.empty()) {
        Order c = x.cancelled.back();
        x.cancelled.pop_back();
        proto_msg_t s = m;
        s.chunk = c.chunk;
        s.attempt = c.attempt;
        s.begin = c.begin;
        s.end = c.end;
        s.isum = Partial(c.begin, c.end);
        ToMaster(x, s);
      }
      break;
    default:
      ToMaster(x, m);
  }
  StartNext(x);
}

void World::WorkerGets(Worker& x, const proto_msg_t& m) {
  switch (m.kind) {
    case PROTO_TAG_WORK:
      if ((int)x.ring.size() == kRing) {
        proto_msg_t fail = {};
        fail.kind = PROTO_TAG_FAIL;
        fail.chunk = m.chunk;
        fail.attempt = m.attempt;
        fail.code = PROTO_EQUEUE;
        ToMaster(x, fail);
        return;
      }
      x.ring.push_back({m.chunk, m.attempt, m.begin, m.end});
      StartNext(x);
      return;
    case PROTO_TAG_WELCOME:
      x.welcome = m.token;
      return;
    case PROTO_TAG_CANCEL:
      for (size_t i = 0; i < x.ring.size(); i++) {
        if (x.ring[i].chunk != m.chunk || x.ring[i].attempt != m.attempt)
          continue;
        x.cancelled.push_back(x.ring[i]);
        if (i == 0 && x.computing) {
          x.computing = false;
          x.token++;
        }
        x.ring.erase(x.ring.begin() + (long)i);
        StartNext(x);
        return;
      }
      return;
    case PROTO_TAG_REFUSE:
      x.refused = true;
      x.caught_at = x.corrupted;
      [[fallthrough]];
    case PROTO_TAG_STOP:
      x.left = true;
      x.computing = false;
      x.token++;
      return;
    default:
      return;
  }
}

void World::Call() {
  out_.decisions++;
  out_.farm_cpu_s += (double)(CpuNs() - call_start_ - callback_ns_) / 1e9;
  callback_ns_ = 0;
}

void World::Invariants() {
  if (!opt_.check || !broken_.empty()) return;
  char why[512];
  if (farm_check(farm_, why, sizeof(why)) == 0) return;
  char at[64];
  snprintf(at, sizeof(at), "at %.6f s: ", now_ / 1e9);
  broken_ = std::string(at) + why;
}

CallbackClock::~CallbackClock() {
  if (on) world->callback_ns_ += CpuNs() - t0;
}

void World::Handle(Event* e) {
  bool timed = opt_.chunk_ms > 0;
  if (e->type == kTickEv) {
    if (timed) call_start_ = CpuNs();
    farm_tick(farm_, now_);
    if (timed) Call();
    Invariants();
    if (!farm_->done) q_.push(New(kTickEv, now_ + kTick, 0));
    return;
  }
  if (e->type == kStop) {
    farm_stop(farm_, Rand(0, 1) ? FARM_STOP_DRAIN : FARM_STOP_NOW, now_);
    out_.stops++;
    Invariants();
    return;
  }
  if (e->type == kDeath) {
    // What the guard knows: the token WELCOME gave (none if it never came:
    // then the report proves nothing and must be ignored), and the pid.
    const Worker& x = w_[e->w];
    proto_death_t d = {};
    d.token = x.welcome ? x.welcome : 0x5eed;
    d.rank = x.rank;
    d.pid = 1000 + (uint64_t)x.rank;
    d.signal = 9;
    farm_death_report(farm_, &d, now_);
    Invariants();
    return;
  }
  if (e->type == kSolo) {
    if (!solo_on_ || e->token != (uint64_t)segment_) return;
    solo_on_ = false;
    if (farm_->stop) {
      farm_solo_drop(farm_, &solo_, now_);
      Invariants();
      return;
    }
    if (Poisoned(solo_.begin, solo_.end)) {
      farm_solo_failed(farm_, &solo_, PROTO_EKILLED, 11, now_);
      Invariants();
      return;
    }
    proto_msg_t r = {};
    r.isum = Partial(solo_.begin, solo_.end);
    r.busy_ns = 1;
    proto_exact_init(&r.fsum);
    farm_solo_done(farm_, &solo_, &r, now_);
    Invariants();
    return;
  }
  Worker& x = w_[e->w];
  if (e->type == kToMaster) {
    if (timed) call_start_ = CpuNs();
    out_.messages++;
    bool was_done =
        e->spoiled && e->msg.chunk < farm_->table.count &&
        farm_->table.chunk[e->msg.chunk].state == MASTER_CHUNK_DONE;
    if (e->bad)
      farm_bad_message(farm_, x.rank, e->bad, e->tag, e->len, e->version,
                       now_);
    else
      farm_message(farm_, x.rank, &e->msg, now_);
    if (timed) Call();
    if (e->spoiled) Odds(*e, was_done);
    Invariants();
    return;
  }
  // Events at a worker: none while it is dead; delayed while it is frozen.
  if (x.die_at && now_ >= x.die_at) x.dead = true;
  if (x.dead || x.left) return;
  if (Frozen(x)) {
    Event* later = New(e->type, x.freeze_to, e->w);
    later->token = e->token;
    later->msg = e->msg;
    // Its computation is paused, not lost: it resumes where it was.
    if (e->type == kFinish || e->type == kBeatEv)
      later->t =
          x.freeze_to + (e->t > x.freeze_from ? e->t - x.freeze_from : 0);
    if (e->type == kFinish && x.token == e->token) x.started += later->t - e->t;
    q_.push(later);
    return;
  }
  switch (e->type) {
    case kToWorker:
      WorkerGets(x, e->msg);
      break;
    case kFinish:
      if (x.computing && x.token == e->token) Finish(x);
      break;
    case kBeatEv:
      Beat(x, e->token);
      break;
    case kIdleBeat: {
      // As worker.c: an idle worker says it is alive every second.
      if (!x.computing && x.ring.empty()) {
        proto_msg_t m = {};
        m.kind = PROTO_TAG_PROGRESS;
        ToMaster(x, m);
      }
      q_.push(New(kIdleBeat, now_ + kS, e->w));
      break;
    }
    default:
      break;
  }
}

std::string World::Check() {
  char buf[256];
  if (!broken_.empty()) return "an invariant broke " + broken_;
  if (poison_to_ > poison_from_) {
    // Poison: the run must end with every chunk done but those it touches.
    if (farm_->rc != PROTO_EPOISON)
      return std::string("a poison range, and the run ended with ") +
             proto_strerror(farm_->rc);
    for (size_t i = 0; i < farm_->table.count; i++) {
      const master_chunk_t& c = farm_->table.chunk[i];
      if (c.state == MASTER_CHUNK_DONE) continue;
      if (!c.poisoned || !Poisoned(c.begin, c.end))
        return "a chunk off the poison range was left undone";
    }
    if (farm_->table.next_begin != job_.n) return "chunks were never cut";
    return "";
  }
  if (farm_->rc != 0)
    return std::string("the run failed: ") + proto_strerror(farm_->rc);
  if (!farm_finished(farm_)) return "the run ended unfinished";
  proto_exact_t fsum;
  u128 isum;
  farm_result(farm_, &fsum, &isum);
  out_.exact = isum == Partial(0, job_.n);
  out_.checks = farm_->checks_passed;
  out_.chunks = farm_->table.count;
  out_.liars = farm_->liars;
  out_.caught = true;
  for (const Worker& x : w_) {
    out_.spoiled += x.corrupted;
    if (x.kind == kCorrupter && x.corrupted > 0 && !x.refused)
      out_.caught = false;
  }
  // Only the detection-rate runs may end with a wrong result: their rank 1
  // spoils partials that a fraction below 1 of checks may miss.
  bool may_miss = opt_.corrupt > 0 && out_.verify < 1;
  if (!out_.exact && !may_miss) return "the result is not the reference";
  std::vector<size_t> order(journal_.size());
  for (size_t i = 0; i < order.size(); i++) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return journal_[a].begin < journal_[b].begin;
  });
  uint64_t at = 0;
  for (size_t i : order) {
    const master_record_t& r = journal_[i];
    if (r.begin != at) {
      snprintf(buf, sizeof(buf), "index %llu accepted %s",
               (unsigned long long)std::min(at, r.begin),
               r.begin < at ? "twice" : "never");
      return buf;
    }
    if (r.isum != Partial(r.begin, r.end) && !may_miss) {
      snprintf(buf, sizeof(buf),
               "a forged result for [%llu, %llu) from rank "
               "%d was accepted",
               (unsigned long long)r.begin, (unsigned long long)r.end, r.rank);
      return buf;
    }
    if (untrusted_.count({record_segment_[i], r.rank})) {
      snprintf(buf, sizeof(buf), "a result from refused rank %d was accepted",
               r.rank);
      return buf;
    }
    at = r.end;
  }
  if (at != job_.n) return "the journal does not reach n";
  uint64_t iters = farm_->master_iters + farm_->resumed_iters;
  for (int i = 0; i < farm_->nworkers; i++) iters += farm_->peer[i].iters;
  if (iters != job_.n) return "the statistics do not add up to n";
  if (farm_->inflight != 0) return "orders are left after the release";
  return "";
}

Outcome World::Go() {
  Setup();
  if (!out_.failure.empty()) return out_;
  for (;;) {
    farm_io_t io = {this, Send, Record, Log, nullptr};
    std::vector<master_record_t> done = journal_;
    std::sort(done.begin(), done.end(),
              [](const master_record_t& a, const master_record_t& b) {
                return a.begin < b.begin;
              });
    master_done_t prior;
    master_done_init(&prior);
    int rc = 0;
    for (const master_record_t& r : done)
      if (rc == 0) rc = master_done_add(&prior, &r);
    farm_config_t config = {};
    config.host = "sim0";
    // The key, like everything random in a run, from the seed's stream.
    config.key[0] = rng_();
    config.key[1] = rng_();
    config.death_port = 1;
    if (rc == 0)
      rc = farm_open(&farm_, &job_, (int)w_.size(), &io, &prior, &config,
                     now_);
    master_done_free(&prior);
    if (rc < 0) {
      out_.failure = std::string("farm_init: ") + proto_strerror(rc);
      return out_;
    }
    StartWorkers();
    q_.push(New(kTickEv, now_ + kTick, 0));
    if (opt_.faults && segment_ < 2 && Rand(0, 4) == 0) {
      uint64_t expected = (uint64_t)((double)job_.n / master_speed_ /
                                     std::max<size_t>(1, w_.size()));
      q_.push(New(kStop, now_ + Rand(0, expected + kMs), 0));
    }
    while (!farm_->done && !q_.empty()) {
      Event* e = q_.top();
      q_.pop();
      if (e->t > limit_) {
        delete e;
        break;
      }
      now_ = std::max(now_, e->t);
      Handle(e);
      delete e;
      if (!solo_on_ && farm_solo_wanted(farm_)) {
        int got = farm_solo_take(farm_, &solo_);
        Invariants();
        if (got < 0) farm_fail(farm_, got);
        if (got > 0) {
          if (opt_.verbose)
            fprintf(stderr, "[%.6f] the master computes [%llu, %llu)\n",
                    now_ / 1e9, (unsigned long long)solo_.begin,
                    (unsigned long long)solo_.end);
          solo_on_ = true;
          uint64_t ns =
              (uint64_t)((double)(solo_.end - solo_.begin) / master_speed_) +
              1000;
          Event* s = New(kSolo, now_ + ns, 0);
          s->token = (uint64_t)segment_;
          q_.push(s);
        }
      }
    }
    if (!farm_->done) {
      snprintf(buf_, sizeof(buf_),
               "the run never ended: %llu of %llu indices done after %.0f "
               "simulated seconds, %d orders held, %d takers",
               (unsigned long long)farm_->table.done_iters,
               (unsigned long long)job_.n, now_ / 1e9, farm_->inflight,
               farm_->takers);
      out_.failure = buf_;
      // Where the open chunks and checks are, for the replay.
      for (size_t i = 0, shown = 0;
           opt_.verbose && i < farm_->table.count && shown < 10; i++) {
        const master_chunk_t& c = farm_->table.chunk[i];
        if (c.state == MASTER_CHUNK_DONE && c.check != MASTER_CHECK_NONE &&
            c.check != MASTER_CHECK_PASSED) {
          shown++;
          fprintf(stderr,
                  "chunk %zu [%llu, %llu) done by %d, check %d, %u live\n", i,
                  (unsigned long long)c.begin, (unsigned long long)c.end,
                  c.done_by, c.check, c.live);
        }
        if (c.state == MASTER_CHUNK_DONE) continue;
        shown++;
        fprintf(stderr,
                "open chunk %zu [%llu, %llu): state %d, %u attempts, %u "
                "live, queued %d, holder of the last %d\n",
                i, (unsigned long long)c.begin, (unsigned long long)c.end,
                (int)c.state, c.attempts, c.live, c.queued,
                master_table_holder(&farm_->table, i, c.attempts));
      }
      return out_;
    }
    farm_release(farm_, now_);
    Invariants();
    out_.sim_seconds = now_ / 1e9;
    if (farm_finished(farm_) || farm_->rc != 0 || !farm_->stop) break;
    // (a poisoned run that was stopped is resumed too; its poison with it)
    // Stopped: the job ends, everything in flight is gone; a new job
    // resumes from the journal with new processes.
    while (!q_.empty()) {
      delete q_.top();
      q_.pop();
    }
    solo_on_ = false;
    farm_close(farm_);
    farm_ = nullptr;
    segment_++;
    now_ += Rand(1, 1000) * kMs;
  }
  out_.failure = Check();
  out_.ok = out_.failure.empty();
  return out_;
}

}  // namespace

Outcome Run(const Options& opt) {
  World world(opt);
  return world.Go();
}

std::string Replay(const Options& opt) {
  std::string cmd = "tools/sim --seed " + std::to_string(opt.seed);
  if (opt.workers) cmd += " --workers " + std::to_string(opt.workers);
  if (!opt.faults) cmd += " --no-faults";
  if (opt.n) cmd += " --n " + std::to_string(opt.n);
  return cmd + " --verbose";
}

}  // namespace sim
