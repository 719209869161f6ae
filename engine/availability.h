// The weekly availability grid: 336 half-hour slots, slot 0 = Monday
// 00:00-00:30 UK local time, slot 335 = Sunday 23:30-24:00. Pure functions,
// thread-safe.
#ifndef PA_MATCH_ENGINE_AVAILABILITY_H_
#define PA_MATCH_ENGINE_AVAILABILITY_H_

#include <bitset>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

inline constexpr int kSlotsPerDay = 48;
inline constexpr int kSlotsPerWeek = 7 * kSlotsPerDay;  // 336

using WeekSlots = std::bitset<kSlotsPerWeek>;

// Turns intervals into slots, merging overlaps. Each interval must have a
// day MONDAY..SUNDAY and "HH:MM" start < end <= "24:00" with minutes 00 or
// 30; errors name `field`[i].start/end/day and the bad value. Overlapping
// intervals are merged, so up to kMaxIntervals are accepted (six for
// every slot of the week: no real grid comes near it; the bound keeps a
// stored profile small).
inline constexpr int kMaxIntervals = 6 * kSlotsPerWeek;  // 2016
absl::StatusOr<WeekSlots> SlotsFromIntervals(
    const google::protobuf::RepeatedPtrField<v1::TimeInterval>& intervals,
    absl::string_view field);

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_AVAILABILITY_H_
