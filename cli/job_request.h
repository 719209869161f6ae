// Building jobs and MatchJobs requests from `pa-match job post` and
// `pa-match match-jobs` flags.
//
// A job is assembled from flags alone or loaded from a JSON Job (--file,
// proto or JSON field names), with flags given in addition overriding the
// loaded fields: --id, --version, --status, --closes_on set the job's own
// fields, and the search flags (the same as `pa-match search`, less those
// that belong to one search only: --as_of, --page_size, --page_token,
// --explain, --exclude, --request) set its request, with the override rules
// of search. Pure functions; the caller reads the files.
#ifndef PA_MATCH_CLI_JOB_REQUEST_H_
#define PA_MATCH_CLI_JOB_REQUEST_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/flags.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch::cli {

// The flags `job post` accepts (without the global ones).
const std::vector<FlagSpec>& JobFlagSpecs();

// Parses a whole Job from JSON (one line of `job import`, or `job post
// --file`). Unknown fields are an error.
absl::StatusOr<pamatch::v1::Job> ParseJobJson(absl::string_view json);

// job_json (the contents of --file, if given), then the flags.
// INVALID_ARGUMENT naming the flag on a malformed value.
absl::StatusOr<pamatch::v1::Job> BuildJob(
    const ParsedFlags& flags, std::optional<absl::string_view> job_json);

// open|filled|closed (or OPEN, ...), case-insensitive.
absl::StatusOr<pamatch::v1::JobStatus> ParseJobStatus(absl::string_view text);

// The flags `match-jobs` accepts (without the global ones).
const std::vector<FlagSpec>& MatchJobsFlagSpecs();

// A MatchJobsRequest from --profile_id or, when profile_json (the contents
// of --profile_file) is given, that whole profile; --as_of, --page_size,
// --page_token, --explain. Exactly one of the two PA sources must be given.
absl::StatusOr<pamatch::v1::MatchJobsRequest> BuildMatchJobsRequest(
    const ParsedFlags& flags, std::optional<absl::string_view> profile_json);

}  // namespace pamatch::cli

#endif  // PA_MATCH_CLI_JOB_REQUEST_H_
