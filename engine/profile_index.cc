#include "engine/profile_index.h"

#include <algorithm>
#include <cmath>
#include <bit>
#include <cassert>
#include <numbers>
#include <ranges>

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

// Bounds on the haversine distance from the squared equirectangular
// distance E^2 = dy^2 + (c dx)^2 (km): with c the smaller cos(lat) of the
// two points, haversine >= 0.998 E whenever the differences are under 0.2
// rad (sin x >= x (1 - x^2/6)); with c the larger, haversine <=
// E / sqrt(1 - (E/2R)^2) <= 1.0002 E for E <= 200 km (sin x <= x and
// asin y <= y / sqrt(1 - y^2)). The factors below square those with room
// for rounding. Within the box the grid lets through, the differences are
// far below 0.2 rad; the scan checks that and falls back to the exact
// distance otherwise.
constexpr double kLowerSq = 0.995;   // (0.998)^2 = 0.996
constexpr double kUpperSq = 1.001;   // (1.0002)^2 = 1.0004
constexpr double kMaxBoundDeg = 10;  // 0.17 rad

size_t WordsFor(size_t codes) { return std::max<size_t>(1, (codes + 63) / 64); }

void SetBits(const std::vector<CodeId>& ids, uint64_t* words) {
  for (CodeId id : ids) words[id / 64] |= uint64_t{1} << (id % 64);
}

}  // namespace

ProfileIndex::ProfileIndex(const Taxonomy& taxonomy)
    : taxonomy_(taxonomy),
      skill_words_(WordsFor(taxonomy.skills().size())),
      interest_words_(WordsFor(taxonomy.interests().size())),
      language_words_(WordsFor(taxonomy.languages().size())),
      training_words_(WordsFor(taxonomy.training().size())),
      skills_(taxonomy.skills().size()),
      training_(taxonomy.training().size()),
      languages_(taxonomy.languages().size()) {}

ProfileIndex::Cell ProfileIndex::CellOf(double lat, double lon) {
  return Row(lat) * (2 * kColBias) + (Col(lon) + kColBias);
}

template <typename F>
void ProfileIndex::ForEachPostingOf(const CompiledProfile& p, F&& f) {
  if (p.active) f(active_);
  for (CodeId id : p.skills) f(skills_[id]);
  for (const TrainingHeld& held : p.training) f(training_[held.code]);
  for (CodeId id : p.languages) f(languages_[id]);
  for (int level = v1::DBS_NONE; level <= p.dbs_level; ++level) {
    f(dbs_at_least_[level]);
  }
  for (int level = 0; level <= p.register_level; ++level) {
    f(level_at_least_[level]);
  }
  f(gender_[p.gender]);
  if (p.driving_licence) f(driving_licence_);
  if (p.has_car) f(has_car_);
  if (p.ok_with_pets) f(ok_with_pets_);
  if (p.non_smoker) f(non_smoker_);
  if (p.short_notice_cover) f(short_notice_cover_);
}

template <typename Self, typename F>
void ProfileIndex::ForEachPosting(Self& self, F&& f) {
  f(self.active_);
  for (auto& b : self.skills_) f(b);
  for (auto& b : self.training_) f(b);
  for (auto& b : self.languages_) f(b);
  for (auto& b : self.dbs_at_least_) f(b);
  for (auto& b : self.level_at_least_) f(b);
  for (auto& b : self.gender_) f(b);
  for (auto* b : {&self.driving_licence_, &self.has_car_, &self.ok_with_pets_,
                  &self.non_smoker_, &self.short_notice_cover_}) {
    f(*b);
  }
}

void ProfileIndex::AddPostings(uint32_t doc, const CompiledProfile& p,
                               bool add) {
  ForEachPostingOf(p, [&](Roaring& bitmap) {
    if (add) {
      bitmap.add(doc);
    } else {
      bitmap.remove(doc);
    }
  });
  ChangeCell(doc, p, add);
  CountLocalAuthority(p, add ? +1 : -1);
}

void ProfileIndex::CountLocalAuthority(const CompiledProfile& p, int delta) {
  if (p.local_authority >= by_local_authority_.size()) {
    by_local_authority_.resize(p.local_authority + 1, 0);
  }
  by_local_authority_[p.local_authority] += delta;
}

void ProfileIndex::ChangeCell(uint32_t doc, const CompiledProfile& p,
                              bool add) {
  auto it = add ? cells_.try_emplace(CellOf(p.lat, p.lon)).first
                : cells_.find(CellOf(p.lat, p.lon));
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

void ProfileIndex::NoteChange(absl::string_view id) {
  // Relaxed is enough: the flag is set and cleared while the caller holds
  // the engine's lock on the index (shared or exclusive), and Put and Erase
  // run under its exclusive side, so that lock orders every access.
  if (!tracking_.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(changes_mu_);
  changed_.emplace(id);
}

void ProfileIndex::StartTrackingChanges() {
  tracking_.store(true, std::memory_order_relaxed);
}

std::vector<std::string> ProfileIndex::TakeChanges(bool keep_tracking) {
  std::lock_guard lock(changes_mu_);
  if (!keep_tracking) tracking_.store(false, std::memory_order_relaxed);
  std::vector<std::string> ids(changed_.begin(), changed_.end());
  changed_.clear();
  return ids;
}

uint32_t ProfileIndex::NewDocument() {
  if (!free_docs_.empty()) {
    const uint32_t doc = free_docs_.back();
    free_docs_.pop_back();
    return doc;
  }
  const uint32_t doc = static_cast<uint32_t>(docs_.size());
  docs_.emplace_back();
  scan_.emplace_back();
  geo_.emplace_back();
  hot_.emplace_back();
  availability_.emplace_back();
  skill_bits_.resize(skill_bits_.size() + skill_words_);
  interest_bits_.resize(interest_bits_.size() + interest_words_);
  language_bits_.resize(language_bits_.size() + language_words_);
  training_bits_.resize(training_bits_.size() + training_words_);
  return doc;
}

uint32_t ProfileIndex::ScanBits(const CompiledProfile& p) {
  auto bit = [](bool set, int position) {
    return set ? uint32_t{1} << position : 0u;
  };
  uint32_t bits = bit(p.active, kBitActive) |
                  bit(p.driving_licence, kBitLicence) |
                  bit(p.has_car, kBitCar) | bit(p.ok_with_pets, kBitPets) |
                  bit(p.non_smoker, kBitNonSmoker) |
                  bit(p.short_notice_cover, kBitShortNotice) |
                  bit(true, kBitGender + p.gender);
  for (int level = 1; level <= p.dbs_level; ++level) {
    bits |= bit(true, kBitDbsAtLeast + level);
  }
  for (int level = 1; level <= p.register_level; ++level) {
    bits |= bit(true, kBitLevelAtLeast + level);
  }
  return bits;
}

void ProfileIndex::SetColumns(uint32_t doc, const CompiledProfile& p) {
  float travel = static_cast<float>(p.max_travel_km);
  if (travel < p.max_travel_km) {
    travel = std::nextafter(travel, std::numeric_limits<float>::infinity());
  }
  scan_[doc] = {travel, ScanBits(p)};
  geo_[doc] = {static_cast<float>(p.lat), static_cast<float>(p.lon),
               p.dbs_update_service ? std::numeric_limits<int32_t>::max()
               : p.dbs_issued_on == kNoDate
                   ? std::numeric_limits<int32_t>::min()
                   : static_cast<int32_t>(p.dbs_issued_on),
               static_cast<int32_t>(p.min_hourly_rate_pence)};
  Hot& h = hot_[doc];
  h.lat = p.lat;
  h.lon = p.lon;
  h.cos_lat = p.cos_lat;
  h.max_travel_km = p.max_travel_km;
  h.last_active_seconds = p.last_active_seconds;
  h.last_active_nanos = p.last_active_nanos;
  h.dbs_issued_on = p.dbs_issued_on;
  h.min_hourly_rate_pence = static_cast<int32_t>(p.min_hourly_rate_pence);
  h.register_level = static_cast<uint8_t>(p.register_level);
  h.gender = static_cast<uint8_t>(p.gender);
  h.age_band = static_cast<uint8_t>(p.age_band);
  h.flags = (p.has_last_active ? kHasLastActive : 0) |
            (p.dbs_update_service ? kDbsUpdateService : 0);
  availability_[doc] = p.availability;
  auto fill = [doc](std::vector<uint64_t>& bits, size_t words,
                    const std::vector<CodeId>& ids) {
    uint64_t* row = bits.data() + doc * words;
    std::fill(row, row + words, 0);
    SetBits(ids, row);
  };
  fill(skill_bits_, skill_words_, p.skills);
  fill(interest_bits_, interest_words_, p.interests);
  fill(language_bits_, language_words_, p.languages);
  uint64_t* training = training_bits_.data() + doc * training_words_;
  std::fill(training, training + training_words_, 0);
  for (const TrainingHeld& held : p.training) {
    training[held.code / 64] |= uint64_t{1} << (held.code % 64);
  }
}

void ProfileIndex::Put(ProfilePtr profile) {
  ++writes_;
  NoteChange(profile->id);
  uint32_t doc;
  auto existing = doc_of_id_.find(absl::string_view(profile->id));
  if (existing != doc_of_id_.end()) {
    doc = existing->second;
    AddPostings(doc, *docs_[doc], /*add=*/false);
    doc_of_id_.erase(existing);  // its key views the old profile's id
  } else {
    doc = NewDocument();
  }
  docs_[doc] = std::move(profile);
  SetColumns(doc, *docs_[doc]);
  AddPostings(doc, *docs_[doc], /*add=*/true);
  doc_of_id_.emplace(absl::string_view(docs_[doc]->id), doc);
}

void ProfileIndex::BulkLoad(std::vector<ProfilePtr> profiles,
                            Profiles profiles_are) {
  // Grid-cell order, then descending travel (then input order): the
  // documents of a cell are consecutive, so a search reads them in order,
  // and it can stop at the first PA who does not travel far enough.
  const bool empty = docs_.empty();
  struct Key {
    Cell cell;
    double travel;
    uint32_t input;
  };
  std::vector<Key> order;
  order.reserve(profiles.size());
  for (size_t i = 0; i < profiles.size(); ++i) {
    order.push_back({CellOf(profiles[i]->lat, profiles[i]->lon),
                     profiles[i]->max_travel_km, static_cast<uint32_t>(i)});
  }
  std::sort(order.begin(), order.end(), [](const Key& a, const Key& b) {
    if (a.cell != b.cell) return a.cell < b.cell;
    if (a.travel != b.travel) return a.travel > b.travel;
    return a.input < b.input;
  });
  const size_t total = docs_.size() + profiles.size();
  docs_.reserve(total);
  scan_.reserve(total);
  geo_.reserve(total);
  hot_.reserve(total);
  availability_.reserve(total);
  skill_bits_.reserve(total * skill_words_);
  interest_bits_.reserve(total * interest_words_);
  language_bits_.reserve(total * language_words_);
  training_bits_.reserve(total * training_words_);
  doc_of_id_.reserve(total);
  // Postings are appended in ascending document order (cheap for a
  // bitmap: always its last container), then compacted once at the end.
  std::vector<std::pair<Cell, std::vector<uint32_t>>> cells;
  for (size_t i = 0; i < order.size(); ++i) {
    // The profiles are read in cell order, i.e. all over the heap: start
    // fetching a few ahead so their cache misses overlap.
    if (i + 8 < order.size()) {
      const char* ahead =
          reinterpret_cast<const char*>(profiles[order[i + 8].input].get());
      for (size_t line = 0; line < sizeof(CompiledProfile); line += 64) {
        __builtin_prefetch(ahead + line);
      }
    }
    const Cell cell = order[i].cell;
    const uint32_t input = order[i].input;
    const uint32_t doc = NewDocument();
    // kCopy: a deep copy, so profiles (and their lists) are laid out in
    // document order too: scans in document order then read memory in order.
    docs_[doc] = profiles_are == Profiles::kCopy
                     ? std::make_shared<const CompiledProfile>(*profiles[input])
                     : std::move(profiles[input]);
    profiles[input].reset();
    const CompiledProfile& p = *docs_[doc];
    doc_of_id_.emplace(absl::string_view(p.id), doc);
    SetColumns(doc, p);
    ForEachPostingOf(p, [doc](Roaring& bitmap) { bitmap.add(doc); });
    CountLocalAuthority(p, +1);
    if (cells.empty() || cells.back().first != cell) cells.push_back({cell, {}});
    cells.back().second.push_back(doc);
  }
  auto compact = [](Roaring& bitmap) {
    bitmap.runOptimize();
    bitmap.shrinkToFit();
  };
  ForEachPosting(*this, compact);
  auto add = [&](Roaring& bitmap, const std::vector<uint32_t>& docs) {
    bitmap.addMany(docs.size(), docs.data());
    compact(bitmap);
  };
  for (const auto& [cell, docs] : cells) {
    CellDocs& slot = cells_[cell];
    // Only a cell built here from nothing is one sorted range.
    const bool was_sorted = slot.travel_sorted;
    slot.travel_sorted = empty && slot.docs.isEmpty();
    if (!slot.travel_sorted) {
      unsorted_documents_ +=
          docs.size() + (was_sorted ? slot.docs.cardinality() : 0);
    }
    add(slot.docs, docs);
  }
}

bool ProfileIndex::Erase(absl::string_view id) {
  auto it = doc_of_id_.find(id);
  if (it == doc_of_id_.end()) return false;
  ++writes_;
  NoteChange(id);
  const uint32_t doc = it->second;
  doc_of_id_.erase(it);
  AddPostings(doc, *docs_[doc], /*add=*/false);
  docs_[doc].reset();
  // Erasure means everywhere: the columns keep nothing of the profile.
  scan_[doc] = ScanRecord{};  // no kBitActive: never a candidate
  geo_[doc] = GeoRecord{};
  hot_[doc] = Hot{};
  availability_[doc].reset();
  std::fill_n(skill_bits_.begin() + doc * skill_words_, skill_words_, 0);
  std::fill_n(interest_bits_.begin() + doc * interest_words_, interest_words_, 0);
  std::fill_n(language_bits_.begin() + doc * language_words_, language_words_, 0);
  std::fill_n(training_bits_.begin() + doc * training_words_, training_words_, 0);
  free_docs_.push_back(doc);
  return true;
}

const CompiledProfile* ProfileIndex::Find(absl::string_view id) const {
  auto it = doc_of_id_.find(id);
  return it == doc_of_id_.end() ? nullptr : docs_[it->second].get();
}

ProfileIndex::ProfilePtr ProfileIndex::Share(absl::string_view id) const {
  auto it = doc_of_id_.find(id);
  return it == doc_of_id_.end() ? nullptr : docs_[it->second];
}

std::vector<ProfileIndex::ProfilePtr> ProfileIndex::Snapshot() const {
  std::vector<ProfilePtr> all;
  all.reserve(size());
  // Copying a pointer counts a reference in its control block, which
  // make_shared put beside the profile, i.e. one cache miss per profile;
  // fetching a few ahead overlaps them (the caller holds a lock).
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < docs_.size(); ++i) {
    if (i + kAhead < docs_.size() && docs_[i + kAhead]) {
      __builtin_prefetch(
          reinterpret_cast<const char*>(docs_[i + kAhead].get()) - 16, 1);
    }
    if (docs_[i]) all.push_back(docs_[i]);
  }
  return all;
}

void ProfileIndex::Swap(ProfileIndex& other) {
  // Both refer to one taxonomy, so the column widths agree.
  assert(&taxonomy_ == &other.taxonomy_);
  using std::swap;
  swap(docs_, other.docs_);
  swap(free_docs_, other.free_docs_);
  swap(doc_of_id_, other.doc_of_id_);
  swap(scan_, other.scan_);
  swap(geo_, other.geo_);
  swap(hot_, other.hot_);
  swap(availability_, other.availability_);
  swap(skill_bits_, other.skill_bits_);
  swap(interest_bits_, other.interest_bits_);
  swap(language_bits_, other.language_bits_);
  swap(training_bits_, other.training_bits_);
  swap(active_, other.active_);
  swap(skills_, other.skills_);
  swap(training_, other.training_);
  swap(languages_, other.languages_);
  swap(dbs_at_least_, other.dbs_at_least_);
  swap(level_at_least_, other.level_at_least_);
  swap(gender_, other.gender_);
  swap(driving_licence_, other.driving_licence_);
  swap(has_car_, other.has_car_);
  swap(ok_with_pets_, other.ok_with_pets_);
  swap(non_smoker_, other.non_smoker_);
  swap(short_notice_cover_, other.short_notice_cover_);
  swap(cells_, other.cells_);
  swap(unsorted_documents_, other.unsorted_documents_);
  swap(by_local_authority_, other.by_local_authority_);
}

void ProfileIndex::ForEach(
    absl::FunctionRef<void(const CompiledProfile&)> visit) const {
  for (const auto& doc : docs_) {
    if (doc) visit(*doc);
  }
}

ProfileIndex::CellsInReach ProfileIndex::ReachableCells(
    const CompiledQuery& q) const {
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
      found.end = *std::partition_point(
          std::views::iota(found.first, end).begin(),
          std::views::iota(found.first, end).end(),
          [&](uint32_t doc) { return scan_[doc].max_travel_km >= near; });
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

namespace {

// Calls visit(block, n) with the members of `bitmap` in order, a block of
// up to 256 at a time (much faster than one-at-a-time iteration).
template <typename Visit>
void ForEachBlock(const Roaring& bitmap, Visit&& visit) {
  roaring_uint32_iterator_t it;
  roaring_init_iterator(&bitmap.roaring, &it);
  constexpr uint32_t kBlock = 256;
  uint32_t block[kBlock];
  for (uint32_t n; (n = roaring_read_uint32_iterator(&it, block, kBlock)) > 0;) {
    visit(block, n);
  }
}

// Whether every bit of `mask` (`words` words) is set in `row`.
bool HasAllBits(const uint64_t* row, const std::vector<uint64_t>& mask) {
  for (size_t w = 0; w < mask.size(); ++w) {
    if ((row[w] & mask[w]) != mask[w]) return false;
  }
  return true;
}

}  // namespace

// The plan. The set filters (PassesSetFilters) are answered per document
// from its 8-byte ScanRecord and the code bit columns, and distance, DBS
// age, rate and schedule coverage from the 16-byte GeoRecord where its
// bounds are conclusive (the caller decides the rest exactly, with
// DecideReach). Documents are found in the reachable cells, nearest first,
// skipping at once every PA whose travel is below the cell's nearest
// distance (a binary search in a cell BulkLoad laid out by travel); within
// a cell:
// - if the smallest posting of the set filters is rare (under a quarter
//   of all PAs: a rare skill, a language), only its documents, found by
//   seeking in its bitmap;
// - otherwise every document, read in order (BulkLoad numbers a cell's
//   documents consecutively, so that is a sequential read of the columns).
// A posting smaller than the number of reachable cells is walked whole
// instead. Either way every document passing the set filters and within
// reach is visited or counted exactly once (cells do not overlap), plus
// some that are not within reach, which the caller rejects.
template <typename OnCell, typename Skip, typename OnDoc, typename OnCounted>
void ProfileIndex::ForEachSetMatch(const CompiledQuery& q, OnCell&& on_cell,
                                   Skip&& skip, OnDoc&& on_doc,
                                   OnCounted&& on_counted) const {
  uint32_t bits = uint32_t{1} << kBitActive;
  auto require = [&](bool wanted, int position) {
    if (wanted) bits |= uint32_t{1} << position;
  };
  require(q.requires_driver, kBitLicence);
  require(q.requires_car, kBitCar);
  require(q.has_pets, kBitPets);
  require(q.requires_non_smoker, kBitNonSmoker);
  require(q.short_notice, kBitShortNotice);
  require(q.min_dbs_level > v1::DBS_NONE, kBitDbsAtLeast + q.min_dbs_level);
  require(q.min_register_level > 0, kBitLevelAtLeast + q.min_register_level);
  if (q.required_gender) require(true, kBitGender + *q.required_gender);
  auto mask_of = [](size_t words, const std::vector<CodeId>& ids) {
    std::vector<uint64_t> mask;
    if (!ids.empty()) {
      mask.assign(words, 0);
      SetBits(ids, mask.data());
    }
    return mask;
  };
  const std::vector<uint64_t> skills = mask_of(skill_words_, q.must_have_skills);
  const std::vector<uint64_t> languages =
      mask_of(language_words_, q.required_languages);
  const std::vector<uint64_t> training =
      mask_of(training_words_, q.required_training);
  // The code masks, after the record's bits: few documents get that far.
  auto has_codes = [&](uint32_t doc) {
    return HasAllBits(&skill_bits_[doc * skill_words_], skills) &&
           HasAllBits(&language_bits_[doc * language_words_], languages) &&
           HasAllBits(&training_bits_[doc * training_words_], training);
  };
  const bool any_codes =
      !skills.empty() || !languages.empty() || !training.empty();

  // The postings of the set filters.
  std::vector<const Roaring*> postings = {&active_};
  for (CodeId id : q.must_have_skills) postings.push_back(&skills_[id]);
  for (CodeId id : q.required_training) postings.push_back(&training_[id]);
  for (CodeId id : q.required_languages) postings.push_back(&languages_[id]);
  if (q.min_dbs_level > v1::DBS_NONE) {
    postings.push_back(&dbs_at_least_[q.min_dbs_level]);
  }
  if (q.min_register_level > 0) {
    postings.push_back(&level_at_least_[q.min_register_level]);
  }
  if (q.required_gender) postings.push_back(&gender_[*q.required_gender]);
  if (q.requires_driver) postings.push_back(&driving_licence_);
  if (q.requires_car) postings.push_back(&has_car_);
  if (q.has_pets) postings.push_back(&ok_with_pets_);
  if (q.requires_non_smoker) postings.push_back(&non_smoker_);
  if (q.short_notice) postings.push_back(&short_notice_cover_);
  // The smallest drives the plan below (every document must be in it).
  const Roaring* smallest = postings.front();
  uint64_t smallest_size = smallest->cardinality();
  for (const Roaring* posting : postings) {
    const uint64_t size = posting->cardinality();
    if (size < smallest_size) {
      smallest = posting;
      smallest_size = size;
    }
  }
  if (smallest_size == 0) return;

  const bool wants_week = q.needed_slots > 0;
  // The second stage's constants (GeoRecord): bounds on the distance from
  // float coordinates, as DecideReach's but with cos(latitude) bounded
  // over the whole region searched (set below; for postings, anywhere:
  // 0 and 1), and 0.1 km of margin for the floats.
  const float limit = static_cast<float>(
      std::min(q.max_distance_km.value_or(kMaxTravelKm), 1e6));
  const float qlat = static_cast<float>(q.lat), qlon = static_cast<float>(q.lon);
  constexpr float kKm = static_cast<float>(kKmPerDegree);
  constexpr float kFloatMarginKm = 0.1f;
  const bool check_dbs_age = q.min_dbs_level > v1::DBS_NONE;
  const bool checks_coverage =
      q.needed_slots > 0 && q.min_schedule_coverage > 0;
  const int32_t dbs_fresh_since = q.dbs_fresh_since;
  const int32_t max_rate = q.max_hourly_rate_pence > 0
                               ? static_cast<int32_t>(q.max_hourly_rate_pence)
                               : std::numeric_limits<int32_t>::max();
  float cos_low_sq = 0, cos_high_sq = 1;

  // Per cell: whether matches may be counted in bulk rather than visited
  // (on_cell's answer), and then the travel past the cell's farthest
  // point, from which a PA is within reach whatever its exact distance
  // (the float travel is rounded up, by at most ~1e-5 km; 1e-3 covers it).
  bool bulk = false, ask = false;
  float travel_past_cell = std::numeric_limits<float>::infinity();
  // The cell being read, and whether its answer may still change: the
  // page fills and its floor rises as documents are visited, so a cell
  // entered to be visited is asked again before each block (the first
  // cells are large; most of their documents come after the page fills).
  const ReachableCell* current = nullptr;
  auto set_visit = [&](CellVisit visit) {
    bulk = visit == CellVisit::kCountCertain;
    ask = visit == CellVisit::kAskSkip;
  };

  // A block of documents goes through stages, each cheaper per document
  // than the next and each keeping fewer: the ScanRecord (travel at least
  // `near`, every required bit; no branch per document); the code masks;
  // the schedule coverage, if the query sets a minimum; the GeoRecord
  // (distance bounds, DBS age, rate). Matches certain there are counted
  // there when the cell (or skip) allows. The rest are visited, fetching a
  // few ahead: they are scattered, so their columns' cache misses are
  // overlapped by hand.
  auto visit_block = [&](const uint32_t* block, uint32_t n, float near) {
    if (!bulk) set_visit(on_cell(*current));
    uint32_t selected[256];
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const ScanRecord& record = scan_[block[i]];
      selected[count] = block[i];
      count += (record.max_travel_km >= near) & ((record.bits & bits) == bits);
    }
    if (any_codes) {
      uint32_t kept = 0;
      for (uint32_t i = 0; i < count; ++i) {
        selected[kept] = selected[i];
        kept += has_codes(selected[i]) ? 1 : 0;
      }
      count = kept;
    }
    if (checks_coverage) {
      // As on_doc and PassesResidualFilters compute it, bit for bit.
      uint32_t kept = 0;
      for (uint32_t i = 0; i < count; ++i) {
        const int covered =
            static_cast<int>((q.schedule & availability_[selected[i]]).count());
        selected[kept] = selected[i];
        kept += static_cast<double>(covered) / q.needed_slots <
                        q.min_schedule_coverage
                    ? 0
                    : 1;
      }
      count = kept;
    }
    uint32_t kept = 0, counted = 0;
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t doc = selected[i];
      const GeoRecord& g = geo_[doc];
      const float travel = scan_[doc].max_travel_km;
      const float dlat = g.lat - qlat, dlon = g.lon - qlon;
      const float dy = dlat * kKm, dx = dlon * kKm;
      const float lower_sq =
          (dy * dy + cos_low_sq * dx * dx) * static_cast<float>(kLowerSq);
      const float upper_sq =
          (dy * dy + cos_high_sq * dx * dx) * static_cast<float>(kUpperSq);
      const float reach = std::min(limit, travel);
      const float outer = reach + kFloatMarginKm;
      const float inner = std::max(0.0f, reach - kFloatMarginKm);
      const bool bounded = (std::abs(dlat) < static_cast<float>(kMaxBoundDeg)) &
                           (std::abs(dlon) < static_cast<float>(kMaxBoundDeg));
      const bool out = bounded & (lower_sq > outer * outer);
      const bool stale = check_dbs_age & (g.dbs_key < dbs_fresh_since);
      const bool keep = !(out | stale | (g.min_hourly_rate_pence > max_rate));
      const bool in_reach =
          (travel >= travel_past_cell) | (bounded & (upper_sq < inner * inner));
      bool certain = keep & in_reach & bulk;
      if (keep & in_reach & ask) {
        // (The float lower bound, less its margin, bounds the distance.)
        certain = skip(doc, std::max(0.0f, std::sqrt(bounded ? lower_sq : 0.0f) -
                                               kFloatMarginKm));
      }
      counted += certain;
      selected[kept] = doc;
      kept += keep & !certain;
    }
    if (counted > 0) on_counted(counted);
    count = kept;
    constexpr uint32_t kAhead = 4;
    for (uint32_t i = 0; i < count; ++i) {
      if (i + kAhead < count) {
        __builtin_prefetch(&hot_[selected[i + kAhead]]);
        if (wants_week) __builtin_prefetch(&availability_[selected[i + kAhead]]);
      }
      on_doc(selected[i], scan_[selected[i]]);
    }
  };
  auto enter_cell = [&](const ReachableCell& cell) {
    current = &cell;
    set_visit(on_cell(cell));
    travel_past_cell = cell.far_km <= limit
                           ? static_cast<float>(cell.far_km + 1e-3)
                           : std::numeric_limits<float>::infinity();
  };

  // Whether the plan's certain matches can be counted from the set filters
  // alone: no residual filter reads the GeoRecord (DBS age, rate) or the
  // week. Then, in a travel-sorted cell counted in bulk, the PAs who travel
  // past the cell's farthest point are matches exactly when they pass the
  // record's bits and the code masks (count_past below), which costs a few
  // instructions a document rather than visit_block's distance bounds.
  const bool set_filters_decide =
      !checks_coverage && !check_dbs_age &&
      max_rate == std::numeric_limits<int32_t>::max();
  auto count_past = [&](uint32_t first, uint32_t end) {
    int64_t matches = 0;
    for (uint32_t doc = first; doc < end; ++doc) {
      matches += (scan_[doc].bits & bits) == bits && (!any_codes || has_codes(doc));
    }
    return matches;
  };

  const CellsInReach in_reach = ReachableCells(q);
  // A filter held by a handful of PAs in all (fewer than the reachable
  // cells): visit its documents wherever they are.
  if (smallest_size <= in_reach.cells.size()) {
    const ReachableCell anywhere{
        nullptr, 0, std::numeric_limits<double>::infinity(), 0, 0};
    enter_cell(anywhere);
    ForEachBlock(*smallest, [&](const uint32_t* block, uint32_t n) {
      visit_block(block, n, 0.0f);
    });
    return;
  }
  // A rare filter (under a quarter of all PAs, like a rare skill or a
  // language): within each cell, visit only its documents, found by
  // seeking in its bitmap, rather than read every document of the cell.
  const bool walk_smallest = smallest_size * 4 <= size();
  roaring_uint32_iterator_t it;
  roaring_init_iterator(&smallest->roaring, &it);
  // Slightly widened, so float rounding cannot tighten the bounds.
  cos_low_sq = static_cast<float>(in_reach.cos_low * in_reach.cos_low * 0.9999);
  cos_high_sq =
      static_cast<float>(in_reach.cos_high * in_reach.cos_high * 1.0001);
  for (const ReachableCell& cell : in_reach.cells) {
    enter_cell(cell);
    // near (rounded to float) may exceed near_km by a few metres; the
    // cell margin (1 km) absorbs that.
    const float near = static_cast<float>(cell.near_km);
    if (cell.cell->travel_sorted && walk_smallest) {
      uint32_t block[256];
      uint32_t n = 0;
      bool more = roaring_move_uint32_iterator_equalorlarger(&it, cell.first);
      while (more && it.current_value < cell.end) {
        block[n++] = it.current_value;
        if (n == 256) {
          visit_block(block, n, near);
          n = 0;
        }
        more = roaring_advance_uint32_iterator(&it);
      }
      if (n > 0) visit_block(block, n, near);
    } else if (cell.cell->travel_sorted) {
      uint32_t begin = cell.first;
      if (bulk && set_filters_decide &&
          travel_past_cell < std::numeric_limits<float>::infinity()) {
        // Descending travel: those who travel past the cell come first.
        begin = *std::partition_point(
            std::views::iota(cell.first, cell.end).begin(),
            std::views::iota(cell.first, cell.end).end(),
            [&](uint32_t doc) {
              return scan_[doc].max_travel_km >= travel_past_cell;
            });
        if (const int64_t matches = count_past(cell.first, begin); matches > 0) {
          on_counted(matches);
        }
      }
      uint32_t block[256];
      for (uint32_t start = begin; start < cell.end; start += 256) {
        const uint32_t n = std::min<uint32_t>(256, cell.end - start);
        for (uint32_t i = 0; i < n; ++i) block[i] = start + i;
        visit_block(block, n, near);
      }
    } else if (walk_smallest) {
      ForEachBlock(cell.cell->docs & *smallest,
                   [&](const uint32_t* block, uint32_t n) {
                     visit_block(block, n, near);
                   });
    } else {
      ForEachBlock(cell.cell->docs, [&](const uint32_t* block, uint32_t n) {
        visit_block(block, n, near);
      });
    }
  }
}

namespace {

// Per-query constants of the column scan: masks of the codes the query
// scores on, in the index's word layout.
struct ScanQuery {
  ScanQuery(const CompiledQuery& q, size_t skill_words, size_t interest_words,
            size_t language_words)
      : nice_skills(skill_words), interests(interest_words),
        preferred_languages(language_words) {
    SetBits(q.nice_to_have_skills, nice_skills.data());
    SetBits(q.interests, interests.data());
    SetBits(q.preferred_languages, preferred_languages.data());
    for (v1::Gender g : q.preferred_genders) genders |= 1u << g;
    for (v1::AgeBand b : q.preferred_age_bands) age_bands |= 1u << b;
  }
  std::vector<uint64_t> nice_skills, interests, preferred_languages;
  uint32_t genders = 0, age_bands = 0;
};

int SharedBits(const uint64_t* a, const std::vector<uint64_t>& b) {
  int n = 0;
  for (size_t w = 0; w < b.size(); ++w) n += std::popcount(a[w] & b[w]);
  return n;
}

// An upper bound on the distance component 0.5^(d/8) given d >= lower_km:
// the value at lower_km rounded down to a 1/16 km step (the component
// falls with distance). Beyond the table, 0.5^16 bounds it (d >= 128 km).
double DistanceValueBound(double lower_km) {
  constexpr int kSteps = 2048;  // 1/16 km steps up to 128 km
  static const std::array<double, kSteps> table = [] {
    std::array<double, kSteps> values;
    for (int i = 0; i < kSteps; ++i) values[i] = std::pow(0.5, i / 16.0 / 8.0);
    return values;
  }();
  const double step = std::floor(std::max(0.0, lower_km) * 16);
  return step < kSteps ? table[static_cast<int>(step)] : std::pow(0.5, 16.0);
}


}  // namespace

ProfileIndex::Reach ProfileIndex::DecideReach(const Hot& h,
                                              const CompiledQuery& q,
                                              double limit) {
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
  return {distance <= h.max_travel_km && distance <= limit, distance,
          bounds_hold ? lower_sq : 0};
}

void ProfileIndex::ForEachCandidate(
    const CompiledQuery& q,
    absl::FunctionRef<void(const CompiledProfile&)> visit) const {
  const double limit = q.max_distance_km.value_or(kMaxTravelKm);
  ForEachSetMatch(
      q,
      [](const ReachableCell&) { return CellVisit::kVisit; },
      [](uint32_t, float) { return false; },
      [&](uint32_t doc, const ScanRecord&) {
        if (DecideReach(hot_[doc], q, limit).within) visit(*docs_[doc]);
      },
      [](int64_t) {});
}

void ProfileIndex::Search(const CompiledQuery& q,
                          SearchCollector& collector) const {
  const ScanQuery scan(q, skill_words_, interest_words_, language_words_);
  std::vector<uint32_t> excluded;  // documents of exclude_ids, sorted
  for (const std::string& id : q.exclude_ids) {
    auto it = doc_of_id_.find(id);
    if (it != doc_of_id_.end()) excluded.push_back(it->second);
  }
  std::sort(excluded.begin(), excluded.end());
  const double limit = q.max_distance_km.value_or(kMaxTravelKm);
  const bool check_dbs_age = q.min_dbs_level > v1::DBS_NONE;
  const bool scores_training = q.applies[kTraining];
  // Whether the plan alone can tell a match (ForEachSetMatch judges
  // distance, DBS age, rate and schedule coverage): no exclusion or
  // training expiry to check.
  const bool bulk_countable = excluded.empty() && q.required_training.empty();
  // Weights of the applied components (0 for the others) and 1/sum, for
  // the score bound; with no weight every score is 0 and nothing is pruned.
  std::array<double, kComponentCount> applied{};
  double total_weight = 0;
  for (int c = 0; c < kComponentCount; ++c) {
    if (q.applies[c]) applied[c] = q.weights[c];
    total_weight += applied[c];
  }
  const double inverse_weight = total_weight > 0 ? 1 / total_weight : 0;
  const double weight_but_distance = total_weight - applied[kDistance];

  // Per cell: its bounds, and whether its matches can still enter the
  // page. Cells come nearest first, so the page fills with near PAs early
  // and, once even a perfect PA at a cell's nearest point could not enter
  // it (every component 1 but distance), the cell's matches are only
  // counted. The rounded score can exceed the unrounded bound by at most
  // 5e-7, hence the margin.
  bool count_only = false;
  auto on_cell = [&](const ReachableCell& next) {
    count_only =
        collector.PageFull() &&
        (weight_but_distance +
         applied[kDistance] * DistanceValueBound(next.near_km)) *
                    inverse_weight +
                1e-6 <
            collector.KeptScoreFloor();
    // No score needed, and no residual filter the plan cannot judge: the
    // plan may count matches it is certain of without visiting them.
    if (!bulk_countable) return CellVisit::kVisit;
    if (count_only) return CellVisit::kCountCertain;
    return collector.PageFull() ? CellVisit::kAskSkip : CellVisit::kVisit;
  };
  auto on_counted = [&](int64_t matches) { collector.CountMatches(matches); };
  // A certain match in a scoring cell whose score cannot enter the page
  // even with its distance at the plan's lower bound, its skills and
  // interests as held and every other component 1, needs only counting.
  auto skip = [&](uint32_t doc, float lower_km) {
    if (!collector.PageFull()) return false;
    double best = weight_but_distance +
                  applied[kDistance] * DistanceValueBound(lower_km);
    if (q.applies[kSkills]) {
      best -= applied[kSkills] *
              (1 - static_cast<double>(SharedBits(
                       &skill_bits_[doc * skill_words_], scan.nice_skills)) /
                       q.nice_to_have_skills.size());
    }
    if (q.applies[kInterests]) {
      best -= applied[kInterests] *
              (1 - static_cast<double>(SharedBits(
                       &interest_bits_[doc * interest_words_], scan.interests)) /
                       q.interests.size());
    }
    return best * inverse_weight + 1e-6 < collector.KeptScoreFloor();
  };
  auto on_doc = [&](uint32_t doc, const ScanRecord&) {
    const Hot& h = hot_[doc];
    const Reach reach = DecideReach(h, q, limit);
    if (!reach.within) return;
    double distance = reach.distance_km;

    // The other residual filters, as PassesResidualFilters.
    if (!excluded.empty() &&
        std::binary_search(excluded.begin(), excluded.end(), doc)) {
      return;
    }
    if (!q.required_training.empty()) {
      const CompiledProfile& p = *docs_[doc];
      if (!std::all_of(q.required_training.begin(), q.required_training.end(),
                       [&](CodeId code) {
                         return TrainingUnexpired(p, code, q.as_of);
                       })) {
        return;
      }
    }
    if (check_dbs_age && !(h.flags & kDbsUpdateService) &&
        (h.dbs_issued_on == kNoDate || h.dbs_issued_on < q.dbs_fresh_since)) {
      return;
    }
    int covered = 0;
    if (q.needed_slots > 0 && (!count_only || q.min_schedule_coverage > 0)) {
      covered = static_cast<int>((q.schedule & availability_[doc]).count());
      if (static_cast<double>(covered) / q.needed_slots <
          q.min_schedule_coverage) {
        return;
      }
    }
    if (q.max_hourly_rate_pence > 0 &&
        h.min_hourly_rate_pence > q.max_hourly_rate_pence) {
      return;
    }
    collector.CountMatch();
    if (count_only) return;

    // Component values as ComponentValues computes them, bit for bit,
    // cheapest first. `best` is the weighted score this PA could still
    // reach (components not yet computed count as 1, distance at its
    // bound): once the page is full and `best` is below its floor, the PA
    // cannot enter it and the rest is skipped. The rounded score can exceed
    // the unrounded bound by at most 5e-7, hence the margin. (The bound
    // need not match WeightedScore to the bit: the margin dwarfs any
    // difference in rounding.)
    std::array<double, kComponentCount> s{};
    const bool full = collector.PageFull();
    const double floor = full ? collector.KeptScoreFloor() : 0;
    double best = total_weight;
    auto hopeless = [&](double weight, double value) {
      best -= weight * (1 - value);
      return full && best * inverse_weight + 1e-6 < floor;
    };
    if (full &&
        hopeless(applied[kDistance],
                 DistanceValueBound(distance >= 0
                                        ? distance
                                        : std::sqrt(reach.lower_bound_sq)))) {
      return;
    }
    if (q.applies[kSkills]) {
      s[kSkills] = static_cast<double>(SharedBits(
                       &skill_bits_[doc * skill_words_], scan.nice_skills)) /
                   q.nice_to_have_skills.size();
      if (hopeless(applied[kSkills], s[kSkills])) return;
    }
    if (q.applies[kSchedule]) {
      s[kSchedule] = static_cast<double>(covered) / q.needed_slots;
      if (hopeless(applied[kSchedule], s[kSchedule])) return;
    }
    if (q.applies[kInterests]) {
      s[kInterests] = static_cast<double>(SharedBits(
                          &interest_bits_[doc * interest_words_],
                          scan.interests)) /
                      q.interests.size();
      if (hopeless(applied[kInterests], s[kInterests])) return;
    }
    if (q.applies[kPreferences]) {
      int lists = 0, hits = 0;
      if (!q.preferred_languages.empty()) {
        ++lists;
        hits += SharedBits(&language_bits_[doc * language_words_],
                           scan.preferred_languages) > 0;
      }
      if (!q.preferred_genders.empty()) {
        ++lists;
        hits += (scan.genders >> h.gender) & 1;
      }
      if (!q.preferred_age_bands.empty()) {
        ++lists;
        hits += (scan.age_bands >> h.age_band) & 1;
      }
      s[kPreferences] = static_cast<double>(hits) / lists;
    }
    s[kTrust] = h.register_level / 4.0;
    s[kRecency] = (h.flags & kHasLastActive)
                      ? RecencyValue(DaysSinceActive(q.as_of_start_seconds,
                                                     h.last_active_seconds,
                                                     h.last_active_nanos))
                      : 0.0;
    if (hopeless(applied[kPreferences], s[kPreferences]) |
        hopeless(applied[kTrust], s[kTrust]) |
        hopeless(applied[kRecency], s[kRecency])) {
      return;
    }
    const CompiledProfile& p = *docs_[doc];
    if (scores_training) {
      int held = 0;
      for (CodeId code : q.preferred_training) {
        held += TrainingUnexpired(p, code, q.as_of) ? 1 : 0;
      }
      s[kTraining] = static_cast<double>(held) / q.preferred_training.size();
    }
    if (distance < 0) {
      distance = HaversineKm(q.lat, q.lon, q.cos_lat, h.lat, h.lon, h.cos_lat);
    }
    s[kDistance] = std::pow(0.5, distance / 8.0);
    collector.Offer({Score(q, s), distance, &p});
  };
  ForEachSetMatch(q, on_cell, skip, on_doc, on_counted);
}

size_t ProfileIndex::PostingBytes() const {
  size_t bytes = 0;
  ForEachPosting(*this, [&](const Roaring& b) { bytes += b.getSizeInBytes(false); });
  for (const auto& [cell, docs] : cells_) bytes += docs.docs.getSizeInBytes(false);
  return bytes;
}

}  // namespace pamatch
