// A PA profile compiled for matching: codes resolved to taxonomy ids, dates
// to day numbers, availability to a slot grid, and the register level
// derived. Built once per upsert by CompileProfile, immutable afterwards, so
// one instance may be read by any number of threads.
#ifndef PA_MATCH_ENGINE_PROFILE_H_
#define PA_MATCH_ENGINE_PROFILE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"
#include "engine/availability.h"
#include "engine/dates.h"
#include "engine/taxonomy.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

// Limits on list sizes in a profile (documented in matcher.proto).
inline constexpr int kMaxProfileSkills = 64;
inline constexpr int kMaxProfileTraining = 64;
inline constexpr int kMaxProfileQualifications = 32;
inline constexpr int kMaxProfileLanguages = 20;
inline constexpr int kMaxProfileInterests = 50;
inline constexpr double kMaxTravelKm = 200;
inline constexpr int64_t kMaxRatePence = 100000;

// One training code and its latest expiry (kNeverExpires if none).
struct TrainingHeld {
  CodeId code;
  DayNumber expires_on;
};

struct CompiledProfile {
  std::string id;
  int64_t version = 0;
  bool active = true;
  double lat = 0, lon = 0;
  double cos_lat = 1;  // CosLat(lat), for the haversine
  CodeId local_authority = 0;
  double max_travel_km = 0;
  std::vector<CodeId> skills;          // sorted, unique
  std::vector<TrainingHeld> training;  // sorted by code, unique codes
  std::vector<CodeId> qualifications;  // sorted, unique
  bool identity_verified = false;
  bool code_of_conduct_signed = false;
  v1::DbsLevel dbs_level = v1::DBS_NONE;  // never UNSPECIFIED
  DayNumber dbs_issued_on = kNoDate;
  bool dbs_update_service = false;
  int references_verified = 0;
  bool driving_licence = false;
  bool has_car = false;
  v1::Gender gender = v1::GENDER_UNDISCLOSED;     // never UNSPECIFIED
  v1::AgeBand age_band = v1::AGE_BAND_UNDISCLOSED;  // never UNSPECIFIED
  std::vector<CodeId> languages;  // sorted, unique
  std::vector<CodeId> interests;  // sorted, unique
  bool non_smoker = false;
  bool ok_with_pets = false;
  bool short_notice_cover = false;
  WeekSlots availability;
  int64_t min_hourly_rate_pence = 0;
  bool has_last_active = false;
  int64_t last_active_seconds = 0;
  int32_t last_active_nanos = 0;
  int register_level = 0;  // 0..4, derived

  // Latest expiry of training `code`, or kNoDate if not held.
  DayNumber TrainingExpiry(CodeId code) const;
};

// Validates `profile` against the taxonomy and the ranges in matcher.proto
// and compiles it. The version is copied as given (0 included); the caller
// resolves it. Errors are INVALID_ARGUMENT naming the field and value.
absl::StatusOr<CompiledProfile> CompileProfile(const Taxonomy& taxonomy,
                                               const v1::Profile& profile);

// The register level (0..4) of MATCHING.md "Register level".
int DeriveRegisterLevel(const Taxonomy& taxonomy,
                        const CompiledProfile& profile);

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_PROFILE_H_
