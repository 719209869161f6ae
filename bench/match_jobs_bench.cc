// Issue 20's benchmarks: a PA's jobs (MatchJobs) through the job index
// against the reference scan, and what alerts cost a profile write.
// docs/PERFORMANCE.md ("Jobs and alerts") has the commands and figures.
//
// Data: PA_MATCH_BENCH_PROFILES profiles (default 100000) of the national
// scenario (demo/demo_data.h, seed 42; PA_MATCH_BENCH_SCENARIO=north_east
// for the North East) and PA_MATCH_BENCH_JOBS open jobs (default 100000)
// of the standard job mix (bench/job_mix.h, seed 42), judged on
// 2026-06-15 (the engine's clock is pinned there, so the alerts day is
// too). PA_MATCH_BENCH_DATA_DIR keeps the data in that directory and, when
// it already holds profiles or jobs, uses them instead of generating
// (give this benchmark its own directory: search_bench's holds no jobs,
// and this one adds them). The jobs are loaded with alerts off (a job
// write with alerts on finds every PA it matches), then the engine is
// reopened with alerts on.
//
// Benchmarks (single thread unless said):
//   BM_MatchJobs            Engine::MatchJobs (page 20) over a fixed
//                           sample of 1,000 PAs in turn: p50_us, p99_us
//                           over every call, and pa_best_p50_us,
//                           pa_best_p99_us over the PAs' best calls (each
//                           PA is asked several times; its best is what
//                           its work costs without the preemptions of a
//                           shared machine).
//   BM_ReferenceMatchJobs   Engine::ReferenceMatchJobs over the first 20
//                           PAs of the sample, each call followed by
//                           MatchJobs for the same PA: both p50s and
//                           their ratio (speedup_p50). Before timing, every
//                           page (page size 100) of both is compared for
//                           those PAs, and every timed pair again (first
//                           page): any difference aborts the run.
//   BM_AlertDiff/engine     the work a profile upsert adds with alerts on,
//                           timed in process: the PA as stored and as
//                           edited (skills, training and availability of
//                           another demo profile) through the engine's own
//                           ProfileMatchChanges and EncodeEvents
//                           (engine/market.h; one scan of the job index
//                           for both sides, scores only for pairs that
//                           start), as Market::Prepare runs them on the
//                           writer's thread. Over the 1,000 PAs: p50_us,
//                           p99_us (and of each edit's best, as
//                           BM_MatchJobs), candidates and events per
//                           upsert. Checked first to encode the very same
//                           events as two_scans for every edit (else
//                           abort).
//   BM_AlertDiff/two_scans  the baseline: two ForEachJobMatch calls, one
//                           per side, and their difference.
//   BM_UpsertLatency        the same edits as Engine::Upsert calls, one
//                           writer, sync_writes off, on an engine opened
//                           with alerts on, then off, alternating
//                           (PA_MATCH_BENCH_ROUNDS rounds, default 3):
//                           p50/p99 of each and their differences.
//   BM_JobWrites            one thread posting new jobs (alerts on) while
//                           another upserts the edits, with the jobs'
//                           pairs found on the caller's thread (prepared)
//                           or on the commit thread, then the edits alone,
//                           alternating: job write p50/p99 and the profile
//                           upserts' p50/p99 in each arm.
//   BM_DurableUpserts       PA_MATCH_BENCH_WRITERS threads (default 8)
//                           upserting edits with sync_writes on for
//                           PA_MATCH_BENCH_SECONDS (default 5) per run,
//                           alerts on, off, and on with the pairs found on
//                           the commit thread (EngineOptions::
//                           alerts_prepare off), alternating over the
//                           rounds: upserts/s of each, on/off and
//                           unprepared/off.
// The write benchmarks run on a RocksDB checkpoint of the data
// (Engine::Backup), removed afterwards, so the kept data never changes.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "bench/job_mix.h"
#include "bench/quantile.h"
#include "bench/query_mix.h"
#include "demo/demo_data.h"
#include "engine/dates.h"
#include "engine/engine.h"
#include "engine/job.h"
#include "engine/job_index.h"
#include "engine/job_matching.h"
#include "engine/market.h"
#include "engine/profile.h"
#include "engine/taxonomy.h"
#include "google/protobuf/util/message_differencer.h"

namespace pamatch {
namespace {

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 6, 15, 12, 0, 0),
                                        absl::UTCTimeZone());
constexpr uint64_t kSeed = 42;
constexpr int kSample = 1000;          // PAs of BM_MatchJobs and the writes
constexpr int kReferenceSample = 20;   // PAs of the reference scan

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "match_jobs_bench: FATAL: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

struct Setup {
  std::string dir;
  bool keep = false;
  demo::DemoScenario scenario = demo::DemoScenario::kNational;
  std::string taxonomy_path;
  int profiles = 0;  // stored
  int jobs = 0;      // stored
};

Setup& TheSetup() {
  static Setup setup = [] {
    Setup s;
    const char* dir_env = std::getenv("PA_MATCH_BENCH_DATA_DIR");
    s.keep = dir_env != nullptr && *dir_env != '\0';
    s.dir = s.keep ? dir_env
                   : "/tmp/pa-match-jobs-bench-" + std::to_string(getpid());
    const char* scenario_env = std::getenv("PA_MATCH_BENCH_SCENARIO");
    const bool north_east =
        scenario_env != nullptr && std::string(scenario_env) == "north_east";
    s.scenario = north_east ? demo::DemoScenario::kNorthEast
                            : demo::DemoScenario::kNational;
    s.taxonomy_path = north_east ? PA_MATCH_TAXONOMY_NORTH_EAST
                                 : PA_MATCH_TAXONOMY_GREAT_BRITAIN;
    return s;
  }();
  return setup;
}

EngineOptions Options(const std::string& dir, bool alerts, bool sync,
                      bool prepare = true) {
  EngineOptions options;
  options.alerts_prepare = prepare;
  options.data_dir = dir;
  options.taxonomy_path = TheSetup().taxonomy_path;
  options.sync_writes = sync;
  options.alerts = alerts;
  options.clock = [] { return kNow; };
  options.daily_pass_poll = absl::ZeroDuration();
  options.relayout_unsorted_fraction = -1;  // no background relayout
  return options;
}

std::unique_ptr<Engine> OpenOrDie(const EngineOptions& options) {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  if (!engine.ok()) Die("open " + options.data_dir + ": " + engine.status().ToString());
  return *std::move(engine);
}

// The profile the data holds for index i, and the edit the write
// benchmarks make to it: skills, training and availability of the demo
// profile i of another seed (a PA who took a course, learnt a task and
// changed hours: most of the PA's matches turn); with
// PA_MATCH_BENCH_EDIT=availability, its availability only (new hours).
v1::Profile StoredProfile(int64_t i) {
  return demo::GenerateScenarioProfile(TheSetup().scenario, kSeed, i, kNow,
                                       "pa-");
}
v1::Profile EditedProfile(int64_t i) {
  v1::Profile p = StoredProfile(i);
  const v1::Profile other = demo::GenerateScenarioProfile(
      TheSetup().scenario, kSeed + 1, i, kNow, "pa-");
  static const bool availability_only = [] {
    const char* edit = std::getenv("PA_MATCH_BENCH_EDIT");
    return edit != nullptr && std::string(edit) == "availability";
  }();
  if (!availability_only) {
    *p.mutable_skills() = other.skills();
    *p.mutable_training() = other.training();
  }
  *p.mutable_availability() = other.availability();
  return p;
}

std::unique_ptr<Engine> g_engine;

// The shared engine (alerts on, sync off): data generated or reused, then
// reopened so that both indexes are rebuilt from RocksDB as at a restart.
Engine& SharedEngine() {
  if (g_engine != nullptr) return *g_engine;
  Setup& s = TheSetup();
  if (!s.keep) std::filesystem::remove_all(s.dir);
  const int want_profiles = EnvInt("PA_MATCH_BENCH_PROFILES", 100000);
  const int want_jobs = EnvInt("PA_MATCH_BENCH_JOBS", 100000);
  {
    std::unique_ptr<Engine> loading =
        OpenOrDie(Options(s.dir, /*alerts=*/false, /*sync=*/false));
    const v1::GetStatsResponse stats = loading->Stats();
    if (stats.profiles() == 0) {
      std::fprintf(stderr, "match_jobs_bench: generating %d profiles in %s\n",
                   want_profiles, s.dir.c_str());
      constexpr int kBatch = 5000;
      for (int start = 0; start < want_profiles; start += kBatch) {
        std::vector<v1::Profile> batch;
        for (int i = start; i < std::min(want_profiles, start + kBatch); ++i) {
          batch.push_back(StoredProfile(i));
        }
        for (const auto& r : loading->BulkUpsert(batch)) {
          if (!r.ok()) Die("profile upsert: " + r.status().ToString());
        }
      }
    }
    if (stats.jobs() == 0) {
      std::fprintf(stderr, "match_jobs_bench: generating %d jobs\n", want_jobs);
      constexpr int kBatch = 2000;
      for (int start = 0; start < want_jobs; start += kBatch) {
        std::vector<v1::Job> batch;
        for (int i = start; i < std::min(want_jobs, start + kBatch); ++i) {
          batch.push_back(bench::StandardJob(s.scenario, kSeed, i, kNow, "job-"));
        }
        for (const auto& r : loading->BulkUpsertJobs(batch)) {
          if (!r.ok()) Die("job upsert: " + r.status().ToString());
        }
      }
    }
  }
  const auto start = std::chrono::steady_clock::now();
  g_engine = OpenOrDie(Options(s.dir, /*alerts=*/true, /*sync=*/false));
  const v1::GetStatsResponse stats = g_engine->Stats();
  s.profiles = static_cast<int>(stats.profiles());
  s.jobs = static_cast<int>(stats.jobs());
  std::fprintf(stderr,
               "match_jobs_bench: %d profiles, %d jobs (every one open on %s; "
               "%lld on the wall clock's day), opened in %.2f s\n",
               s.profiles, s.jobs, bench::kQueryAsOf,
               static_cast<long long>(stats.open_jobs()),
               std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             start)
                   .count());
  return *g_engine;
}

// Demo indexes of the sample: `count` spread evenly over the stored ids
// (the generator places profile i independently of i, so this is a
// random sample of where PAs live).
std::vector<int64_t> SampleIndexes(int count) {
  const int64_t n = TheSetup().profiles;
  std::vector<int64_t> out;
  for (int k = 0; k < count; ++k) out.push_back(k * n / count);
  return out;
}

std::string PaId(int64_t i) { return absl::StrFormat("pa-%06d", i); }

v1::MatchJobsResponse MatchOrDie(const Engine& engine,
                                 const v1::MatchJobsRequest& request,
                                 bool reference) {
  absl::StatusOr<v1::MatchJobsResponse> response =
      reference ? engine.ReferenceMatchJobs(request, kNow)
                : engine.MatchJobs(request, kNow);
  if (!response.ok()) {
    Die(absl::StrCat(reference ? "ReferenceMatchJobs(" : "MatchJobs(",
                     request.profile_id(), "): ", response.status().ToString()));
  }
  return *std::move(response);
}

void DieUnlessSame(const v1::MatchJobsResponse& index,
                   const v1::MatchJobsResponse& reference,
                   const std::string& what) {
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (!differencer.Compare(index, reference)) {
    Die("MatchJobs and ReferenceMatchJobs differ for " + what + ":\n" + diff);
  }
}

// Every page (size 100) of both answers for each PA, compared exactly.
void CheckEveryPage(const Engine& engine, const std::vector<int64_t>& pas) {
  int64_t pages = 0, matches = 0;
  for (int64_t i : pas) {
    v1::MatchJobsRequest request = bench::StandardMatchJobs(PaId(i));
    request.set_page_size(100);
    for (int page = 0;; ++page) {
      const v1::MatchJobsResponse index = MatchOrDie(engine, request, false);
      const v1::MatchJobsResponse reference = MatchOrDie(engine, request, true);
      DieUnlessSame(index, reference,
                    absl::StrCat(PaId(i), " page ", page));
      ++pages;
      if (page == 0) matches += index.total_matches();
      if (index.next_page_token().empty()) break;
      request.set_page_token(index.next_page_token());
    }
  }
  std::fprintf(stderr,
               "match_jobs_bench: index = reference on every page for %zu "
               "PAs (%lld pages, %lld matches)\n",
               pas.size(), static_cast<long long>(pages),
               static_cast<long long>(matches));
}

double MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now() - start)
      .count();
}

void BM_MatchJobs(benchmark::State& state) {
  Engine& engine = SharedEngine();
  std::vector<v1::MatchJobsRequest> requests;
  for (int64_t i : SampleIndexes(kSample)) {
    requests.push_back(bench::StandardMatchJobs(PaId(i)));
  }
  std::vector<double> latencies_us;
  // Each PA's best time over its calls: the machine's preemptions (2
  // shared cores) hit single calls, rarely every call of one PA.
  std::vector<double> best_us(requests.size(), -1);
  int64_t matches = 0, results = 0;
  size_t step = 0;
  for (auto _ : state) {
    const size_t k = step++ % requests.size();
    const v1::MatchJobsRequest& request = requests[k];
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<v1::MatchJobsResponse> response =
        engine.MatchJobs(request, kNow);
    latencies_us.push_back(MicrosSince(start));
    if (best_us[k] < 0 || latencies_us.back() < best_us[k]) {
      best_us[k] = latencies_us.back();
    }
    if (!response.ok()) Die(response.status().ToString());
    matches += response->total_matches();
    results += response->results_size();
    benchmark::DoNotOptimize(response);
  }
  const double calls = static_cast<double>(latencies_us.size());
  state.counters["p50_us"] = bench::Quantile(latencies_us, 0.50);
  state.counters["p99_us"] = bench::Quantile(latencies_us, 0.99);
  state.counters["max_us"] = latencies_us.empty() ? 0 : latencies_us.back();
  best_us.erase(std::remove(best_us.begin(), best_us.end(), -1.0), best_us.end());
  state.counters["pa_best_p50_us"] = bench::Quantile(best_us, 0.50);
  state.counters["pa_best_p99_us"] = bench::Quantile(best_us, 0.99);
  state.counters["matches_mean"] = matches / std::max(1.0, calls);
  state.counters["page_mean"] = results / std::max(1.0, calls);
  state.counters["profiles"] = TheSetup().profiles;
  state.counters["jobs"] = TheSetup().jobs;
}

void BM_ReferenceMatchJobs(benchmark::State& state) {
  Engine& engine = SharedEngine();
  std::vector<int64_t> pas = SampleIndexes(kSample);
  pas.resize(kReferenceSample);
  static bool checked = false;
  if (!checked) {
    CheckEveryPage(engine, pas);
    checked = true;
  }
  std::vector<double> reference_us, index_us;
  size_t step = 0;
  for (auto _ : state) {
    const v1::MatchJobsRequest request =
        bench::StandardMatchJobs(PaId(pas[step++ % pas.size()]));
    auto start = std::chrono::steady_clock::now();
    const v1::MatchJobsResponse reference = MatchOrDie(engine, request, true);
    reference_us.push_back(MicrosSince(start));
    start = std::chrono::steady_clock::now();
    const v1::MatchJobsResponse index = MatchOrDie(engine, request, false);
    index_us.push_back(MicrosSince(start));
    DieUnlessSame(index, reference, request.profile_id());
  }
  const double ref_p50 = bench::Quantile(reference_us, 0.50);
  const double index_p50 = bench::Quantile(index_us, 0.50);
  state.counters["ref_p50_us"] = ref_p50;
  state.counters["ref_p99_us"] = bench::Quantile(reference_us, 0.99);
  state.counters["index_p50_us"] = index_p50;
  state.counters["speedup_p50"] = index_p50 > 0 ? ref_p50 / index_p50 : 0;
}

// ---- What alerts add to a profile write -------------------------------------

// The pairs that turn when a PA goes from `before` to `after`, encoded as
// events, as a profile write finds them: by the engine's own
// ProfileMatchChanges and EncodeEvents (engine/market.h), or, with
// `two_scans`, by the earlier way kept as a baseline: two ForEachJobMatch
// calls (the jobs of each side) and their difference. Returns the number
// of events.
size_t DiffAndStage(const JobIndex& jobs, const CompiledProfile* before,
                    const CompiledProfile* after, DayNumber day,
                    std::vector<std::pair<int64_t, std::string>>* staged,
                    bool two_scans) {
  std::vector<TurnedJob> out;
  if (!two_scans) {
    ProfileMatchChanges(jobs, before, after, day, &out);
  } else {
    std::vector<const CompiledJob*> was;
    absl::flat_hash_map<const CompiledJob*, double> now;
    if (before != nullptr) {
      ForEachJobMatch(jobs, *before, day,
                      [&](const CompiledJob& job, const PairMatch&) {
                        was.push_back(&job);
                      });
    }
    if (after != nullptr) {
      ForEachJobMatch(jobs, *after, day,
                      [&](const CompiledJob& job, const PairMatch& match) {
                        now.emplace(&job, match.score);
                      });
    }
    for (const CompiledJob* job : was) {
      if (now.erase(job) == 0) out.push_back({false, job, 0});
    }
    for (const auto& [job, score] : now) out.push_back({true, job, score});
    std::sort(out.begin(), out.end(),
              [](const TurnedJob& a, const TurnedJob& b) {
                return std::tie(a.started, a.job->id) <
                       std::tie(b.started, b.job->id);
              });
  }
  const std::string& pa = before != nullptr ? before->id : after->id;
  int64_t sequence = 0;
  EncodeEvents(pa, out, "profile_upsert", 1, kNow, day, &sequence, staged);
  return out.size();
}

void BM_AlertDiff(benchmark::State& state, bool two_scans) {
  SharedEngine();  // the data, generated if need be
  const Taxonomy taxonomy = Taxonomy::Load(TheSetup().taxonomy_path).value();
  const DayNumber day = DayOf(kNow);
  // The job index as the engine builds it at Open: every stored job
  // compiled on the alerts day (the generated ones; no policies are set).
  JobIndex jobs(taxonomy);
  for (int i = 0; i < TheSetup().jobs; ++i) {
    const v1::Job job = bench::StandardJob(TheSetup().scenario, kSeed, i, kNow, "job-");
    absl::StatusOr<CompiledJob> compiled = CompileJob(taxonomy, job, nullptr, day);
    if (!compiled.ok()) Die(compiled.status().ToString());
    jobs.Put(std::make_shared<const CompiledJob>(*std::move(compiled)));
  }
  struct Edit {
    CompiledProfile before, after;
  };
  std::vector<Edit> edits;
  for (int64_t i : SampleIndexes(kSample)) {
    absl::StatusOr<CompiledProfile> before = CompileProfile(taxonomy, StoredProfile(i));
    absl::StatusOr<CompiledProfile> after = CompileProfile(taxonomy, EditedProfile(i));
    if (!before.ok() || !after.ok()) Die("profile does not compile");
    edits.push_back({*std::move(before), *std::move(after)});
  }
  if (!two_scans) {
    // Both ways must stage the very same events for every edit.
    for (const Edit& e : edits) {
      std::vector<std::pair<int64_t, std::string>> two, one;
      DiffAndStage(jobs, &e.before, &e.after, day, &two, true);
      DiffAndStage(jobs, &e.before, &e.after, day, &one, false);
      if (one != two) {
        Die(absl::StrCat("ProfileMatchChanges differs from two ForEachJobMatch "
                         "calls for ", e.before.id, ": ", one.size(), " against ",
                         two.size(), " events"));
      }
    }
  }
  // Candidates the index hands over per PA (both sides of an edit).
  double candidates = 0;
  for (const Edit& e : edits) {
    for (const CompiledProfile* p : {&e.before, &e.after}) {
      jobs.ForEachCandidate(*p, day, [&](const CompiledJob&) { ++candidates; });
    }
  }
  // PA_MATCH_BENCH_SLOWEST=N: the N PAs of the sample whose jobs take
  // longest to find (best of 3), with what the index handed over.
  if (const int slowest = EnvInt("PA_MATCH_BENCH_SLOWEST", 0); slowest > 0) {
    struct Slow {
      double us;
      int64_t candidates, matches;
      const CompiledProfile* pa;
    };
    std::vector<Slow> all;
    for (const Edit& e : edits) {
      Slow slow{1e18, 0, 0, &e.before};
      jobs.ForEachCandidate(e.before, day,
                            [&](const CompiledJob&) { ++slow.candidates; });
      for (int rep = 0; rep < 3; ++rep) {
        int64_t matches = 0;
        const auto start = std::chrono::steady_clock::now();
        ForEachJobMatch(jobs, e.before, day,
                        [&](const CompiledJob&, const PairMatch&) { ++matches; });
        slow.us = std::min(slow.us, MicrosSince(start));
        slow.matches = matches;
      }
      all.push_back(slow);
    }
    std::sort(all.begin(), all.end(),
              [](const Slow& a, const Slow& b) { return a.us > b.us; });
    for (int k = 0; k < slowest && k < static_cast<int>(all.size()); ++k) {
      const Slow& slow = all[k];
      std::fprintf(stderr,
                   "slow PA %s: %.1f us, %lld candidates, %lld matches, "
                   "travel %.0f km, at %.4f,%.4f\n",
                   slow.pa->id.c_str(), slow.us,
                   static_cast<long long>(slow.candidates),
                   static_cast<long long>(slow.matches), slow.pa->max_travel_km,
                   slow.pa->lat, slow.pa->lon);
    }
  }
  std::vector<double> latencies_us;
  std::vector<double> best_us(edits.size(), -1);
  std::vector<std::pair<int64_t, std::string>> staged;
  int64_t events = 0;
  size_t step = 0;
  for (auto _ : state) {
    const size_t k = step++ % edits.size();
    const Edit& e = edits[k];
    staged.clear();
    const auto start = std::chrono::steady_clock::now();
    events += DiffAndStage(jobs, &e.before, &e.after, day, &staged, two_scans);
    latencies_us.push_back(MicrosSince(start));
    if (best_us[k] < 0 || latencies_us.back() < best_us[k]) {
      best_us[k] = latencies_us.back();
    }
    benchmark::DoNotOptimize(staged);
  }
  const double calls = std::max<double>(1, latencies_us.size());
  best_us.erase(std::remove(best_us.begin(), best_us.end(), -1.0), best_us.end());
  state.counters["pa_best_p50_us"] = bench::Quantile(best_us, 0.50);
  state.counters["pa_best_p99_us"] = bench::Quantile(best_us, 0.99);
  state.counters["p50_us"] = bench::Quantile(latencies_us, 0.50);
  state.counters["p99_us"] = bench::Quantile(latencies_us, 0.99);
  state.counters["max_us"] = latencies_us.empty() ? 0 : latencies_us.back();
  state.counters["events_mean"] = events / calls;
  state.counters["candidates_mean"] = candidates / (2.0 * edits.size());
}

// ---- Writes through the engine, alerts on against off --------------------------

// A checkpoint of the shared data for the write benchmarks (made once;
// the shared engine is closed afterwards; removed by main).
bool g_write_copy_made = false;
const std::string& WriteCopy() {
  g_write_copy_made = true;
  static const std::string dir = [] {
    Engine& engine = SharedEngine();
    const std::string copy = TheSetup().dir + "-writes-" + std::to_string(getpid());
    std::filesystem::remove_all(copy);
    absl::StatusOr<v1::BackupResponse> backup = engine.Backup(copy, kNow);
    if (!backup.ok()) Die("backup: " + backup.status().ToString());
    g_engine.reset();
    return copy;
  }();
  return dir;
}

int Rounds() { return std::max(1, EnvInt("PA_MATCH_BENCH_ROUNDS", 3)); }

// The sample's edits and the profiles as stored, versions 0 (each write
// the stored version + 1), for the write benchmarks.
std::pair<std::vector<v1::Profile>, std::vector<v1::Profile>> Edits() {
  std::vector<v1::Profile> edited, stored;
  for (int64_t i : SampleIndexes(kSample)) {
    edited.push_back(EditedProfile(i));
    edited.back().set_version(0);
    stored.push_back(StoredProfile(i));
    stored.back().set_version(0);
  }
  return {std::move(edited), std::move(stored)};
}

// One writer, sync off: Engine::Upsert latency with alerts on and off.
void BM_UpsertLatency(benchmark::State& state) {
  const std::string& dir = WriteCopy();
  const auto edits = Edits();
  const std::vector<v1::Profile>& edited = edits.first;
  const std::vector<v1::Profile>& stored = edits.second;
  std::vector<double> on_p50, on_p99, off_p50, off_p99;
  for (auto _ : state) {
    for (int round = 0; round < Rounds(); ++round) {
      for (bool alerts : {true, false}) {
        std::unique_ptr<Engine> engine =
            OpenOrDie(Options(dir, alerts, /*sync=*/false));
        std::vector<double> latencies_us;
        // Each PA edited, then put back: two writes that turn its pairs.
        for (const auto* list : {&edited, &stored}) {
          for (const v1::Profile& p : *list) {
            const auto start = std::chrono::steady_clock::now();
            auto response = engine->Upsert(p);
            latencies_us.push_back(MicrosSince(start));
            if (!response.ok()) Die(response.status().ToString());
          }
        }
        const double p50 = bench::Quantile(latencies_us, 0.50);
        const double p99 = bench::Quantile(latencies_us, 0.99);
        std::fprintf(stderr,
                     "match_jobs_bench: upsert latency round %d alerts %s: "
                     "p50 %.1f us p99 %.1f us (%zu upserts)\n",
                     round + 1, alerts ? "on " : "off", p50, p99,
                     latencies_us.size());
        (alerts ? on_p50 : off_p50).push_back(p50);
        (alerts ? on_p99 : off_p99).push_back(p99);
      }
    }
  }
  const double a50 = *bench::Median(on_p50), b50 = *bench::Median(off_p50);
  const double a99 = *bench::Median(on_p99), b99 = *bench::Median(off_p99);
  state.counters["on_p50_us"] = a50;
  state.counters["off_p50_us"] = b50;
  state.counters["on_p99_us"] = a99;
  state.counters["off_p99_us"] = b99;
  state.counters["extra_p50_us"] = a50 - b50;
  state.counters["extra_p99_us"] = a99 - b99;
}

// Several writers, sync on: durable upserts/s with alerts on and off.
void BM_DurableUpserts(benchmark::State& state) {
  const std::string& dir = WriteCopy();
  const int writers = std::max(1, EnvInt("PA_MATCH_BENCH_WRITERS", 8));
  const int seconds = std::max(1, EnvInt("PA_MATCH_BENCH_SECONDS", 5));
  const auto edits = Edits();
  const std::vector<v1::Profile>& edited = edits.first;
  const std::vector<v1::Profile>& stored = edits.second;
  std::vector<double> on, off, ratios, unprepared, unprepared_ratios;
  for (auto _ : state) {
    for (int round = 0; round < Rounds(); ++round) {
      double rate[3] = {0, 0, 0};
      // Arm 0: alerts on; 1: off; 2: on, pairs found on the commit thread.
      for (int arm = 0; arm < 3; ++arm) {
        const bool alerts = arm != 1;
        std::unique_ptr<Engine> engine =
            OpenOrDie(Options(dir, alerts, /*sync=*/true, arm != 2));
        std::atomic<bool> stop{false};
        std::atomic<int64_t> acked{0};
        std::vector<std::thread> threads;
        const auto start = std::chrono::steady_clock::now();
        for (int w = 0; w < writers; ++w) {
          threads.emplace_back([&, w] {
            // Writer w owns the PAs k = w mod writers: an id is never in
            // two writes at once. Edit, put back, edit, ...
            for (int64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
              const size_t per = (edited.size() - w + writers - 1) / writers;
              const size_t k = w + (n % per) * writers;
              const bool edit = (n / per) % 2 == 0;
              auto response = engine->Upsert(edit ? edited[k] : stored[k]);
              if (!response.ok()) Die(response.status().ToString());
              acked.fetch_add(1, std::memory_order_relaxed);
            }
          });
        }
        std::this_thread::sleep_for(std::chrono::seconds(seconds));
        stop = true;
        for (std::thread& t : threads) t.join();
        const double elapsed = std::chrono::duration<double>(
                                   std::chrono::steady_clock::now() - start)
                                   .count();
        rate[arm] = acked.load() / elapsed;
        static const char* const kArm[] = {"on ", "off", "on, not prepared"};
        std::fprintf(stderr,
                     "match_jobs_bench: durable upserts round %d alerts %s: "
                     "%.0f/s (%d writers, %.1f s)\n",
                     round + 1, kArm[arm], rate[arm], writers, elapsed);
        // Put every PA back as stored, so each run starts alike.
        for (const auto& r : engine->BulkUpsert(stored)) {
          if (!r.ok()) Die("restore upsert: " + r.status().ToString());
        }
      }
      on.push_back(rate[0]);
      off.push_back(rate[1]);
      unprepared.push_back(rate[2]);
      ratios.push_back(rate[1] > 0 ? rate[0] / rate[1] : 0);
      unprepared_ratios.push_back(rate[1] > 0 ? rate[2] / rate[1] : 0);
    }
  }
  state.counters["writers"] = writers;
  state.counters["on_per_s"] = *bench::Median(on);
  state.counters["off_per_s"] = *bench::Median(off);
  state.counters["on_over_off"] = *bench::Median(ratios);
  state.counters["unprepared_per_s"] = *bench::Median(unprepared);
  state.counters["unprepared_over_off"] = *bench::Median(unprepared_ratios);
}

// Job writes with alerts on, and what they do to profile writes meanwhile:
// one thread posting PA_MATCH_BENCH_JOB_WRITES (default 300) new jobs of
// the standard mix (another seed) through Engine::UpsertJob while another
// upserts the sample's edits, then the same profile upserts with no job
// writer (sync_writes off, one engine with alerts on, alternating over the
// rounds). A job write's pairs are found on its caller's thread
// (Market::PrepareJobs), so the profile writer should not wait for them.
void BM_JobWrites(benchmark::State& state) {
  const std::string& dir = WriteCopy();
  const int job_writes = std::max(1, EnvInt("PA_MATCH_BENCH_JOB_WRITES", 300));
  const auto edits = Edits();
  const std::vector<v1::Profile>& edited = edits.first;
  const std::vector<v1::Profile>& stored = edits.second;
  // Per arm (0: prepared, 1: not prepared, 2: no job writer): medians over
  // the rounds.
  std::vector<double> job_p50[2], job_p99[2], profile_p50[3], profile_p99[3];
  int next_job = 0;
  for (auto _ : state) {
    for (int round = 0; round < Rounds(); ++round) {
      size_t last_count = 0;
      for (int arm = 0; arm < 3; ++arm) {
        std::unique_ptr<Engine> engine = OpenOrDie(
            Options(dir, /*alerts=*/true, /*sync=*/false, arm != 1));
        std::atomic<bool> stop{false};
        std::vector<double> jobs_us, profiles_us;
        std::thread jobs_thread;
        if (arm < 2) {
          jobs_thread = std::thread([&] {
            for (int k = 0; k < job_writes; ++k) {
              const v1::Job job = bench::StandardJob(
                  TheSetup().scenario, kSeed + 1, next_job++, kNow, "posted-");
              const auto start = std::chrono::steady_clock::now();
              auto response = engine->UpsertJob(job);
              jobs_us.push_back(MicrosSince(start));
              if (!response.ok()) Die(response.status().ToString());
            }
            stop = true;
          });
        }
        // Profile upserts for as long as the job writer lasts; alone, as
        // many as the arm before.
        size_t n = 0;
        while (arm < 2 ? !stop.load() : n < std::max<size_t>(last_count, 1)) {
          const v1::Profile& p =
              (n / edited.size()) % 2 == 0 ? edited[n % edited.size()]
                                           : stored[n % stored.size()];
          const auto start = std::chrono::steady_clock::now();
          auto response = engine->Upsert(p);
          profiles_us.push_back(MicrosSince(start));
          if (!response.ok()) Die(response.status().ToString());
          ++n;
        }
        if (jobs_thread.joinable()) jobs_thread.join();
        // Put the PAs back as stored, so each arm starts alike.
        for (const auto& r : engine->BulkUpsert(stored)) {
          if (!r.ok()) Die("restore upsert: " + r.status().ToString());
        }
        last_count = n;
        profile_p50[arm].push_back(bench::Quantile(profiles_us, 0.50));
        profile_p99[arm].push_back(bench::Quantile(profiles_us, 0.99));
        static const char* const kArm[] = {"jobs prepared", "jobs on commit",
                                           "no job writes"};
        if (arm < 2) {
          job_p50[arm].push_back(bench::Quantile(jobs_us, 0.50));
          job_p99[arm].push_back(bench::Quantile(jobs_us, 0.99));
          std::fprintf(stderr,
                       "match_jobs_bench: job writes round %d, %s: job p50 "
                       "%.0f us p99 %.0f us (%zu); profile upserts meanwhile "
                       "p50 %.0f us p99 %.0f us (%zu)\n",
                       round + 1, kArm[arm], job_p50[arm].back(),
                       job_p99[arm].back(), jobs_us.size(),
                       profile_p50[arm].back(), profile_p99[arm].back(), n);
        } else {
          std::fprintf(stderr,
                       "match_jobs_bench: job writes round %d, %s: profile "
                       "upserts p50 %.0f us p99 %.0f us (%zu)\n",
                       round + 1, kArm[arm], profile_p50[arm].back(),
                       profile_p99[arm].back(), n);
        }
      }
    }
  }
  state.counters["job_p50_us"] = *bench::Median(job_p50[0]);
  state.counters["job_p99_us"] = *bench::Median(job_p99[0]);
  state.counters["job_p99_unprepared_us"] = *bench::Median(job_p99[1]);
  state.counters["profile_p99_with_jobs_us"] = *bench::Median(profile_p99[0]);
  state.counters["profile_p99_with_unprepared_jobs_us"] =
      *bench::Median(profile_p99[1]);
  state.counters["profile_p99_alone_us"] = *bench::Median(profile_p99[2]);
}

BENCHMARK(BM_MatchJobs)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ReferenceMatchJobs)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AlertDiff, engine, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_AlertDiff, two_scans, true)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UpsertLatency)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_JobWrites)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_DurableUpserts)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
}  // namespace pamatch

// BENCHMARK_MAIN, then the engine closed and the data removed (unless
// kept) before static destruction.
int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  pamatch::g_engine.reset();
  const pamatch::Setup& s = pamatch::TheSetup();
  if (pamatch::g_write_copy_made) {
    std::filesystem::remove_all(s.dir + "-writes-" + std::to_string(getpid()));
  }
  if (!s.keep) std::filesystem::remove_all(s.dir);
  return 0;
}
