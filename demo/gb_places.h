// The Great Britain places table of the demo-data generator's national
// scenario: one row per local authority, named after its main town or city,
// with its population and how widely PAs are spread around it.
//
// The data lives in taxonomy/gb_places.csv (sources and rounding are stated
// there and in docs/DEMO-DATA.md); the build compiles it in (see
// demo/CMakeLists.txt), so no file is read at run time. Every derived
// number below is computed at compile time with integer arithmetic or a
// constant-evaluated series, so the table is identical on every platform.
// Immutable; safe to use from any thread.
#ifndef PA_MATCH_DEMO_GB_PLACES_H_
#define PA_MATCH_DEMO_GB_PLACES_H_

#include <cstdint>
#include <span>

namespace pamatch::demo {

struct GbPlace {
  const char* place;    // "Newcastle upon Tyne"
  const char* la_code;  // ONS GSS code of its local authority, "E08000021"
  int64_t lat_micro;    // centre, micro-degrees (the CSV's lat x 10^6)
  int64_t lon_micro;
  int64_t population;  // the authority's residents (sampling weight)
  bool rural;          // dispersed county-sized authority
  // Gaussian spread per axis, metres: the CSV's sigma_km when given, else
  // 350 m x sqrt(population / 1000) clamped to 2..15 km, doubled if rural.
  int64_t sigma_m;
  int64_t m_per_deg_lon;  // 111195 m x cos(latitude)
  // Sum of the populations of this row and every row before it, so a
  // uniform draw in [0, total) maps to a row by binary search.
  int64_t cumulative_population;
};

// The rows in file order. Never empty.
std::span<const GbPlace> GbPlaces();

// Sum of every row's population.
int64_t GbTotalPopulation();

}  // namespace pamatch::demo

#endif  // PA_MATCH_DEMO_GB_PLACES_H_
