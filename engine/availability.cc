#include "engine/availability.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace pamatch {
namespace {

// "HH:MM" with MM in {00, 30} and 00:00 <= time <= 24:00, as a slot index
// within the day (0..48); -1 if malformed.
int ParseHalfHour(absl::string_view text) {
  if (text.size() != 5 || text[2] != ':') return -1;
  for (int i : {0, 1, 3, 4}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return -1;
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (minutes != 0 && minutes != 30) return -1;
  const int slot = hours * 2 + minutes / 30;
  return slot <= kSlotsPerDay ? slot : -1;
}

}  // namespace

absl::StatusOr<WeekSlots> SlotsFromIntervals(
    const google::protobuf::RepeatedPtrField<v1::TimeInterval>& intervals,
    absl::string_view field) {
  if (intervals.size() > kMaxIntervals) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", intervals.size(), " intervals, at most ", kMaxIntervals,
        " (overlapping ones included)"));
  }
  WeekSlots slots;
  for (int i = 0; i < intervals.size(); ++i) {
    const v1::TimeInterval& interval = intervals[i];
    // Only an error names the interval: no string per interval otherwise.
    auto at = [&] { return absl::StrCat(field, "[", i, "]"); };
    if (interval.day() < v1::MONDAY || interval.day() > v1::SUNDAY) {
      return absl::InvalidArgumentError(absl::StrCat(
          at(), ".day: ", static_cast<int>(interval.day()),
          " is not a day (MONDAY..SUNDAY)"));
    }
    const int start = ParseHalfHour(interval.start());
    if (start < 0 || start >= kSlotsPerDay) {
      return absl::InvalidArgumentError(absl::StrCat(
          at(), ".start: \"", interval.start().substr(0, 16),
          "\" is not a half-hour time 00:00..23:30"));
    }
    const int end = ParseHalfHour(interval.end());
    if (end < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          at(), ".end: \"", interval.end().substr(0, 16),
          "\" is not a half-hour time 00:30..24:00"));
    }
    if (end <= start) {
      return absl::InvalidArgumentError(absl::StrCat(
          at(), ".end: \"", interval.end(), "\" is not after start \"",
          interval.start(), "\" (an overnight shift is two intervals)"));
    }
    const int base = (interval.day() - v1::MONDAY) * kSlotsPerDay;
    for (int slot = start; slot < end; ++slot) slots.set(base + slot);
  }
  return slots;
}

}  // namespace pamatch
