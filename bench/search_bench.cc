// Search latency of the engine over generated North East profiles, for the
// standard query mix (docs/PERFORMANCE.md):
//   dense_city     Newcastle, 15 km, 2 must-have skills, a 20-slot schedule,
//                  enhanced DBS
//   broad          30 km, no must-have skills
//   rural          Northumberland, 40 km
//   narrow         rare skills plus a language
//   short_notice   short-notice cover for one 4-hour block
// Run: build/bench/search_bench [--benchmark_filter=...]
// PA_MATCH_BENCH_PROFILES sets the population (default 100000).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "engine/demo_data.h"
#include "engine/engine.h"

namespace pamatch {
namespace {

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 6, 15, 12, 0, 0),
                                        absl::UTCTimeZone());

// Resident memory of this process, bytes (from /proc/self/statm).
double ResidentBytes() {
  long pages_total = 0, pages_resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) {
      pages_resident = 0;
    }
    std::fclose(f);
  }
  return static_cast<double>(pages_resident) * sysconf(_SC_PAGESIZE);
}

// Set once the shared engine is loaded: resident bytes the engine added
// per profile, and seconds to reopen (rebuild the index from RocksDB).
double g_bytes_per_profile = 0;
double g_reopen_seconds = 0;

// One engine for the whole run, loaded once, then reopened so the index is
// rebuilt from RocksDB as at a restart.
Engine& SharedEngine() {
  static Engine* engine = [] {
    const char* count_env = std::getenv("PA_MATCH_BENCH_PROFILES");
    const int count = count_env ? std::atoi(count_env) : 100000;
    const std::string dir = "/tmp/pa-match-bench-" + std::to_string(getpid());
    std::filesystem::remove_all(dir);
    EngineOptions options;
    options.data_dir = dir;
    options.taxonomy_path = PA_MATCH_TAXONOMY;
    options.sync_writes = false;
    const double rss_before = ResidentBytes();
    Engine* opened = Engine::Open(options).value().release();
    constexpr int kBatch = 5000;
    for (int start = 0; start < count; start += kBatch) {
      std::vector<v1::Profile> batch;
      for (int i = start; i < std::min(count, start + kBatch); ++i) {
        batch.push_back(GenerateDemoProfile(42, i, kNow, "pa-"));
      }
      opened->BulkUpsert(batch);
    }
    delete opened;
    const absl::Time reopen_start = absl::Now();
    opened = Engine::Open(options).value().release();
    g_reopen_seconds = absl::ToDoubleSeconds(absl::Now() - reopen_start);
    g_bytes_per_profile = (ResidentBytes() - rss_before) / std::max(1, count);
    std::atexit([] { std::filesystem::remove_all(
        "/tmp/pa-match-bench-" + std::to_string(getpid())); });
    return opened;
  }();
  return *engine;
}

void AddBlock(v1::SearchRequest* r, v1::DayOfWeek day, const char* start,
              const char* end) {
  v1::TimeInterval* interval = r->add_schedule();
  interval->set_day(day);
  interval->set_start(start);
  interval->set_end(end);
}

v1::SearchRequest Query(const std::string& kind) {
  v1::SearchRequest r;
  r.set_as_of("2026-06-15");
  r.set_page_size(20);
  auto at = [&](double lat, double lon) {
    r.mutable_location()->set_lat(lat);
    r.mutable_location()->set_lon(lon);
  };
  if (kind == "dense_city") {
    at(54.9783, -1.6178);
    r.set_max_distance_km(15);
    r.add_must_have_skills("personal_care");
    r.add_must_have_skills("meal_preparation");
    r.set_min_dbs_level(v1::DBS_ENHANCED);
    // 20 slots: Monday to Friday 08:00-10:00.
    for (auto day : {v1::MONDAY, v1::TUESDAY, v1::WEDNESDAY, v1::THURSDAY,
                     v1::FRIDAY}) {
      AddBlock(&r, day, "08:00", "10:00");
    }
    r.add_nice_to_have_skills("shopping");
    r.add_interests("music");
  } else if (kind == "broad") {
    at(54.90, -1.50);
    r.set_max_distance_km(30);
    r.add_nice_to_have_skills("domestic_cleaning");
  } else if (kind == "rural") {
    at(55.23, -2.0);
    r.set_local_authority("E06000057");
    r.set_max_distance_km(40);
    r.add_must_have_skills("personal_care");
  } else if (kind == "narrow") {
    at(54.9783, -1.6178);
    r.set_max_distance_km(25);
    r.add_must_have_skills("peg_feeding");
    r.add_required_languages("pl");
  } else {  // short_notice
    at(54.88, -1.43);
    r.set_max_distance_km(20);
    r.set_short_notice(true);
    AddBlock(&r, v1::SATURDAY, "10:00", "14:00");
    r.set_min_schedule_coverage(1.0);
  }
  return r;
}

// The q-quantile (0..1) of `samples` (sorted in place), nearest rank.
double Quantile(std::vector<double>& samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * samples.size()));
  return samples[std::min(samples.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// Index (the serving path) and reference scan, same engine, same requests.
// Each iteration moves the query's location by up to about 3 km (a fixed
// sequence, the same for both), so p50/p99 are over a spread of requests of
// one type rather than one request repeated.
void RunSearch(benchmark::State& state, const std::string& kind,
               bool reference) {
  Engine& engine = SharedEngine();
  const v1::SearchRequest base = Query(kind);
  std::vector<double> latencies_us;
  int64_t matches = 0;
  uint64_t step = 0;
  for (auto _ : state) {
    v1::SearchRequest request = base;
    ++step;
    request.mutable_location()->set_lat(base.location().lat() +
                                        0.025 * std::sin(step * 0.7));
    request.mutable_location()->set_lon(base.location().lon() +
                                        0.04 * std::cos(step * 1.3));
    const auto start = std::chrono::steady_clock::now();
    auto response = reference ? engine.ReferenceSearch(request, kNow)
                              : engine.Search(request, kNow);
    latencies_us.push_back(std::chrono::duration<double, std::micro>(
                               std::chrono::steady_clock::now() - start)
                               .count());
    matches = response->total_matches();
    benchmark::DoNotOptimize(response);
  }
  state.counters["p50_us"] = Quantile(latencies_us, 0.50);
  state.counters["p99_us"] = Quantile(latencies_us, 0.99);
  state.counters["profiles"] = static_cast<double>(engine.size());
  state.counters["matches"] = static_cast<double>(matches);
  state.counters["rss_B_per_profile"] = g_bytes_per_profile;
  state.counters["reopen_s"] = g_reopen_seconds;
}

void BM_IndexSearch(benchmark::State& state, const std::string& kind) {
  RunSearch(state, kind, false);
}
void BM_ReferenceSearch(benchmark::State& state, const std::string& kind) {
  RunSearch(state, kind, true);
}

#define PA_MATCH_QUERY_MIX(bench)                                           \
  BENCHMARK_CAPTURE(bench, dense_city, std::string("dense_city"))           \
      ->Unit(benchmark::kMicrosecond);                                      \
  BENCHMARK_CAPTURE(bench, broad, std::string("broad"))                     \
      ->Unit(benchmark::kMicrosecond);                                      \
  BENCHMARK_CAPTURE(bench, rural, std::string("rural"))                     \
      ->Unit(benchmark::kMicrosecond);                                      \
  BENCHMARK_CAPTURE(bench, narrow, std::string("narrow"))                   \
      ->Unit(benchmark::kMicrosecond);                                      \
  BENCHMARK_CAPTURE(bench, short_notice, std::string("short_notice"))       \
      ->Unit(benchmark::kMicrosecond)

PA_MATCH_QUERY_MIX(BM_IndexSearch);
PA_MATCH_QUERY_MIX(BM_ReferenceSearch);

}  // namespace
}  // namespace pamatch

BENCHMARK_MAIN();
