// Human-readable output and text parsing helpers of the pa-match CLI.
//
// Everything here is pure (no I/O, no gRPC calls) so it can be unit tested:
// schedule parsing ("MON 09:00-12:00,TUE 17:00-22:00"), enum names, the
// aligned tables printed for search/policy/stats, and JSON printing with the
// options the CLI promises (proto field names, primitive fields always
// printed).
#ifndef PA_MATCH_CLI_FORMAT_H_
#define PA_MATCH_CLI_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch::cli {

// Parses a schedule: comma-separated "DAY HH:MM-HH:MM" items, DAY one of
// MON TUE WED THU FRI SAT SUN (case-insensitive), minutes 00 or 30, end up
// to 24:00. An item whose end is not after its start is an overnight shift
// and becomes two intervals (e.g. "SUN 22:00-07:00" = SUNDAY 22:00-24:00 and
// MONDAY 00:00-07:00); "DAY 00:00-24:00" is the whole day. Errors are
// INVALID_ARGUMENT quoting the bad item.
absl::StatusOr<std::vector<pamatch::v1::TimeInterval>> ParseSchedule(
    absl::string_view text);

// Enum parsing for flags. The short forms the CLI accepts
// (none|basic|standard|enhanced|enhanced_barred_adults) and the full enum
// names (DBS_ENHANCED), case-insensitive.
absl::StatusOr<pamatch::v1::DbsLevel> ParseDbsLevel(absl::string_view text);
// female|male|non_binary|undisclosed or GENDER_FEMALE...
absl::StatusOr<pamatch::v1::Gender> ParseGender(absl::string_view text);
// 16_24|25_34|35_49|50_64|65_plus|undisclosed or AGE_BAND_16_24...
absl::StatusOr<pamatch::v1::AgeBand> ParseAgeBand(absl::string_view text);

// Short lower-case name of a DBS level: "enhanced"; "none" for unspecified.
std::string DbsLevelName(pamatch::v1::DbsLevel level);

// Canonical upper-case gRPC status code name, e.g. "INVALID_ARGUMENT".
std::string StatusCodeName(int code);

// A plain-text table: a header row and data rows, columns separated by two
// spaces, each column as wide as its widest cell. Columns flagged in
// `right_align` are right-aligned (numbers); the last column is not padded.
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows,
                        const std::vector<bool>& right_align);

// Double in its shortest round-trip-ish form ("0.3", "12.5", "1").
std::string ShortDouble(double value);

// The human output of `search`:
//   N matches (policy: X) as of D
//   table rank/id/score/distance_km/level
//   [with explain: indented breakdown lines under each result]
//   [next page token line]
std::string FormatSearchResponse(const pamatch::v1::SearchResponse& response,
                                 bool explain);

// `policy get` / `policy set`: key: value lines.
std::string FormatPolicy(const pamatch::v1::Policy& policy);
// `policy list`: a table, one policy per row.
std::string FormatPolicyList(const pamatch::v1::ListPoliciesResponse& list);
// `stats`: key: value lines, then profiles per local authority.
std::string FormatStats(const pamatch::v1::GetStatsResponse& stats);
// `upsert`: "id: X", "version: N", "created: true|false".
std::string FormatUpsert(const pamatch::v1::UpsertProfileResponse& response);
// `job post`: the same lines, then "position: P".
std::string FormatJobUpsert(const pamatch::v1::UpsertJobResponse& response);

// The human output of `match-jobs`:
//   N jobs match (register level L) as of D       [with_header only]
//   table rank/job_id/score/distance_km/local_authority/policy, ranks from
//   first_rank; [with explain: the breakdown under each result, as search]
//   [next page token line, when show_token]
std::string FormatMatchJobsResponse(
    const pamatch::v1::MatchJobsResponse& response, bool explain,
    int64_t first_rank = 1, bool with_header = true, bool show_token = true);

// Timestamp as RFC 3339 ("2025-03-01T10:00:00Z"); "-" when unset.
std::string FormatTimestamp(const google::protobuf::Timestamp& ts);

// JSON with proto field names and all primitive fields; `pretty` adds
// indentation. Ends without a newline.
std::string ToJson(const google::protobuf::Message& message,
                   bool pretty = false);

// Parses JSON (proto or JSON field names) into `message`; unknown fields are
// an error. INVALID_ARGUMENT "invalid <what> JSON: ..." on failure.
absl::Status FromJson(absl::string_view json, absl::string_view what,
                      google::protobuf::Message* message);

}  // namespace pamatch::cli

#endif  // PA_MATCH_CLI_FORMAT_H_
