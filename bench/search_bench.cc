// Search latency of the engine over generated profiles, for the standard
// query mix (bench/query_mix.h, docs/PERFORMANCE.md).
// Run: build/bench/search_bench [--benchmark_filter=...]
// PA_MATCH_BENCH_PROFILES sets the population (default 100000);
// PA_MATCH_BENCH_SCENARIO=national (default) spreads it over Great Britain
// by population (taxonomy/great_britain.json), =north_east puts all of it
// in the North East (a density stress test: 1,000,000 there is ~200 times
// the real workforce). PA_MATCH_BENCH_DATA_DIR keeps the data in that
// directory and, when it already holds profiles, opens them instead of
// generating (so repeated runs skip the load; the population and scenario
// are then whatever that directory holds).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "bench/query_mix.h"
#include "bench/quantile.h"
#include "demo/demo_data.h"
#include "engine/engine.h"
#include "engine/query.h"
#include "engine/taxonomy.h"

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
    int count = count_env ? std::atoi(count_env) : 100000;
    const char* dir_env = std::getenv("PA_MATCH_BENCH_DATA_DIR");
    const bool keep = dir_env != nullptr && *dir_env != '\0';
    const std::string dir =
        keep ? dir_env : "/tmp/pa-match-bench-" + std::to_string(getpid());
    if (!keep) std::filesystem::remove_all(dir);
    EngineOptions options;
    options.data_dir = dir;
    const char* scenario_env = std::getenv("PA_MATCH_BENCH_SCENARIO");
    const bool north_east =
        scenario_env != nullptr && std::string(scenario_env) == "north_east";
    const demo::DemoScenario scenario = north_east
                                            ? demo::DemoScenario::kNorthEast
                                            : demo::DemoScenario::kNational;
    options.taxonomy_path = north_east ? PA_MATCH_TAXONOMY_NORTH_EAST
                                       : PA_MATCH_TAXONOMY_GREAT_BRITAIN;
    std::fprintf(stderr, "search_bench: %d profiles, scenario %s\n", count,
                 north_east ? "north_east" : "national");
    options.sync_writes = false;
    const double rss_before = ResidentBytes();
    absl::Time open_start = absl::Now();
    Engine* opened = Engine::Open(options).value().release();
    const int stored = static_cast<int>(opened->size());
    if (stored > 0) {
      // Reused data: this open was the rebuild being measured.
      g_reopen_seconds = absl::ToDoubleSeconds(absl::Now() - open_start);
      g_bytes_per_profile = (ResidentBytes() - rss_before) / stored;
      std::fprintf(stderr, "search_bench: reusing %d profiles in %s\n",
                   stored, dir.c_str());
      return opened;
    }
    constexpr int kBatch = 5000;
    for (int start = 0; start < count; start += kBatch) {
      std::vector<v1::Profile> batch;
      for (int i = start; i < std::min(count, start + kBatch); ++i) {
        batch.push_back(
            demo::GenerateScenarioProfile(scenario, 42, i, kNow, "pa-"));
      }
      opened->BulkUpsert(batch);
    }
    delete opened;
    open_start = absl::Now();
    opened = Engine::Open(options).value().release();
    g_reopen_seconds = absl::ToDoubleSeconds(absl::Now() - open_start);
    g_bytes_per_profile = (ResidentBytes() - rss_before) / std::max(1, count);
    if (!keep) {
      std::atexit([] { std::filesystem::remove_all(
          "/tmp/pa-match-bench-" + std::to_string(getpid())); });
    }
    return opened;
  }();
  return *engine;
}

// Index (the serving path) and reference scan, same engine, same requests.
// Each iteration moves the query's location by up to about 3 km (a fixed
// sequence, the same for both), so p50/p99 are over a spread of requests of
// one type rather than one request repeated.
// With `mixed`, the kinds take turns (as in the load generator), so the
// caches hold no single query's region between requests.
void RunSearch(benchmark::State& state, bench::QueryKind kind,
               bool reference, bool mixed = false) {
  Engine& engine = SharedEngine();
  std::vector<double> latencies_us;
  int64_t matches = 0;
  uint64_t step = 0;
  const std::vector<bench::QueryKind>& kinds = bench::AllQueryKinds();
  for (auto _ : state) {
    ++step;
    const v1::SearchRequest request = bench::StandardQuery(
        mixed ? kinds[step % kinds.size()] : kind, mixed ? step / kinds.size() : step);
    const auto start = std::chrono::steady_clock::now();
    auto response = reference ? engine.ReferenceSearch(request, kNow)
                              : engine.Search(request, kNow);
    latencies_us.push_back(std::chrono::duration<double, std::micro>(
                               std::chrono::steady_clock::now() - start)
                               .count());
    matches = response->total_matches();
    benchmark::DoNotOptimize(response);
  }
  state.counters["p50_us"] = bench::Quantile(latencies_us, 0.50);
  state.counters["p99_us"] = bench::Quantile(latencies_us, 0.99);
  state.counters["profiles"] = static_cast<double>(engine.size());
  state.counters["matches"] = static_cast<double>(matches);
  state.counters["rss_B_per_profile"] = g_bytes_per_profile;
  state.counters["reopen_s"] = g_reopen_seconds;
}

void BM_IndexSearch(benchmark::State& state, bench::QueryKind kind) {
  RunSearch(state, kind, false);
}
void BM_ReferenceSearch(benchmark::State& state, bench::QueryKind kind) {
  RunSearch(state, kind, true);
}
// The five kinds in turn; its p50/p99 are over the whole mix.
void BM_IndexSearchMix(benchmark::State& state) {
  RunSearch(state, bench::QueryKind::kDenseCity, false, /*mixed=*/true);
}

#define PA_MATCH_QUERY_MIX(fn)                                           \
  BENCHMARK_CAPTURE(fn, dense_city, bench::QueryKind::kDenseCity)           \
      ->Unit(benchmark::kMicrosecond);                                      \
  BENCHMARK_CAPTURE(fn, broad, bench::QueryKind::kBroad)                     \
      ->Unit(benchmark::kMicrosecond);                                      \
  BENCHMARK_CAPTURE(fn, rural, bench::QueryKind::kRural)                     \
      ->Unit(benchmark::kMicrosecond);                                      \
  BENCHMARK_CAPTURE(fn, narrow, bench::QueryKind::kNarrow)                   \
      ->Unit(benchmark::kMicrosecond);                                      \
  BENCHMARK_CAPTURE(fn, short_notice, bench::QueryKind::kShortNotice)       \
      ->Unit(benchmark::kMicrosecond)

// The request side of a search alone: validation (unknown fields, codes,
// ranges) and compilation into a CompiledQuery, no index. Needs no data.
void BM_CompileQuery(benchmark::State& state, bench::QueryKind kind) {
  static const Taxonomy taxonomy =
      Taxonomy::Load(PA_MATCH_TAXONOMY_GREAT_BRITAIN).value();
  uint64_t step = 0;
  for (auto _ : state) {
    const v1::SearchRequest request = bench::StandardQuery(kind, ++step);
    absl::StatusOr<CompiledQuery> query =
        CompileQuery(taxonomy, request, nullptr, kNow);
    if (!query.ok()) state.SkipWithError(std::string(query.status().message()).c_str());
    benchmark::DoNotOptimize(query);
  }
}

PA_MATCH_QUERY_MIX(BM_CompileQuery);
PA_MATCH_QUERY_MIX(BM_IndexSearch);
BENCHMARK(BM_IndexSearchMix)->Name("BM_IndexSearch/mix")->Unit(benchmark::kMicrosecond);
PA_MATCH_QUERY_MIX(BM_ReferenceSearch);

}  // namespace
}  // namespace pamatch

BENCHMARK_MAIN();
