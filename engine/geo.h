// Geography of the contract: the haversine great-circle distance on a
// sphere of radius kEarthRadiusKm (MATCHING.md, `max_distance_km`), and the
// constants the index's grid derives from it. Pure functions; any thread.
#ifndef PA_MATCH_ENGINE_GEO_H_
#define PA_MATCH_ENGINE_GEO_H_

#include <numbers>

namespace pamatch {

// Mean Earth radius used by the contract, km.
inline constexpr double kEarthRadiusKm = 6371.0088;
// Kilometres per degree of latitude (and of longitude at the equator).
inline constexpr double kKmPerDegree = kEarthRadiusKm * std::numbers::pi / 180.0;

// One multiplication by a precomputed constant, as C's and Python's
// math.radians do, so that independent implementations agree to the bit.
inline double Radians(double degrees) {
  return degrees * (std::numbers::pi / 180.0);
}

// cos(latitude), kept per profile and per query for the haversine.
double CosLat(double lat);

// Haversine great-circle distance in km between two WGS84 points (degrees).
double HaversineKm(double lat1, double lon1, double lat2, double lon2);
// The same, bit for bit, given cos(lat) of both points precomputed
// (CosLat), which saves two of the five transcendental calls per pair.
double HaversineKm(double lat1, double lon1, double cos_lat1, double lat2,
                   double lon2, double cos_lat2);

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_GEO_H_
