// Input checks shared by profiles, search requests and policies. Every error
// is INVALID_ARGUMENT and its message starts with the field path and the bad
// value ("skills[3]: unknown code \"jugling\""). Pure functions, thread-safe.
#ifndef PA_MATCH_ENGINE_VALIDATION_H_
#define PA_MATCH_ENGINE_VALIDATION_H_

#include <string>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/taxonomy.h"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

// Items a list may carry as sent, duplicates included: far above any real
// request (the limits that mean something count distinct codes), low
// enough that a stored profile stays small, since it is kept and returned
// as sent.
inline constexpr int kMaxListItems = 1000;

// UK bounding box for locations (degrees).
inline constexpr double kMinLat = 49.8, kMaxLat = 60.95;
inline constexpr double kMinLon = -8.7, kMaxLon = 1.8;

// Rejects a message (recursively) that carries fields this schema does not
// define: the engine refuses data it does not know, such as contact details.
absl::Status CheckNoUnknownFields(const google::protobuf::Message& message,
                                  absl::string_view path);

// 1..64 characters of [A-Za-z0-9_.:-].
absl::Status ValidateId(absl::string_view id, absl::string_view field);

// A point inside the UK bounding box with finite coordinates.
absl::Status ValidateLocation(const v1::GeoPoint& point,
                              absl::string_view field);

// `value` written so that it reads back as the same double (the shortest
// such text: 200.0000001, not StrCat's 6-digit 200), for error messages
// that name the bad value.
std::string ExactNumber(double value);

// `value` is finite and lo <= value <= hi.
absl::Status CheckRange(double value, double lo, double hi,
                        absl::string_view field);

// Resolves a list of codes to sorted, de-duplicated ids. Unknown codes are
// rejected (naming field[i]), and so are more than `max_distinct` distinct
// codes, if given (a set's repeated items count once), and more than
// kMaxListItems items as sent.
absl::StatusOr<std::vector<CodeId>> ResolveCodes(
    const Vocabulary& vocabulary,
    const google::protobuf::RepeatedPtrField<std::string>& codes,
    absl::string_view field, std::optional<int> max_distinct = std::nullopt);

// Whether `ids` (sorted) contains `id`.
bool ContainsId(const std::vector<CodeId>& ids, CodeId id);

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_VALIDATION_H_
