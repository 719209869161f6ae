#include "fuzz/fuzz_util.h"

#include <vector>

#include "demo/demo_data.h"

namespace pamatch::fuzz {
namespace {

struct Store {
  std::string dir;
  std::unique_ptr<Engine> engine;
};
Store* store = nullptr;

void RemoveStore() {
  if (store == nullptr) return;
  store->engine.reset();
  std::filesystem::remove_all(store->dir);
}

}  // namespace

Engine& SharedEngine(int demo_profiles) {
  if (store != nullptr) return *store->engine;
  char tmpl[] = "/tmp/pa-match-fuzz-XXXXXX";
  PA_FUZZ_CHECK(mkdtemp(tmpl) != nullptr, "mkdtemp");
  store = new Store{tmpl, nullptr};
  EngineOptions options;
  options.data_dir = store->dir + "/db";
  options.taxonomy_path = SourcePath("taxonomy/north_east.json");
  options.sync_writes = false;
  options.relayout_unsorted_fraction = -1;
  options.daily_pass_poll = absl::ZeroDuration();
  options.clock = [] { return Now(); };
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  PA_FUZZ_CHECK(engine.ok(), engine.status().ToString());
  store->engine = *std::move(engine);
  std::atexit(RemoveStore);
  demo::DemoOptions demo;
  demo.count = demo_profiles;
  demo.now = Now();
  const std::vector<v1::Profile> profiles = demo::GenerateDemoProfiles(demo);
  for (const auto& result : store->engine->BulkUpsert(profiles)) {
    PA_FUZZ_CHECK(result.ok(), result.status().ToString());
  }
  return *store->engine;
}

}  // namespace pamatch::fuzz
