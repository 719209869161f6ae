// The profile index's geography: a grid of cells 0.05 degrees of latitude
// by 0.08 of longitude (about 5.6 x 5.1 km at 55 N), each holding the
// bitmap of its documents; which cells can hold a PA within reach of a
// query, nearest first (ReachableCells); and bounds on the haversine
// distance cheap enough to judge most documents without it (DecideReach).
//
// A cell that BulkLoad built from nothing is one range of consecutive
// documents in descending travel (travel_sorted), so a search reads its
// columns in order and stops at the first PA who cannot travel far enough;
// any later Add or Remove in the cell ends that, and its documents count
// in unsorted_documents() until a relayout (index_relayout.h).
//
// Thread-safety: none; the owning ProfileIndex's rules apply (any number of
// readers or one writer).
#ifndef PA_MATCH_ENGINE_GEO_GRID_H_
#define PA_MATCH_ENGINE_GEO_GRID_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/geo.h"
#include "engine/index_columns.h"
#include "engine/query.h"
#include "roaring/roaring.hh"

namespace pamatch {

// Bounds on the haversine distance from the squared equirectangular
// distance E^2 = dy^2 + (c dx)^2 (km): with c the smaller cos(lat) of the
// two points, haversine >= 0.998 E whenever the differences are under 0.2
// rad (sin x >= x (1 - x^2/6)); with c the larger, haversine <=
// E / sqrt(1 - (E/2R)^2) <= 1.0002 E for E <= 200 km (sin x <= x and
// asin y <= y / sqrt(1 - y^2)). The factors below square those with room
// for rounding. Within the box the grid lets through, the differences are
// far below 0.2 rad; callers check that (kMaxBoundDeg) and fall back to
// the exact distance otherwise.
inline constexpr double kLowerSq = 0.995;   // (0.998)^2 = 0.996
inline constexpr double kUpperSq = 1.001;   // (1.0002)^2 = 1.0004
inline constexpr double kMaxBoundDeg = 10;  // 0.17 rad

// Whether a document is within `limit_km` of the query and within its own
// travel (WithinReach, rules.h): decided from the bounds above where they
// agree, exactly otherwise. distance_km is the exact haversine if it was
// computed, else -1; lower_bound_sq bounds the squared distance from below.
struct Reach {
  bool within;
  double distance_km;
  double lower_bound_sq;
};
Reach DecideReach(const DocRecord& doc, const CompiledQuery& query,
                  double limit_km);

class GeoGrid {
 public:
  using Cell = int64_t;
  // A grid cell's documents; travel_sorted: still the one range in
  // descending travel that BulkLoad laid out.
  struct CellDocs {
    Roaring docs;
    bool travel_sorted = false;
  };

  static Cell CellOf(double lat, double lon);

  // `doc` joins (Add) or leaves (Remove) the cell of (lat, lon); the cell
  // is then no longer travel-sorted.
  void Add(uint32_t doc, double lat, double lon);
  void Remove(uint32_t doc, double lat, double lon);
  // BulkLoad: `docs` (ascending) join `cell`, which is one travel-sorted
  // range exactly when `fresh` (the index was empty) and the cell had none.
  void AddRange(Cell cell, const std::vector<uint32_t>& docs, bool fresh);
  void swap(GeoGrid& other);

  // Documents in cells that are not travel-sorted.
  size_t unsorted_documents() const { return unsorted_documents_; }

  // A grid cell that may hold PAs within reach of a query: every point of
  // it is at least near_km and at most far_km from the query (bounds with
  // a margin for the sphere).
  struct ReachableCell {
    const CellDocs* cell;
    double near_km, far_km;
    // For a travel_sorted cell, the documents [first, end) that travel at
    // least near_km (never empty: a cell with none is left out).
    uint32_t first, end;
  };
  // The reachable cells, nearest first, and bounds on cos(latitude) over
  // all of them and the query.
  struct CellsInReach {
    std::vector<ReachableCell> cells;
    double cos_low = 0, cos_high = 1;
  };
  // `columns` gives the documents' travel (ScanRecord).
  CellsInReach ReachableCells(const CompiledQuery& query,
                              const IndexColumns& columns) const;

 private:
  void ChangeCell(uint32_t doc, double lat, double lon, bool add);

  absl::flat_hash_map<Cell, CellDocs> cells_;
  size_t unsorted_documents_ = 0;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_GEO_GRID_H_
