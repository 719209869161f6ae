// Implementation of job and MatchJobs request building (see job_request.h).
#include "cli/job_request.h"

#include <cstdint>
#include <limits>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cli/format.h"
#include "cli/search_request.h"

namespace pamatch::cli {
namespace {

// Search flags that describe one search, not a standing requirement.
bool OneSearchOnly(absl::string_view name) {
  static const auto* names = new std::set<std::string, std::less<>>{
      "request", "exclude", "as_of", "page_size", "page_token", "explain"};
  return names->count(name) > 0;
}

}  // namespace

const std::vector<FlagSpec>& JobFlagSpecs() {
  static const auto* specs = [] {
    auto* out = new std::vector<FlagSpec>{
        {"file", true, "FILE",
         "whole Job as JSON ('-' = stdin); flags override"},
        {"id", true, "ID", "job id (1..64 of [A-Za-z0-9_.:-])"},
        {"version", true, "N", "version; 0 = stored + 1 (default 0)"},
        {"status", true, "S", "open|filled|closed (default open)"},
        {"closes_on", true, "YYYY-MM-DD",
         "last day the job is open (empty: no end)"},
    };
    for (const FlagSpec& spec : SearchFlagSpecs()) {
      if (!OneSearchOnly(spec.name)) out->push_back(spec);
    }
    return out;
  }();
  return *specs;
}

absl::StatusOr<pamatch::v1::Job> ParseJobJson(absl::string_view json) {
  pamatch::v1::Job job;
  absl::Status status = FromJson(json, "Job", &job);
  if (!status.ok()) return status;
  return job;
}

absl::StatusOr<pamatch::v1::JobStatus> ParseJobStatus(absl::string_view text) {
  const std::string name =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (name == "open") return pamatch::v1::OPEN;
  if (name == "filled") return pamatch::v1::FILLED;
  if (name == "closed") return pamatch::v1::CLOSED;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown job status \"", text, "\" (open|filled|closed)"));
}

absl::StatusOr<pamatch::v1::Job> BuildJob(
    const ParsedFlags& flags, std::optional<absl::string_view> job_json) {
  pamatch::v1::Job job;
  if (job_json.has_value()) {
    auto loaded = ParseJobJson(*job_json);
    if (!loaded.ok()) return loaded.status();
    job = *std::move(loaded);
  }
  if (flags.Has("id")) job.set_id(flags.Get("id"));
  auto version = flags.GetInt("version");
  if (!version.ok()) return version.status();
  if (version->has_value()) job.set_version(**version);
  if (flags.Has("status")) {
    auto status = ParseJobStatus(flags.Get("status"));
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--status: ", status.status().message()));
    }
    job.set_status(*status);
  }
  if (flags.Has("closes_on")) job.set_closes_on(flags.Get("closes_on"));
  absl::Status status = ApplySearchFlags(flags, job.mutable_request());
  if (!status.ok()) return status;
  if (job.id().empty()) {
    return absl::InvalidArgumentError(
        "a job needs an id: --id, or \"id\" in --file");
  }
  return job;
}

const std::vector<FlagSpec>& MatchJobsFlagSpecs() {
  static const auto* specs = new std::vector<FlagSpec>{
      {"profile_id", true, "ID", "a stored profile"},
      {"profile_file", true, "FILE",
       "a whole Profile as JSON ('-' = stdin), matched without storing it"},
      {"as_of", true, "YYYY-MM-DD",
       "date the checks are judged on (default today)"},
      {"page_size", true, "N", "1..100 (default 20)"},
      {"page_token", true, "T", "next page token of a previous match-jobs"},
      {"explain", false, "", "show the per-component breakdown"},
      {"all_pages", false, "",
       "follow next page tokens to the last page (--json: a line per page)"},
  };
  return *specs;
}

absl::StatusOr<pamatch::v1::MatchJobsRequest> BuildMatchJobsRequest(
    const ParsedFlags& flags, std::optional<absl::string_view> profile_json) {
  pamatch::v1::MatchJobsRequest request;
  if (flags.Has("profile_id") == profile_json.has_value()) {
    return absl::InvalidArgumentError(
        "match-jobs needs exactly one of --profile_id and --profile_file");
  }
  if (profile_json.has_value()) {
    auto profile = ParseProfileJson(*profile_json);
    if (!profile.ok()) return profile.status();
    *request.mutable_profile() = *std::move(profile);
  } else {
    request.set_profile_id(flags.Get("profile_id"));
  }
  if (flags.Has("as_of")) request.set_as_of(flags.Get("as_of"));
  auto page_size = flags.GetInt("page_size");
  if (!page_size.ok()) return page_size.status();
  if (page_size->has_value()) {
    if (**page_size < std::numeric_limits<int32_t>::min() ||
        **page_size > std::numeric_limits<int32_t>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--page_size: out of range: ", **page_size));
    }
    request.set_page_size(static_cast<int32_t>(**page_size));
  }
  if (flags.Has("page_token")) request.set_page_token(flags.Get("page_token"));
  if (flags.Has("explain")) request.set_explain(flags.GetBool("explain"));
  return request;
}

}  // namespace pamatch::cli
