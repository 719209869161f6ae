// Building a pamatch.v1.SearchRequest from `pa-match search` flags.
//
// A request is either assembled from flags alone or loaded from a JSON
// SearchRequest (--request FILE, proto or JSON field names) with any flags
// given in addition overriding the loaded fields: a scalar flag replaces the
// field, a list flag replaces the whole list, --weights sets only the named
// weights. Pure functions; the caller reads the file.
#ifndef PA_MATCH_CLI_SEARCH_REQUEST_H_
#define PA_MATCH_CLI_SEARCH_REQUEST_H_

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch::cli {

// The flags `search` accepts (without the global ones).
const std::vector<FlagSpec>& SearchFlagSpecs();

// Parses a whole SearchRequest from JSON. Unknown fields are an error.
absl::StatusOr<pamatch::v1::SearchRequest> ParseSearchRequestJson(
    absl::string_view json);

// Parses a whole Profile from JSON (one line of an import, or upsert
// --file). Unknown fields are an error.
absl::StatusOr<pamatch::v1::Profile> ParseProfileJson(absl::string_view json);

// Applies the search flags present in `flags` to `request`.
// INVALID_ARGUMENT naming the flag on a malformed value.
absl::Status ApplySearchFlags(const ParsedFlags& flags,
                              pamatch::v1::SearchRequest* request);

// request_json (the contents of --request, if given) then the flags.
absl::StatusOr<pamatch::v1::SearchRequest> BuildSearchRequest(
    const ParsedFlags& flags, std::optional<absl::string_view> request_json);

// Parses "skills=0.5,distance=0" into `weights` (only named ones are set).
absl::Status ApplyWeights(absl::string_view text,
                          pamatch::v1::Weights* weights);

}  // namespace pamatch::cli

#endif  // PA_MATCH_CLI_SEARCH_REQUEST_H_
