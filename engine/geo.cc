#include "engine/geo.h"

#include <algorithm>
#include <cmath>

namespace pamatch {

double CosLat(double lat) { return std::cos(Radians(lat)); }

double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  return HaversineKm(lat1, lon1, CosLat(lat1), lat2, lon2, CosLat(lat2));
}

double HaversineKm(double lat1, double lon1, double cos_lat1, double lat2,
                   double lon2, double cos_lat2) {
  // Differences are taken in degrees, then converted: mirror-image points
  // (lon0 - d, lon0 + d) get bit-identical distances when d is exact, so
  // their order falls to the id as the contract intends. Evaluation order
  // is that of the textbook formula (sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)).
  const double dphi = Radians(lat2 - lat1);
  const double dlambda = Radians(lon2 - lon1);
  const double s1 = std::sin(dphi / 2), s2 = std::sin(dlambda / 2);
  const double a = s1 * s1 + cos_lat1 * cos_lat2 * (s2 * s2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}

}  // namespace pamatch
