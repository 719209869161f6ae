// The profile index's columns: everything its filters and scorer read of a
// document, in flat arrays indexed by document id (struct of arrays), so a
// search reads a few bytes per document it passes over and one or two
// cache lines per candidate, and never chases a pointer (except for the
// rare training filters, the id of a result and explanations):
//   - ScanRecord, 8 bytes: travel and the boolean set filters as bits, read
//     for every document of a reachable cell;
//   - GeoRecord, 16 bytes: float location, DBS freshness key and rate, read
//     for documents that passed their ScanRecord;
//   - DocRecord, 64 bytes: exact location, travel, dates, levels, read for
//     candidates;
//   - the 336-slot week, and skills, interests, languages and training held
//     as bit masks (CodeBitColumn).
//
// Thread-safety: none; the owning ProfileIndex's rules apply (any number of
// readers or one writer).
#ifndef PA_MATCH_ENGINE_INDEX_COLUMNS_H_
#define PA_MATCH_ENGINE_INDEX_COLUMNS_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/availability.h"
#include "engine/dates.h"
#include "engine/profile.h"
#include "engine/query.h"
#include "engine/taxonomy.h"

namespace pamatch {

// One code column: words() 64-bit words per document, bit i = code id i.
class CodeBitColumn {
 public:
  explicit CodeBitColumn(size_t codes)
      : words_(codes == 0 ? 1 : (codes + 63) / 64) {}

  size_t words() const { return words_; }
  const uint64_t* row(uint32_t doc) const { return bits_.data() + doc * words_; }
  // Zeroes document `doc`'s row and returns it, to set bits in (SetBit).
  uint64_t* ClearedRow(uint32_t doc);
  void AddRow() { bits_.resize(bits_.size() + words_); }
  void Reserve(size_t docs) { bits_.reserve(docs * words_); }
  // `ids` as a mask in this column's layout; empty when `ids` is.
  std::vector<uint64_t> Mask(const std::vector<CodeId>& ids) const;
  void swap(CodeBitColumn& other) { bits_.swap(other.bits_); }

  static void SetBit(uint64_t* row, CodeId id) {
    row[id / 64] |= uint64_t{1} << (id % 64);
  }

 private:
  size_t words_;
  std::vector<uint64_t> bits_;
};

// Whether every bit of `mask` is set in `row` (an empty mask: yes).
inline bool HasAllBits(const uint64_t* row, const std::vector<uint64_t>& mask) {
  for (size_t w = 0; w < mask.size(); ++w) {
    if ((row[w] & mask[w]) != mask[w]) return false;
  }
  return true;
}

// How many bits of `mask` are set in `row`.
inline int SharedBits(const uint64_t* row, const std::vector<uint64_t>& mask) {
  int n = 0;
  for (size_t w = 0; w < mask.size(); ++w) n += std::popcount(row[w] & mask[w]);
  return n;
}

// The first document in [first, end) for which `pred` is false, given that
// it holds for a prefix of the range and not after (std::partition_point
// over document ids): the travel-sorted cells' binary searches.
template <typename Pred>
uint32_t PartitionPoint(uint32_t first, uint32_t end, Pred pred) {
  while (first < end) {
    const uint32_t middle = first + (end - first) / 2;
    if (pred(middle)) {
      first = middle + 1;
    } else {
      end = middle;
    }
  }
  return first;
}

// The 8-byte record the plan reads for every document of a reachable cell,
// before anything else: the PA's travel (rounded up to float, so "travel <
// a lower bound of the distance" safely rules a PA out) and the boolean
// set filters as bits (k* below). An erased slot's record is all zero: no
// kActive nor kStored, never a candidate.
struct ScanRecord {
  float max_travel_km;
  uint32_t bits;

  static constexpr int kActive = 0, kLicence = 1, kCar = 2, kPets = 3,
                       kNonSmoker = 4, kShortNotice = 5,
                       kDbsAtLeast = 5,     // + level 1..5: bits 6..10
                       kLevelAtLeast = 10,  // + level 1..4: bits 11..14
                       kGender = 15,        // + gender 0..4: bits 15..19
                       kStored = 20;        // any status: a live slot
  // The bits of `p`.
  static uint32_t BitsOf(const CompiledProfile& p);
  // The bits `q`'s set filters require of a PA, its status apart: a PA
  // passes the flags, floors and gender when (BitsOf(p) & these) == these.
  static uint32_t DemandedBits(const CompiledQuery& q);
};

// The second record the plan reads, for documents that passed their
// ScanRecord and codes: the location as floats (distance bounds with a
// 0.1 km margin rule most PAs in or out without the exact haversine), the
// DBS check as DbsFreshnessKey (rules.h) and the rate.
struct GeoRecord {
  float lat, lon;
  DayNumber dbs_key;
  int32_t min_hourly_rate_pence;
};

// The fixed-size record of a candidate: what the exact residual filters
// and the score read, but the week and the codes.
struct alignas(64) DocRecord {
  double lat, lon, cos_lat, max_travel_km;
  int64_t last_active_seconds;
  int32_t last_active_nanos;
  DayNumber dbs_freshness_key;    // DbsFreshnessKey (rules.h)
  int32_t min_hourly_rate_pence;  // <= kMaxRatePence
  uint8_t register_level, gender, age_band;
  bool has_last_active;
};

class IndexColumns {
 public:
  explicit IndexColumns(const Taxonomy& taxonomy);

  // Appends an empty slot; its document id is the old size().
  uint32_t AddSlot();
  void Reserve(size_t docs);
  size_t size() const { return scan_.size(); }
  // Fills every column of `doc` from `p`.
  void Set(uint32_t doc, const CompiledProfile& p);
  // Erasure means everywhere: the slot keeps nothing of its profile.
  void Clear(uint32_t doc);
  void swap(IndexColumns& other);

  const ScanRecord& scan(uint32_t doc) const { return scan_[doc]; }
  const GeoRecord& geo(uint32_t doc) const { return geo_[doc]; }
  const DocRecord& record(uint32_t doc) const { return records_[doc]; }
  const WeekSlots& availability(uint32_t doc) const {
    return availability_[doc];
  }
  const CodeBitColumn& skills() const { return skills_; }
  const CodeBitColumn& interests() const { return interests_; }
  const CodeBitColumn& languages() const { return languages_; }
  const CodeBitColumn& training() const { return training_; }  // any expiry

 private:
  std::vector<ScanRecord> scan_;
  std::vector<GeoRecord> geo_;
  std::vector<DocRecord> records_;
  std::vector<WeekSlots> availability_;
  CodeBitColumn skills_, interests_, languages_, training_;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_INDEX_COLUMNS_H_
