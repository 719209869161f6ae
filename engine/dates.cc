#include "engine/dates.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"

namespace pamatch {
namespace {

const absl::CivilDay kEpochDay(1970, 1, 1);

bool ParseDigits(absl::string_view text, int* out) {
  int value = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
  }
  *out = value;
  return true;
}

}  // namespace

absl::StatusOr<DayNumber> ParseDate(absl::string_view text,
                                    absl::string_view field) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", text.substr(0, 32), "\" is not a date (", why, ")"));
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return bad("expected YYYY-MM-DD");
  }
  int year = 0, month = 0, day = 0;
  if (!ParseDigits(text.substr(0, 4), &year) ||
      !ParseDigits(text.substr(5, 2), &month) ||
      !ParseDigits(text.substr(8, 2), &day)) {
    return bad("expected YYYY-MM-DD");
  }
  if (year < 1) return bad("year outside 0001..9999");
  const absl::CivilDay civil(year, month, day);
  if (civil.year() != year || civil.month() != month || civil.day() != day) {
    return bad("no such day");
  }
  return static_cast<DayNumber>(civil - kEpochDay);
}

std::string FormatDate(DayNumber day) {
  const absl::CivilDay civil = kEpochDay + day;
  return absl::StrFormat("%04d-%02d-%02d", civil.year(), civil.month(),
                         civil.day());
}

DayNumber DayOf(absl::Time t) {
  const absl::CivilDay civil = absl::ToCivilDay(t, absl::UTCTimeZone());
  return static_cast<DayNumber>(civil - kEpochDay);
}

DayNumber AddMonthsClamped(DayNumber day, int months) {
  const absl::CivilDay civil = kEpochDay + day;
  const absl::CivilMonth target = absl::CivilMonth(civil) + months;
  const absl::CivilDay first_of_next = absl::CivilDay(target + 1);
  const int last_day = (first_of_next - 1).day();
  const int clamped = civil.day() < last_day ? civil.day() : last_day;
  const absl::CivilDay result(target.year(), target.month(), clamped);
  return static_cast<DayNumber>(result - kEpochDay);
}

DayNumber EarliestFreshIssue(DayNumber as_of, int months) {
  // Going back `months` months lands within a few days of the answer
  // (clamping can only move it later); walk forward to the first fresh day.
  DayNumber day = AddMonthsClamped(as_of, -months) - 4;
  while (AddMonthsClamped(day, months) < as_of) ++day;
  return day;
}

}  // namespace pamatch
