// Both directions of the market held to each other on random data
// (MATCHING.md "Jobs: the same contract read backwards", issue 20 point 4).
// For random PAs (some PAUSED; training expiring and DBS certificates
// running out around the days checked, often at month ends), random jobs
// (OPEN, FILLED, CLOSED, some closing around those days; some searching
// from their authority's centre) and random policies, in the North East (taxonomy/north_east.json) and over Great
// Britain (taxonomy/great_britain.json, the national demo scenario), on
// each of several as_of days:
//   1. every PA's MatchJobs (the job index) equals ReferenceMatchJobs (the
//      plain scan), page by page, page tokens included, for a sample of
//      the PAs each day (the scan costs a compile of every job per page);
//   2. every PA's MatchJobs, all pages, is in order, has no repeat, counts
//      exactly its results, and holds only jobs open on the day;
//   3. every stored job's forward Search with that as_of (all pages)
//      returns exactly the ACTIVE PAs whose MatchJobs hold the job, with
//      the same score, distance and applied policy, and the same total;
//      where MatchJobs explained a pair (a fifth of the PAs ask), the
//      same explanation as the search's.
//      A PAUSED PA is never returned by a Search but still matches jobs:
//      each has an ACTIVE twin ("tw-" for "pa-", same data) and its
//      MatchJobs must equal its twin's, which the searches hold;
//   4. for a sample, MatchJobs with the whole profile sent (not stored)
//      equals MatchJobs by id.
// Then churn (profiles replaced, deleted and back; jobs replaced with
// other statuses and dates, deleted and added; policies set and deleted),
// a restart (jobs recompiled at load, profiles bulk-loaded), the alerts
// day moved on (jobs' stored queries judged on another day), and again.
//
// Seeds: as tests/index_differential_test.cc (fixed seeds plus one random
// seed per scenario; PA_MATCH_TEST_SEED=N replays N as the random case:
//   PA_MATCH_TEST_SEED=N build/tests/jobs_differential_test
//       --gtest_filter='*random*').
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "demo/demo_data.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"
#include "tests/random_market.h"

namespace pamatch {
namespace {

using ::pamatch::testing::DayText;
using ::pamatch::testing::NoonOf;
using ::pamatch::testing::RandomMarket;

// Per seed and scenario.
constexpr int kProfiles = 2000;
constexpr int kJobs = 300;
constexpr int kRounds = 3;  // checked, churned, restarted, checked, ...
// PAs per day whose MatchJobs are compared with the reference scan.
constexpr int kReferencePas = 150;
constexpr uint64_t kFixedSeeds[] = {1, 20261125};

const absl::CivilDay kToday(2026, 6, 15);
// The as_of days checked: the engine's day, a month's last day and the
// next, and a leap day (DBS validities clamp to it).
const std::vector<absl::CivilDay> kDays = {kToday, absl::CivilDay(2026, 6, 30),
                                           absl::CivilDay(2026, 7, 1),
                                           absl::CivilDay(2028, 2, 29)};

// The days each round checks: the alerts day (the 15th of June, then the
// 1st of July) and days before and after it, each of kDays at least once.
const std::vector<absl::CivilDay> kRoundDays[] = {
    {kToday, kDays[1]}, {kToday, kDays[2]}, {kDays[2], kDays[1], kDays[3]}};

struct Case {
  demo::DemoScenario scenario;
  std::optional<uint64_t> seed;  // nullopt: the random case
};

// How ctest and gtest name a case's parameter (not its bytes).
void PrintTo(const Case& c, std::ostream* out) {
  *out << demo::DemoScenarioName(c.scenario) << " seed "
       << (c.seed.has_value() ? std::to_string(*c.seed) : "random");
}

std::string TaxonomyOf(demo::DemoScenario scenario) {
  return absl::StrCat(PA_MATCH_SOURCE_DIR, "/taxonomy/",
                      scenario == demo::DemoScenario::kNational
                          ? "great_britain.json"
                          : "north_east.json");
}

std::unique_ptr<Engine> OpenEngine(const std::string& dir,
                                   demo::DemoScenario scenario) {
  EngineOptions options;
  options.data_dir = dir + "/db";
  options.taxonomy_path = TaxonomyOf(scenario);
  options.sync_writes = false;
  options.daily_pass_poll = absl::ZeroDuration();
  options.clock = [] { return NoonOf(kToday); };
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

std::string TwinOf(const std::string& id) { return "tw-" + id.substr(3); }

bool OpenOn(const v1::Job& job, const std::string& day) {
  return job.status() == v1::OPEN &&
         (job.closes_on().empty() || job.closes_on() >= day);
}

// What the test stored, as it sent it.
struct Model {
  std::map<std::string, v1::Profile> profiles;  // twins included
  std::map<std::string, v1::Job> jobs;
  std::map<std::string, v1::Policy> policies;
};

// Writes `changed` (version 0) and deletes `deleted`, with the twins: a
// PAUSED PA gets an ACTIVE twin with the same data, an ACTIVE or deleted
// one loses it.
void WriteProfiles(Engine& engine, Model& model,
                   std::vector<v1::Profile> changed,
                   const std::vector<std::string>& deleted) {
  std::vector<std::string> gone;
  for (const std::string& id : deleted) {
    if (!model.profiles.count(id)) continue;
    gone.push_back(id);
    if (model.profiles.count(TwinOf(id))) gone.push_back(TwinOf(id));
  }
  // The last write of an id wins; its twin follows that one.
  std::map<std::string, v1::Profile> last;
  for (v1::Profile& p : changed) last[p.id()] = std::move(p);
  std::vector<v1::Profile> batch;
  for (auto& [id, p] : last) {
    p.set_version(0);
    if (p.status() == v1::PAUSED) {
      v1::Profile twin = p;
      twin.set_id(TwinOf(p.id()));
      twin.set_status(v1::ACTIVE);
      batch.push_back(twin);
    } else if (model.profiles.count(TwinOf(p.id()))) {
      gone.push_back(TwinOf(p.id()));
    }
    batch.push_back(p);
  }
  const auto results = engine.BulkUpsert(batch);
  for (size_t i = 0; i < batch.size(); ++i) {
    ASSERT_TRUE(results[i].ok())
        << batch[i].id() << ": " << results[i].status();
    model.profiles[batch[i].id()] = batch[i];
  }
  for (const std::string& id : gone) {
    if (!model.profiles.count(id)) continue;  // named twice
    ASSERT_TRUE(engine.DeleteProfile(id).ok()) << id;
    model.profiles.erase(id);
  }
}

void WriteJobs(Engine& engine, Model& model, const std::vector<v1::Job>& jobs) {
  const auto results = engine.BulkUpsertJobs(jobs);
  for (size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_TRUE(results[i].ok())
        << jobs[i].ShortDebugString() << ": " << results[i].status();
    model.jobs[jobs[i].id()] = jobs[i];
  }
}

// A PA the job is put near: any stored one.
const v1::Profile* SomePa(RandomMarket& random, const Model& model,
                          const std::vector<std::string>& ids) {
  for (int tries = 0; tries < 8; ++tries) {
    auto it = model.profiles.find(random.Pick(ids));
    if (it != model.profiles.end()) return &it->second;
  }
  return nullptr;
}

// Job id -> PA id -> what MatchJobs said of the pair.
using Pairs = std::map<std::string, std::map<std::string, v1::JobMatch>>;

bool ComesBefore(const v1::JobMatch& a, const v1::JobMatch& b) {
  if (a.score() != b.score()) return a.score() > b.score();
  if (a.distance_km() != b.distance_km())
    return a.distance_km() < b.distance_km();
  return a.job_id() < b.job_id();
}

struct Counts {
  int64_t pas = 0, pages = 0, reference_pages = 0, pairs = 0, searches = 0,
          search_pages = 0, paused = 0, whole_profiles = 0, explained = 0;
};

// Every page of MatchJobs for `request` (page_size set), checked page by
// page against the reference scan when `reference`; the results in order.
void AllJobPages(const Engine& engine, v1::MatchJobsRequest request,
                 bool reference, const std::string& where,
                 std::vector<v1::JobMatch>* out, Counts* counts) {
  out->clear();
  int64_t total = -1;
  for (int page = 0;; ++page) {
    ASSERT_LT(page, 1000) << where << ": paging does not end";
    auto index = engine.MatchJobs(request, absl::UnixEpoch());
    ASSERT_TRUE(index.ok()) << where << ": " << index.status();
    ++counts->pages;
    if (reference) {
      auto scan = engine.ReferenceMatchJobs(request, absl::UnixEpoch());
      ASSERT_TRUE(scan.ok()) << where << ": " << scan.status();
      ++counts->reference_pages;
      ASSERT_EQ(index->total_matches(), scan->total_matches())
          << where << " page " << page;
      ASSERT_EQ(index->results_size(), scan->results_size())
          << where << " page " << page;
      for (int i = 0; i < index->results_size(); ++i) {
        ASSERT_EQ(index->results(i).ShortDebugString(),
                  scan->results(i).ShortDebugString())
            << where << " page " << page << " position " << i;
      }
      ASSERT_EQ(index->next_page_token(), scan->next_page_token())
          << where << " page " << page;
      ASSERT_EQ(index->DebugString(), scan->DebugString())
          << where << " page " << page;
    }
    ASSERT_EQ(index->as_of(), request.as_of()) << where;
    if (total >= 0) {
      ASSERT_EQ(index->total_matches(), total) << where << " page " << page;
    }
    total = index->total_matches();
    ASSERT_LE(index->results_size(), request.page_size()) << where;
    for (const v1::JobMatch& match : index->results()) {
      ASSERT_EQ(match.has_explanation(), request.explain()) << where;
      out->push_back(match);
    }
    if (index->next_page_token().empty()) break;
    ASSERT_EQ(index->results_size(), request.page_size())
        << where << ": a short page with a next page token";
    request.set_page_token(index->next_page_token());
  }
  ASSERT_EQ(static_cast<int64_t>(out->size()), total)
      << where << ": the pages do not hold total_matches results";
  for (size_t i = 1; i < out->size(); ++i) {
    ASSERT_TRUE(ComesBefore((*out)[i - 1], (*out)[i]))
        << where << ": out of order or repeated at " << i << ": "
        << (*out)[i - 1].ShortDebugString() << " then "
        << (*out)[i].ShortDebugString();
  }
}

// Checks every PA and every job on `day` (see the file comment).
void CheckDay(const Engine& engine, const Model& model, RandomMarket& random,
              absl::CivilDay civil_day, const std::string& stage,
              Counts* counts) {
  const std::string day = DayText(civil_day);
  const std::string at = absl::StrCat(stage, ", as_of ", day);
  Pairs pairs;
  std::map<std::string, std::vector<v1::JobMatch>> of_pa;
  // The PAs compared with the scan today: a random sample.
  std::set<std::string> sampled;
  {
    std::vector<std::string> ids;
    for (const auto& [id, p] : model.profiles) ids.push_back(id);
    for (int i = 0; i < kReferencePas && !ids.empty(); ++i) {
      sampled.insert(random.Pick(ids));
    }
  }
  // Explained for a fifth of the PAs (a PAUSED PA and its twin alike).
  std::map<std::string, bool> explained;
  for (const auto& [id, profile] : model.profiles) {
    v1::MatchJobsRequest request;
    request.set_profile_id(id);
    request.set_as_of(day);
    request.set_page_size(random.Chance(0.5) ? 100 : random.Uniform(1, 12));
    auto [explain, fresh] = explained.try_emplace(id.substr(3));
    if (fresh) explain->second = random.Chance(0.2);
    request.set_explain(explain->second);
    const std::string where = absl::StrCat(at, ", PA ", id);
    std::vector<v1::JobMatch>& results = of_pa[id];
    AllJobPages(engine, request, sampled.count(id) > 0, where, &results,
                counts);
    if (::testing::Test::HasFatalFailure()) return;
    ++counts->pas;
    for (const v1::JobMatch& match : results) {
      auto job = model.jobs.find(match.job_id());
      ASSERT_NE(job, model.jobs.end())
          << where << ": unknown job " << match.job_id();
      ASSERT_TRUE(OpenOn(job->second, day))
          << where
          << ": job not open on the day: " << job->second.ShortDebugString();
      ASSERT_EQ(match.local_authority(),
                job->second.request().local_authority())
          << where;
      pairs[match.job_id()][id] = match;
      ++counts->pairs;
    }
    if (random.Chance(0.03)) {
      // The profile sent whole: the same answer as by id.
      v1::MatchJobsRequest whole = request;
      *whole.mutable_profile() = profile;
      std::vector<v1::JobMatch> sent;
      AllJobPages(engine, whole, false, where + " (sent whole)", &sent, counts);
      if (::testing::Test::HasFatalFailure()) return;
      ASSERT_EQ(sent.size(), results.size()) << where;
      for (size_t i = 0; i < sent.size(); ++i) {
        ASSERT_EQ(sent[i].ShortDebugString(), results[i].ShortDebugString())
            << where << " (sent whole) position " << i;
      }
      ++counts->whole_profiles;
    }
  }
  // A PAUSED PA's jobs are its ACTIVE twin's.
  for (const auto& [id, profile] : model.profiles) {
    if (profile.status() != v1::PAUSED) continue;
    const std::string twin = TwinOf(id);
    ASSERT_TRUE(of_pa.count(twin)) << at << ": PAUSED " << id << " has no twin";
    const auto& mine = of_pa[id];
    const auto& theirs = of_pa[twin];
    ASSERT_EQ(mine.size(), theirs.size()) << at << ": PAUSED " << id;
    for (size_t i = 0; i < mine.size(); ++i) {
      ASSERT_EQ(mine[i].ShortDebugString(), theirs[i].ShortDebugString())
          << at << ": PAUSED " << id << " position " << i;
    }
    ++counts->paused;
  }
  // Forward: each job's Search returns exactly its ACTIVE PAs.
  for (const auto& [job_id, job] : model.jobs) {
    const std::string where =
        absl::StrCat(at, ", job ", job_id, " ", job.ShortDebugString());
    const std::map<std::string, v1::JobMatch>& backward = pairs[job_id];
    if (!OpenOn(job, day)) {
      ASSERT_TRUE(backward.empty()) << where;
      continue;
    }
    std::map<std::string, v1::JobMatch> expected;
    for (const auto& [pa, match] : backward) {
      if (model.profiles.at(pa).status() == v1::ACTIVE) expected[pa] = match;
    }
    v1::SearchRequest request = job.request();
    request.set_as_of(day);
    request.set_page_size(100);
    request.set_explain(true);
    size_t seen = 0;
    for (int page = 0;; ++page) {
      ASSERT_LT(page, 1000) << where;
      auto search = engine.Search(request, absl::UnixEpoch());
      ASSERT_TRUE(search.ok()) << where << ": " << search.status();
      ++counts->search_pages;
      ASSERT_EQ(search->total_matches(), static_cast<int64_t>(expected.size()))
          << where << ": the search finds " << search->total_matches()
          << " ACTIVE PAs, MatchJobs " << expected.size();
      for (const v1::SearchResult& result : search->results()) {
        auto it = expected.find(result.id());
        ASSERT_NE(it, expected.end())
            << where << ": the search returns " << result.id()
            << " whose MatchJobs lacks the job";
        ASSERT_EQ(result.score(), it->second.score())
            << where << " PA " << result.id();
        ASSERT_EQ(result.distance_km(), it->second.distance_km())
            << where << " PA " << result.id();
        ASSERT_EQ(search->applied_policy(), it->second.applied_policy())
            << where << " PA " << result.id();
        // Explained alike, where MatchJobs was asked to explain.
        if (it->second.has_explanation()) {
          ASSERT_EQ(result.explanation().ShortDebugString(),
                    it->second.explanation().ShortDebugString())
              << where << " PA " << result.id();
          ++counts->explained;
        }
        ++seen;
      }
      if (search->next_page_token().empty()) break;
      request.set_page_token(search->next_page_token());
    }
    ASSERT_EQ(seen, expected.size()) << where;
    ++counts->searches;
  }
}

// Churn: PAs replaced (other data, other status), deleted, and some
// deleted ids back; jobs replaced (other request, status, closes_on),
// deleted and added; a policy or two set and one deleted.
void Churn(Engine& engine, Model& model, RandomMarket& random,
           const std::vector<std::string>& pa_ids, int round, int* next_job) {
  const absl::Time now = NoonOf(kToday);
  std::vector<v1::Profile> changed;
  for (int i = 0; i < kProfiles / 8; ++i) {
    changed.push_back(random.Profile(random.seed() + round + 1,
                                     random.Uniform(0, kProfiles - 1), now));
  }
  std::vector<std::string> deleted;
  for (int i = 0; i < kProfiles / 20; ++i)
    deleted.push_back(random.Pick(pa_ids));
  // Deletes first (changed ids named again come back).
  WriteProfiles(engine, model, {}, deleted);
  if (::testing::Test::HasFatalFailure()) return;
  WriteProfiles(engine, model, changed, {});
  if (::testing::Test::HasFatalFailure()) return;
  for (int i = 0; i < kProfiles / 40; ++i) {  // deleted ids return
    changed = {
        random.Profile(random.seed(), random.Uniform(0, kProfiles - 1), now)};
    if (model.profiles.count(changed[0].id())) continue;
    WriteProfiles(engine, model, changed, {});
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::vector<std::string> job_ids;
  for (const auto& [id, job] : model.jobs) job_ids.push_back(id);
  std::vector<v1::Job> jobs;
  for (int i = 0; i < kJobs / 5; ++i) {
    jobs.push_back(
        random.Job(random.Pick(job_ids), SomePa(random, model, pa_ids)));
  }
  for (int i = 0; i < kJobs / 10; ++i) {
    jobs.push_back(random.Job(absl::StrFormat("job-%05d", (*next_job)++),
                              SomePa(random, model, pa_ids)));
  }
  // One at a time as well as in bulk: both paths.
  WriteJobs(engine, model,
            std::vector<v1::Job>(jobs.begin(), jobs.begin() + 10));
  for (size_t i = 10; i < jobs.size(); ++i) {
    auto result = engine.UpsertJob(jobs[i]);
    ASSERT_TRUE(result.ok()) << result.status();
    model.jobs[jobs[i].id()] = jobs[i];
  }
  for (int i = 0; i < kJobs / 10; ++i) {
    const std::string& id = random.Pick(job_ids);
    const absl::Status status = engine.DeleteJob(id);
    ASSERT_EQ(status.ok(), model.jobs.erase(id) == 1) << id << ": " << status;
  }
  for (int i = random.Uniform(1, 2); i > 0; --i) {
    const v1::Policy policy = random.Policy(random.Authority());
    auto set = engine.SetPolicy(policy, now);
    ASSERT_TRUE(set.ok()) << set.status();
    model.policies[policy.local_authority()] = policy;
  }
  if (!model.policies.empty()) {
    auto it = model.policies.begin();
    std::advance(
        it, random.Uniform(0, static_cast<int>(model.policies.size()) - 1));
    ASSERT_TRUE(engine.DeletePolicy(it->first).ok()) << it->first;
    model.policies.erase(it);
  }
}

class JobsDifferentialTest : public ::testing::TestWithParam<Case> {};

TEST_P(JobsDifferentialTest, MatchJobsAgreesWithScanAndForwardSearches) {
  const Case c = GetParam();
  const uint64_t seed =
      c.seed.has_value() ? *c.seed : testing::RandomTestSeed();
  testing::PrintSeed(seed);
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE(absl::StrCat("seed ", seed,
                            " (replay with PA_MATCH_TEST_SEED=", seed, ")"));
  const auto started = std::chrono::steady_clock::now();
  const absl::Time now = NoonOf(kToday);

  // The authorities jobs and policies name: the 12 most common among the
  // PAs (every North East one; the big places nationally).
  std::vector<std::string> authorities;
  {
    std::map<std::string, int> count;
    for (int i = 0; i < kProfiles; ++i) {
      ++count[demo::GenerateScenarioProfile(c.scenario, seed, i, now, "pa-")
                  .local_authority()];
    }
    std::vector<std::pair<int, std::string>> by_count;
    for (const auto& [code, n] : count) by_count.push_back({-n, code});
    std::sort(by_count.begin(), by_count.end());
    for (size_t i = 0; i < by_count.size() && i < 12; ++i) {
      authorities.push_back(by_count[i].second);
    }
  }
  RandomMarket random(seed, c.scenario, authorities, kDays);

  testing::TempDir dir;
  auto engine = OpenEngine(dir.path(), c.scenario);
  ASSERT_NE(engine, nullptr);
  Model model;
  std::vector<std::string> pa_ids;
  {
    std::vector<v1::Profile> profiles;
    for (int i = 0; i < kProfiles; ++i) {
      profiles.push_back(random.Profile(seed, i, now));
      pa_ids.push_back(profiles.back().id());
    }
    WriteProfiles(*engine, model, profiles, {});
    if (HasFatalFailure()) return;
  }
  for (int i = random.Uniform(2, 4); i > 0; --i) {
    const v1::Policy policy = random.Policy(random.Authority());
    ASSERT_TRUE(engine->SetPolicy(policy, now).ok());
    model.policies[policy.local_authority()] = policy;
  }
  int next_job = 0;
  {
    std::vector<v1::Job> jobs;
    for (; next_job < kJobs; ++next_job) {
      jobs.push_back(random.Job(absl::StrFormat("job-%05d", next_job),
                                SomePa(random, model, pa_ids)));
    }
    WriteJobs(*engine, model, jobs);
    if (HasFatalFailure()) return;
  }

  Counts counts;
  for (int round = 0; round < kRounds; ++round) {
    const std::string stage = absl::StrCat("round ", round);
    for (const absl::CivilDay& day : kRoundDays[round]) {
      CheckDay(*engine, model, random, day, stage, &counts);
      if (HasFatalFailure()) return;
    }
    if (round + 1 == kRounds) break;
    Churn(*engine, model, random, pa_ids, round, &next_job);
    if (HasFatalFailure()) return;
    if (round == 0) {
      // Restart: jobs compiled again at load, with the policies in force.
      engine.reset();
      engine = OpenEngine(dir.path(), c.scenario);
      ASSERT_NE(engine, nullptr);
    } else {
      // The alerts day moves on: stored jobs are judged on a later day,
      // and the days checked are before and after it.
      ASSERT_TRUE(
          engine->AdvanceAlertsDay(NoonOf(absl::CivilDay(2026, 7, 1))).ok());
    }
  }
  EXPECT_GT(counts.pairs, 1000) << "the random data should match often";
  EXPECT_GT(counts.paused, 0);
  EXPECT_GT(counts.explained, 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  std::printf(
      "seed %llu: %lld PA checks (%lld pages, %lld against the scan, %lld "
      "sent whole, %lld PAUSED), %lld pairs, %lld job searches (%lld pages, "
      "%lld pairs explained alike), %.1f s\n",
      static_cast<unsigned long long>(seed), static_cast<long long>(counts.pas),
      static_cast<long long>(counts.pages),
      static_cast<long long>(counts.reference_pages),
      static_cast<long long>(counts.whole_profiles),
      static_cast<long long>(counts.paused),
      static_cast<long long>(counts.pairs),
      static_cast<long long>(counts.searches),
      static_cast<long long>(counts.search_pages),
      static_cast<long long>(counts.explained), seconds);
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (demo::DemoScenario scenario :
       {demo::DemoScenario::kNorthEast, demo::DemoScenario::kNational}) {
    for (uint64_t seed : kFixedSeeds) cases.push_back({scenario, seed});
    cases.push_back({scenario, std::nullopt});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(
    Seeds, JobsDifferentialTest, ::testing::ValuesIn(Cases()),
    [](const ::testing::TestParamInfo<Case>& info) {
      const std::string scenario =
          info.param.scenario == demo::DemoScenario::kNational ? "national"
                                                               : "north_east";
      return info.param.seed.has_value()
                 ? absl::StrCat(scenario, "_seed_", *info.param.seed)
                 : absl::StrCat(scenario, "_random");
    });

}  // namespace
}  // namespace pamatch
