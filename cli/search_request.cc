// Implementation of search request building (see search_request.h).
#include "cli/search_request.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/format.h"

namespace pamatch::cli {
namespace {

using pamatch::v1::SearchRequest;

template <typename Message>
absl::StatusOr<Message> ParseJson(absl::string_view json,
                                  absl::string_view what) {
  Message message;
  absl::Status status = FromJson(json, what, &message);
  if (!status.ok()) return status;
  return message;
}

// Replaces a repeated string field with a comma-list flag, if given.
void ApplyList(const ParsedFlags& flags, absl::string_view name,
               google::protobuf::RepeatedPtrField<std::string>* field) {
  if (auto list = flags.GetList(name)) {
    field->Clear();
    for (auto& item : *list) field->Add(std::move(item));
  }
}

// Reads an integer flag that must fit an int32.
absl::StatusOr<std::optional<int32_t>> GetInt32(const ParsedFlags& flags,
                                                absl::string_view name) {
  auto value = flags.GetInt(name);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<int32_t>();
  if (**value < std::numeric_limits<int32_t>::min() ||
      **value > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, ": out of range: ", **value));
  }
  return std::optional<int32_t>(static_cast<int32_t>(**value));
}

}  // namespace

const std::vector<FlagSpec>& SearchFlagSpecs() {
  static const auto* specs = new std::vector<FlagSpec>{
      {"request", true, "FILE",
       "whole SearchRequest as JSON ('-' = stdin); flags override"},
      {"lat", true, "DEG", "latitude of where support is needed"},
      {"lon", true, "DEG", "longitude of where support is needed"},
      {"la", true, "CODE", "local_authority (ONS code); selects its policy"},
      {"max_km", true, "KM", "max_distance_km"},
      {"must", true, "A,B", "must_have_skills"},
      {"nice", true, "A,B", "nice_to_have_skills"},
      {"training", true, "A,B", "required_training"},
      {"preferred_training", true, "A,B", "preferred_training"},
      {"dbs", true, "LEVEL",
       "min_dbs_level: none|basic|standard|enhanced|enhanced_barred_adults"},
      {"dbs_max_age_months", true, "N",
       "months a DBS certificate stays fresh (default 36)"},
      {"level", true, "N", "min_register_level 0..4"},
      {"driver", false, "", "requires_driver"},
      {"car", false, "", "requires_car"},
      {"pets", false, "", "has_pets (PA must be ok with pets)"},
      {"non_smoker", false, "", "requires_non_smoker"},
      {"languages", true, "en,pl", "required_languages (ISO 639-1)"},
      {"preferred_languages", true, "en,pl", "preferred_languages"},
      {"genders", true, "LIST",
       "preferred_genders: female,male,non_binary,undisclosed"},
      {"age_bands", true, "LIST",
       "preferred_age_bands: 16_24,25_34,35_49,50_64,65_plus"},
      {"required_gender", true, "G",
       "required_gender (needs --must personal_care)"},
      {"interests", true, "A,B", "interests"},
      {"schedule", true, "SLOTS",
       "e.g. \"MON 09:00-12:00,TUE 17:00-22:00\" (MON..SUN)"},
      {"min_coverage", true, "F", "min_schedule_coverage 0..1"},
      {"short_notice", false, "", "short_notice cover required"},
      {"max_rate_pence", true, "P", "max_hourly_rate_pence"},
      {"exclude", true, "ID,ID", "exclude_ids"},
      {"as_of", true, "YYYY-MM-DD",
       "date the checks are judged on (default today)"},
      {"page_size", true, "N", "1..100 (default 20)"},
      {"page_token", true, "T", "next page token of a previous search"},
      {"weights", true, "K=V,..",
       "weight overrides, e.g. skills=0.5,distance=0"},
      {"explain", false, "", "show the per-component breakdown"},
  };
  return *specs;
}

absl::StatusOr<SearchRequest> ParseSearchRequestJson(absl::string_view json) {
  return ParseJson<SearchRequest>(json, "SearchRequest");
}

absl::StatusOr<pamatch::v1::Profile> ParseProfileJson(absl::string_view json) {
  return ParseJson<pamatch::v1::Profile>(json, "Profile");
}

absl::Status ApplyWeights(absl::string_view text,
                          pamatch::v1::Weights* weights) {
  const auto* descriptor = weights->GetDescriptor();
  const auto* reflection = weights->GetReflection();
  for (const std::string& item : SplitList(text)) {
    std::vector<absl::string_view> kv = absl::StrSplit(item, '=');
    double value = 0;
    if (kv.size() != 2 ||
        !absl::SimpleAtod(absl::StripAsciiWhitespace(kv[1]), &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--weights: expected NAME=NUMBER, got \"", item, "\""));
    }
    const auto* field = descriptor->FindFieldByName(
        std::string(absl::StripAsciiWhitespace(kv[0])));
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--weights: unknown component \"", kv[0],
          "\" (skills, schedule, distance, interests, preferences, training, "
          "trust, recency)"));
    }
    reflection->SetDouble(weights, field, value);
  }
  return absl::OkStatus();
}

absl::Status ApplySearchFlags(const ParsedFlags& flags,
                              SearchRequest* request) {
  // Location: --lat and --lon together, or one of them over a loaded one.
  auto lat = flags.GetDouble("lat");
  if (!lat.ok()) return lat.status();
  auto lon = flags.GetDouble("lon");
  if (!lon.ok()) return lon.status();
  if (lat->has_value() != lon->has_value() && !request->has_location()) {
    return absl::InvalidArgumentError("--lat and --lon go together");
  }
  if (lat->has_value()) request->mutable_location()->set_lat(**lat);
  if (lon->has_value()) request->mutable_location()->set_lon(**lon);

  if (flags.Has("la")) request->set_local_authority(flags.Get("la"));
  auto max_km = flags.GetDouble("max_km");
  if (!max_km.ok()) return max_km.status();
  if (max_km->has_value()) request->set_max_distance_km(**max_km);

  ApplyList(flags, "must", request->mutable_must_have_skills());
  ApplyList(flags, "nice", request->mutable_nice_to_have_skills());
  ApplyList(flags, "training", request->mutable_required_training());
  ApplyList(flags, "preferred_training", request->mutable_preferred_training());
  ApplyList(flags, "languages", request->mutable_required_languages());
  ApplyList(flags, "preferred_languages",
            request->mutable_preferred_languages());
  ApplyList(flags, "interests", request->mutable_interests());
  ApplyList(flags, "exclude", request->mutable_exclude_ids());

  if (flags.Has("dbs")) {
    auto level = ParseDbsLevel(flags.Get("dbs"));
    if (!level.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--dbs: ", level.status().message()));
    }
    request->set_min_dbs_level(*level);
  }
  auto months = GetInt32(flags, "dbs_max_age_months");
  if (!months.ok()) return months.status();
  if (months->has_value()) request->set_dbs_max_age_months(**months);
  auto level = GetInt32(flags, "level");
  if (!level.ok()) return level.status();
  if (level->has_value()) request->set_min_register_level(**level);

  if (flags.Has("driver"))
    request->set_requires_driver(flags.GetBool("driver"));
  if (flags.Has("car")) request->set_requires_car(flags.GetBool("car"));
  if (flags.Has("pets")) request->set_has_pets(flags.GetBool("pets"));
  if (flags.Has("non_smoker")) {
    request->set_requires_non_smoker(flags.GetBool("non_smoker"));
  }
  if (flags.Has("short_notice")) {
    request->set_short_notice(flags.GetBool("short_notice"));
  }
  if (flags.Has("explain")) request->set_explain(flags.GetBool("explain"));

  if (auto genders = flags.GetList("genders")) {
    request->clear_preferred_genders();
    for (const auto& name : *genders) {
      auto gender = ParseGender(name);
      if (!gender.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--genders: ", gender.status().message()));
      }
      request->add_preferred_genders(*gender);
    }
  }
  if (auto bands = flags.GetList("age_bands")) {
    request->clear_preferred_age_bands();
    for (const auto& name : *bands) {
      auto band = ParseAgeBand(name);
      if (!band.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--age_bands: ", band.status().message()));
      }
      request->add_preferred_age_bands(*band);
    }
  }
  if (flags.Has("required_gender")) {
    auto gender = ParseGender(flags.Get("required_gender"));
    if (!gender.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--required_gender: ", gender.status().message()));
    }
    request->set_required_gender(*gender);
  }

  if (flags.Has("schedule")) {
    auto schedule = ParseSchedule(flags.Get("schedule"));
    if (!schedule.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--schedule: ", schedule.status().message()));
    }
    request->clear_schedule();
    for (auto& interval : *schedule) *request->add_schedule() = interval;
  }
  auto coverage = flags.GetDouble("min_coverage");
  if (!coverage.ok()) return coverage.status();
  if (coverage->has_value()) request->set_min_schedule_coverage(**coverage);
  auto rate = flags.GetInt("max_rate_pence");
  if (!rate.ok()) return rate.status();
  if (rate->has_value()) request->set_max_hourly_rate_pence(**rate);

  if (flags.Has("as_of")) request->set_as_of(flags.Get("as_of"));
  auto page_size = GetInt32(flags, "page_size");
  if (!page_size.ok()) return page_size.status();
  if (page_size->has_value()) request->set_page_size(**page_size);
  if (flags.Has("page_token")) request->set_page_token(flags.Get("page_token"));
  if (flags.Has("weights")) {
    absl::Status status =
        ApplyWeights(flags.Get("weights"), request->mutable_weights());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<SearchRequest> BuildSearchRequest(
    const ParsedFlags& flags, std::optional<absl::string_view> request_json) {
  SearchRequest request;
  if (request_json.has_value()) {
    auto loaded = ParseSearchRequestJson(*request_json);
    if (!loaded.ok()) return loaded.status();
    request = std::move(*loaded);
  }
  absl::Status status = ApplySearchFlags(flags, &request);
  if (!status.ok()) return status;
  return request;
}

}  // namespace pamatch::cli
