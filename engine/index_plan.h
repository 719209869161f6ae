// The profile index's query plan: which documents a search reads, and in
// what order, to find every PA that passes the set filters and may be
// within reach; shared by ProfileIndex::Search (with the bounded scorer,
// bounded_scorer.h) and ProfileIndex::ForEachCandidate. Included only by
// index_search.cc, the one file that instantiates it, so the visitors'
// calls inline into the scan.
//
// Thread-safety: reads the index only; the caller holds its lock shared.
#ifndef PA_MATCH_ENGINE_INDEX_PLAN_H_
#define PA_MATCH_ENGINE_INDEX_PLAN_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/geo.h"
#include "engine/geo_grid.h"
#include "engine/index_columns.h"
#include "engine/postings.h"
#include "engine/query.h"
#include "engine/rules.h"
#include "roaring/roaring.hh"

namespace pamatch {

// What the plan reads of an index.
struct IndexParts {
  const IndexColumns& columns;
  const Postings& postings;
  const GeoGrid& grid;
  size_t size;  // profiles stored
};

// What the plan may do with a cell's matches that it is certain of (within
// reach, DBS fresh, rate accepted, schedule covered): visit them all; count
// them without a visit; or ask Skip(doc, lower_km) for each.
enum class CellVisit { kVisit, kCountCertain, kAskSkip };

// The visitor's calls:
//   CellVisit OnCell(const GeoGrid::ReachableCell& cell): before the
//     documents of each cell visited (a cell {nullptr, 0, inf, ...} when the
//     plan walks a posting instead of cells), and again before each further
//     block of up to 256 of them while the answer is not kCountCertain (the
//     page may have filled meanwhile). kCountCertain only when no score is
//     wanted from the cell and no residual filter but distance, DBS age,
//     rate and schedule coverage applies; kAskSkip when a certain match
//     needs no visit if Skip says so.
//   bool Skip(uint32_t doc, float lower_km): whether a certain match, at
//     least lower_km away, may be counted without a visit.
//   void OnDoc(uint32_t doc): every document passing the set filters whose
//     travel may reach the query and that the plan could not rule out or
//     count: the visitor decides the rest exactly (DecideReach, ...).
//   void OnCounted(int64_t n): n matches counted without a visit.

namespace plan_internal {

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

}  // namespace plan_internal

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
// With any_status, PAUSED profiles pass too (a job's view of PAs).
template <typename Visitor>
void ForEachSetMatch(const IndexParts& index, const CompiledQuery& q,
                     Visitor& visitor, bool any_status = false) {
  const IndexColumns& columns = index.columns;
  const uint32_t bits =
      ScanRecord::DemandedBits(q) |
      uint32_t{1} << (any_status ? ScanRecord::kStored : ScanRecord::kActive);
  const std::vector<uint64_t> skills = columns.skills().Mask(q.must_have_skills);
  const std::vector<uint64_t> languages =
      columns.languages().Mask(q.required_languages);
  const std::vector<uint64_t> training =
      columns.training().Mask(q.required_training);
  // The code masks, after the record's bits: few documents get that far.
  auto has_codes = [&](uint32_t doc) {
    return HasAllBits(columns.skills().row(doc), skills) &&
           HasAllBits(columns.languages().row(doc), languages) &&
           HasAllBits(columns.training().row(doc), training);
  };
  const bool any_codes =
      !skills.empty() || !languages.empty() || !training.empty();

  const std::vector<const Roaring*> postings =
      index.postings.ForQuery(q, any_status);
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
      std::min(DistanceLimitKm(q.max_distance_km), 1e6));
  const float qlat = static_cast<float>(q.lat), qlon = static_cast<float>(q.lon);
  constexpr float kKm = static_cast<float>(kKmPerDegree);
  constexpr float kFloatMarginKm = 0.1f;
  const bool check_dbs_age = q.min_dbs_level > v1::DBS_NONE;
  const bool checks_coverage =
      q.needed_slots > 0 && q.min_schedule_coverage > 0;
  const DayNumber dbs_fresh_since = q.dbs_fresh_since;
  // As an int32_t, the type of the column (rates are at most kMaxRatePence).
  const int32_t rate_ceiling = static_cast<int32_t>(std::min<int64_t>(
      RateCeiling(q.max_hourly_rate_pence), std::numeric_limits<int32_t>::max()));
  float cos_low_sq = 0, cos_high_sq = 1;

  // Per cell: whether matches may be counted in bulk rather than visited
  // (OnCell's answer), and then the travel past the cell's farthest
  // point, from which a PA is within reach whatever its exact distance
  // (the float travel is rounded up, by at most ~1e-5 km; 1e-3 covers it).
  bool bulk = false, ask = false;
  float travel_past_cell = std::numeric_limits<float>::infinity();
  // The cell being read, and whether its answer may still change: the
  // page fills and its floor rises as documents are visited, so a cell
  // entered to be visited is asked again before each block (the first
  // cells are large; most of their documents come after the page fills).
  const GeoGrid::ReachableCell* current = nullptr;
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
    if (!bulk) set_visit(visitor.OnCell(*current));
    uint32_t selected[256];
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const ScanRecord& record = columns.scan(block[i]);
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
      // As CoverageOk (rules.h) judges it.
      uint32_t kept = 0;
      for (uint32_t i = 0; i < count; ++i) {
        selected[kept] = selected[i];
        kept += CoverageOk(CoveredSlots(q.schedule, columns.availability(selected[i])),
                           q.needed_slots, q.min_schedule_coverage);
      }
      count = kept;
    }
    uint32_t kept = 0, counted = 0;
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t doc = selected[i];
      const GeoRecord& g = columns.geo(doc);
      const float travel = columns.scan(doc).max_travel_km;
      const float dlat = g.lat - qlat, dlon = g.lon - qlon;
      const float dy = dlat * kKm, dx = dlon * kKm;
      const float lower_sq =
          (dy * dy + cos_low_sq * dx * dx) * static_cast<float>(kLowerSq);
      const float upper_sq =
          (dy * dy + cos_high_sq * dx * dx) * static_cast<float>(kUpperSq);
      const float reach = std::min(limit, travel);
      const float outer = reach + kFloatMarginKm;
      const float inner = std::max(0.0f, reach - kFloatMarginKm);
      // (Bitwise on purpose, here and below: no branch per document.)
      const bool lat_bounded = std::abs(dlat) < static_cast<float>(kMaxBoundDeg);
      const bool lon_bounded = std::abs(dlon) < static_cast<float>(kMaxBoundDeg);
      const bool bounded = lat_bounded & lon_bounded;
      const bool out = bounded & (lower_sq > outer * outer);
      const bool stale = check_dbs_age & !DbsFreshOn(g.dbs_key, dbs_fresh_since);
      const bool rate_ok = RateAccepted(g.min_hourly_rate_pence, rate_ceiling);
      const bool keep = !(out | stale) & rate_ok;
      const bool in_reach =
          (travel >= travel_past_cell) | (bounded & (upper_sq < inner * inner));
      bool certain = keep & in_reach & bulk;
      if (keep & in_reach & ask) {
        // (The float lower bound, less its margin, bounds the distance.)
        certain = visitor.Skip(doc, std::max(0.0f, std::sqrt(bounded ? lower_sq : 0.0f) -
                                               kFloatMarginKm));
      }
      counted += certain;
      selected[kept] = doc;
      kept += keep & !certain;
    }
    if (counted > 0) visitor.OnCounted(counted);
    count = kept;
    constexpr uint32_t kAhead = 4;
    for (uint32_t i = 0; i < count; ++i) {
      if (i + kAhead < count) {
        __builtin_prefetch(&columns.record(selected[i + kAhead]));
        if (wants_week) __builtin_prefetch(&columns.availability(selected[i + kAhead]));
      }
      visitor.OnDoc(selected[i]);
    }
  };
  auto enter_cell = [&](const GeoGrid::ReachableCell& cell) {
    current = &cell;
    set_visit(visitor.OnCell(cell));
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
      rate_ceiling == std::numeric_limits<int32_t>::max();
  auto count_past = [&](uint32_t first, uint32_t end) {
    int64_t matches = 0;
    for (uint32_t doc = first; doc < end; ++doc) {
      matches += (columns.scan(doc).bits & bits) == bits && (!any_codes || has_codes(doc));
    }
    return matches;
  };

  const GeoGrid::CellsInReach in_reach = index.grid.ReachableCells(q, columns);
  // A filter held by a handful of PAs in all (fewer than the reachable
  // cells): visit its documents wherever they are.
  if (smallest_size <= in_reach.cells.size()) {
    const GeoGrid::ReachableCell anywhere{
        nullptr, 0, std::numeric_limits<double>::infinity(), 0, 0};
    enter_cell(anywhere);
    plan_internal::ForEachBlock(*smallest, [&](const uint32_t* block, uint32_t n) {
      visit_block(block, n, 0.0f);
    });
    return;
  }
  // A rare filter (under a quarter of all PAs, like a rare skill or a
  // language): within each cell, visit only its documents, found by
  // seeking in its bitmap, rather than read every document of the cell.
  const bool walk_smallest = smallest_size * 4 <= index.size;
  roaring_uint32_iterator_t it;
  roaring_init_iterator(&smallest->roaring, &it);
  // Slightly widened, so float rounding cannot tighten the bounds.
  cos_low_sq = static_cast<float>(in_reach.cos_low * in_reach.cos_low * 0.9999);
  cos_high_sq =
      static_cast<float>(in_reach.cos_high * in_reach.cos_high * 1.0001);
  for (const GeoGrid::ReachableCell& cell : in_reach.cells) {
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
        begin = PartitionPoint(cell.first, cell.end, [&](uint32_t doc) {
          return columns.scan(doc).max_travel_km >= travel_past_cell;
        });
        if (const int64_t matches = count_past(cell.first, begin); matches > 0) {
          visitor.OnCounted(matches);
        }
      }
      uint32_t block[256];
      for (uint32_t start = begin; start < cell.end; start += 256) {
        const uint32_t n = std::min<uint32_t>(256, cell.end - start);
        for (uint32_t i = 0; i < n; ++i) block[i] = start + i;
        visit_block(block, n, near);
      }
    } else if (walk_smallest) {
      plan_internal::ForEachBlock(cell.cell->docs & *smallest,
                   [&](const uint32_t* block, uint32_t n) {
                     visit_block(block, n, near);
                   });
    } else {
      plan_internal::ForEachBlock(cell.cell->docs, [&](const uint32_t* block, uint32_t n) {
        visit_block(block, n, near);
      });
    }
  }
}

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_INDEX_PLAN_H_
