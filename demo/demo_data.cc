// Demo-data generator (see demo_data.h and docs/DEMO-DATA.md).
//
// Determinism. Each profile section (location, checks, qualifications,
// skills, training, attributes, availability, misc) draws from its own
// splitmix64 stream seeded with Mix64(Mix64(Mix64(seed) ^ index) ^ stream),
// so profile i depends only on (scenario, seed, i) and changing one section's
// distribution leaves the other sections' output unchanged. All draws are
// integer arithmetic (no std::*_distribution, no libm); coordinates are
// computed in integer micro-degrees and divided by 1e6 once at the end.
//
// Scenarios differ only in the location section: North East picks one of
// kAuthorities; national picks a place of taxonomy/gb_places.csv
// (demo/gb_places.h) with probability population / total population, and
// scatters around it with the place's sigma (the CSV's sigma_km, else 350 m
// x sqrt(population / 1000) clamped to 2..15 km, doubled for rural ones);
// the North Sea check applies to North East coast places only.
//
// Distributions ("pm" = per mille, i.e. probability x 1000):
// - local_authority: population-weighted, 2021 census (thousands): County
//   Durham 522, Darlington 108, Gateshead 196, Hartlepool 92, Middlesbrough
//   143, Newcastle 300, North Tyneside 210, Northumberland 320, Redcar and
//   Cleveland 137, South Tyneside 148, Stockton-on-Tees 197, Sunderland 274.
// - location: taxonomy centre + a gaussian offset per axis (sum of 12
//   uniforms, i.e. Irwin-Hall, capped at 6 sigma); sigma 6-8 km for the urban
//   authorities, 15 km County Durham, 20 km Northumberland. A point east of a
//   piecewise-linear North Sea coastline is redrawn (up to 16 times, then the
//   centre). Clamped to the UK box; 6 decimal places (micro-degrees).
// - max_travel_km: 3% 1-4, ~12% (~24% in the two rural counties) 26-60,
//   else 5-25; whole km.
// - checks: identity_verified 900pm, code_of_conduct_signed 800pm; DBS NONE
//   100, BASIC 100, STANDARD 150, ENHANCED 450, ENHANCED_BARRED_ADULTS 200pm;
//   a check (not NONE) has issued_on 0..1826 days before now and
//   update_service 445pm (~40% of all PAs); references_verified 0/1/2/3/4
//   = 200/200/300/200/100pm; driving_licence 650pm; has_car 846pm of
//   licence holders (~55%).
// - qualifications: independent per code (kQualifications), 0-3 kept;
//   ~5% of PAs hold a specialist one.
// - skills: independent per code (kSkills; "driving" only for licence
//   holders); forced: bsl_signing with a BSL qualification, sports_coaching
//   with sports_coaching_level2, night_care with a nights pattern; then
//   topped up to 3 (weighted) or trimmed to 12 (random non-forced).
// - training: independent per code (kTraining), at least 1 (weighted
//   top-up), at most 10 (random trim). Each record: no expiry 150pm,
//   expired 100pm (1..365 days before now), else 1..1095 days after now.
// - attributes: gender F/M/NB/undisclosed 750/200/20/30pm; age band
//   16_24/25_34/35_49/50_64/65_PLUS/undisclosed 120/220/300/280/50/30pm;
//   languages "en" plus, at 120pm, one of kOtherLanguages (weighted);
//   interests 1-6 distinct, weighted (kInterests); non_smoker 750pm,
//   ok_with_pets 700pm, short_notice_cover 300pm.
// - availability pattern: weekday mornings 07:00-12:00 200pm, weekday
//   evenings 17:00-22:00 120pm (each weekday kept at 900pm, at least one),
//   weekends Sat+Sun 08:00-20:00 100pm, nights 60pm (2-7 consecutive nights
//   22:00-24:00 + next day 00:00-07:00), full-time Mon-Fri 09:00-17:00
//   200pm, mixed 320pm (2-5 distinct days, one block each starting
//   06:00-20:00, 2-8 h, ending by 24:00). Sorted by (day, start).
// - min_hourly_rate_pence: 0 at 250pm, else 1100..1800 in 25p steps.
// - last_active: 0..180 days before now, skewed to recent (days = d*d/180,
//   d uniform 0..180, plus a random second within the day, capped at 180 d).
// - status PAUSED 50pm, else ACTIVE; version 1.
#include "demo/demo_data.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "demo/gb_places.h"

namespace pamatch::demo {
namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// splitmix64's finaliser applied to z + golden ratio: a strong 64-bit mix.
uint64_t Mix64(uint64_t z) {
  z += kGolden;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The independent random stream of each profile section.
// clang-format off
enum class Stream : uint64_t {
  kLocation = 1, kChecks, kQualifications, kSkills, kTraining, kAttributes,
  kAvailability, kMisc
};
// clang-format on

// A splitmix64 generator seeded from (seed, index, stream). Integer-only, so
// its output is identical on every platform and standard library.
class Rng {
 public:
  Rng(uint64_t seed, int64_t index, Stream stream)
      : state_(Mix64(Mix64(Mix64(seed) ^ static_cast<uint64_t>(index)) ^
                     static_cast<uint64_t>(stream))) {}

  // Next 64 random bits (splitmix64: advance by golden ratio, finalise).
  uint64_t Next() {
    const uint64_t z = state_;
    state_ += kGolden;
    return Mix64(z);
  }
  // Uniform in [0, n), n > 0 (modulo bias < n / 2^64, negligible here).
  uint64_t Below(uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi], lo <= hi.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // True with probability p / 1000.
  bool PerMille(int p) { return Below(1000) < static_cast<uint64_t>(p); }
  // Index i with probability weights[i] / sum(weights); sum must be > 0.
  size_t Pick(std::span<const int> weights) {
    int64_t total = 0;
    for (int w : weights) total += w;
    int64_t r = static_cast<int64_t>(Below(static_cast<uint64_t>(total)));
    for (size_t i = 0; i < weights.size(); ++i) {
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    return weights.size() - 1;  // unreachable
  }
  // Approximately N(0, sigma^2), in the units of sigma: Irwin-Hall sum of 12
  // uniforms with 20-bit resolution, so |result| <= 6 sigma.
  int64_t Gaussian(int64_t sigma) {
    int64_t sum = 0;
    for (int i = 0; i < 12; ++i) sum += static_cast<int64_t>(Below(1 << 20));
    return (sum - (int64_t{6} << 20)) * sigma / (int64_t{1} << 20);
  }

 private:
  uint64_t state_;
};

// A local authority: taxonomy code and centre, weight and spread.
struct Authority {
  const char* code;
  int weight;         // 2021 census population, thousands
  int64_t lat_micro;  // taxonomy centre, micro-degrees
  int64_t lon_micro;
  int64_t sigma_m;        // gaussian spread per axis, metres
  int64_t m_per_deg_lon;  // 111195 m * cos(centre latitude)
  bool rural;             // PAs travel further
};

// clang-format off
// (The tables below are packed by hand.)
constexpr std::array<Authority, 12> kAuthorities = {{
    {"E06000047", 522, 54685000, -1760000, 15000, 64279, true},  // Durham
    {"E06000005", 108, 54535000, -1560000, 6000, 64516, false},  // Darlington
    {"E08000037", 196, 54935000, -1680000, 6000, 63882, false},  // Gateshead
    {"E06000001", 92, 54670000, -1240000, 6000, 64302, false},   // Hartlepool
    {"E06000002", 143, 54545000, -1230000, 6000, 64500, false},  // M'brough
    {"E08000021", 300, 55005000, -1660000, 7000, 63771, false},  // Newcastle
    {"E08000022", 210, 55030000, -1500000, 7000, 63731, false},  // N Tyneside
    {"E06000057", 320, 55230000, -2000000, 20000, 63413, true},  // N'land
    {"E06000003", 137, 54550000, -1000000, 8000, 64492, false},  // Redcar
    {"E08000023", 148, 54960000, -1440000, 6000, 63842, false},  // S Tyneside
    {"E06000004", 197, 54560000, -1330000, 7000, 64476, false},  // Stockton
    {"E08000024", 274, 54880000, -1430000, 7000, 63970, false},  // Sunderland
}};
constexpr int64_t kMetresPerDegreeLat = 111195;  // sphere R = 6371.0088 km

// A vertex of the crude North Sea coastline, micro-degrees, south to north.
struct CoastPoint {
  int64_t lat_micro;
  int64_t lon_micro;
};
constexpr std::array<CoastPoint, 12> kCoast = {{
    {54280000, -400000},  /* Scarborough */  {54486000, -615000},  // Whitby
    {54585000, -970000},  /* Saltburn */     {54620000, -1060000}, // Redcar
    {54695000, -1180000}, /* Hartlepool */   {54840000, -1330000}, // Seaham
    {54920000, -1365000}, /* Roker */        {55000000, -1420000}, // S Shields
    {55127000, -1500000}, /* Blyth */        {55340000, -1580000}, // Amble
    {55607000, -1710000}, /* Bamburgh */     {55770000, -2000000}, // Berwick
}};
// clang-format on

// Sampling weights of a table of structs with a `weight` member.
template <typename T, size_t N>
constexpr std::array<int, N> Weights(const std::array<T, N>& table) {
  std::array<int, N> w{};
  for (size_t i = 0; i < N; ++i) w[i] = table[i].weight;
  return w;
}

// True if the point lies east of the coastline, i.e. in the North Sea.
bool InSea(int64_t lat, int64_t lon) {
  if (lat <= kCoast.front().lat_micro) return lon > kCoast.front().lon_micro;
  for (size_t i = 1; i < kCoast.size(); ++i) {
    const CoastPoint& a = kCoast[i - 1];
    const CoastPoint& b = kCoast[i];
    if (lat <= b.lat_micro) {
      int64_t coast = a.lon_micro + (lat - a.lat_micro) *
                                        (b.lon_micro - a.lon_micro) /
                                        (b.lat_micro - a.lat_micro);
      return lon > coast;
    }
  }
  return lon > kCoast.back().lon_micro;
}

// Where a PA is scattered from: an authority's or a place's centre, with
// its spread and whether the North Sea coastline applies.
struct Centre {
  const char* la_code;
  int64_t lat_micro;
  int64_t lon_micro;
  int64_t sigma_m;
  int64_t m_per_deg_lon;
  bool rural;
  bool coast_check;
};

// Sets local_authority, a location scattered around `c` (gaussian per axis,
// redrawn up to 16 times while in the North Sea if c.coast_check) and
// max_travel_km. Draws from `rng` in the same order for both scenarios.
void PlaceAround(Rng& rng, const Centre& c, v1::Profile& p) {
  int64_t lat = c.lat_micro;
  int64_t lon = c.lon_micro;
  for (int attempt = 0; attempt < 16; ++attempt) {
    int64_t la =
        c.lat_micro + rng.Gaussian(c.sigma_m) * 1000000 / kMetresPerDegreeLat;
    int64_t lo =
        c.lon_micro + rng.Gaussian(c.sigma_m) * 1000000 / c.m_per_deg_lon;
    if (!c.coast_check || !InSea(la, lo)) {
      lat = la;
      lon = lo;
      break;
    }
  }
  lat = std::clamp<int64_t>(lat, 49800000, 60950000);
  lon = std::clamp<int64_t>(lon, -8700000, 1800000);
  p.set_local_authority(c.la_code);
  p.mutable_location()->set_lat(static_cast<double>(lat) / 1e6);
  p.mutable_location()->set_lon(static_cast<double>(lon) / 1e6);
  const int64_t km = rng.PerMille(30)                    ? rng.Between(1, 4)
                     : rng.PerMille(c.rural ? 250 : 120) ? rng.Between(26, 60)
                                                         : rng.Between(5, 25);
  p.set_max_travel_km(static_cast<double>(km));
}

// North East: picks one of the 12 authorities, population-weighted.
void FillLocation(Rng rng, v1::Profile& p) {
  static constexpr auto kWeights = Weights(kAuthorities);
  const Authority& a = kAuthorities[rng.Pick(kWeights)];
  PlaceAround(rng,
              {a.code, a.lat_micro, a.lon_micro, a.sigma_m, a.m_per_deg_lon,
               a.rural, true},
              p);
}

// True if a place's PAs can reach the North Sea coastline of kCoast: its
// centre lies within the coastline's latitudes and east of the Pennines.
// Elsewhere the coast is not modelled (docs/DEMO-DATA.md).
bool OnNorthEastCoast(const GbPlace& place) {
  return place.lat_micro >= kCoast.front().lat_micro &&
         place.lat_micro <= kCoast.back().lat_micro &&
         place.lon_micro > -2600000;
}

// National: picks a place of gb_places.csv, population-weighted (a uniform
// draw below the total population, located by binary search over the
// cumulative populations).
void FillNationalLocation(Rng rng, v1::Profile& p) {
  const std::span<const GbPlace> places = GbPlaces();
  const int64_t r = static_cast<int64_t>(
      rng.Below(static_cast<uint64_t>(GbTotalPopulation())));
  const auto it = std::upper_bound(places.begin(), places.end(), r,
                                   [](int64_t value, const GbPlace& place) {
                                     return value < place.cumulative_population;
                                   });
  const GbPlace& g = *it;
  PlaceAround(rng,
              {g.la_code, g.lat_micro, g.lon_micro, g.sigma_m, g.m_per_deg_lon,
               g.rural, OnNorthEastCoast(g)},
              p);
}

// A taxonomy code and its per-mille probability or sampling weight.
struct Code {
  const char* code;
  int weight;
};

// clang-format off
// Skills in taxonomy order; weight = per-mille probability of holding it
// ("driving": of licence holders, ~30% of all PAs).
constexpr std::array<Code, 37> kSkills = {{
    {"personal_care", 700}, {"continence_care", 300},
    {"moving_and_handling", 350}, {"hoist_use", 150},
    {"medication_support", 400}, {"meal_preparation", 650},
    {"feeding_support", 150}, {"peg_feeding", 20}, {"catheter_care", 60},
    {"stoma_care", 30}, {"domestic_cleaning", 600}, {"laundry", 350},
    {"shopping", 600}, {"driving", 460},
    {"accompanying_outings", 550}, {"social_leisure", 350},
    {"exercise_support", 100}, {"swimming_support", 50},
    {"sports_coaching", 30}, {"education_support", 70},
    {"communication_support", 120}, {"bsl_signing", 15},
    {"dementia_support", 220}, {"learning_disability_support", 220},
    {"autism_support", 180}, {"mental_health_support", 160},
    {"physical_disability_support", 220}, {"sensory_impairment_support", 70},
    {"epilepsy_support", 70}, {"night_care", 60}, {"waking_nights", 20},
    {"respite_cover", 130}, {"end_of_life_care", 50}, {"pet_care", 100},
    {"gardening", 80}, {"budgeting_support", 80}, {"paperwork_support", 100},
}};

// Training topics in taxonomy order; weight = per-mille probability.
constexpr std::array<Code, 28> kTraining = {{
    {"pa_induction", 700}, {"first_aid", 600}, {"moving_and_assisting", 400},
    {"safeguarding_adults", 550}, {"person_centred_care", 300},
    {"equality_diversity", 250}, {"employability_skills", 80},
    {"medication_awareness", 300}, {"infection_control", 300},
    {"food_hygiene", 280}, {"dementia_awareness", 180},
    {"mental_health_awareness", 130}, {"learning_disability_awareness", 130},
    {"autism_awareness", 130}, {"epilepsy_awareness", 70},
    {"fire_safety", 200}, {"health_and_safety", 250},
    {"communication_skills", 100}, {"privacy_and_dignity", 120},
    {"duty_of_care", 160}, {"fluids_and_nutrition", 80},
    {"information_governance", 80}, {"positive_behaviour_support", 50},
    {"end_of_life_care", 40}, {"diabetes_awareness", 60},
    {"stroke_awareness", 30}, {"lone_working", 80},
    {"conflict_resolution", 50},
}};

// Qualifications in taxonomy order; weight = per-mille probability.
// Specialist ones (rqf_level4, registered_nurse, bsl_level3,
// sports_coaching_level2, counselling, physiotherapy) sum to ~5%.
constexpr std::array<Code, 11> kQualifications = {{
    {"care_certificate", 550}, {"rqf_level2_health_social_care", 300},
    {"rqf_level3_health_social_care", 150},
    {"rqf_level4_health_social_care", 15}, {"registered_nurse", 8},
    {"bsl_level2", 20}, {"bsl_level3", 5}, {"sports_coaching_level2", 10},
    {"counselling_certificate", 8}, {"physiotherapy_assistant", 6},
    {"teaching_assistant_level3", 30},
}};

// Interests in taxonomy order; weight = relative popularity.
constexpr std::array<Code, 28> kInterests = {{
    {"music", 30}, {"football", 20}, {"rugby", 5}, {"cricket", 5},
    {"walking", 30}, {"swimming", 12}, {"gardening", 15}, {"cooking", 25},
    {"baking", 15}, {"art_and_crafts", 12}, {"reading", 20}, {"films", 25},
    {"theatre", 8}, {"gaming", 10}, {"technology", 8}, {"photography", 6},
    {"fishing", 5}, {"faith_activities", 6}, {"volunteering", 10},
    {"animals", 15}, {"dance", 6}, {"history", 8}, {"travel", 15},
    {"fashion", 6}, {"board_games", 8}, {"cycling", 8}, {"yoga", 6},
    {"karaoke", 5},
}};

// Second languages (ISO 639-1) and their relative weights.
constexpr std::array<Code, 9> kOtherLanguages = {{
    {"pl", 20}, {"ur", 15}, {"ar", 15}, {"bn", 10}, {"zh", 10},
    {"pa", 8}, {"ro", 8}, {"ku", 7}, {"fa", 7},
}};
// clang-format on

// Index of `code` in `table`; an absent code fails to compile (consteval).
template <size_t N>
consteval size_t IndexOf(const std::array<Code, N>& table,
                         std::string_view code) {
  for (size_t i = 0; i < N; ++i) {
    if (table[i].code == code) return i;
  }
  throw "code not in table";
}

// Codes that drive the cross-section rules (forced / excluded skills).
constexpr size_t kSkillBsl = IndexOf(kSkills, "bsl_signing");
constexpr size_t kSkillSports = IndexOf(kSkills, "sports_coaching");
constexpr size_t kSkillNightCare = IndexOf(kSkills, "night_care");
constexpr size_t kSkillDriving = IndexOf(kSkills, "driving");
constexpr size_t kQualBsl2 = IndexOf(kQualifications, "bsl_level2");
constexpr size_t kQualBsl3 = IndexOf(kQualifications, "bsl_level3");
constexpr size_t kQualSports =
    IndexOf(kQualifications, "sports_coaching_level2");

// Random subset of `table`: each code independently with its per-mille
// weight, plus `forced`, never `excluded`; then topped up to `min` by
// weighted draws and trimmed to `max` by dropping random non-forced codes.
// Returns the membership flags in table order.
template <size_t N>
std::array<bool, N> DrawSet(Rng& rng, const std::array<Code, N>& table,
                            const std::array<bool, N>& forced,
                            const std::array<bool, N>& excluded, int min,
                            int max, bool independent) {
  std::array<bool, N> in{};
  int n = 0;
  for (size_t i = 0; i < N; ++i) {
    bool draw = independent && rng.PerMille(table[i].weight);
    in[i] = !excluded[i] && (forced[i] || draw);
    n += in[i] ? 1 : 0;
  }
  while (n < min) {
    std::array<int, N> w{};
    int64_t total = 0;
    for (size_t i = 0; i < N; ++i) {
      w[i] = (in[i] || excluded[i]) ? 0 : table[i].weight;
      total += w[i];
    }
    if (total == 0) break;
    in[rng.Pick(w)] = true;
    ++n;
  }
  while (n > max) {
    std::vector<size_t> droppable;
    for (size_t i = 0; i < N; ++i) {
      if (in[i] && !forced[i]) droppable.push_back(i);
    }
    if (droppable.empty()) break;
    in[droppable[rng.Below(droppable.size())]] = false;
    --n;
  }
  return in;
}

// Appends the codes of `table` whose flag is set to `out`, in table order.
template <size_t N>
void AddCodes(const std::array<Code, N>& table, const std::array<bool, N>& in,
              google::protobuf::RepeatedPtrField<std::string>& out) {
  for (size_t i = 0; i < N; ++i) {
    if (in[i]) out.Add(table[i].code);
  }
}

// "YYYY-MM-DD" of the UTC day `today` + `days`.
std::string Date(absl::CivilDay today, int64_t days) {
  return absl::FormatCivilTime(today + days);
}

// Sets p.checks: identity, code of conduct, DBS, references, licence, car.
void FillChecks(Rng rng, absl::CivilDay today, v1::Profile& p) {
  v1::Checks& c = *p.mutable_checks();
  c.set_identity_verified(rng.PerMille(900));
  c.set_code_of_conduct_signed(rng.PerMille(800));
  static constexpr std::array<int, 5> kDbs = {100, 100, 150, 450, 200};
  auto level = static_cast<v1::DbsLevel>(v1::DBS_NONE + rng.Pick(kDbs));
  c.mutable_dbs()->set_level(level);
  if (level != v1::DBS_NONE) {
    c.mutable_dbs()->set_issued_on(Date(today, -rng.Between(0, 1826)));
    c.mutable_dbs()->set_update_service(rng.PerMille(445));
  }
  static constexpr std::array<int, 5> kRefs = {200, 200, 300, 200, 100};
  c.set_references_verified(static_cast<int32_t>(rng.Pick(kRefs)));
  c.set_driving_licence(rng.PerMille(650));
  c.set_has_car(c.driving_licence() && rng.PerMille(846));
}

// Adds the interval [from, to) of `day` (0 = Monday) in half-hour slots
// (0..48) to p.availability.
void AddInterval(v1::Profile& p, int day, int from, int to) {
  v1::TimeInterval& t = *p.add_availability();
  t.set_day(static_cast<v1::DayOfWeek>(v1::MONDAY + day));
  t.set_start(absl::StrFormat("%02d:%02d", from / 2, (from % 2) * 30));
  t.set_end(absl::StrFormat("%02d:%02d", to / 2, (to % 2) * 30));
}

// Fills the weekly availability; returns true for a night-work pattern.
bool FillAvailability(Rng rng, v1::Profile& p) {
  static constexpr std::array<int, 6> kPatterns = {200, 120, 100, 60, 200, 320};
  size_t pattern = rng.Pick(kPatterns);
  switch (pattern) {
    case 0:    // weekday mornings
    case 1: {  // weekday evenings
      int from = pattern == 0 ? 14 : 34, to = pattern == 0 ? 24 : 44;
      bool any = false;
      for (int d = 0; d < 5; ++d) {
        if (rng.PerMille(900)) {
          AddInterval(p, d, from, to);
          any = true;
        }
      }
      if (!any) AddInterval(p, static_cast<int>(rng.Below(5)), from, to);
      break;
    }
    case 2:  // weekends
      AddInterval(p, 5, 16, 40);
      AddInterval(p, 6, 16, 40);
      break;
    case 3: {  // consecutive nights, 22:00-07:00
      int nights = static_cast<int>(rng.Between(2, 7));
      int first = static_cast<int>(rng.Below(7));
      for (int k = 0; k < nights; ++k) {
        AddInterval(p, (first + k) % 7, 44, 48);
        AddInterval(p, (first + k + 1) % 7, 0, 14);
      }
      break;
    }
    case 4:  // full-time weekdays
      for (int d = 0; d < 5; ++d) AddInterval(p, d, 18, 34);
      break;
    default: {  // mixed: one block on each of 2-5 distinct days
      std::array<int, 7> days = {0, 1, 2, 3, 4, 5, 6};
      int n = static_cast<int>(rng.Between(2, 5));
      for (int k = 0; k < n; ++k) {
        std::swap(days[k], days[k + rng.Below(7 - k)]);
        int from = static_cast<int>(rng.Between(12, 40));
        int len = static_cast<int>(rng.Between(4, 16));
        AddInterval(p, days[k], from, std::min(from + len, 48));
      }
      break;
    }
  }
  auto& av = *p.mutable_availability();
  std::sort(av.begin(), av.end(),
            [](const v1::TimeInterval& a, const v1::TimeInterval& b) {
              return a.day() != b.day() ? a.day() < b.day()
                                        : a.start() < b.start();
            });
  return pattern == 3;
}

// Sets the attributes (gender, age band, languages, interests, flags).
void FillAttributes(Rng rng, v1::Profile& p) {
  v1::Attributes& a = *p.mutable_attributes();
  static constexpr std::array<int, 4> kGender = {750, 200, 20, 30};
  a.set_gender(static_cast<v1::Gender>(v1::GENDER_FEMALE + rng.Pick(kGender)));
  static constexpr std::array<int, 6> kAge = {120, 220, 300, 280, 50, 30};
  a.set_age_band(static_cast<v1::AgeBand>(v1::AGE_BAND_16_24 + rng.Pick(kAge)));
  a.add_languages("en");
  if (rng.PerMille(120)) {
    static constexpr auto kWeights = Weights(kOtherLanguages);
    a.add_languages(kOtherLanguages[rng.Pick(kWeights)].code);
  }
  constexpr std::array<bool, kInterests.size()> kNone{};
  const int n = static_cast<int>(rng.Between(1, 6));
  AddCodes(kInterests, DrawSet(rng, kInterests, kNone, kNone, n, n, false),
           *a.mutable_interests());
  a.set_non_smoker(rng.PerMille(750));
  a.set_ok_with_pets(rng.PerMille(700));
  a.set_short_notice_cover(rng.PerMille(300));
}

}  // namespace

// Builds profile `index`: each section from its own stream (see top).
v1::Profile GenerateScenarioProfile(DemoScenario scenario, uint64_t seed,
                                    int64_t index, absl::Time now,
                                    std::string_view id_prefix) {
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  v1::Profile p;
  // Debian's abseil has its own string_view, so no StrCat(std::string_view).
  std::string id(id_prefix);
  id += absl::StrFormat("%06d", index);
  p.set_id(std::move(id));
  p.set_version(1);

  if (scenario == DemoScenario::kNational) {
    FillNationalLocation(Rng(seed, index, Stream::kLocation), p);
  } else {
    FillLocation(Rng(seed, index, Stream::kLocation), p);
  }
  FillChecks(Rng(seed, index, Stream::kChecks), today, p);
  FillAttributes(Rng(seed, index, Stream::kAttributes), p);
  const bool nights =
      FillAvailability(Rng(seed, index, Stream::kAvailability), p);

  Rng quals(seed, index, Stream::kQualifications);
  constexpr std::array<bool, kQualifications.size()> kNoQuals{};
  auto q = DrawSet(quals, kQualifications, kNoQuals, kNoQuals, 0, 3, true);
  AddCodes(kQualifications, q, *p.mutable_qualifications());

  Rng skills_rng(seed, index, Stream::kSkills);
  std::array<bool, kSkills.size()> forced{};
  std::array<bool, kSkills.size()> excluded{};
  forced[kSkillBsl] = q[kQualBsl2] || q[kQualBsl3];
  forced[kSkillSports] = q[kQualSports];
  forced[kSkillNightCare] = nights;
  excluded[kSkillDriving] = !p.checks().driving_licence();
  AddCodes(kSkills, DrawSet(skills_rng, kSkills, forced, excluded, 3, 12, true),
           *p.mutable_skills());

  Rng training(seed, index, Stream::kTraining);
  constexpr std::array<bool, kTraining.size()> kNoTraining{};
  auto t = DrawSet(training, kTraining, kNoTraining, kNoTraining, 1, 10, true);
  for (size_t i = 0; i < t.size(); ++i) {
    if (!t[i]) continue;
    v1::TrainingRecord& r = *p.add_training();
    r.set_code(kTraining[i].code);
    static constexpr std::array<int, 3> kExpiry = {150, 100, 750};
    const size_t kind = training.Pick(kExpiry);  // 0: never expires
    if (kind == 1) r.set_expires_on(Date(today, -training.Between(1, 365)));
    if (kind == 2) r.set_expires_on(Date(today, training.Between(1, 1095)));
  }

  Rng misc(seed, index, Stream::kMisc);
  p.set_min_hourly_rate_pence(
      misc.PerMille(250) ? 0 : 1100 + 25 * misc.Between(0, 28));
  const int64_t d = misc.Between(0, 180);
  const int64_t ago = std::min<int64_t>(
      d * d / 180 * 86400 + misc.Between(0, 86399), int64_t{180} * 86400);
  p.mutable_last_active()->set_seconds(absl::ToUnixSeconds(now) - ago);
  p.set_status(misc.PerMille(50) ? v1::PAUSED : v1::ACTIVE);
  return p;
}

v1::Profile GenerateDemoProfile(uint64_t seed, int64_t index, absl::Time now,
                                std::string_view id_prefix) {
  return GenerateScenarioProfile(DemoScenario::kNorthEast, seed, index, now,
                                 id_prefix);
}

std::string_view DemoScenarioName(DemoScenario scenario) {
  return scenario == DemoScenario::kNational ? "national" : "north_east";
}

bool ParseDemoScenario(std::string_view name, DemoScenario* scenario) {
  for (DemoScenario s : {DemoScenario::kNorthEast, DemoScenario::kNational}) {
    if (name == DemoScenarioName(s)) {
      *scenario = s;
      return true;
    }
  }
  return false;
}

// Profiles 0..count-1, one GenerateScenarioProfile call each.
std::vector<v1::Profile> GenerateDemoProfiles(const DemoOptions& options) {
  std::vector<v1::Profile> out;
  if (options.count <= 0) return out;
  out.reserve(static_cast<size_t>(options.count));
  for (int i = 0; i < options.count; ++i) {
    out.push_back(GenerateScenarioProfile(options.scenario, options.seed, i,
                                          options.now, options.id_prefix));
  }
  return out;
}

}  // namespace pamatch::demo
