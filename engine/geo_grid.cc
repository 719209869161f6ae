#include "engine/geo_grid.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "engine/profile.h"
#include "engine/rules.h"

namespace pamatch {
namespace {

constexpr double kCellLatDeg = 0.05;
constexpr double kCellLonDeg = 0.08;
// Cells are pruned on the distance from the query to the nearest corner or
// edge point of the cell in lat/lon terms; on a sphere the true nearest
// point can be a little closer (at most ~0.1 km for a 200 km radius and
// these cell sizes). The margin keeps pruning conservative.
constexpr double kCellMarginKm = 1.0;

int64_t Row(double lat) { return static_cast<int64_t>(std::floor(lat / kCellLatDeg)); }
int64_t Col(double lon) { return static_cast<int64_t>(std::floor(lon / kCellLonDeg)); }
constexpr int64_t kColBias = 1 << 12;

}  // namespace

GeoGrid::Cell GeoGrid::CellOf(double lat, double lon) {
  return Row(lat) * (2 * kColBias) + (Col(lon) + kColBias);
}

void GeoGrid::Add(uint32_t doc, double lat, double lon) {
  ChangeCell(doc, lat, lon, /*add=*/true);
}

void GeoGrid::Remove(uint32_t doc, double lat, double lon) {
  ChangeCell(doc, lat, lon, /*add=*/false);
}

void GeoGrid::ChangeCell(uint32_t doc, double lat, double lon, bool add) {
  auto it = add ? cells_.try_emplace(CellOf(lat, lon)).first
                : cells_.find(CellOf(lat, lon));
  CellDocs& cell = it->second;
  if (cell.travel_sorted) {
    // The whole cell now counts as unsorted; `doc` is added below.
    unsorted_documents_ += cell.docs.cardinality();
    cell.travel_sorted = false;
  }
  if (add) {
    cell.docs.add(doc);
    ++unsorted_documents_;
  } else {
    cell.docs.remove(doc);
    --unsorted_documents_;
    if (cell.docs.isEmpty()) cells_.erase(it);
  }
}

void GeoGrid::AddRange(Cell cell, const std::vector<uint32_t>& docs,
                       bool fresh) {
  CellDocs& slot = cells_[cell];
  const bool was_sorted = slot.travel_sorted;
  slot.travel_sorted = fresh && slot.docs.isEmpty();
  if (!slot.travel_sorted) {
    unsorted_documents_ +=
        docs.size() + (was_sorted ? slot.docs.cardinality() : 0);
  }
  slot.docs.addMany(docs.size(), docs.data());
  slot.docs.runOptimize();
  slot.docs.shrinkToFit();
}

void GeoGrid::swap(GeoGrid& other) {
  cells_.swap(other.cells_);
  std::swap(unsorted_documents_, other.unsorted_documents_);
}

Reach DecideReach(const DocRecord& h, const CompiledQuery& q, double limit) {
  const double reach = std::min(limit, h.max_travel_km);
  const double dlat_deg = h.lat - q.lat, dlon_deg = h.lon - q.lon;
  const double dy = dlat_deg * kKmPerDegree, dx = dlon_deg * kKmPerDegree;
  const double c_min = std::min(h.cos_lat, q.cos_lat);
  const double c_max = std::max(h.cos_lat, q.cos_lat);
  const double lower_sq = (dy * dy + c_min * c_min * dx * dx) * kLowerSq;
  const double upper_sq = (dy * dy + c_max * c_max * dx * dx) * kUpperSq;
  const bool bounds_hold = std::abs(dlat_deg) < kMaxBoundDeg &&
                           std::abs(dlon_deg) < kMaxBoundDeg;
  if (bounds_hold && upper_sq <= reach * reach) return {true, -1, lower_sq};
  if (bounds_hold && lower_sq > reach * reach) return {false, -1, lower_sq};
  const double distance =
      HaversineKm(q.lat, q.lon, q.cos_lat, h.lat, h.lon, h.cos_lat);
  return {WithinReach(distance, h.max_travel_km, limit), distance,
          bounds_hold ? lower_sq : 0};
}

GeoGrid::CellsInReach GeoGrid::ReachableCells(
    const CompiledQuery& q, const IndexColumns& columns) const {
  const double radius_km =
      std::min(DistanceLimitKm(q.max_distance_km), kMaxTravelKm) +
      kCellMarginKm;
  const double dlat = radius_km / kKmPerDegree;
  const double poleward = std::min(89.0, std::max(std::abs(q.lat - dlat),
                                                  std::abs(q.lat + dlat)));
  const double dlon =
      dlat / std::cos(poleward * std::numbers::pi / 180.0);
  const int64_t row0 = Row(q.lat - dlat), row1 = Row(q.lat + dlat);
  const int64_t col0 = Col(q.lon - dlon), col1 = Col(q.lon + dlon);
  constexpr double kDegree = std::numbers::pi / 180.0;
  const double height_km = kCellLatDeg * kKmPerDegree;

  // What a cell's distance bounds need of its row, computed once a row.
  struct RowGeometry {
    double near_lat, dy, c_min, c_max, diagonal_km;
  };
  auto row_geometry = [&](int64_t row) {
    const double lat0 = row * kCellLatDeg;
    const double near_lat = std::clamp(q.lat, lat0, lat0 + kCellLatDeg);
    const double cos_near = std::cos(near_lat * kDegree);
    // The row's wider, equatorward edge bounds its cells' width.
    const double width_km =
        kCellLonDeg * kKmPerDegree *
        std::cos(std::min(std::abs(lat0), std::abs(lat0 + kCellLatDeg)) *
                 kDegree);
    return RowGeometry{near_lat, (near_lat - q.lat) * kKmPerDegree,
                       std::min(q.cos_lat, cos_near),
                       std::max(q.cos_lat, cos_near),
                       std::hypot(width_km, height_km)};
  };
  CellsInReach out;
  std::vector<ReachableCell>& reachable = out.cells;
  {
    // Every cell considered lies within rows row0..row1.
    const double lat_low = row0 * kCellLatDeg, lat_high = (row1 + 1) * kCellLatDeg;
    const double abs_high = std::max(std::abs(lat_low), std::abs(lat_high));
    const double abs_low = lat_low <= 0 && lat_high >= 0
                               ? 0
                               : std::min(std::abs(lat_low), std::abs(lat_high));
    out.cos_low = std::min(q.cos_lat, std::cos(std::min(90.0, abs_high) * kDegree));
    out.cos_high = std::max(q.cos_lat, std::cos(abs_low * kDegree));
  }
  auto consider = [&](const RowGeometry& g, int64_t col,
                      const CellDocs& cell) {
    if (col < col0 || col > col1) return;
    const double lon0 = col * kCellLonDeg;
    const double near_lon = std::clamp(q.lon, lon0, lon0 + kCellLonDeg);
    // Bounds on the distance to the cell's nearest point (the clamped
    // point; on a sphere the true nearest point can be up to ~0.1 km
    // closer, which kCellMarginKm covers), as in DecideReach.
    const double dx = (near_lon - q.lon) * kKmPerDegree;
    double lower, upper;
    if (std::abs(g.near_lat - q.lat) < kMaxBoundDeg &&
        std::abs(near_lon - q.lon) < kMaxBoundDeg) {
      lower = std::sqrt((g.dy * g.dy + g.c_min * g.c_min * dx * dx) * kLowerSq);
      upper = std::sqrt((g.dy * g.dy + g.c_max * g.c_max * dx * dx) * kUpperSq);
    } else {
      lower = upper = HaversineKm(q.lat, q.lon, g.near_lat, near_lon);
    }
    if (lower > radius_km) return;
    ReachableCell found{&cell, std::max(0.0, lower - kCellMarginKm),
                        upper + g.diagonal_km + kCellMarginKm, 0, 0};
    if (cell.travel_sorted) {
      // One range in descending travel: keep the prefix that travels at
      // least near_km (as the scan compares it, in float).
      found.first = cell.docs.minimum();
      const uint32_t end = cell.docs.maximum() + 1;
      const float near = static_cast<float>(found.near_km);
      found.end = PartitionPoint(found.first, end, [&](uint32_t doc) {
        return columns.scan(doc).max_travel_km >= near;
      });
      if (found.end == found.first) return;  // nobody travels that far
    }
    reachable.push_back(found);
  };
  const int64_t box_cells = (row1 - row0 + 1) * (col1 - col0 + 1);
  if (box_cells > static_cast<int64_t>(cells_.size())) {
    for (const auto& [key, cell] : cells_) {
      const int64_t row = static_cast<int64_t>(
          std::floor(static_cast<double>(key) / (2 * kColBias)));
      if (row < row0 || row > row1) continue;
      consider(row_geometry(row), key - row * (2 * kColBias) - kColBias, cell);
    }
  } else {
    for (int64_t row = row0; row <= row1; ++row) {
      const RowGeometry g = row_geometry(row);
      for (int64_t col = col0; col <= col1; ++col) {
        auto it = cells_.find(row * (2 * kColBias) + (col + kColBias));
        if (it != cells_.end()) consider(g, col, it->second);
      }
    }
  }
  std::sort(reachable.begin(), reachable.end(),
            [](const ReachableCell& a, const ReachableCell& b) {
              return a.near_km < b.near_km;
            });
  return out;
}

}  // namespace pamatch
