// Alerts replayed (MATCHING.md "Alerts", issue 20 point 4): random writes
// (profile upserts and deletes, single and in bulk; job upserts and
// deletes, status and closes_on changes among them; policies set and
// deleted; the daily pass over several days, across a month's end) on an
// engine with a fixed clock, and:
//   - after every write, the new events are dense in sequence, carry the
//     write's cause, target, day and position (increasing from write to
//     write; 0 for the daily pass, which only ends matches), and, for a
//     write that names each id once, every MATCH_STARTED carries the
//     pair's score as MatchJobs gives it right then and the job's
//     authority (MATCH_ENDED: score 0); applied to the set of pairs, a
//     STARTED never finds its pair started and an ENDED always does;
//   - every few writes, every event replayed from sequence 0 rebuilds
//     exactly the set of (job, PA) pairs that match on the alerts day, as
//     MatchJobs of every stored PA says; a Watch of one job or one PA
//     sees exactly that job's or PA's events of the replay;
//   - the engine is closed and opened again twice: the events, the
//     alerts day and the pairs survive, a subscriber resuming from a
//     sequence saved before the restart gets every later event once, and
//     the next write's events follow on with no gap.
// The whole log is read through Watch cursors: one following every local
// authority of the taxonomy (jobs "job-la-*" always name one) and one per
// job for the jobs that name none ("job-nola-*", whose events an
// authority's Watch cannot see).
//
// Seeds: as tests/index_differential_test.cc (fixed seeds plus one random
// seed; PA_MATCH_TEST_SEED=N replays N as the random case:
//   PA_MATCH_TEST_SEED=N build/tests/alerts_replay_test
//       --gtest_filter='*random*').
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "demo/demo_data.h"
#include "engine/engine.h"
#include "engine/taxonomy.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"
#include "tests/random_market.h"

namespace pamatch {
namespace {

using ::pamatch::testing::DayText;
using ::pamatch::testing::NoonOf;
using ::pamatch::testing::RandomMarket;

constexpr int kProfiles = 400;
constexpr int kLaJobs = 40;
constexpr int kNoLaJobs = 6;
constexpr int kWrites = 600;
constexpr int kReplayEvery = 25;  // writes between full replays
constexpr int kDayEvery = 75;     // writes between daily passes
constexpr uint64_t kFixedSeeds[] = {1, 42, 20261125};

// The alerts day starts on the 27th of June and the daily pass moves it on
// by a day (sometimes two) every kDayEvery writes, to the 5th of July at
// most; dates fall around these days.
const absl::CivilDay kFirstDay(2026, 6, 27);
const absl::CivilDay kLastDay(2026, 7, 5);
const std::vector<absl::CivilDay> kKeyDays = {
    absl::CivilDay(2026, 6, 28), absl::CivilDay(2026, 6, 30),
    absl::CivilDay(2026, 7, 2), absl::CivilDay(2026, 7, 4),
    absl::CivilDay(2026, 7, 10)};

std::string Taxonomy() {
  return std::string(PA_MATCH_SOURCE_DIR) + "/taxonomy/north_east.json";
}

std::unique_ptr<Engine> OpenEngine(const std::string& dir) {
  EngineOptions options;
  options.data_dir = dir + "/db";
  options.taxonomy_path = Taxonomy();
  options.sync_writes = false;
  options.daily_pass_poll = absl::ZeroDuration();
  // The first alerts day of the new database; later ones come from
  // AdvanceAlertsDay.
  options.clock = [] { return NoonOf(kFirstDay); };
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

using Pair = std::pair<std::string, std::string>;  // job id, PA id

std::string Describe(const v1::WatchEvent& e) {
  return absl::StrCat("#", e.sequence(), " ",
                      e.kind() == v1::WatchEvent::MATCH_STARTED ? "STARTED"
                      : e.kind() == v1::WatchEvent::MATCH_ENDED ? "ENDED"
                                                                : "OTHER",
                      " ", e.job_id(), " / ", e.profile_id(), " (", e.cause(),
                      ", position ", e.position(), ", day ", e.day(), ")");
}

// Applies `events` (in order) to `pairs`: STARTED adds a pair not there,
// ENDED removes one that is.
void Apply(const std::vector<v1::WatchEvent>& events, std::set<Pair>* pairs) {
  for (const v1::WatchEvent& e : events) {
    const Pair pair{e.job_id(), e.profile_id()};
    if (e.kind() == v1::WatchEvent::MATCH_STARTED) {
      ASSERT_TRUE(pairs->insert(pair).second)
          << Describe(e) << ": started again without an end between";
    } else {
      ASSERT_EQ(e.kind(), v1::WatchEvent::MATCH_ENDED) << Describe(e);
      ASSERT_EQ(pairs->erase(pair), 1u)
          << Describe(e) << ": ended a match never started";
    }
  }
}

// Every event after `after` for `request`'s target, up to the last one.
void ReadTarget(const Engine& engine, v1::WatchRequest request, int64_t after,
                std::vector<v1::WatchEvent>* out) {
  out->clear();
  request.set_after_sequence(after);
  auto cursor = engine.StartWatch(request);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  const int64_t last = engine.LastEventSequence();
  while (cursor->after < last) {
    const int64_t before = cursor->after;
    auto events = engine.ReadEvents(&*cursor, 300);
    ASSERT_TRUE(events.ok()) << events.status();
    ASSERT_GT(cursor->after, before) << "ReadEvents does not move on";
    for (v1::WatchEvent& event : *events) out->push_back(std::move(event));
  }
  ASSERT_EQ(cursor->after, last);
}

class Replay {
 public:
  Replay(uint64_t seed, const std::string& dir)
      : seed_(seed),
        dir_(dir),
        random_(seed, demo::DemoScenario::kNorthEast, Authorities(), kKeyDays) {
  }

  static std::vector<std::string> Authorities() {
    auto taxonomy = pamatch::Taxonomy::Load(Taxonomy());
    EXPECT_TRUE(taxonomy.ok());
    std::vector<std::string> codes;
    if (!taxonomy.ok()) return codes;
    for (size_t i = 0; i < taxonomy->local_authorities().size(); ++i) {
      codes.push_back(
          taxonomy->local_authorities().code(static_cast<CodeId>(i)));
    }
    return codes;
  }

  void Run();

 private:
  // The whole log after `after`, merged from the authority cursor and the
  // per-job cursors of the jobs without one, checked dense.
  void ReadLog(int64_t after, std::vector<v1::WatchEvent>* out);
  // The pairs that match on the alerts day, by MatchJobs of every PA.
  void Truth(std::map<Pair, double>* out);
  // After a write: its events, checked and applied. `jobs` / `pas`: the
  // ids it wrote (empty: any); `single`: one write, one position (known
  // when `position` is set); `distinct`: no id written twice, so every
  // MATCH_STARTED's score is the pair's score now.
  struct Written {
    std::string cause;
    std::set<std::string> jobs, pas;
    bool single = true;
    std::optional<int64_t> position;
    bool distinct = true;
  };
  void AfterWrite(const Written& w);
  void FullReplay(const std::string& where);
  void Restart();

  void UpsertProfiles();
  void DeleteProfile();
  void UpsertJobs();
  void ChangeJobStatus();
  void DeleteJob();
  void SetPolicy();
  void DeletePolicy();
  void AdvanceDay();

  std::string PaId(int i) const { return absl::StrFormat("pa-%06d", i); }
  std::string SomePaId() { return PaId(random_.Uniform(0, kProfiles - 1)); }
  std::string SomeJobId() {
    const int n = random_.Uniform(0, kLaJobs + kNoLaJobs - 1);
    return n < kLaJobs ? absl::StrFormat("job-la-%03d", n)
                       : absl::StrFormat("job-nola-%03d", n - kLaJobs);
  }
  const v1::Profile* SomePa() {
    auto it = profiles_.find(SomePaId());
    return it == profiles_.end() ? nullptr : &it->second;
  }
  v1::Job NewJob(const std::string& id) {
    v1::Job job = random_.Job(id, SomePa());
    if (random_.Chance(0.5)) random_.Loosen(job.mutable_request());
    if (id.rfind("job-nola-", 0) == 0) {
      if (!job.request().has_location()) {  // it was the authority's centre
        job.mutable_request()->mutable_location()->set_lat(54.9);
        job.mutable_request()->mutable_location()->set_lon(-1.6);
      }
      job.mutable_request()->clear_local_authority();
    } else if (job.request().local_authority().empty()) {
      job.mutable_request()->set_local_authority(random_.Authority());
    }
    return job;
  }
  std::string Day() const { return engine_->Stats().alerts_day(); }

  const uint64_t seed_;
  const std::string dir_;
  RandomMarket random_;
  std::unique_ptr<Engine> engine_;
  absl::CivilDay day_ = kFirstDay;
  std::map<std::string, v1::Profile> profiles_;
  std::map<std::string, v1::Job> jobs_;
  std::set<std::string> policies_;
  std::set<std::string> nola_jobs_;  // every job id without an authority used
  // Built from the events as they come.
  std::set<Pair> pairs_;
  int64_t seen_ = 0;           // last event sequence applied
  int64_t last_position_ = 0;  // of the last write that caused events
  int64_t events_ = 0, started_ = 0, replays_ = 0, calendar_ = 0;
  size_t most_pairs_ = 0;
  std::map<std::string, int64_t> by_cause_;
};

void Replay::ReadLog(int64_t after, std::vector<v1::WatchEvent>* out) {
  out->clear();
  v1::WatchRequest all;
  for (const std::string& code : Authorities()) {
    all.mutable_local_authorities()->add_codes(code);
  }
  ReadTarget(*engine_, all, after, out);
  if (::testing::Test::HasFatalFailure()) return;
  for (const v1::WatchEvent& e : *out) {
    ASSERT_FALSE(e.local_authority().empty()) << Describe(e);
    ASSERT_EQ(e.job_id().rfind("job-la-", 0), 0u) << Describe(e);
  }
  for (const std::string& job : nola_jobs_) {
    v1::WatchRequest one;
    one.set_job_id(job);
    std::vector<v1::WatchEvent> events;
    ReadTarget(*engine_, one, after, &events);
    if (::testing::Test::HasFatalFailure()) return;
    for (v1::WatchEvent& e : events) {
      ASSERT_EQ(e.job_id(), job) << Describe(e);
      ASSERT_TRUE(e.local_authority().empty()) << Describe(e);
      out->push_back(std::move(e));
    }
  }
  std::sort(out->begin(), out->end(),
            [](const v1::WatchEvent& a, const v1::WatchEvent& b) {
              return a.sequence() < b.sequence();
            });
  const int64_t last = engine_->LastEventSequence();
  ASSERT_EQ(static_cast<int64_t>(out->size()), last - after)
      << "the log after " << after << " up to " << last << " is not whole";
  for (size_t i = 0; i < out->size(); ++i) {
    ASSERT_EQ((*out)[i].sequence(), after + 1 + static_cast<int64_t>(i))
        << "sequences not dense: " << Describe((*out)[i]);
  }
}

void Replay::Truth(std::map<Pair, double>* out) {
  out->clear();
  const std::string day = Day();
  for (const auto& [id, profile] : profiles_) {
    v1::MatchJobsRequest request;
    request.set_profile_id(id);
    request.set_as_of(day);
    request.set_page_size(100);
    for (;;) {
      auto page = engine_->MatchJobs(request, absl::UnixEpoch());
      ASSERT_TRUE(page.ok()) << id << ": " << page.status();
      for (const v1::JobMatch& match : page->results()) {
        out->emplace(Pair{match.job_id(), id}, match.score());
      }
      if (page->next_page_token().empty()) break;
      request.set_page_token(page->next_page_token());
    }
  }
}

void Replay::AfterWrite(const Written& w) {
  const std::string& cause = w.cause;
  std::vector<v1::WatchEvent> events;
  ReadLog(seen_, &events);
  if (::testing::Test::HasFatalFailure()) return;
  const std::string day = Day();
  std::set<int64_t> positions;
  int64_t previous = 0;
  for (const v1::WatchEvent& e : events) {
    ASSERT_EQ(e.cause(), cause) << Describe(e);
    ASSERT_EQ(e.day(), day) << Describe(e);
    if (!w.jobs.empty()) {
      ASSERT_TRUE(w.jobs.count(e.job_id())) << Describe(e);
    }
    if (!w.pas.empty()) {
      ASSERT_TRUE(w.pas.count(e.profile_id())) << Describe(e);
    }
    if (cause == "calendar") {
      ASSERT_EQ(e.position(), 0) << Describe(e);
      ASSERT_EQ(e.kind(), v1::WatchEvent::MATCH_ENDED)
          << Describe(e) << ": the calendar only ends matches";
    } else {
      ASSERT_GT(e.position(), last_position_) << Describe(e);
      ASSERT_GE(e.position(), previous) << Describe(e);
      previous = e.position();
      if (w.position) {
        ASSERT_EQ(e.position(), *w.position) << Describe(e);
      }
      positions.insert(e.position());
    }
    if (e.kind() == v1::WatchEvent::MATCH_ENDED) {
      ASSERT_EQ(e.score(), 0) << Describe(e);
    } else if (w.distinct) {
      // The job's authority as it is now (the write's, for a job write).
      auto job = jobs_.find(e.job_id());
      ASSERT_NE(job, jobs_.end()) << Describe(e) << ": a job not stored";
      ASSERT_EQ(e.local_authority(), job->second.request().local_authority())
          << Describe(e);
    }
  }
  if (w.single) {
    ASSERT_LE(positions.size(), 1u);
  }
  // The order of one write's events (docs/MATCHING-DECISIONS.md "Order and
  // ids"): MATCH_ENDED before MATCH_STARTED, each by job id for a profile
  // write, by PA id for a job write or a policy change; the daily pass's
  // by (job id, PA id).
  for (size_t begin = 0, end; begin < events.size(); begin = end) {
    end = begin;
    while (end < events.size() &&
           events[end].position() == events[begin].position()) {
      ++end;
    }
    auto key = [&](const v1::WatchEvent& e) {
      const bool started = e.kind() == v1::WatchEvent::MATCH_STARTED;
      if (cause == "calendar") {
        return std::make_tuple(started, e.job_id(), e.profile_id());
      }
      if (cause == "profile_upsert" || cause == "profile_delete") {
        return std::make_tuple(started, e.job_id(), std::string());
      }
      return std::make_tuple(started, e.profile_id(), std::string());
    };
    for (size_t i = begin + 1; i < end; ++i) {
      ASSERT_LE(key(events[i - 1]), key(events[i]))
          << Describe(events[i - 1]) << " then " << Describe(events[i])
          << ": not in the documented order";
    }
  }
  if (!positions.empty()) last_position_ = *positions.rbegin();
  Apply(events, &pairs_);
  if (::testing::Test::HasFatalFailure()) return;
  // The scores of what started: MatchJobs of the PA now.
  std::map<std::string, std::map<std::string, double>> scores_of;  // PA -> job
  for (const v1::WatchEvent& e : events) {
    if (e.kind() != v1::WatchEvent::MATCH_STARTED) continue;
    ++started_;
    // A bulk write naming one id twice may have ended or moved it since.
    if (!w.distinct) continue;
    auto [it, fresh] = scores_of.try_emplace(e.profile_id());
    if (fresh) {
      v1::MatchJobsRequest request;
      request.set_profile_id(e.profile_id());
      request.set_as_of(day);
      request.set_page_size(100);
      for (;;) {
        auto page = engine_->MatchJobs(request, absl::UnixEpoch());
        ASSERT_TRUE(page.ok()) << Describe(e) << ": " << page.status();
        for (const v1::JobMatch& m : page->results()) {
          it->second[m.job_id()] = m.score();
        }
        if (page->next_page_token().empty()) break;
        request.set_page_token(page->next_page_token());
      }
    }
    auto score = it->second.find(e.job_id());
    ASSERT_NE(score, it->second.end())
        << Describe(e) << ": started, but MatchJobs of the PA lacks the job";
    ASSERT_EQ(e.score(), score->second) << Describe(e);
  }
  events_ += static_cast<int64_t>(events.size());
  by_cause_[cause] += static_cast<int64_t>(events.size());
  if (!events.empty()) seen_ = events.back().sequence();
  ASSERT_EQ(seen_, engine_->LastEventSequence());
}

void Replay::FullReplay(const std::string& where) {
  SCOPED_TRACE(where);
  std::vector<v1::WatchEvent> log;
  ReadLog(0, &log);
  if (::testing::Test::HasFatalFailure()) return;
  std::set<Pair> rebuilt;
  Apply(log, &rebuilt);
  if (::testing::Test::HasFatalFailure()) return;
  std::map<Pair, double> truth;
  Truth(&truth);
  if (::testing::Test::HasFatalFailure()) return;
  std::set<Pair> expected;
  for (const auto& [pair, score] : truth) expected.insert(pair);
  for (const Pair& pair : expected) {
    EXPECT_TRUE(rebuilt.count(pair))
        << "job " << pair.first << " matches PA " << pair.second << " on "
        << Day() << ", but no event started it";
  }
  for (const Pair& pair : rebuilt) {
    EXPECT_TRUE(expected.count(pair))
        << "the events leave job " << pair.first << " / PA " << pair.second
        << " matching, but it does not on " << Day();
  }
  ASSERT_TRUE(rebuilt == expected) << "see the pairs above";
  most_pairs_ = std::max(most_pairs_, rebuilt.size());
  ASSERT_TRUE(rebuilt == pairs_)
      << "the events read one write at a time rebuild another set";
  // One job's and one PA's Watch: exactly their part of the log.
  for (int k = 0; k < 2; ++k) {
    const bool by_job = k == 0;
    const std::string target = by_job ? SomeJobId() : SomePaId();
    v1::WatchRequest request;
    if (by_job) {
      request.set_job_id(target);
    } else {
      request.set_profile_id(target);
    }
    std::vector<v1::WatchEvent> mine;
    ReadTarget(*engine_, request, 0, &mine);
    if (::testing::Test::HasFatalFailure()) return;
    std::vector<std::string> want, got;
    for (const v1::WatchEvent& e : log) {
      if ((by_job ? e.job_id() : e.profile_id()) == target) {
        want.push_back(e.ShortDebugString());
      }
    }
    for (const v1::WatchEvent& e : mine) got.push_back(e.ShortDebugString());
    ASSERT_EQ(got, want) << "Watch of " << target;
  }
  ++replays_;
}

void Replay::Restart() {
  const int64_t last = engine_->LastEventSequence();
  const std::string day = Day();
  std::vector<v1::WatchEvent> before;
  ReadLog(0, &before);
  if (::testing::Test::HasFatalFailure()) return;
  // A subscriber saved its position somewhere before the end.
  const int64_t saved =
      last > 0 ? random_.Uniform(0, static_cast<int>(last)) : 0;
  engine_.reset();
  engine_ = OpenEngine(dir_);
  ASSERT_NE(engine_, nullptr);
  ASSERT_EQ(engine_->LastEventSequence(), last);
  ASSERT_EQ(Day(), day);
  std::vector<v1::WatchEvent> after;
  ReadLog(0, &after);
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    ASSERT_EQ(after[i].ShortDebugString(), before[i].ShortDebugString());
  }
  // Resuming from the saved sequence: every later event, once, in order.
  std::vector<v1::WatchEvent> resumed;
  ReadLog(saved, &resumed);
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_EQ(resumed.size(), before.size() - static_cast<size_t>(saved));
  for (size_t i = 0; i < resumed.size(); ++i) {
    ASSERT_EQ(resumed[i].ShortDebugString(),
              before[static_cast<size_t>(saved) + i].ShortDebugString());
  }
  // A subscriber at the end gets nothing until the next write.
  v1::WatchRequest at_end;
  at_end.set_profile_id(SomePaId());
  auto cursor = engine_->StartWatch(at_end);
  ASSERT_TRUE(cursor.ok());
  ASSERT_EQ(cursor->after, last);
  FullReplay("after a restart");
}

void Replay::UpsertProfiles() {
  const int n = random_.Chance(0.7) ? 1 : random_.Uniform(2, 6);
  std::vector<v1::Profile> batch;
  std::set<std::string> ids;
  int index = 0;
  for (int i = 0; i < n; ++i) {
    // In bulk, often the same PA again: one round, two writes of an id.
    const bool again = i > 0 && random_.Chance(0.4);
    if (!again) index = random_.Uniform(0, kProfiles - 1);
    v1::Profile p;
    auto stored = profiles_.find(PaId(index));
    if (again && random_.Chance(0.5)) {
      p = batch.back();
      random_.Perturb(&p);
    } else if (stored != profiles_.end() && random_.Chance(0.4)) {
      // A small change to the stored one: its dates, its status.
      p = stored->second;
      random_.Perturb(&p);
    } else {
      p = random_.Profile(seed_ + static_cast<uint64_t>(random_.Uniform(0, 3)),
                          index, NoonOf(kFirstDay));
    }
    p.set_version(0);
    batch.push_back(p);
    ids.insert(p.id());
  }
  if (n == 1) {
    auto result = engine_->Upsert(batch[0]);
    ASSERT_TRUE(result.ok()) << result.status();
  } else {
    for (const auto& result : engine_->BulkUpsert(batch)) {
      ASSERT_TRUE(result.ok()) << result.status();
    }
  }
  for (const v1::Profile& p : batch) profiles_[p.id()] = p;
  {
    Written w;
    w.cause = "profile_upsert";
    w.pas = ids;
    w.single = n == 1;
    w.distinct = ids.size() == batch.size();
    AfterWrite(w);
  }
}

void Replay::DeleteProfile() {
  const std::string id = SomePaId();
  const absl::Status status = engine_->DeleteProfile(id);
  ASSERT_EQ(status.ok(), profiles_.erase(id) == 1) << id << ": " << status;
  {
    Written w;
    w.cause = "profile_delete";
    w.pas = {id};
    AfterWrite(w);
  }
}

void Replay::UpsertJobs() {
  const int n = random_.Chance(0.7) ? 1 : random_.Uniform(2, 5);
  std::vector<v1::Job> batch;
  std::set<std::string> ids;
  for (int i = 0; i < n; ++i) {
    // In bulk, often the same job again (a new request or a new status).
    if (i > 0 && random_.Chance(0.4)) {
      v1::Job job = NewJob(batch.back().id());
      if (random_.Chance(0.5)) {
        job = batch.back();
        job.set_status(random_.Chance(0.5) ? v1::OPEN : v1::FILLED);
      }
      batch.push_back(job);
    } else {
      batch.push_back(NewJob(SomeJobId()));
    }
    ids.insert(batch.back().id());
  }
  if (n == 1) {
    auto result = engine_->UpsertJob(batch[0]);
    ASSERT_TRUE(result.ok()) << result.status();
    jobs_[batch[0].id()] = batch[0];
    if (batch[0].request().local_authority().empty())
      nola_jobs_.insert(batch[0].id());
    {
      Written w;
      w.cause = "job_upsert";
      w.jobs = ids;
      w.position = result->position();
      AfterWrite(w);
    }
    return;
  }
  const auto results = engine_->BulkUpsertJobs(batch);
  for (size_t i = 0; i < batch.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status();
    jobs_[batch[i].id()] = batch[i];
    if (batch[i].request().local_authority().empty())
      nola_jobs_.insert(batch[i].id());
  }
  {
    Written w;
    w.cause = "job_upsert";
    w.jobs = ids;
    w.single = false;
    w.distinct = ids.size() == batch.size();
    AfterWrite(w);
  }
}

void Replay::ChangeJobStatus() {
  if (jobs_.empty()) return UpsertJobs();
  auto it = jobs_.begin();
  std::advance(it, random_.Uniform(0, static_cast<int>(jobs_.size()) - 1));
  v1::Job job = it->second;
  job.set_version(0);
  switch (random_.Uniform(0, 3)) {
    case 0:
      job.set_status(v1::OPEN);
      break;
    case 1:
      job.set_status(random_.Chance(0.5) ? v1::FILLED : v1::CLOSED);
      break;
    case 2:
      job.set_closes_on(DayText(random_.NearKeyDay()));
      break;
    default:
      job.clear_closes_on();
      break;
  }
  auto result = engine_->UpsertJob(job);
  ASSERT_TRUE(result.ok()) << result.status();
  it->second = job;
  {
    Written w;
    w.cause = "job_upsert";
    w.jobs = {job.id()};
    w.position = result->position();
    AfterWrite(w);
  }
}

void Replay::DeleteJob() {
  const std::string id = SomeJobId();
  const absl::Status status = engine_->DeleteJob(id);
  ASSERT_EQ(status.ok(), jobs_.erase(id) == 1) << id << ": " << status;
  {
    Written w;
    w.cause = "job_delete";
    w.jobs = {id};
    AfterWrite(w);
  }
}

void Replay::SetPolicy() {
  const v1::Policy policy = random_.Policy(random_.Authority());
  auto set = engine_->SetPolicy(policy, NoonOf(day_));
  ASSERT_TRUE(set.ok()) << set.status();
  policies_.insert(policy.local_authority());
  {
    Written w;
    w.cause = "policy";
    AfterWrite(w);
  }
}

void Replay::DeletePolicy() {
  if (policies_.empty()) return SetPolicy();
  auto it = policies_.begin();
  std::advance(it, random_.Uniform(0, static_cast<int>(policies_.size()) - 1));
  ASSERT_TRUE(engine_->DeletePolicy(*it).ok()) << *it;
  policies_.erase(it);
  {
    Written w;
    w.cause = "policy";
    AfterWrite(w);
  }
}

void Replay::AdvanceDay() {
  if (day_ >= kLastDay) return UpsertJobs();
  day_ = std::min(kLastDay, day_ + (random_.Chance(0.25) ? 2 : 1));
  ASSERT_TRUE(engine_->AdvanceAlertsDay(NoonOf(day_)).ok());
  ASSERT_EQ(Day(), DayText(day_));
  const int64_t before = seen_;
  {
    Written w;
    w.cause = "calendar";
    AfterWrite(w);
  }
  calendar_ += seen_ - before;
}

void Replay::Run() {
  engine_ = OpenEngine(dir_);
  ASSERT_NE(engine_, nullptr);
  ASSERT_EQ(Day(), DayText(kFirstDay));
  // Start with a market: most PAs, and half the jobs.
  {
    std::vector<v1::Profile> batch;
    for (int i = 0; i < kProfiles; ++i) {
      if (random_.Chance(0.8))
        batch.push_back(random_.Profile(seed_, i, NoonOf(kFirstDay)));
    }
    for (const auto& result : engine_->BulkUpsert(batch))
      ASSERT_TRUE(result.ok());
    for (const v1::Profile& p : batch) profiles_[p.id()] = p;
    {
      Written w;
      w.cause = "profile_upsert";
      w.single = false;
      AfterWrite(w);
    }  // no jobs: none
    ASSERT_EQ(seen_, 0);
    for (int i = 0; i < (kLaJobs + kNoLaJobs) / 2; ++i) {
      UpsertJobs();
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  FullReplay("at the start");
  if (::testing::Test::HasFatalFailure()) return;
  for (int write = 1; write <= kWrites; ++write) {
    SCOPED_TRACE(absl::StrCat("write ", write, ", alerts day ", DayText(day_)));
    const double op = random_.Real(0, 1);
    if (write % kDayEvery == 0) {
      AdvanceDay();
    } else if (op < 0.32) {
      UpsertProfiles();
    } else if (op < 0.40) {
      DeleteProfile();
    } else if (op < 0.62) {
      UpsertJobs();
    } else if (op < 0.76) {
      ChangeJobStatus();
    } else if (op < 0.84) {
      DeleteJob();
    } else if (op < 0.94) {
      SetPolicy();
    } else {
      DeletePolicy();
    }
    if (::testing::Test::HasFatalFailure()) return;
    if (write % kReplayEvery == 0) {
      FullReplay(absl::StrCat("replay after write ", write));
      if (::testing::Test::HasFatalFailure()) return;
    }
    if (write == kWrites / 3 || write == 2 * kWrites / 3) {
      Restart();
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  FullReplay("at the end");
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_GT(started_, 100) << "the random writes should start matches";
  EXPECT_GT(by_cause_["profile_upsert"], 0);
  EXPECT_GT(by_cause_["job_upsert"], 0);
  EXPECT_GT(by_cause_["policy"], 0);
  std::printf(
      "seed %llu: %lld events (%lld started; by cause: profile_upsert %lld, "
      "profile_delete %lld, job_upsert %lld, job_delete %lld, policy %lld, "
      "calendar %lld), %lld full replays, at most %zu pairs, %zu at the end "
      "on %s\n",
      static_cast<unsigned long long>(seed_), static_cast<long long>(events_),
      static_cast<long long>(started_),
      static_cast<long long>(by_cause_["profile_upsert"]),
      static_cast<long long>(by_cause_["profile_delete"]),
      static_cast<long long>(by_cause_["job_upsert"]),
      static_cast<long long>(by_cause_["job_delete"]),
      static_cast<long long>(by_cause_["policy"]),
      static_cast<long long>(calendar_), static_cast<long long>(replays_),
      most_pairs_, pairs_.size(), Day().c_str());
}

class AlertsReplayTest
    : public ::testing::TestWithParam<std::optional<uint64_t>> {};

TEST_P(AlertsReplayTest, EventsRebuildTheMatchingPairs) {
  const uint64_t seed =
      GetParam().has_value() ? *GetParam() : testing::RandomTestSeed();
  testing::PrintSeed(seed);
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE(absl::StrCat("seed ", seed,
                            " (replay with PA_MATCH_TEST_SEED=", seed, ")"));
  const auto started = std::chrono::steady_clock::now();
  testing::TempDir dir;
  Replay replay(seed, dir.path());
  replay.Run();
  std::printf(
      "seed %llu: %.1f s\n", static_cast<unsigned long long>(seed),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count());
}

std::vector<std::optional<uint64_t>> Seeds() {
  std::vector<std::optional<uint64_t>> seeds(std::begin(kFixedSeeds),
                                             std::end(kFixedSeeds));
  seeds.push_back(std::nullopt);
  return seeds;
}

INSTANTIATE_TEST_SUITE_P(
    Seeds, AlertsReplayTest, ::testing::ValuesIn(Seeds()),
    [](const ::testing::TestParamInfo<std::optional<uint64_t>>& info) {
      return info.param.has_value() ? absl::StrCat("seed_", *info.param)
                                    : std::string("random");
    });

}  // namespace
}  // namespace pamatch
