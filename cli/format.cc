// Implementation of the CLI's parsing and formatting helpers (see format.h).
#include "cli/format.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace pamatch::cli {
namespace {

using pamatch::v1::DayOfWeek;
using pamatch::v1::TimeInterval;

constexpr std::array<absl::string_view, 7> kDayNames = {
    "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"};

// "HH:MM" -> minutes since midnight; minutes must be 00 or 30, up to 24:00.
std::optional<int> ParseClock(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  if (parts.size() != 2 || parts[0].empty() || parts[0].size() > 2 ||
      parts[1].size() != 2) {
    return std::nullopt;
  }
  for (absl::string_view part : parts) {
    for (char c : part) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        return std::nullopt;
      }
    }
  }
  int hours = 0;
  int minutes = 0;
  if (!absl::SimpleAtoi(parts[0], &hours) ||
      !absl::SimpleAtoi(parts[1], &minutes)) {
    return std::nullopt;
  }
  if (minutes != 0 && minutes != 30) return std::nullopt;
  if (hours > 24 || (hours == 24 && minutes != 0)) return std::nullopt;
  return hours * 60 + minutes;
}

std::string Clock(int minutes) {
  return absl::StrFormat("%02d:%02d", minutes / 60, minutes % 60);
}

TimeInterval MakeInterval(int day_index, int start, int end) {
  TimeInterval interval;
  interval.set_day(static_cast<DayOfWeek>(pamatch::v1::MONDAY + day_index));
  interval.set_start(Clock(start));
  interval.set_end(Clock(end));
  return interval;
}

// Lower-cases `text` and strips an optional enum prefix ("dbs_").
std::string Normalize(absl::string_view text, absl::string_view prefix) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  absl::string_view view = lower;
  absl::ConsumePrefix(&view, prefix);
  return std::string(view);
}

std::string JoinOrDash(
    const google::protobuf::RepeatedPtrField<std::string>& items) {
  return items.empty() ? "-" : absl::StrJoin(items, ", ");
}

// The breakdown lines of one result's explanation (search and match-jobs).
void AppendExplanation(const pamatch::v1::Explanation& ex, std::string* out) {
  bool has_interests = !ex.shared_interests().empty();
  for (const auto& component : ex.components()) {
    absl::StrAppend(out,
                    absl::StrFormat("      %-12s %.6f×%s\n", component.name(),
                                    component.value(),
                                    ShortDouble(component.weight())));
    if (component.name() == "interests") has_interests = true;
  }
  if (!ex.matched_skills().empty() || !ex.missing_skills().empty()) {
    absl::StrAppend(out, "      skills matched: ",
                    JoinOrDash(ex.matched_skills()),
                    "; missing: ", JoinOrDash(ex.missing_skills()), "\n");
  }
  if (has_interests) {
    absl::StrAppend(out, "      shared interests: ",
                    JoinOrDash(ex.shared_interests()), "\n");
  }
  if (ex.needed_slots() > 0) {
    absl::StrAppend(out, "      slots covered: ", ex.covered_slots(), "/",
                    ex.needed_slots(), "\n");
  }
}

// `table` (a header line and one line per result of `response`) with each
// result's breakdown below its row.
template <typename Response>
void AppendTableWithExplanations(const std::string& table,
                                 const Response& response, std::string* out) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(table, '\n', absl::SkipEmpty());
  absl::StrAppend(out, lines[0], "\n");
  for (int i = 0; i < response.results_size(); ++i) {
    absl::StrAppend(out, lines[i + 1], "\n");
    const auto& result = response.results(i);
    if (result.has_explanation()) AppendExplanation(result.explanation(), out);
  }
}

}  // namespace

absl::StatusOr<std::vector<TimeInterval>> ParseSchedule(
    absl::string_view text) {
  std::vector<TimeInterval> out;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("schedule item \"", item, "\": ", why,
                       " (expected e.g. \"MON 09:00-12:00\")"));
    };
    std::vector<absl::string_view> words =
        absl::StrSplit(item, ' ', absl::SkipEmpty());
    if (words.size() != 2) return bad("expected DAY HH:MM-HH:MM");
    std::string day = absl::AsciiStrToUpper(words[0]);
    auto day_it = std::find(kDayNames.begin(), kDayNames.end(), day);
    if (day_it == kDayNames.end()) return bad("day must be MON..SUN");
    const int day_index = static_cast<int>(day_it - kDayNames.begin());
    std::vector<absl::string_view> range = absl::StrSplit(words[1], '-');
    if (range.size() != 2) return bad("expected a range HH:MM-HH:MM");
    std::optional<int> start = ParseClock(range[0]);
    std::optional<int> end = ParseClock(range[1]);
    if (!start.has_value() || !end.has_value()) {
      return bad("times must be HH:MM with minutes 00 or 30, up to 24:00");
    }
    if (*start >= 24 * 60) return bad("start must be before 24:00");
    if (*end == *start) return bad("start and end are equal");
    if (*end > *start) {
      out.push_back(MakeInterval(day_index, *start, *end));
      continue;
    }
    // Overnight: the rest of this day, then the next morning.
    out.push_back(MakeInterval(day_index, *start, 24 * 60));
    if (*end > 0) out.push_back(MakeInterval((day_index + 1) % 7, 0, *end));
  }
  return out;
}

absl::StatusOr<pamatch::v1::DbsLevel> ParseDbsLevel(absl::string_view text) {
  const std::string name = Normalize(text, "dbs_");
  if (name == "none") return pamatch::v1::DBS_NONE;
  if (name == "basic") return pamatch::v1::DBS_BASIC;
  if (name == "standard") return pamatch::v1::DBS_STANDARD;
  if (name == "enhanced") return pamatch::v1::DBS_ENHANCED;
  if (name == "enhanced_barred_adults") {
    return pamatch::v1::DBS_ENHANCED_BARRED_ADULTS;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown DBS level \"", text,
                   "\" (none|basic|standard|enhanced|enhanced_barred_adults)"));
}

absl::StatusOr<pamatch::v1::Gender> ParseGender(absl::string_view text) {
  const std::string name = Normalize(text, "gender_");
  if (name == "female") return pamatch::v1::GENDER_FEMALE;
  if (name == "male") return pamatch::v1::GENDER_MALE;
  if (name == "non_binary") return pamatch::v1::GENDER_NON_BINARY;
  if (name == "undisclosed") return pamatch::v1::GENDER_UNDISCLOSED;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown gender \"", text, "\" (female|male|non_binary|undisclosed)"));
}

absl::StatusOr<pamatch::v1::AgeBand> ParseAgeBand(absl::string_view text) {
  const std::string name = Normalize(text, "age_band_");
  if (name == "16_24") return pamatch::v1::AGE_BAND_16_24;
  if (name == "25_34") return pamatch::v1::AGE_BAND_25_34;
  if (name == "35_49") return pamatch::v1::AGE_BAND_35_49;
  if (name == "50_64") return pamatch::v1::AGE_BAND_50_64;
  if (name == "65_plus") return pamatch::v1::AGE_BAND_65_PLUS;
  if (name == "undisclosed") return pamatch::v1::AGE_BAND_UNDISCLOSED;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown age band \"", text,
                   "\" (16_24|25_34|35_49|50_64|65_plus|undisclosed)"));
}

std::string DbsLevelName(pamatch::v1::DbsLevel level) {
  switch (level) {
    case pamatch::v1::DBS_BASIC:
      return "basic";
    case pamatch::v1::DBS_STANDARD:
      return "standard";
    case pamatch::v1::DBS_ENHANCED:
      return "enhanced";
    case pamatch::v1::DBS_ENHANCED_BARRED_ADULTS:
      return "enhanced_barred_adults";
    default:
      return "none";
  }
}

std::string StatusCodeName(int code) {
  // gRPC's status codes and absl::StatusCode share numbers and names.
  if (code < 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::StrCat("CODE_", code);
  }
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows,
                        const std::vector<bool>& right_align) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < widths.size(); ++c) {
      const std::string cell = c < row.size() ? row[c] : "";
      const std::string pad(widths[c] - cell.size(), ' ');
      const bool right = c < right_align.size() && right_align[c];
      if (c > 0) line += "  ";
      if (right) {
        absl::StrAppend(&line, pad, cell);
      } else if (c + 1 < widths.size()) {
        absl::StrAppend(&line, cell, pad);
      } else {
        line += cell;
      }
    }
    absl::StrAppend(&out, line, "\n");
  };
  emit(header);
  for (const auto& row : rows) emit(row);
  return out;
}

std::string ShortDouble(double value) { return absl::StrCat(value); }

std::string FormatSearchResponse(const pamatch::v1::SearchResponse& response,
                                 bool explain) {
  std::string out = absl::StrCat(
      response.total_matches(), " matches (policy: ",
      response.applied_policy().empty() ? "none" : response.applied_policy(),
      ") as of ", response.as_of(), "\n");
  if (response.results().empty()) {
    if (!response.next_page_token().empty()) {
      absl::StrAppend(&out, "next page token: ", response.next_page_token(),
                      "\n");
    }
    return out;
  }
  const std::vector<std::string> header = {"rank", "id", "score", "distance_km",
                                           "level"};
  const std::vector<bool> right = {true, false, true, true, true};
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < response.results_size(); ++i) {
    const auto& result = response.results(i);
    rows.push_back({absl::StrCat(i + 1), result.id(),
                    absl::StrFormat("%.6f", result.score()),
                    absl::StrFormat("%.2f", result.distance_km()),
                    absl::StrCat(result.register_level())});
  }
  if (!explain) {
    absl::StrAppend(&out, RenderTable(header, rows, right));
  } else {
    AppendTableWithExplanations(RenderTable(header, rows, right), response,
                                &out);
  }
  if (!response.next_page_token().empty()) {
    absl::StrAppend(&out, "next page token: ", response.next_page_token(),
                    "\n");
  }
  return out;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return google::protobuf::util::TimeUtil::ToString(ts);
}

std::string FormatPolicy(const pamatch::v1::Policy& policy) {
  return absl::StrCat(
      "local_authority:    ", policy.local_authority(), "\n",
      "min_dbs_level:      ", DbsLevelName(policy.min_dbs_level()), "\n",
      "min_register_level: ", policy.min_register_level(), "\n",
      "required_training:  ", JoinOrDash(policy.required_training()), "\n",
      "updated_at:         ", FormatTimestamp(policy.updated_at()), "\n");
}

std::string FormatPolicyList(const pamatch::v1::ListPoliciesResponse& list) {
  if (list.policies().empty()) return "no policies\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& policy : list.policies()) {
    rows.push_back({policy.local_authority(),
                    DbsLevelName(policy.min_dbs_level()),
                    absl::StrCat(policy.min_register_level()),
                    JoinOrDash(policy.required_training()),
                    FormatTimestamp(policy.updated_at())});
  }
  return RenderTable({"local_authority", "min_dbs", "min_level",
                      "required_training", "updated_at"},
                     rows, {false, false, true, false, false});
}

std::string FormatStats(const pamatch::v1::GetStatsResponse& stats) {
  std::string out;
  auto line = [&out](absl::string_view key, const auto& value) {
    absl::StrAppend(&out, absl::StrFormat("%-18s %s\n", absl::StrCat(key, ":"),
                                          absl::StrCat(value)));
  };
  line("profiles", stats.profiles());
  line("active_profiles", stats.active_profiles());
  line("paused_profiles", stats.paused_profiles());
  line("policies", stats.policies());
  line("uptime_seconds", stats.uptime_seconds());
  line("data_dir", stats.data_dir());
  line("version", stats.version());
  line("taxonomy_skills", stats.taxonomy_skills());
  line("taxonomy_training", stats.taxonomy_training());
  line("unsorted_profiles", stats.unsorted_profiles());
  line("index_relayouts", stats.index_relayouts());
  if (stats.index_relayouts() > 0) {
    line("last_relayout_s",
         absl::StrFormat("%.3f (searches paused %.3f ms, writes %.1f ms)",
                         stats.last_relayout_seconds(),
                         stats.last_relayout_pause_seconds() * 1e3,
                         stats.last_relayout_write_pause_seconds() * 1e3));
  }
  if (!stats.profiles_by_local_authority().empty()) {
    std::vector<std::pair<std::string, int64_t>> by_la(
        stats.profiles_by_local_authority().begin(),
        stats.profiles_by_local_authority().end());
    std::sort(by_la.begin(), by_la.end());
    std::vector<std::vector<std::string>> rows;
    for (const auto& [code, count] : by_la) {
      rows.push_back({code, absl::StrCat(count)});
    }
    absl::StrAppend(
        &out, "\n",
        RenderTable({"local_authority", "profiles"}, rows, {false, true}));
  }
  return out;
}

std::string FormatUpsert(const pamatch::v1::UpsertProfileResponse& response) {
  return absl::StrCat("id: ", response.id(), "\nversion: ", response.version(),
                      "\ncreated: ", response.created() ? "true" : "false",
                      "\n");
}

std::string FormatJobUpsert(const pamatch::v1::UpsertJobResponse& response) {
  return absl::StrCat("id: ", response.id(), "\nversion: ", response.version(),
                      "\ncreated: ", response.created() ? "true" : "false",
                      "\nposition: ", response.position(), "\n");
}

std::string FormatMatchJobsResponse(
    const pamatch::v1::MatchJobsResponse& response, bool explain,
    int64_t first_rank, bool with_header, bool show_token) {
  std::string out;
  if (with_header) {
    absl::StrAppend(&out, response.total_matches(),
                    response.total_matches() == 1 ? " job matches" : " jobs match",
                    " (register level ", response.register_level(),
                    ") as of ", response.as_of(), "\n");
  }
  if (!response.results().empty()) {
    const std::vector<std::string> header = {
        "rank", "job_id", "score", "distance_km", "local_authority", "policy"};
    const std::vector<bool> right = {true, false, true, true, false, false};
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < response.results_size(); ++i) {
      const auto& result = response.results(i);
      rows.push_back({absl::StrCat(first_rank + i), result.job_id(),
                      absl::StrFormat("%.6f", result.score()),
                      absl::StrFormat("%.2f", result.distance_km()),
                      result.local_authority().empty()
                          ? std::string("-")
                          : result.local_authority(),
                      result.applied_policy().empty()
                          ? std::string("-")
                          : result.applied_policy()});
    }
    const std::string table = RenderTable(header, rows, right);
    if (explain) {
      AppendTableWithExplanations(table, response, &out);
    } else {
      absl::StrAppend(&out, table);
    }
  }
  if (show_token && !response.next_page_token().empty()) {
    absl::StrAppend(&out, "next page token: ", response.next_page_token(),
                    "\n");
  }
  return out;
}

absl::Status FromJson(absl::string_view json, absl::string_view what,
                      google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(json),
                                                            message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid ", what, " JSON: ", status.message().as_string()));
  }
  return absl::OkStatus();
}

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  options.add_whitespace = pretty;
  std::string out;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return absl::StrCat("{\"error\": \"", status.ToString(), "\"}");
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace pamatch::cli
