// Deterministic demo data: realistic-looking PA profiles for North East
// England or for the whole of Great Britain, for demos, load tests and
// benchmarks.
//
// Every profile is a pure function of (scenario, seed, index, now,
// id_prefix): profile i
// never depends on profiles 0..i-1, so a run of any size can be streamed,
// split into chunks or generated in parallel and still give byte-identical
// output. The generator uses only integer arithmetic from its own PRNG (no
// std::*_distribution, no libm), so the output is the same with every
// standard library and platform.
//
// The codes emitted are those of the default vocabulary
// (taxonomy/north_east.json); the national scenario's local authorities are
// those of taxonomy/great_britain.json, which has the same vocabulary
// otherwise. The distributions are documented at the top of demo_data.cc
// and in docs/DEMO-DATA.md.
//
// Library pamatch_demo (demo/CMakeLists.txt): it needs the API messages and
// Abseil only, not the engine, so pa-match-datagen and the load generator
// link no engine.
#ifndef PA_MATCH_DEMO_DEMO_DATA_H_
#define PA_MATCH_DEMO_DEMO_DATA_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch::demo {

// Where the PAs live. Only the location section (local_authority, location,
// max_travel_km) depends on it; every other field of profile i is the same
// in both scenarios.
enum class DemoScenario {
  // The 12 North East authorities, population-weighted, as the server's
  // default taxonomy (taxonomy/north_east.json) expects.
  kNorthEast,
  // Great Britain: a place of taxonomy/gb_places.csv, population-weighted;
  // needs a server running taxonomy/great_britain.json.
  kNational,
};

// Options of GenerateDemoProfiles.
struct DemoOptions {
  // Selects the data set; the same seed always gives the same profiles.
  uint64_t seed = 42;
  // Number of profiles, indexes 0..count-1. count <= 0 gives none.
  int count = 2000;
  // Reference instant for every date: training expiries, DBS issue dates and
  // last_active are placed relative to it (its UTC calendar day for dates).
  absl::Time now = absl::UnixEpoch();
  // Profile ids are id_prefix + index zero-padded to 6 digits ("pa-000042").
  // The caller keeps the id valid: prefix of [A-Za-z0-9_.:-], total <= 64.
  std::string id_prefix = "pa-";
  // Where the PAs live.
  DemoScenario scenario = DemoScenario::kNorthEast;
};

// Profiles 0..options.count-1; element i equals
// GenerateScenarioProfile(options.scenario, options.seed, i, options.now,
// options.id_prefix).
std::vector<v1::Profile> GenerateDemoProfiles(const DemoOptions& options);

// Profile number `index` (>= 0) of the data set `seed` in `scenario`, with
// dates relative to `now`. Pure: independent of any other call, thread-safe.
v1::Profile GenerateScenarioProfile(DemoScenario scenario, uint64_t seed,
                                    int64_t index, absl::Time now,
                                    std::string_view id_prefix);

// The North East profile: GenerateScenarioProfile(kNorthEast, ...).
v1::Profile GenerateDemoProfile(uint64_t seed, int64_t index, absl::Time now,
                                std::string_view id_prefix);

// "north_east" / "national", the names pa-match-datagen's --scenario takes.
std::string_view DemoScenarioName(DemoScenario scenario);
// The scenario named `name`; false if there is none.
bool ParseDemoScenario(std::string_view name, DemoScenario* scenario);

}  // namespace pamatch::demo

#endif  // PA_MATCH_DEMO_DEMO_DATA_H_
