// Fuzz target: a Profile (wire or text format) through validation and an
// upsert into a real store. Properties: the upsert succeeds or is refused
// with INVALID_ARGUMENT or FAILED_PRECONDITION (a stale version); a stored
// profile reads back and deletes. Each stored profile is deleted again, so
// the store stays at its few seed profiles however long the run.
#include <cstdint>

#include "absl/status/status.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pamatch;
  using namespace pamatch::fuzz;
  v1::Profile profile;
  if (!ParseInput(data, size, &profile)) return 0;
  Engine& engine = SharedEngine(20);
  const int64_t before = engine.size();
  absl::StatusOr<v1::UpsertProfileResponse> upserted = engine.Upsert(profile);
  if (!upserted.ok()) {
    PA_FUZZ_CHECK(absl::IsInvalidArgument(upserted.status()) ||
                      absl::IsFailedPrecondition(upserted.status()),
                  upserted.status().ToString());
    PA_FUZZ_CHECK(engine.size() == before,
                  "a refused upsert changed the store");
    return 0;
  }
  absl::StatusOr<v1::GetProfileResponse> got = engine.GetProfile(profile.id());
  PA_FUZZ_CHECK(got.ok(), got.status().ToString());
  PA_FUZZ_CHECK(got->profile().id() == profile.id(), "");
  // The demo profiles (pa-000000..) stay; anything else goes again.
  if (engine.size() > before) {
    const absl::Status deleted = engine.DeleteProfile(profile.id());
    PA_FUZZ_CHECK(deleted.ok(), deleted.ToString());
    PA_FUZZ_CHECK(engine.size() == before, "");
  }
  return 0;
}
