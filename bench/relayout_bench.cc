// What the index relayout (engine/index_relayout.h) buys after a bulk
// import: the standard query mix (bench/query_mix.h) on two engines holding
// the same data, national profiles plus a North East import written after
// the start, one as the writes left it and one laid out again; and how long
// the relayout takes. The two are measured in alternating rounds of one run,
// so their ratio is robust to a noisy machine.
// Run: build/bench/relayout_bench [--benchmark_filter=...]
// PA_MATCH_BENCH_PROFILES sets the national population (default 100000);
// the import is one twentieth of it, new PAs in the North East, where every
// standard query is. The data lives in /tmp/pa-match-relayout-<pid>-{a,b},
// removed at exit.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "bench/query_mix.h"
#include "bench/quantile.h"
#include "demo/demo_data.h"
#include "engine/engine.h"

namespace pamatch {
namespace {

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 6, 15, 12, 0, 0),
                                        absl::UTCTimeZone());

struct Engines {
  std::unique_ptr<Engine> unsorted, relaid_out;
  double relayout_s = 0, pause_s = 0, write_pause_s = 0;
  int64_t unsorted_profiles = 0;
};

std::string DataDir(const char* which) {
  return absl::StrCat("/tmp/pa-match-relayout-", getpid(), "-", which);
}

std::unique_ptr<Engine> Open(const std::string& dir) {
  EngineOptions options;
  options.data_dir = dir;
  options.taxonomy_path = PA_MATCH_TAXONOMY_GREAT_BRITAIN;
  options.sync_writes = false;
  options.relayout_unsorted_fraction = -1;  // only when asked, below
  return *Engine::Open(options);
}

Engines& Shared() {
  static Engines* engines = [] {
    const char* count_env = std::getenv("PA_MATCH_BENCH_PROFILES");
    const int count = count_env ? std::atoi(count_env) : 100000;
    const int imported = count / 20;
    std::fprintf(stderr, "relayout_bench: %d national profiles, %d imported\n",
                 count, imported);
    const std::string a = DataDir("a"), b = DataDir("b");
    std::filesystem::remove_all(a);
    std::filesystem::remove_all(b);
    std::atexit([] {
      std::filesystem::remove_all(DataDir("a"));
      std::filesystem::remove_all(DataDir("b"));
    });
    auto write = [](Engine& engine, demo::DemoScenario scenario, uint64_t seed,
                    int n, const char* prefix) {
      constexpr int kBatch = 5000;
      for (int start = 0; start < n; start += kBatch) {
        std::vector<v1::Profile> batch;
        for (int i = start; i < std::min(n, start + kBatch); ++i) {
          batch.push_back(
              demo::GenerateScenarioProfile(scenario, seed, i, kNow, prefix));
        }
        engine.BulkUpsert(batch);
      }
    };
    {
      std::unique_ptr<Engine> first = Open(a);
      write(*first, demo::DemoScenario::kNational, 42, count, "pa-");
    }
    std::filesystem::copy(a, b, std::filesystem::copy_options::recursive);
    auto* e = new Engines;
    // Opened after the copy: both indexes are rebuilt in travel order, then
    // take the same import.
    e->unsorted = Open(a);
    e->relaid_out = Open(b);
    for (Engine* engine : {e->unsorted.get(), e->relaid_out.get()}) {
      write(*engine, demo::DemoScenario::kNorthEast, 7, imported, "imp-");
    }
    e->unsorted_profiles = e->relaid_out->Stats().unsorted_profiles();
    e->relaid_out->RelayoutIndex();
    const v1::GetStatsResponse stats = e->relaid_out->Stats();
    e->relayout_s = stats.last_relayout_seconds();
    e->pause_s = stats.last_relayout_pause_seconds();
    e->write_pause_s = stats.last_relayout_write_pause_seconds();
    return e;
  }();
  return *engines;
}

// The five kinds in turn, as in search_bench's BM_IndexSearch/mix.
void BM_Mix(benchmark::State& state, bool relaid_out) {
  Engines& engines = Shared();
  Engine& engine = relaid_out ? *engines.relaid_out : *engines.unsorted;
  const std::vector<bench::QueryKind>& kinds = bench::AllQueryKinds();
  std::vector<double> latencies_us;
  uint64_t step = 0;
  for (auto _ : state) {
    ++step;
    const v1::SearchRequest request =
        bench::StandardQuery(kinds[step % kinds.size()], step / kinds.size());
    const auto start = std::chrono::steady_clock::now();
    auto response = engine.Search(request, kNow);
    latencies_us.push_back(std::chrono::duration<double, std::micro>(
                               std::chrono::steady_clock::now() - start)
                               .count());
    benchmark::DoNotOptimize(response);
  }
  state.counters["p50_us"] = bench::Quantile(latencies_us, 0.50);
  state.counters["p99_us"] = bench::Quantile(latencies_us, 0.99);
  state.counters["profiles"] = static_cast<double>(engine.size());
  state.counters["unsorted"] =
      static_cast<double>(engine.Stats().unsorted_profiles());
  if (relaid_out) {
    state.counters["unsorted_before"] =
        static_cast<double>(engines.unsorted_profiles);
    state.counters["relayout_s"] = engines.relayout_s;
    state.counters["pause_s"] = engines.pause_s;
    state.counters["write_pause_s"] = engines.write_pause_s;
  }
}

}  // namespace
}  // namespace pamatch

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  // Alternating rounds: unsorted, relaid out, unsorted, ...
  for (int round = 1; round <= 3; ++round) {
    for (bool relaid_out : {false, true}) {
      benchmark::RegisterBenchmark(
          absl::StrCat("BM_Mix/", relaid_out ? "relaid_out" : "unsorted",
                       "/round:", round)
              .c_str(),
          [relaid_out](benchmark::State& state) {
            pamatch::BM_Mix(state, relaid_out);
          })
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
