// The in-memory inverted index over compiled profiles.
//
// Documents: every stored profile gets a dense document id (uint32), reused
// after a delete, so memory does not grow under churn. Postings: one CRoaring
// bitmap per skill, training code (held, any expiry), language, gender,
// boolean check/flag, "DBS level at least L" and "register level at least
// L", plus ACTIVE status. Geography: a grid of cells 0.05 degrees of latitude
// by 0.08 of longitude (about 5.6 x 5.1 km at 55 N), each a bitmap.
//
// ForEachCandidate turns a query into a candidate set: the union of the grid
// cells that can hold a PA within reach, intersected with every bitmap a
// hard filter maps onto (smallest first). The candidates are a superset of
// the matches; the caller applies the exact hard filters (distance, expiry
// dates, DBS age, schedule coverage, rates, exclusions) to each. Taken
// together, that returns exactly what the reference scan returns, which
// tests/index_differential_test.cc checks on random data.
//
// Thread-safety: none inside. The Engine guards an index with a
// std::shared_mutex: any number of readers (ForEachCandidate, Find, ForEach)
// or one writer (Put, Erase).
#ifndef PA_MATCH_ENGINE_PROFILE_INDEX_H_
#define PA_MATCH_ENGINE_PROFILE_INDEX_H_

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "engine/profile.h"
#include "engine/query.h"
#include "engine/taxonomy.h"
#include "roaring/roaring.hh"

namespace pamatch {

class ProfileIndex {
 public:
  explicit ProfileIndex(const Taxonomy& taxonomy);
  ProfileIndex(const ProfileIndex&) = delete;
  ProfileIndex& operator=(const ProfileIndex&) = delete;

  // Adds `profile`, replacing the stored profile with the same id if any.
  void Put(std::unique_ptr<const CompiledProfile> profile);
  // Removes the profile `id`; false if there was none.
  bool Erase(absl::string_view id);

  // The profile `id`, or nullptr.
  const CompiledProfile* Find(absl::string_view id) const;
  size_t size() const { return doc_of_id_.size(); }
  // Document ids allocated, live or free: deleted ids are reused, so this
  // stays at the peak number of profiles rather than growing with churn.
  size_t document_slots() const { return docs_.size(); }

  // Every stored profile, in document order.
  void ForEach(absl::FunctionRef<void(const CompiledProfile&)> visit) const;

  // Every profile that passes `query`'s set filters (PassesSetFilters in
  // scoring.h) and may be within reach: a superset of the matches, never
  // missing one, in document order.
  void ForEachCandidate(
      const CompiledQuery& query,
      absl::FunctionRef<void(const CompiledProfile&)> visit) const;

  // Approximate heap bytes of the postings and grid (not the profiles).
  size_t PostingBytes() const;

 private:
  using Cell = int64_t;
  static Cell CellOf(double lat, double lon);
  void AddPostings(uint32_t doc, const CompiledProfile& p, bool add);
  Roaring GeoCandidates(const CompiledQuery& query) const;

  const Taxonomy& taxonomy_;
  std::vector<std::unique_ptr<const CompiledProfile>> docs_;
  std::vector<uint32_t> free_docs_;
  // Keys view the id inside the profile they map to.
  absl::flat_hash_map<absl::string_view, uint32_t> doc_of_id_;

  // Per-document columns read before touching the profile itself, so that
  // candidates clearly out of reach are dropped without a cache miss.
  struct Reach {
    float lat, lon, cos_lat, max_travel_km;
  };
  std::vector<Reach> reach_;

  Roaring active_;
  std::vector<Roaring> skills_, training_, languages_;
  std::array<Roaring, 6> dbs_at_least_;    // by v1::DbsLevel (1..5 used)
  std::array<Roaring, 5> level_at_least_;  // by register level 0..4
  std::array<Roaring, 5> gender_;          // by v1::Gender (1..4 used)
  Roaring driving_licence_, has_car_, ok_with_pets_, non_smoker_,
      short_notice_cover_;
  absl::flat_hash_map<Cell, Roaring> cells_;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_PROFILE_INDEX_H_
