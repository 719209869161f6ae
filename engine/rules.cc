#include "engine/rules.h"

#include <array>

namespace pamatch {

int64_t DaysSinceActive(int64_t as_of_start_seconds, int64_t seconds,
                        int32_t nanos) {
  // days = max(0, floor((00:00 UTC of as_of - last_active) / 24 h)).
  // With 0 <= nanos < 1e9 that is floor((D - (nanos > 0)) / 86400) for the
  // whole seconds D: subtracting a fraction below one second moves the
  // floor only when D is a multiple of a day, exactly as subtracting one.
  if (nanos >= 0 && nanos < 1000000000) {
    const int64_t d = as_of_start_seconds - seconds - (nanos > 0 ? 1 : 0);
    if (d <= 0) return 0;
    return d / 86400;
  }
  // Otherwise in 128-bit nanoseconds.
  const __int128 diff_ns =
      static_cast<__int128>(as_of_start_seconds - seconds) * 1000000000 -
      nanos;
  const __int128 day_ns = static_cast<__int128>(86400) * 1000000000;
  __int128 days = diff_ns / day_ns;
  if (diff_ns % day_ns != 0 && diff_ns < 0) --days;  // floor, not truncate
  return days < 0 ? 0 : static_cast<int64_t>(days);
}

double RecencyValue(int64_t days) {
  auto curve = [](int64_t d) {
    return std::pow(0.5, static_cast<double>(d) / kRecencyHalfLifeDays);
  };
  constexpr int64_t kTableDays = 2048;
  static const std::array<double, kTableDays> table = [&] {
    std::array<double, kTableDays> values;
    for (int64_t d = 0; d < kTableDays; ++d) values[d] = curve(d);
    return values;
  }();
  return days < kTableDays ? table[days] : curve(days);
}

}  // namespace pamatch
