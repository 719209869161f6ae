// Watchers attached while writers race (MATCHING.md "Alerts", issue 20
// point 4), run under ThreadSanitizer in CI (label "tsan"): threads write
// profiles (blocking, in bulk, and many asynchronous writes in flight at
// once, so that commit rounds hold several writes), jobs and policies, the
// daily pass runs twice meanwhile, and two watchers follow the whole log
// as it grows (one from the start, one joining late), woken by the
// engine's event listener. Each watcher checks, as events arrive, that the
// sequences are dense and that a pair never starts twice or ends unstarted;
// at the end, both watchers' pairs are exactly the pairs that match on the
// alerts day (MatchJobs of every PA), and both saw the same events.
// tests/alerts_replay_test.cc holds the events to each write one by one;
// this test holds them to concurrent writes.
//
// Seeds pick the data (the interleaving is the machine's): seed 1 and one
// random seed; PA_MATCH_TEST_SEED=N replays N as the random case.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "engine/taxonomy.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"
#include "tests/random_market.h"

namespace pamatch {
namespace {

using ::pamatch::testing::NoonOf;
using ::pamatch::testing::RandomMarket;

constexpr int kProfiles = 200;
constexpr int kLaJobs = 24;
constexpr int kNoLaJobs = 4;
constexpr int kProfileOps = 120;  // per profile writer (two of them)
constexpr int kJobOps = 120;
constexpr int kPolicyOps = 20;
constexpr int kInFlight = 8;  // asynchronous profile writes at once

const absl::CivilDay kFirstDay(2026, 6, 29);
const std::vector<absl::CivilDay> kKeyDays = {absl::CivilDay(2026, 6, 29),
                                              absl::CivilDay(2026, 6, 30),
                                              absl::CivilDay(2026, 7, 1)};

std::string TaxonomyPath() {
  return std::string(PA_MATCH_SOURCE_DIR) + "/taxonomy/north_east.json";
}

std::vector<std::string> Authorities() {
  auto taxonomy = Taxonomy::Load(TaxonomyPath());
  EXPECT_TRUE(taxonomy.ok()) << taxonomy.status();
  std::vector<std::string> codes;
  if (!taxonomy.ok()) return codes;
  for (size_t i = 0; i < taxonomy->local_authorities().size(); ++i) {
    codes.push_back(taxonomy->local_authorities().code(static_cast<CodeId>(i)));
  }
  return codes;
}

std::string PaId(int i) { return absl::StrFormat("pa-%06d", i); }
std::string JobId(int n) {
  return n < kLaJobs ? absl::StrFormat("job-la-%03d", n)
                     : absl::StrFormat("job-nola-%03d", n - kLaJobs);
}

using Pair = std::pair<std::string, std::string>;  // job id, PA id

// Wakes watchers when events are published (the engine's listener).
struct Doorbell {
  std::mutex mu;
  std::condition_variable rang;
  int64_t last = 0;
  void Ring(int64_t sequence) {
    {
      std::lock_guard<std::mutex> lock(mu);
      last = std::max(last, sequence);
    }
    rang.notify_all();
  }
  void WaitPast(int64_t seen) {
    std::unique_lock<std::mutex> lock(mu);
    rang.wait_for(lock, std::chrono::milliseconds(20),
                  [&] { return last > seen; });
  }
};

// A subscriber to the whole log: a Watch of every local authority and one
// per job that names none, merged. Applies events in sequence order as far
// as every cursor has read.
class Watcher {
 public:
  // From sequence `after` on; a watcher that starts after events were
  // written cannot know the pairs they started, so only one from 0 keeps
  // the pairs.
  Watcher(const Engine& engine, int64_t after)
      : engine_(engine), pairs_kept_(after == 0) {
    v1::WatchRequest all;
    for (const std::string& code : Authorities()) {
      all.mutable_local_authorities()->add_codes(code);
    }
    all.set_after_sequence(after);
    Add(all);
    for (int n = kLaJobs; n < kLaJobs + kNoLaJobs; ++n) {
      v1::WatchRequest one;
      one.set_job_id(JobId(n));
      one.set_after_sequence(after);
      Add(one);
    }
    applied_ = after;
  }

  // Reads what is there; false on an error (recorded as a failure).
  bool Poll() {
    for (WatchCursor& cursor : cursors_) {
      auto events = engine_.ReadEvents(&cursor, 200);
      if (!events.ok()) return Fail(events.status().ToString());
      for (v1::WatchEvent& e : *events) pending_.push_back(std::move(e));
    }
    int64_t complete = cursors_[0].after;
    for (const WatchCursor& cursor : cursors_) {
      complete = std::min(complete, cursor.after);
    }
    std::sort(pending_.begin(), pending_.end(),
              [](const v1::WatchEvent& a, const v1::WatchEvent& b) {
                return a.sequence() < b.sequence();
              });
    size_t used = 0;
    for (; used < pending_.size() && pending_[used].sequence() <= complete;
         ++used) {
      const v1::WatchEvent& e = pending_[used];
      if (e.sequence() != applied_ + 1) {
        return Fail(absl::StrCat("sequence ", e.sequence(), " after ", applied_,
                                 ": not dense"));
      }
      applied_ = e.sequence();
      const Pair pair{e.job_id(), e.profile_id()};
      if (!pairs_kept_) {
        // Only the log.
      } else if (e.kind() == v1::WatchEvent::MATCH_STARTED) {
        if (!pairs_.insert(pair).second) {
          return Fail(absl::StrCat("#", e.sequence(), " ", pair.first, " / ",
                                   pair.second, " started twice"));
        }
      } else if (pairs_.erase(pair) != 1) {
        return Fail(absl::StrCat("#", e.sequence(), " ", pair.first, " / ",
                                 pair.second, " ended, never started"));
      }
      log_.push_back(e.ShortDebugString());
    }
    pending_.erase(pending_.begin(),
                   pending_.begin() + static_cast<long>(used));
    if (applied_ < complete) {
      return Fail(absl::StrCat("events up to ", complete, " read, but only ",
                               applied_, " reached"));
    }
    return true;
  }

  int64_t applied() const { return applied_; }
  const std::set<Pair>& pairs() const { return pairs_; }
  const std::vector<std::string>& log() const { return log_; }
  const std::string& error() const { return error_; }

 private:
  void Add(const v1::WatchRequest& request) {
    auto cursor = engine_.StartWatch(request);
    EXPECT_TRUE(cursor.ok()) << cursor.status();
    if (cursor.ok()) cursors_.push_back(*cursor);
  }
  bool Fail(const std::string& message) {
    error_ = message;
    return false;
  }

  const Engine& engine_;
  const bool pairs_kept_;
  std::vector<WatchCursor> cursors_;
  std::vector<v1::WatchEvent> pending_;
  int64_t applied_ = 0;
  std::set<Pair> pairs_;
  std::vector<std::string> log_;  // events applied, from `after` on
  std::string error_;
};

class AlertsConcurrencyTest
    : public ::testing::TestWithParam<std::optional<uint64_t>> {};

TEST_P(AlertsConcurrencyTest, WatchersSeeExactlyTheTransitionsOfRacingWrites) {
  const uint64_t seed =
      GetParam().has_value() ? *GetParam() : testing::RandomTestSeed();
  testing::PrintSeed(seed);
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE(absl::StrCat("seed ", seed,
                            " (replay with PA_MATCH_TEST_SEED=", seed, ")"));
  const std::vector<std::string> authorities = Authorities();
  ASSERT_FALSE(authorities.empty());
  testing::TempDir dir;
  EngineOptions options;
  options.data_dir = dir.path() + "/db";
  options.taxonomy_path = TaxonomyPath();
  options.sync_writes = false;
  options.daily_pass_poll = absl::ZeroDuration();
  options.clock = [] { return NoonOf(kFirstDay); };
  auto opened = Engine::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<Engine> engine = *std::move(opened);

  // Each thread draws from its own generator.
  auto market = [&](uint64_t stream) {
    return std::make_unique<RandomMarket>(seed * 8 + stream,
                                          demo::DemoScenario::kNorthEast,
                                          authorities, kKeyDays);
  };
  auto job_of = [&](RandomMarket& random, int n) {
    v1::Job job = random.Job(JobId(n), nullptr);
    if (random.Chance(0.6)) random.Loosen(job.mutable_request());
    v1::SearchRequest& r = *job.mutable_request();
    // Near the PAs: the North East demo data's middle.
    r.mutable_location()->set_lat(random.Real(54.6, 55.1));
    r.mutable_location()->set_lon(random.Real(-1.9, -1.3));
    if (n >= kLaJobs) {
      r.clear_local_authority();
    } else if (r.local_authority().empty()) {
      r.set_local_authority(random.Authority());
    }
    return job;
  };
  {
    auto random = market(0);
    std::vector<v1::Profile> profiles;
    for (int i = 0; i < kProfiles; ++i) {
      profiles.push_back(random->Profile(seed, i, NoonOf(kFirstDay)));
    }
    for (const auto& result : engine->BulkUpsert(profiles)) {
      ASSERT_TRUE(result.ok()) << result.status();
    }
    std::vector<v1::Job> jobs;
    for (int n = 0; n < kLaJobs + kNoLaJobs; n += 2) {
      jobs.push_back(job_of(*random, n));
    }
    for (const auto& result : engine->BulkUpsertJobs(jobs)) {
      ASSERT_TRUE(result.ok()) << result.status();
    }
  }

  Doorbell doorbell;
  const int64_t listener = engine->AddEventListener(
      [&doorbell](int64_t last) { doorbell.Ring(last); });
  std::atomic<bool> writers_done{false};
  std::atomic<int> failures{0};
  std::atomic<int64_t> late_start{-1};
  std::mutex errors_mu;
  std::vector<std::string> errors;
  auto fail = [&](const std::string& message) {
    std::lock_guard<std::mutex> lock(errors_mu);
    errors.push_back(message);
    ++failures;
  };

  // Watchers: one from the start, one joining once writes are under way.
  std::vector<std::unique_ptr<Watcher>> watchers(2);
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      int64_t after = 0;
      if (w == 1) {
        while (engine->LastEventSequence() < 50 && !writers_done.load()) {
          doorbell.WaitPast(engine->LastEventSequence());
        }
        after = engine->LastEventSequence();
        late_start.store(after);
      }
      watchers[w] = std::make_unique<Watcher>(*engine, after);
      Watcher& watcher = *watchers[w];
      for (;;) {
        const bool done = writers_done.load();
        const int64_t last = engine->LastEventSequence();
        if (!watcher.Poll()) return fail(watcher.error());
        if (done && watcher.applied() >= last) return;
        if (watcher.applied() >= last) doorbell.WaitPast(last);
      }
    });
  }

  // Writers.
  for (int t = 0; t < 2; ++t) {  // profiles
    threads.emplace_back([&, t] {
      auto random = market(1 + t);
      // For the asynchronous writes; outlives every callback (they signal
      // under the lock, so a waiter that saw zero is never raced).
      std::mutex mu;
      std::condition_variable all_done;
      int left = 0;
      for (int op = 0; op < kProfileOps; ++op) {
        const int index = random->Uniform(0, kProfiles - 1);
        const double kind = random->Real(0, 1);
        if (kind < 0.15) {
          const absl::Status status = engine->DeleteProfile(PaId(index));
          if (!status.ok() && !absl::IsNotFound(status))
            fail(status.ToString());
        } else if (kind < 0.5) {
          v1::Profile p = random->Profile(seed + 1 + random->Uniform(0, 2),
                                          index, NoonOf(kFirstDay));
          p.set_version(0);
          auto result = engine->Upsert(p);
          if (!result.ok()) fail(result.status().ToString());
        } else {
          // Many at once: the commit thread takes them in shared rounds.
          {
            std::lock_guard<std::mutex> lock(mu);
            left = kInFlight;
          }
          for (int k = 0; k < kInFlight; ++k) {
            v1::Profile p = random->Profile(seed + 1 + random->Uniform(0, 2),
                                            random->Uniform(0, kProfiles - 1),
                                            NoonOf(kFirstDay));
            p.set_version(0);
            engine->UpsertAsync(
                p, [&](absl::StatusOr<v1::UpsertProfileResponse> result) {
                  if (!result.ok()) fail(result.status().ToString());
                  std::lock_guard<std::mutex> lock(mu);
                  --left;
                  all_done.notify_all();
                });
          }
          std::unique_lock<std::mutex> lock(mu);
          all_done.wait(lock, [&] { return left == 0; });
        }
      }
    });
  }
  threads.emplace_back([&] {  // jobs
    auto random = market(3);
    for (int op = 0; op < kJobOps; ++op) {
      const int n = random->Uniform(0, kLaJobs + kNoLaJobs - 1);
      const double kind = random->Real(0, 1);
      if (kind < 0.15) {
        const absl::Status status = engine->DeleteJob(JobId(n));
        if (!status.ok() && !absl::IsNotFound(status)) fail(status.ToString());
      } else if (kind < 0.7) {
        auto result = engine->UpsertJob(job_of(*random, n));
        if (!result.ok()) fail(result.status().ToString());
      } else {
        std::vector<v1::Job> jobs;
        for (int k = random->Uniform(2, 4); k > 0; --k) {
          jobs.push_back(
              job_of(*random, random->Uniform(0, kLaJobs + kNoLaJobs - 1)));
        }
        for (const auto& result : engine->BulkUpsertJobs(jobs)) {
          if (!result.ok()) fail(result.status().ToString());
        }
      }
    }
  });
  threads.emplace_back([&] {  // policies and the daily pass
    auto random = market(4);
    for (int op = 0; op < kPolicyOps; ++op) {
      const std::string& authority = random->Authority();
      if (random->Chance(0.6)) {
        auto set =
            engine->SetPolicy(random->Policy(authority), NoonOf(kFirstDay));
        if (!set.ok()) fail(set.status().ToString());
      } else {
        const absl::Status status = engine->DeletePolicy(authority);
        if (!status.ok() && !absl::IsNotFound(status)) fail(status.ToString());
      }
      if (op == kPolicyOps / 3 || op == 2 * kPolicyOps / 3) {
        const absl::CivilDay day = kFirstDay + (op == kPolicyOps / 3 ? 1 : 2);
        const absl::Status passed = engine->AdvanceAlertsDay(NoonOf(day));
        if (!passed.ok()) fail(passed.ToString());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  // Writers first (index 2 on), then the watchers.
  for (size_t i = 2; i < threads.size(); ++i) threads[i].join();
  writers_done.store(true);
  doorbell.Ring(engine->LastEventSequence());
  threads[0].join();
  threads[1].join();
  engine->RemoveEventListener(listener);
  for (const std::string& error : errors) ADD_FAILURE() << error;
  ASSERT_EQ(failures.load(), 0);
  ASSERT_NE(watchers[0], nullptr);
  ASSERT_NE(watchers[1], nullptr);

  // The pairs that match on the alerts day.
  const std::string day = engine->Stats().alerts_day();
  EXPECT_EQ(day, "2026-07-01");
  std::set<Pair> truth;
  for (int i = 0; i < kProfiles; ++i) {
    v1::MatchJobsRequest request;
    request.set_profile_id(PaId(i));
    request.set_as_of(day);
    request.set_page_size(100);
    for (;;) {
      auto page = engine->MatchJobs(request, absl::UnixEpoch());
      if (absl::IsNotFound(page.status())) break;  // deleted
      ASSERT_TRUE(page.ok()) << page.status();
      for (const v1::JobMatch& match : page->results()) {
        truth.insert({match.job_id(), PaId(i)});
      }
      if (page->next_page_token().empty()) break;
      request.set_page_token(page->next_page_token());
    }
  }
  const Watcher& first = *watchers[0];
  EXPECT_EQ(first.applied(), engine->LastEventSequence());
  for (const Pair& pair : truth) {
    EXPECT_TRUE(first.pairs().count(pair))
        << pair.first << " / " << pair.second
        << " matches, but no event started it";
  }
  for (const Pair& pair : first.pairs()) {
    EXPECT_TRUE(truth.count(pair)) << pair.first << " / " << pair.second
                                   << " left started, but does not match";
  }
  ASSERT_TRUE(first.pairs() == truth);
  // The late watcher saw the same events from where it joined.
  const Watcher& late = *watchers[1];
  ASSERT_GE(late_start.load(), 0);
  ASSERT_EQ(late.applied(), first.applied());
  const auto& all = first.log();
  const size_t skipped = static_cast<size_t>(late_start.load());
  ASSERT_EQ(late.log().size(), all.size() - skipped);
  EXPECT_TRUE(std::equal(late.log().begin(), late.log().end(),
                         all.begin() + static_cast<long>(skipped)));
  EXPECT_GT(all.size(), 100u) << "the writes should start and end matches";
  std::printf("seed %llu: %zu events, %zu pairs at the end on %s\n",
              static_cast<unsigned long long>(seed), all.size(), truth.size(),
              day.c_str());
}

INSTANTIATE_TEST_SUITE_P(
    Seeds, AlertsConcurrencyTest,
    ::testing::Values(std::optional<uint64_t>(1), std::nullopt),
    [](const ::testing::TestParamInfo<std::optional<uint64_t>>& info) {
      return info.param.has_value() ? absl::StrCat("seed_", *info.param)
                                    : std::string("random");
    });

}  // namespace
}  // namespace pamatch
