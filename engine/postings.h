// The profile index's postings: one CRoaring bitmap of document ids per
// value a set filter asks for: ACTIVE status, each skill, training code
// (held, any expiry) and language, "DBS level at least L", "register level
// at least L", each gender, and each boolean check or flag. The one place
// that knows which postings a profile belongs to (Add and Remove), and
// which a query's set filters intersect (ForQuery).
//
// Thread-safety: none; the owning ProfileIndex's rules apply (any number of
// readers or one writer).
#ifndef PA_MATCH_ENGINE_POSTINGS_H_
#define PA_MATCH_ENGINE_POSTINGS_H_

#include <array>
#include <cstdint>
#include <vector>

#include "engine/profile.h"
#include "engine/query.h"
#include "engine/taxonomy.h"
#include "roaring/roaring.hh"

namespace pamatch {

class Postings {
 public:
  explicit Postings(const Taxonomy& taxonomy);

  // Adds `doc` to (or removes it from) every posting `p` belongs to. Adding
  // in ascending document order and then calling Compact once is the fast
  // way to fill empty postings (BulkLoad).
  void Add(uint32_t doc, const CompiledProfile& p);
  void Remove(uint32_t doc, const CompiledProfile& p);
  // Run-length encodes and shrinks every posting.
  void Compact();
  void swap(Postings& other);

  // Documents of profiles that are not PAUSED.
  const Roaring& active() const { return active_; }
  // The postings `query`'s set filters require a match to be in: ACTIVE
  // first, then one per must-have skill, required training, required
  // language, DBS and register floor, required gender and flag.
  // With any_status, every stored profile's posting comes first instead of
  // ACTIVE (a job's view of PAs).
  std::vector<const Roaring*> ForQuery(const CompiledQuery& query,
                                       bool any_status = false) const;

 private:
  // Calls f(bitmap) for every posting `p` belongs to.
  template <typename F>
  void ForEachOf(const CompiledProfile& p, F&& f);

  Roaring active_;
  std::vector<Roaring> skills_, training_, languages_;
  std::array<Roaring, 6> dbs_at_least_;    // by v1::DbsLevel (1..5 used)
  std::array<Roaring, 5> level_at_least_;  // by register level 0..4
  std::array<Roaring, 5> gender_;          // by v1::Gender (1..4 used)
  Roaring driving_licence_, has_car_, ok_with_pets_, non_smoker_,
      short_notice_cover_;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_POSTINGS_H_
