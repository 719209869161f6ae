#include "engine/job_index.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "absl/base/attributes.h"
#include "engine/geo.h"
#include "engine/geo_grid.h"
#include "engine/rules.h"

namespace pamatch {
namespace {

constexpr double kCellLatDeg = 0.2;
constexpr double kCellLonDeg = 0.32;
constexpr int32_t kColumns = 2048;  // > 360 / kCellLonDeg
// Margin for the float coordinates in the distance bound (as the profile
// index's plan: float degrees are off by under a metre).
constexpr double kFloatMarginKm = 0.1;

// `ids` as a full-width row of `column`'s layout.
std::vector<uint64_t> HeldRow(const CodeBitColumn& column,
                              const std::vector<CodeId>& ids) {
  std::vector<uint64_t> row(column.words(), 0);
  for (CodeId id : ids) CodeBitColumn::SetBit(row.data(), id);
  return row;
}

// Whether every bit of `needed` (one row) is in `held`.
bool Covers(const std::vector<uint64_t>& held, const uint64_t* needed) {
  for (size_t w = 0; w < held.size(); ++w) {
    if ((needed[w] & ~held[w]) != 0) return false;
  }
  return true;
}

// Asks the memory system for what judging `job` reads (JudgePair in
// job_matching.h): the compiled query's fields, then, once those have had
// time to arrive, the code lists they point to. A candidate's job is a
// separate heap object with a dozen small vectors; judged cold, each is a
// cache miss.
void PrefetchQuery(const CompiledJob& job) {
  const char* q = reinterpret_cast<const char*>(&job.query);
  for (size_t offset = 0; offset < sizeof(CompiledQuery); offset += 64) {
    __builtin_prefetch(q + offset);
  }
}
void PrefetchLists(const CompiledJob& job) {
  const CompiledQuery& q = job.query;
  for (const std::vector<CodeId>* list :
       {&q.must_have_skills, &q.nice_to_have_skills, &q.required_training,
        &q.preferred_training, &q.required_languages, &q.preferred_languages,
        &q.interests}) {
    if (!list->empty()) __builtin_prefetch(list->data());
  }
}

void SetRow(CodeBitColumn& column, uint32_t slot,
            const std::vector<CodeId>& ids) {
  uint64_t* row = column.ClearedRow(slot);
  for (CodeId id : ids) CodeBitColumn::SetBit(row, id);
}

}  // namespace

JobIndex::JobIndex(const Taxonomy& taxonomy)
    : skills_(taxonomy.skills().size()),
      training_(taxonomy.training().size()),
      languages_(taxonomy.languages().size()) {}

JobIndex::CellKey JobIndex::CellOf(double lat, double lon) {
  const auto row = static_cast<int32_t>(std::floor(lat / kCellLatDeg));
  const auto col = static_cast<int32_t>(std::floor((lon + 180) / kCellLonDeg));
  return row * kColumns + col;
}

JobIndex::Demand JobIndex::DemandOf(const CompiledJob& job,
                                    uint32_t slot) const {
  const CompiledQuery& q = job.query;
  Demand d;
  d.lat = static_cast<float>(q.lat);
  d.lon = static_cast<float>(q.lon);
  d.cos_lat = static_cast<float>(q.cos_lat);
  // Rounded up, so that "beyond the reach" rules a PA out safely.
  d.reach_km = std::nextafter(
      static_cast<float>(std::min(DistanceLimitKm(q.max_distance_km), 1e6)),
      std::numeric_limits<float>::infinity());
  d.bits = ScanRecord::DemandedBits(q);
  d.open_until = job.status == v1::OPEN ? job.closes_on : kNoDate;
  d.rate_ceiling = static_cast<int32_t>(std::min<int64_t>(
      RateCeiling(q.max_hourly_rate_pence),
      std::numeric_limits<int32_t>::max()));
  // Called after Link set the slot's code rows.
  const uint64_t* skills = skills_.row(slot);
  const uint64_t* training = training_.row(slot);
  d.skills0 = skills[0];
  d.training0 = training[0];
  bool more = !q.required_languages.empty();
  for (size_t w = 1; w < skills_.words(); ++w) more |= skills[w] != 0;
  for (size_t w = 1; w < training_.words(); ++w) more |= training[w] != 0;
  d.slot_and_flag = slot | (more ? Demand::kMoreCodes : 0);
  return d;
}

void JobIndex::Link(uint32_t slot) {
  const CompiledJob& job = *jobs_[slot];
  SetRow(skills_, slot, job.query.must_have_skills);
  SetRow(training_, slot, job.query.required_training);
  SetRow(languages_, slot, job.query.required_languages);
  const CellKey key = CellOf(job.query.lat, job.query.lon);
  std::vector<Demand>& cell = cells_[key];
  where_[slot] = Where{key, static_cast<uint32_t>(cell.size())};
  cell.push_back(DemandOf(job, slot));
}

void JobIndex::Unlink(uint32_t slot) {
  const Where where = where_[slot];
  auto it = cells_.find(where.cell);
  std::vector<Demand>& cell = it->second;
  if (where.position + 1 != cell.size()) {
    cell[where.position] = cell.back();
    where_[cell[where.position].slot()].position = where.position;
  }
  cell.pop_back();
  if (cell.empty()) cells_.erase(it);
  // Erasure means everywhere: the rows keep nothing of the job.
  skills_.ClearedRow(slot);
  training_.ClearedRow(slot);
  languages_.ClearedRow(slot);
}

void JobIndex::Put(JobPtr job) {
  auto it = slot_of_id_.find(job->id);
  if (it != slot_of_id_.end()) {
    const uint32_t slot = it->second;
    Unlink(slot);
    slot_of_id_.erase(it);
    jobs_[slot] = std::move(job);
    slot_of_id_.emplace(jobs_[slot]->id, slot);
    Link(slot);
    return;
  }
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(jobs_.size());
    jobs_.emplace_back();
    where_.emplace_back();
    skills_.AddRow();
    training_.AddRow();
    languages_.AddRow();
  }
  jobs_[slot] = std::move(job);
  slot_of_id_.emplace(jobs_[slot]->id, slot);
  Link(slot);
}

bool JobIndex::Erase(absl::string_view id) {
  auto it = slot_of_id_.find(id);
  if (it == slot_of_id_.end()) return false;
  const uint32_t slot = it->second;
  Unlink(slot);
  slot_of_id_.erase(it);
  jobs_[slot].reset();
  free_slots_.push_back(slot);
  return true;
}

const CompiledJob* JobIndex::Find(absl::string_view id) const {
  auto it = slot_of_id_.find(id);
  return it == slot_of_id_.end() ? nullptr : jobs_[it->second].get();
}

JobPtr JobIndex::Share(absl::string_view id) const {
  auto it = slot_of_id_.find(id);
  return it == slot_of_id_.end() ? nullptr : jobs_[it->second];
}

size_t JobIndex::OpenOn(DayNumber day) const {
  size_t open = 0;
  for (const auto& [key, cell] : cells_) {
    for (const Demand& d : cell) open += day <= d.open_until ? 1 : 0;
  }
  return open;
}

void JobIndex::ForEach(absl::FunctionRef<void(const JobPtr&)> visit) const {
  for (const JobPtr& job : jobs_) {
    if (job != nullptr) visit(job);
  }
}

JobIndex::Held JobIndex::HeldBy(const CompiledProfile& pa) const {
  // The job's demands are the PA's ScanRecord bits (any status: a job
  // ignores it) and its held codes, training of any expiry.
  Held held;
  held.bits = ScanRecord::BitsOf(pa);
  held.skills = HeldRow(skills_, pa.skills);
  std::vector<CodeId> training_codes;
  training_codes.reserve(pa.training.size());
  for (const TrainingHeld& t : pa.training) training_codes.push_back(t.code);
  held.training = HeldRow(training_, training_codes);
  held.languages = HeldRow(languages_, pa.languages);
  held.skills0 = held.skills[0];
  held.training0 = held.training[0];
  held.rate = pa.min_hourly_rate_pence;
  held.lat = pa.lat;
  held.lon = pa.lon;
  held.cos_lat = pa.cos_lat;
  held.travel = pa.max_travel_km;
  return held;
}

// Inlined into the scan's loop (perf showed it called out of line).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool JobIndex::MayMatch(
    const Held& h, const Demand& d) const {
  if ((h.bits & d.bits) != d.bits) return false;
  if (h.rate > d.rate_ceiling) return false;
  // A lower bound on the distance (geo_grid.h's kLowerSq, with the
  // smaller cos(latitude) of the two points) against the nearer of the
  // two limits.
  const double limit =
      std::min(h.travel, static_cast<double>(d.reach_km)) + kFloatMarginKm;
  const double dy = (d.lat - h.lat) * kKmPerDegree;
  const double dx = (d.lon - h.lon) * kKmPerDegree *
                    std::min(h.cos_lat, static_cast<double>(d.cos_lat));
  if ((dy * dy + dx * dx) * kLowerSq > limit * limit) return false;
  if (((d.skills0 & ~h.skills0) | (d.training0 & ~h.training0)) != 0) {
    return false;
  }
  const uint32_t slot = d.slot();
  return !d.more_codes() || (Covers(h.skills, skills_.row(slot)) &&
                             Covers(h.training, training_.row(slot)) &&
                             Covers(h.languages, languages_.row(slot)));
}

template <typename Candidate, typename Visit>
void JobIndex::Scan(const std::vector<const Held*>& held, DayNumber day,
                    Candidate candidate, Visit visit) const {
  if (cells_.empty() || held.empty()) return;
  // The box of cells within each PA's travel (no job outside it can be
  // within the PA's max_travel_km), and the box around them.
  int32_t row_lo = std::numeric_limits<int32_t>::max(), row_hi = row_lo;
  int32_t col_lo = row_lo, col_hi = row_lo;
  for (const Held* h : held) {
    const double dlat = h->travel / kKmPerDegree + 0.01;
    const double lat_lo = h->lat - dlat, lat_hi = h->lat + dlat;
    const double cos_min = CosLat(
        std::min(std::max(std::fabs(lat_lo), std::fabs(lat_hi)), 89.0));
    const double dlon = h->travel / (kKmPerDegree * cos_min) + 0.01;
    const auto r_lo = static_cast<int32_t>(std::floor(lat_lo / kCellLatDeg));
    const auto r_hi = static_cast<int32_t>(std::floor(lat_hi / kCellLatDeg));
    const auto c_lo =
        static_cast<int32_t>(std::floor((h->lon - dlon + 180) / kCellLonDeg));
    const auto c_hi =
        static_cast<int32_t>(std::floor((h->lon + dlon + 180) / kCellLonDeg));
    const bool first = h == held.front();
    row_lo = first ? r_lo : std::min(row_lo, r_lo);
    row_hi = first ? r_hi : std::max(row_hi, r_hi);
    col_lo = first ? c_lo : std::min(col_lo, c_lo);
    col_hi = first ? c_hi : std::max(col_hi, c_hi);
  }
  // A cell's candidates are visited after its scan, each job prefetched a
  // few candidates ahead (its query kAhead * 2 ahead, the lists that query
  // points to kAhead ahead).
  constexpr size_t kAhead = 3;
  std::vector<std::pair<const CompiledJob*, int>> found;
  auto visit_found = [&] {
    const size_t n = found.size();
    for (size_t i = 0; i < std::min(n, 2 * kAhead); ++i) {
      PrefetchQuery(*found[i].first);
    }
    for (size_t i = 0; i < std::min(n, kAhead); ++i) {
      PrefetchLists(*found[i].first);
    }
    for (size_t i = 0; i < n; ++i) {
      if (i + 2 * kAhead < n) PrefetchQuery(*found[i + 2 * kAhead].first);
      if (i + kAhead < n) PrefetchLists(*found[i + kAhead].first);
      visit(*found[i].first, found[i].second);
    }
    found.clear();
  };
  for (int32_t row = row_lo; row <= row_hi; ++row) {
    for (int32_t col = col_lo; col <= col_hi; ++col) {
      auto it = cells_.find(row * kColumns + col);
      if (it == cells_.end()) continue;
      for (const Demand& d : it->second) {
        if (day > d.open_until) continue;
        const int which = candidate(d);
        if (which != 0) found.emplace_back(jobs_[d.slot()].get(), which);
      }
      visit_found();
    }
  }
}

void JobIndex::ForEachCandidate(
    const CompiledProfile& pa, DayNumber day,
    absl::FunctionRef<void(const CompiledJob&)> visit) const {
  if (cells_.empty()) return;
  const Held held = HeldBy(pa);
  Scan({&held}, day,
       [&](const Demand& d) { return MayMatch(held, d) ? 1 : 0; },
       [&](const CompiledJob& job, int) { visit(job); });
}

void JobIndex::ForEachCandidateOfEither(
    const CompiledProfile* a, const CompiledProfile* b, DayNumber day,
    absl::FunctionRef<void(const CompiledJob&, bool of_a, bool of_b)> visit)
    const {
  if (cells_.empty()) return;
  std::optional<Held> held_a, held_b;
  std::vector<const Held*> held;
  if (a != nullptr) held.push_back(&held_a.emplace(HeldBy(*a)));
  if (b != nullptr) held.push_back(&held_b.emplace(HeldBy(*b)));
  Scan(
      held, day,
      [&](const Demand& d) {
        return (held_a && MayMatch(*held_a, d) ? 1 : 0) |
               (held_b && MayMatch(*held_b, d) ? 2 : 0);
      },
      [&](const CompiledJob& job, int which) {
        visit(job, (which & 1) != 0, (which & 2) != 0);
      });
}

}  // namespace pamatch
