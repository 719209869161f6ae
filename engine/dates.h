// Calendar dates as days since 1970-01-01 (proleptic Gregorian, no time
// zone), the unit every expiry, DBS and as_of comparison in the engine uses.
// All functions are pure and thread-safe.
#ifndef PA_MATCH_ENGINE_DATES_H_
#define PA_MATCH_ENGINE_DATES_H_

#include <cstdint>
#include <limits>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pamatch {

// A day number: 0 = 1970-01-01.
using DayNumber = int32_t;

// "No expiry": later than any real day.
inline constexpr DayNumber kNeverExpires = std::numeric_limits<DayNumber>::max();
// "No date given": earlier than any real day.
inline constexpr DayNumber kNoDate = std::numeric_limits<DayNumber>::min();

// Parses "YYYY-MM-DD" (exactly that shape, years 0001..9999 as ISO 8601
// and most date libraries take them, so "9999-12-31" works as a far-off
// expiry; a real day of a real month). `field` names the field in the
// error message.
absl::StatusOr<DayNumber> ParseDate(absl::string_view text,
                                    absl::string_view field);

// Formats a day number as "YYYY-MM-DD".
std::string FormatDate(DayNumber day);

// The UTC calendar day containing `t`.
DayNumber DayOf(absl::Time t);

// 00:00 UTC of `day` as seconds since the Unix epoch.
inline int64_t StartOfDaySeconds(DayNumber day) {
  return static_cast<int64_t>(day) * 86400;
}

// `day` plus `months` calendar months, the day of month clamped to the last
// day of the target month (2020-02-29 + 12 months = 2021-02-28;
// 2023-08-31 + 1 month = 2023-09-30).
DayNumber AddMonthsClamped(DayNumber day, int months);

// The earliest issue day whose `months`-month validity reaches `as_of`: the
// smallest d with AddMonthsClamped(d, months) >= as_of. AddMonthsClamped is
// non-decreasing in d, so "fresh" is then one comparison per profile.
DayNumber EarliestFreshIssue(DayNumber as_of, int months);

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_DATES_H_
