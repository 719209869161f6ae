#include "engine/profile.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/geo.h"
#include "engine/validation.h"

namespace pamatch {
namespace {

// Seconds since the epoch accepted for last_active: google.protobuf.
// Timestamp's own range, 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

absl::Status CompileTraining(const Taxonomy& taxonomy,
                             const v1::Profile& profile,
                             CompiledProfile* out) {
  if (profile.training_size() > kMaxListItems) {
    return absl::InvalidArgumentError(
        absl::StrCat("training: ", profile.training_size(),
                     " records, at most ", kMaxListItems,
                     " (repeated codes included)"));
  }
  for (int i = 0; i < profile.training_size(); ++i) {
    const v1::TrainingRecord& record = profile.training(i);
    const int code = taxonomy.training().Find(record.code());
    if (code < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("training[", i, "].code: unknown training code \"",
                       record.code().substr(0, 64), "\""));
    }
    DayNumber expires = kNeverExpires;
    if (!record.expires_on().empty()) {
      absl::StatusOr<DayNumber> day = ParseDate(
          record.expires_on(), absl::StrCat("training[", i, "].expires_on"));
      if (!day.ok()) return day.status();
      expires = *day;
    }
    out->training.push_back({static_cast<CodeId>(code), expires});
  }
  // One entry per code, keeping the latest expiry.
  std::sort(out->training.begin(), out->training.end(),
            [](const TrainingHeld& a, const TrainingHeld& b) {
              return a.code != b.code ? a.code < b.code
                                      : a.expires_on > b.expires_on;
            });
  out->training.erase(
      std::unique(out->training.begin(), out->training.end(),
                  [](const TrainingHeld& a, const TrainingHeld& b) {
                    return a.code == b.code;
                  }),
      out->training.end());
  if (out->training.size() > static_cast<size_t>(kMaxProfileTraining)) {
    return absl::InvalidArgumentError(
        absl::StrCat("training: ", out->training.size(),
                     " distinct codes, at most ", kMaxProfileTraining));
  }
  return absl::OkStatus();
}

absl::Status CompileChecks(const v1::Checks& checks, CompiledProfile* out) {
  out->identity_verified = checks.identity_verified();
  out->code_of_conduct_signed = checks.code_of_conduct_signed();
  const v1::DbsCheck& dbs = checks.dbs();
  if (!v1::DbsLevel_IsValid(dbs.level())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checks.dbs.level: ", static_cast<int>(dbs.level()),
        " is not a DBS level"));
  }
  out->dbs_level =
      dbs.level() == v1::DBS_LEVEL_UNSPECIFIED ? v1::DBS_NONE : dbs.level();
  if (!dbs.issued_on().empty()) {
    absl::StatusOr<DayNumber> day =
        ParseDate(dbs.issued_on(), "checks.dbs.issued_on");
    if (!day.ok()) return day.status();
    out->dbs_issued_on = *day;
  }
  out->dbs_update_service = dbs.update_service();
  absl::Status status = CheckRange(checks.references_verified(), 0, 100,
                                   "checks.references_verified");
  if (!status.ok()) return status;
  out->references_verified = checks.references_verified();
  out->driving_licence = checks.driving_licence();
  out->has_car = checks.has_car();
  return absl::OkStatus();
}

absl::Status CompileAttributes(const Taxonomy& taxonomy,
                               const v1::Attributes& attributes,
                               CompiledProfile* out) {
  if (!v1::Gender_IsValid(attributes.gender())) {
    return absl::InvalidArgumentError(
        absl::StrCat("attributes.gender: ",
                     static_cast<int>(attributes.gender()), " is not a gender"));
  }
  if (!v1::AgeBand_IsValid(attributes.age_band())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "attributes.age_band: ", static_cast<int>(attributes.age_band()),
        " is not an age band"));
  }
  out->gender = attributes.gender() == v1::GENDER_UNSPECIFIED
                    ? v1::GENDER_UNDISCLOSED
                    : attributes.gender();
  out->age_band = attributes.age_band() == v1::AGE_BAND_UNSPECIFIED
                      ? v1::AGE_BAND_UNDISCLOSED
                      : attributes.age_band();
  auto languages =
      ResolveCodes(taxonomy.languages(), attributes.languages(),
                   "attributes.languages", kMaxProfileLanguages);
  if (!languages.ok()) return languages.status();
  out->languages = *std::move(languages);
  auto interests =
      ResolveCodes(taxonomy.interests(), attributes.interests(),
                   "attributes.interests", kMaxProfileInterests);
  if (!interests.ok()) return interests.status();
  out->interests = *std::move(interests);
  out->non_smoker = attributes.non_smoker();
  out->ok_with_pets = attributes.ok_with_pets();
  out->short_notice_cover = attributes.short_notice_cover();
  return absl::OkStatus();
}

absl::Status CompileScalars(const Taxonomy& taxonomy,
                            const v1::Profile& profile, CompiledProfile* out) {
  absl::Status status = ValidateId(profile.id(), "id");
  if (!status.ok()) return status;
  out->id = profile.id();
  if (profile.version() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "version: ", profile.version(), " is negative (0 = stored + 1)"));
  }
  out->version = profile.version();
  if (!v1::ProfileStatus_IsValid(profile.status())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "status: ", static_cast<int>(profile.status()), " is not a status"));
  }
  out->active = profile.status() != v1::PAUSED;
  if (!profile.has_location()) {
    return absl::InvalidArgumentError("location: required");
  }
  status = ValidateLocation(profile.location(), "location");
  if (!status.ok()) return status;
  out->lat = profile.location().lat();
  out->lon = profile.location().lon();
  out->cos_lat = CosLat(out->lat);
  const int la = taxonomy.local_authorities().Find(profile.local_authority());
  if (la < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "local_authority: unknown local authority code \"",
        profile.local_authority().substr(0, 64), "\""));
  }
  out->local_authority = static_cast<CodeId>(la);
  if (!(profile.max_travel_km() > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_travel_km: ", profile.max_travel_km(), " must be > 0"));
  }
  status = CheckRange(profile.max_travel_km(), 0, kMaxTravelKm,
                      "max_travel_km");
  if (!status.ok()) return status;
  out->max_travel_km = profile.max_travel_km();
  if (profile.min_hourly_rate_pence() < 0 ||
      profile.min_hourly_rate_pence() > kMaxRatePence) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_hourly_rate_pence: ", profile.min_hourly_rate_pence(),
                     " is outside 0..", kMaxRatePence));
  }
  out->min_hourly_rate_pence = profile.min_hourly_rate_pence();
  if (profile.has_last_active()) {
    const auto& ts = profile.last_active();
    if (ts.seconds() < kMinTimestampSeconds ||
        ts.seconds() > kMaxTimestampSeconds || ts.nanos() < 0 ||
        ts.nanos() > 999999999) {
      return absl::InvalidArgumentError(absl::StrCat(
          "last_active: ", ts.seconds(), "s ", ts.nanos(),
          "ns is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z"));
    }
    out->has_last_active = true;
    out->last_active_seconds = ts.seconds();
    out->last_active_nanos = ts.nanos();
  }
  return absl::OkStatus();
}

}  // namespace

DayNumber CompiledProfile::TrainingExpiry(CodeId code) const {
  auto it = std::lower_bound(
      training.begin(), training.end(), code,
      [](const TrainingHeld& held, CodeId c) { return held.code < c; });
  return it != training.end() && it->code == code ? it->expires_on : kNoDate;
}

absl::StatusOr<CompiledProfile> CompileProfile(const Taxonomy& taxonomy,
                                               const v1::Profile& profile) {
  absl::Status status = CheckNoUnknownFields(profile, "");
  if (!status.ok()) return status;
  CompiledProfile out;
  status = CompileScalars(taxonomy, profile, &out);
  if (!status.ok()) return status;
  auto skills = ResolveCodes(taxonomy.skills(), profile.skills(), "skills",
                             kMaxProfileSkills);
  if (!skills.ok()) return skills.status();
  out.skills = *std::move(skills);
  status = CompileTraining(taxonomy, profile, &out);
  if (!status.ok()) return status;
  auto qualifications =
      ResolveCodes(taxonomy.qualifications(), profile.qualifications(),
                   "qualifications", kMaxProfileQualifications);
  if (!qualifications.ok()) return qualifications.status();
  out.qualifications = *std::move(qualifications);
  status = CompileChecks(profile.checks(), &out);
  if (!status.ok()) return status;
  status = CompileAttributes(taxonomy, profile.attributes(), &out);
  if (!status.ok()) return status;
  auto slots = SlotsFromIntervals(profile.availability(), "availability");
  if (!slots.ok()) return slots.status();
  out.availability = *slots;
  out.register_level = DeriveRegisterLevel(taxonomy, out);
  return out;
}

int DeriveRegisterLevel(const Taxonomy& taxonomy,
                        const CompiledProfile& profile) {
  if (!profile.identity_verified || !profile.code_of_conduct_signed) return 0;
  const int induction = taxonomy.training().Find("pa_induction");
  const bool has_induction =
      induction >= 0 &&
      profile.TrainingExpiry(static_cast<CodeId>(induction)) != kNoDate;
  if (profile.dbs_level < v1::DBS_STANDARD || !has_induction) return 1;
  if (profile.qualifications.empty() || profile.references_verified < 2) {
    return 2;
  }
  const bool specialist = std::any_of(
      profile.qualifications.begin(), profile.qualifications.end(),
      [&](CodeId q) { return taxonomy.is_specialist(q); });
  return specialist ? 4 : 3;
}

}  // namespace pamatch
