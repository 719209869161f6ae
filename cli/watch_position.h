// `pa-match watch`: the Watch request from its flags, and the position file
// that lets a later run resume where this one stopped.
//
// The position file holds the last sequence the subscriber has seen (of an
// event or a heartbeat) as decimal digits and a newline. It is replaced
// atomically (a temporary file beside it, fsync, rename, fsync of the
// directory), so a crash leaves the old position or the new one, never a
// torn file. Resuming from it may print again the events after the last
// save (at least once), never skip one.
#ifndef PA_MATCH_CLI_WATCH_POSITION_H_
#define PA_MATCH_CLI_WATCH_POSITION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch::cli {

// The flags `watch` accepts (without the global ones).
const std::vector<FlagSpec>& WatchFlagSpecs();

// The saved position; nullopt if the file does not exist. A file that
// exists but does not hold a sequence is INVALID_ARGUMENT naming it (it is
// never guessed at: delete it to start from now).
absl::StatusOr<std::optional<int64_t>> ReadWatchPosition(
    const std::string& path);

// Saves `sequence` to `path` atomically (see above).
absl::Status SaveWatchPosition(const std::string& path, int64_t sequence);

// The request of `watch`: exactly one target (--job_id, --profile_id,
// --local_authorities a,b), and after_sequence from --after_sequence, else
// from `saved` (the position file's), else none (start with the next
// event).
absl::StatusOr<pamatch::v1::WatchRequest> BuildWatchRequest(
    const ParsedFlags& flags, std::optional<int64_t> saved);

}  // namespace pamatch::cli

#endif  // PA_MATCH_CLI_WATCH_POSITION_H_
