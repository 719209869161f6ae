#include "engine/profile_index.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "engine/scoring.h"

namespace pamatch {
namespace {

constexpr double kCellLatDeg = 0.05;
constexpr double kCellLonDeg = 0.08;
// Cells are pruned on the distance from the query to the nearest corner or
// edge point of the cell in lat/lon terms; on a sphere the true nearest
// point can be a little closer (at most ~0.1 km for a 200 km radius and
// these cell sizes). The margin keeps pruning conservative.
constexpr double kCellMarginKm = 1.0;
constexpr double kKmPerDegree = kEarthRadiusKm * std::numbers::pi / 180.0;

int64_t Row(double lat) { return static_cast<int64_t>(std::floor(lat / kCellLatDeg)); }
int64_t Col(double lon) { return static_cast<int64_t>(std::floor(lon / kCellLonDeg)); }
constexpr int64_t kColBias = 1 << 12;

}  // namespace

ProfileIndex::ProfileIndex(const Taxonomy& taxonomy)
    : taxonomy_(taxonomy),
      skills_(taxonomy.skills().size()),
      training_(taxonomy.training().size()),
      languages_(taxonomy.languages().size()) {}

ProfileIndex::Cell ProfileIndex::CellOf(double lat, double lon) {
  return Row(lat) * (2 * kColBias) + (Col(lon) + kColBias);
}

void ProfileIndex::AddPostings(uint32_t doc, const CompiledProfile& p,
                               bool add) {
  auto apply = [&](Roaring& bitmap) {
    if (add) {
      bitmap.add(doc);
    } else {
      bitmap.remove(doc);
    }
  };
  if (p.active) apply(active_);
  for (CodeId id : p.skills) apply(skills_[id]);
  for (const TrainingHeld& held : p.training) apply(training_[held.code]);
  for (CodeId id : p.languages) apply(languages_[id]);
  for (int level = v1::DBS_NONE; level <= p.dbs_level; ++level) {
    apply(dbs_at_least_[level]);
  }
  for (int level = 0; level <= p.register_level; ++level) {
    apply(level_at_least_[level]);
  }
  apply(gender_[p.gender]);
  if (p.driving_licence) apply(driving_licence_);
  if (p.has_car) apply(has_car_);
  if (p.ok_with_pets) apply(ok_with_pets_);
  if (p.non_smoker) apply(non_smoker_);
  if (p.short_notice_cover) apply(short_notice_cover_);
  const Cell cell = CellOf(p.lat, p.lon);
  if (add) {
    cells_[cell].add(doc);
  } else {
    auto it = cells_.find(cell);
    it->second.remove(doc);
    if (it->second.isEmpty()) cells_.erase(it);
  }
}

void ProfileIndex::Put(std::unique_ptr<const CompiledProfile> profile) {
  uint32_t doc;
  auto existing = doc_of_id_.find(absl::string_view(profile->id));
  if (existing != doc_of_id_.end()) {
    doc = existing->second;
    AddPostings(doc, *docs_[doc], /*add=*/false);
    doc_of_id_.erase(existing);  // its key views the old profile's id
  } else if (!free_docs_.empty()) {
    doc = free_docs_.back();
    free_docs_.pop_back();
  } else {
    doc = static_cast<uint32_t>(docs_.size());
    docs_.emplace_back();
    reach_.emplace_back();
  }
  docs_[doc] = std::move(profile);
  const CompiledProfile& p = *docs_[doc];
  reach_[doc] = {static_cast<float>(p.lat), static_cast<float>(p.lon),
                 static_cast<float>(p.cos_lat),
                 static_cast<float>(p.max_travel_km)};
  AddPostings(doc, *docs_[doc], /*add=*/true);
  doc_of_id_.emplace(absl::string_view(docs_[doc]->id), doc);
}

bool ProfileIndex::Erase(absl::string_view id) {
  auto it = doc_of_id_.find(id);
  if (it == doc_of_id_.end()) return false;
  const uint32_t doc = it->second;
  doc_of_id_.erase(it);
  AddPostings(doc, *docs_[doc], /*add=*/false);
  docs_[doc].reset();
  free_docs_.push_back(doc);
  return true;
}

const CompiledProfile* ProfileIndex::Find(absl::string_view id) const {
  auto it = doc_of_id_.find(id);
  return it == doc_of_id_.end() ? nullptr : docs_[it->second].get();
}

void ProfileIndex::ForEach(
    absl::FunctionRef<void(const CompiledProfile&)> visit) const {
  for (const auto& doc : docs_) {
    if (doc) visit(*doc);
  }
}

Roaring ProfileIndex::GeoCandidates(const CompiledQuery& q) const {
  const double radius_km =
      std::min(q.max_distance_km.value_or(kMaxTravelKm), kMaxTravelKm) +
      kCellMarginKm;
  const double dlat = radius_km / kKmPerDegree;
  const double poleward = std::min(89.0, std::max(std::abs(q.lat - dlat),
                                                  std::abs(q.lat + dlat)));
  const double dlon =
      dlat / std::cos(poleward * std::numbers::pi / 180.0);
  const int64_t row0 = Row(q.lat - dlat), row1 = Row(q.lat + dlat);
  const int64_t col0 = Col(q.lon - dlon), col1 = Col(q.lon + dlon);

  std::vector<const Roaring*> selected;
  auto consider = [&](int64_t row, int64_t col, const Roaring& bitmap) {
    if (row < row0 || row > row1 || col < col0 || col > col1) return;
    const double lat0 = row * kCellLatDeg, lon0 = col * kCellLonDeg;
    const double near_lat = std::clamp(q.lat, lat0, lat0 + kCellLatDeg);
    const double near_lon = std::clamp(q.lon, lon0, lon0 + kCellLonDeg);
    if (HaversineKm(q.lat, q.lon, near_lat, near_lon) <= radius_km) {
      selected.push_back(&bitmap);
    }
  };
  const int64_t box_cells = (row1 - row0 + 1) * (col1 - col0 + 1);
  if (box_cells > static_cast<int64_t>(cells_.size())) {
    for (const auto& [cell, bitmap] : cells_) {
      const int64_t row = static_cast<int64_t>(
          std::floor(static_cast<double>(cell) / (2 * kColBias)));
      const int64_t col = cell - row * (2 * kColBias) - kColBias;
      consider(row, col, bitmap);
    }
  } else {
    for (int64_t row = row0; row <= row1; ++row) {
      for (int64_t col = col0; col <= col1; ++col) {
        auto it = cells_.find(row * (2 * kColBias) + (col + kColBias));
        if (it != cells_.end()) consider(row, col, it->second);
      }
    }
  }
  if (selected.empty()) return Roaring();
  return Roaring::fastunion(selected.size(), selected.data());
}

void ProfileIndex::ForEachCandidate(
    const CompiledQuery& q,
    absl::FunctionRef<void(const CompiledProfile&)> visit) const {
  std::vector<const Roaring*> filters = {&active_};
  for (CodeId id : q.must_have_skills) filters.push_back(&skills_[id]);
  for (CodeId id : q.required_training) filters.push_back(&training_[id]);
  for (CodeId id : q.required_languages) filters.push_back(&languages_[id]);
  if (q.min_dbs_level > v1::DBS_NONE) {
    filters.push_back(&dbs_at_least_[q.min_dbs_level]);
  }
  if (q.min_register_level > 0) {
    filters.push_back(&level_at_least_[q.min_register_level]);
  }
  if (q.required_gender) filters.push_back(&gender_[*q.required_gender]);
  if (q.requires_driver) filters.push_back(&driving_licence_);
  if (q.requires_car) filters.push_back(&has_car_);
  if (q.has_pets) filters.push_back(&ok_with_pets_);
  if (q.requires_non_smoker) filters.push_back(&non_smoker_);
  if (q.short_notice) filters.push_back(&short_notice_cover_);
  std::sort(filters.begin(), filters.end(),
            [](const Roaring* a, const Roaring* b) {
              return a->cardinality() < b->cardinality();
            });
  if (filters.front()->isEmpty()) return;
  Roaring candidates = *filters.front();
  for (size_t i = 1; i < filters.size() && !candidates.isEmpty(); ++i) {
    candidates &= *filters[i];
  }
  if (!candidates.isEmpty()) candidates &= GeoCandidates(q);
  // A flat-earth lower bound on the distance, with the smaller cos(lat) of
  // the two points, shrunk by 2% and 0.1 km for float rounding and the
  // sphere's curvature: never above the haversine distance for any two UK
  // points, so a doc rejected here is truly out of reach.
  const double limit = q.max_distance_km.value_or(kMaxTravelKm);
  for (uint32_t doc : candidates) {
    const Reach& r = reach_[doc];
    const double dy = (r.lat - q.lat) * kKmPerDegree;
    const double dx =
        (r.lon - q.lon) * kKmPerDegree * std::min<double>(r.cos_lat, q.cos_lat);
    const double lower_bound_km = std::sqrt(dx * dx + dy * dy) * 0.98 - 0.1;
    if (lower_bound_km > std::min<double>(limit, r.max_travel_km)) continue;
    visit(*docs_[doc]);
  }
}

size_t ProfileIndex::PostingBytes() const {
  size_t bytes = active_.getSizeInBytes(false);
  auto add_all = [&](const auto& bitmaps) {
    for (const Roaring& b : bitmaps) bytes += b.getSizeInBytes(false);
  };
  add_all(skills_);
  add_all(training_);
  add_all(languages_);
  add_all(dbs_at_least_);
  add_all(level_at_least_);
  add_all(gender_);
  for (const Roaring* b : {&driving_licence_, &has_car_, &ok_with_pets_,
                           &non_smoker_, &short_notice_cover_}) {
    bytes += b->getSizeInBytes(false);
  }
  for (const auto& [cell, bitmap] : cells_) bytes += bitmap.getSizeInBytes(false);
  return bytes;
}

}  // namespace pamatch
