// Deterministic demo data: realistic-looking PA profiles for North East
// England, for demos, load tests and benchmarks.
//
// Every profile is a pure function of (seed, index, now, id_prefix): profile i
// never depends on profiles 0..i-1, so a run of any size can be streamed,
// split into chunks or generated in parallel and still give byte-identical
// output. The generator uses only integer arithmetic from its own PRNG (no
// std::*_distribution, no libm), so the output is the same with every
// standard library and platform.
//
// The codes emitted are those of the default vocabulary
// (taxonomy/north_east.json). The distributions are documented at the top of
// demo_data.cc and in docs/DEMO-DATA.md.
#ifndef PA_MATCH_ENGINE_DEMO_DATA_H_
#define PA_MATCH_ENGINE_DEMO_DATA_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

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
};

// Profiles 0..options.count-1; element i equals
// GenerateDemoProfile(options.seed, i, options.now, options.id_prefix).
std::vector<v1::Profile> GenerateDemoProfiles(const DemoOptions& options);

// Profile number `index` (>= 0) of the data set `seed`, with dates relative
// to `now`. Pure: independent of any other call, thread-safe.
v1::Profile GenerateDemoProfile(uint64_t seed, int64_t index, absl::Time now,
                                std::string_view id_prefix);

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_DEMO_DATA_H_
