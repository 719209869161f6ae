#include "engine/profile_index.h"

#include <algorithm>
#include <cmath>
#include <bit>
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

// Travel bands: travel_at_least_[b] holds the PAs whose max_travel_km is at
// least kTravelBandKm[b]. A cell whose nearest point is D km from the query
// can only contribute PAs who travel at least D, so its documents are
// intersected with the band just below D: most PAs travel 5-25 km, so the
// outer cells of a wide search shrink a lot before any column is read.
constexpr std::array<double, 16> kTravelBandKm = {
    0, 2, 4, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100};

// The band of a cell at least `min_km` away.
size_t TravelBandFor(double min_km) {
  size_t band = 0;
  while (band + 1 < kTravelBandKm.size() && kTravelBandKm[band + 1] <= min_km) {
    ++band;
  }
  return band;
}

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
  for (size_t b = 1; b < kTravelBandKm.size(); ++b) {
    if (p.max_travel_km >= kTravelBandKm[b]) apply(travel_at_least_[b]);
  }
  const Cell cell = CellOf(p.lat, p.lon);
  if (add) {
    cells_[cell].add(doc);
  } else {
    auto it = cells_.find(cell);
    it->second.remove(doc);
    if (it->second.isEmpty()) cells_.erase(it);
  }
}

uint32_t ProfileIndex::NewDocument() {
  if (!free_docs_.empty()) {
    const uint32_t doc = free_docs_.back();
    free_docs_.pop_back();
    return doc;
  }
  const uint32_t doc = static_cast<uint32_t>(docs_.size());
  docs_.emplace_back();
  hot_.emplace_back();
  availability_.emplace_back();
  skill_bits_.resize(skill_bits_.size() + skill_words_);
  interest_bits_.resize(interest_bits_.size() + interest_words_);
  language_bits_.resize(language_bits_.size() + language_words_);
  return doc;
}

void ProfileIndex::SetColumns(uint32_t doc, const CompiledProfile& p) {
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
}

void ProfileIndex::Put(std::unique_ptr<const CompiledProfile> profile) {
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

void ProfileIndex::BulkLoad(
    std::vector<std::unique_ptr<const CompiledProfile>> profiles) {
  // Grid-cell order (then input order): the documents of a cell are
  // consecutive, so a search's candidates share cache lines and pages.
  std::vector<std::pair<Cell, uint32_t>> order;
  order.reserve(profiles.size());
  for (size_t i = 0; i < profiles.size(); ++i) {
    order.emplace_back(CellOf(profiles[i]->lat, profiles[i]->lon),
                       static_cast<uint32_t>(i));
  }
  std::sort(order.begin(), order.end());
  const size_t total = docs_.size() + profiles.size();
  docs_.reserve(total);
  hot_.reserve(total);
  availability_.reserve(total);
  skill_bits_.reserve(total * skill_words_);
  interest_bits_.reserve(total * interest_words_);
  language_bits_.reserve(total * language_words_);
  doc_of_id_.reserve(total);
  // Postings are appended in ascending document order into plain arrays,
  // then each bitmap is built once from its sorted array.
  std::vector<std::vector<uint32_t>> skills(skills_.size()),
      training(training_.size()), languages(languages_.size());
  std::vector<uint32_t> active;
  std::array<std::vector<uint32_t>, 6> dbs;
  std::array<std::vector<uint32_t>, 5> level, gender;
  std::array<std::vector<uint32_t>, 5> flags;  // licence, car, pets, ns, snc
  std::array<std::vector<uint32_t>, kTravelBandKm.size()> travel;
  std::vector<std::pair<Cell, std::vector<uint32_t>>> cells;
  for (size_t i = 0; i < order.size(); ++i) {
    // The profiles are read in cell order, i.e. all over the heap: start
    // fetching a few ahead so their cache misses overlap.
    if (i + 8 < order.size()) {
      const char* ahead =
          reinterpret_cast<const char*>(profiles[order[i + 8].second].get());
      for (size_t line = 0; line < sizeof(CompiledProfile); line += 64) {
        __builtin_prefetch(ahead + line);
      }
    }
    const auto& [cell, input] = order[i];
    const uint32_t doc = NewDocument();
    // A deep copy, so profiles (and their lists) are laid out in document
    // order too: scans in document order then read memory in order.
    docs_[doc] = std::make_unique<const CompiledProfile>(*profiles[input]);
    profiles[input].reset();
    const CompiledProfile& p = *docs_[doc];
    doc_of_id_.emplace(absl::string_view(p.id), doc);
    SetColumns(doc, p);
    if (p.active) active.push_back(doc);
    for (CodeId id : p.skills) skills[id].push_back(doc);
    for (const TrainingHeld& held : p.training) training[held.code].push_back(doc);
    for (CodeId id : p.languages) languages[id].push_back(doc);
    for (int l = v1::DBS_NONE; l <= p.dbs_level; ++l) dbs[l].push_back(doc);
    for (int l = 0; l <= p.register_level; ++l) level[l].push_back(doc);
    gender[p.gender].push_back(doc);
    const bool flag[5] = {p.driving_licence, p.has_car, p.ok_with_pets,
                          p.non_smoker, p.short_notice_cover};
    for (int f = 0; f < 5; ++f) {
      if (flag[f]) flags[f].push_back(doc);
    }
    for (size_t b = 1; b < kTravelBandKm.size(); ++b) {
      if (p.max_travel_km >= kTravelBandKm[b]) travel[b].push_back(doc);
    }
    if (cells.empty() || cells.back().first != cell) cells.push_back({cell, {}});
    cells.back().second.push_back(doc);
  }
  auto add = [](Roaring& bitmap, const std::vector<uint32_t>& docs) {
    bitmap.addMany(docs.size(), docs.data());
    bitmap.runOptimize();
    bitmap.shrinkToFit();
  };
  add(active_, active);
  for (size_t i = 0; i < skills.size(); ++i) add(skills_[i], skills[i]);
  for (size_t i = 0; i < training.size(); ++i) add(training_[i], training[i]);
  for (size_t i = 0; i < languages.size(); ++i) add(languages_[i], languages[i]);
  for (size_t i = 0; i < dbs.size(); ++i) add(dbs_at_least_[i], dbs[i]);
  for (size_t i = 0; i < level.size(); ++i) add(level_at_least_[i], level[i]);
  for (size_t i = 0; i < gender.size(); ++i) add(gender_[i], gender[i]);
  Roaring* flag_bitmaps[5] = {&driving_licence_, &has_car_, &ok_with_pets_,
                              &non_smoker_, &short_notice_cover_};
  for (int f = 0; f < 5; ++f) add(*flag_bitmaps[f], flags[f]);
  for (size_t b = 1; b < travel.size(); ++b) add(travel_at_least_[b], travel[b]);
  for (const auto& [cell, docs] : cells) add(cells_[cell], docs);
}

bool ProfileIndex::Erase(absl::string_view id) {
  auto it = doc_of_id_.find(id);
  if (it == doc_of_id_.end()) return false;
  const uint32_t doc = it->second;
  doc_of_id_.erase(it);
  AddPostings(doc, *docs_[doc], /*add=*/false);
  docs_[doc].reset();
  // Erasure means everywhere: the columns keep nothing of the profile.
  hot_[doc] = Hot{};
  availability_[doc].reset();
  std::fill_n(skill_bits_.begin() + doc * skill_words_, skill_words_, 0);
  std::fill_n(interest_bits_.begin() + doc * interest_words_, interest_words_, 0);
  std::fill_n(language_bits_.begin() + doc * language_words_, language_words_, 0);
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

Roaring ProfileIndex::Candidates(
    const CompiledQuery& q, const std::vector<const Roaring*>& filters) const {
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

  // Cells within reach, by travel band.
  std::array<std::vector<const Roaring*>, kTravelBandKm.size()> selected;
  auto consider = [&](int64_t row, int64_t col, const Roaring& bitmap) {
    if (row < row0 || row > row1 || col < col0 || col > col1) return;
    const double lat0 = row * kCellLatDeg, lon0 = col * kCellLonDeg;
    const double near_lat = std::clamp(q.lat, lat0, lat0 + kCellLatDeg);
    const double near_lon = std::clamp(q.lon, lon0, lon0 + kCellLonDeg);
    const double near_km = HaversineKm(q.lat, q.lon, near_lat, near_lon);
    if (near_km <= radius_km) {
      selected[TravelBandFor(near_km - kCellMarginKm)].push_back(&bitmap);
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
  static_assert(std::tuple_size_v<decltype(travel_at_least_)> ==
                kTravelBandKm.size());
  auto intersect_filters = [&](Roaring candidates) {
    for (size_t i = 0; i < filters.size() && !candidates.isEmpty(); ++i) {
      candidates &= *filters[i];
    }
    return candidates;
  };
  // A rare filter (fewer documents than the cells hold): intersect the
  // filters and leave distance to the column scan, which rejects most
  // documents on its lower bound without the cost of the cell union.
  uint64_t in_cells = 0;
  for (const auto& band : selected) {
    for (const Roaring* cell : band) in_cells += cell->cardinality();
  }
  if (filters.front()->cardinality() * 4 <= in_cells) {
    return intersect_filters(*filters.front());
  }
  // Otherwise the reachable documents first: documents are numbered by
  // cell, so they sit in a few bitmap chunks and each filter's AND touches
  // only those chunks, never the whole country. A band holding few
  // documents is not worth its own union and AND: its cells join the band
  // below (a lower travel threshold is a weaker cut, still a valid one).
  constexpr uint64_t kMinBandDocuments = 1024;
  for (size_t b = selected.size() - 1; b > 0; --b) {
    uint64_t documents = 0;
    for (const Roaring* cell : selected[b]) documents += cell->cardinality();
    if (documents < kMinBandDocuments) {
      selected[b - 1].insert(selected[b - 1].end(), selected[b].begin(),
                             selected[b].end());
      selected[b].clear();
    }
  }
  Roaring reachable;
  for (size_t b = 0; b < selected.size(); ++b) {
    if (selected[b].empty()) continue;
    Roaring cells = Roaring::fastunion(selected[b].size(), selected[b].data());
    if (b > 0) cells &= travel_at_least_[b];
    reachable |= cells;
  }
  return intersect_filters(std::move(reachable));
}

Roaring ProfileIndex::FilterCandidates(const CompiledQuery& q) const {
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
  if (filters.front()->isEmpty()) return Roaring();
  return Candidates(q, filters);
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
  for (uint32_t doc : FilterCandidates(q)) {
    if (DecideReach(hot_[doc], q, limit).within) visit(*docs_[doc]);
  }
}

void ProfileIndex::Search(const CompiledQuery& q,
                          SearchCollector& collector) const {
  Roaring candidates = FilterCandidates(q);
  if (candidates.isEmpty()) return;
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
  // Weights of the applied components (0 for the others) and 1/sum, for
  // the score bound; with no weight every score is 0 and nothing is pruned.
  std::array<double, kComponentCount> applied{};
  double total_weight = 0;
  for (int c = 0; c < kComponentCount; ++c) {
    if (q.applies[c]) applied[c] = q.weights[c];
    total_weight += applied[c];
  }
  const double inverse_weight = total_weight > 0 ? 1 / total_weight : 0;

  roaring_uint32_iterator_t it;
  roaring_init_iterator(&candidates.roaring, &it);
  constexpr uint32_t kBuffer = 256;
  uint32_t buffer[kBuffer];
  for (uint32_t n; (n = roaring_read_uint32_iterator(&it, buffer, kBuffer)) > 0;) {
    for (uint32_t i = 0; i < n; ++i) {
      // Candidates are scattered over the columns (one in a few documents of
      // a cell): fetch a few ahead so the misses overlap.
      constexpr uint32_t kAhead = 8;
      if (i + kAhead < n) {
        __builtin_prefetch(&hot_[buffer[i + kAhead]]);
        if (q.needed_slots > 0) __builtin_prefetch(&availability_[buffer[i + kAhead]]);
      }
      const uint32_t doc = buffer[i];
      const Hot& h = hot_[doc];

      const Reach reach = DecideReach(h, q, limit);
      if (!reach.within) continue;
      double distance = reach.distance_km;

      // The other residual filters, as PassesResidualFilters.
      if (!excluded.empty() &&
          std::binary_search(excluded.begin(), excluded.end(), doc)) {
        continue;
      }
      if (!q.required_training.empty()) {
        const CompiledProfile& p = *docs_[doc];
        if (!std::all_of(q.required_training.begin(), q.required_training.end(),
                         [&](CodeId code) {
                           return TrainingUnexpired(p, code, q.as_of);
                         })) {
          continue;
        }
      }
      if (check_dbs_age && !(h.flags & kDbsUpdateService) &&
          (h.dbs_issued_on == kNoDate || h.dbs_issued_on < q.dbs_fresh_since)) {
        continue;
      }
      int covered = 0;
      if (q.needed_slots > 0) {
        covered = static_cast<int>((q.schedule & availability_[doc]).count());
        if (static_cast<double>(covered) / q.needed_slots <
            q.min_schedule_coverage) {
          continue;
        }
      }
      if (q.max_hourly_rate_pence > 0 &&
          h.min_hourly_rate_pence > q.max_hourly_rate_pence) {
        continue;
      }
      collector.CountMatch();

      // Component values as ComponentValues computes them, bit for bit.
      std::array<double, kComponentCount> s{};
      if (q.applies[kSkills]) {
        s[kSkills] = static_cast<double>(SharedBits(
                         &skill_bits_[doc * skill_words_], scan.nice_skills)) /
                     q.nice_to_have_skills.size();
      }
      if (q.applies[kSchedule]) {
        s[kSchedule] = static_cast<double>(covered) / q.needed_slots;
      }
      if (q.applies[kInterests]) {
        s[kInterests] = static_cast<double>(SharedBits(
                            &interest_bits_[doc * interest_words_],
                            scan.interests)) /
                        q.interests.size();
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
      // Skip the rest when even the best distance (and full training marks)
      // could not lift this PA into the page: the rounded score can exceed
      // the unrounded bound by at most 5e-7.
      // (The bound need not match WeightedScore to the bit: the margin
      // dwarfs any difference in rounding.)
      if (collector.PageFull()) {
        double bound = 0;
        for (int c = 0; c < kComponentCount; ++c) bound += applied[c] * s[c];
        bound += applied[kTraining] * 1.0;
        bound += applied[kDistance] *
                 (distance >= 0 ? std::pow(0.5, distance / 8.0)
                                : DistanceValueBound(std::sqrt(reach.lower_bound_sq)));
        if (bound * inverse_weight + 1e-6 < collector.KeptScoreFloor()) {
          continue;
        }
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
    }
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
  add_all(travel_at_least_);
  for (const Roaring* b : {&driving_licence_, &has_car_, &ok_with_pets_,
                           &non_smoker_, &short_notice_cover_}) {
    bytes += b->getSizeInBytes(false);
  }
  for (const auto& [cell, bitmap] : cells_) bytes += bitmap.getSizeInBytes(false);
  return bytes;
}

}  // namespace pamatch
