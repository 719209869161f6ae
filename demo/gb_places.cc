// The places table compiled from taxonomy/gb_places.csv (see gb_places.h).
#include "demo/gb_places.h"

#include <algorithm>
#include <array>
#include <cstddef>

namespace pamatch::demo {
namespace {

// One CSV row as the build writes it (generated/demo/gb_places_table.inc).
struct Row {
  const char* place;
  const char* la_code;
  double lat;
  double lon;
  int64_t population;
  bool rural;
  int64_t sigma_km;  // 0: derive from the population
};

constexpr Row kRows[] = {
#include "demo/gb_places_table.inc"
};
constexpr size_t kCount = sizeof(kRows) / sizeof(kRows[0]);

// Nearest integer to `x` (constant-evaluated only).
consteval int64_t RoundToInt(double x) {
  return static_cast<int64_t>(x < 0 ? x - 0.5 : x + 0.5);
}

// floor(sqrt(n)) for n >= 0, by integer Newton iteration.
consteval int64_t Isqrt(int64_t n) {
  if (n < 2) return n;
  int64_t x = n, y = (x + 1) / 2;
  while (y < x) {
    x = y;
    y = (x + n / x) / 2;
  }
  return x;
}

// cos(x) for |x| <= pi/2 by its Taylor series to x^20 (error < 1e-15),
// evaluated by the compiler: no libm, the same result everywhere.
consteval double Cos(double x) {
  double term = 1, sum = 1;
  for (int k = 1; k <= 10; ++k) {
    term *= -x * x / ((2 * k - 1) * (2 * k));
    sum += term;
  }
  return sum;
}

constexpr int64_t kMetresPerDegreeLat = 111195;  // sphere R = 6371.0088 km
constexpr double kPi = 3.14159265358979323846;

consteval std::array<GbPlace, kCount> Build() {
  std::array<GbPlace, kCount> out{};
  int64_t cumulative = 0;
  for (size_t i = 0; i < kCount; ++i) {
    const Row& r = kRows[i];
    GbPlace& p = out[i];
    p.place = r.place;
    p.la_code = r.la_code;
    p.lat_micro = RoundToInt(r.lat * 1e6);
    p.lon_micro = RoundToInt(r.lon * 1e6);
    p.population = r.population;
    p.rural = r.rural;
    if (r.sigma_km > 0) {
      p.sigma_m = r.sigma_km * 1000;
    } else {
      // sqrt(population / 1000) = sqrt(population * 1000) / 1000.
      p.sigma_m = std::clamp<int64_t>(350 * Isqrt(r.population * 1000) / 1000,
                                      2000, 15000);
      if (r.rural) p.sigma_m *= 2;
    }
    p.m_per_deg_lon = RoundToInt(static_cast<double>(kMetresPerDegreeLat) *
                                 Cos(r.lat * kPi / 180));
    cumulative += r.population;
    p.cumulative_population = cumulative;
  }
  return out;
}

constexpr std::array<GbPlace, kCount> kPlaces = Build();
static_assert(kCount > 0 && kPlaces.back().cumulative_population > 0);

}  // namespace

std::span<const GbPlace> GbPlaces() { return kPlaces; }

int64_t GbTotalPopulation() { return kPlaces.back().cumulative_population; }

}  // namespace pamatch::demo
