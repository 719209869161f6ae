// ProfileIndex's reads that run the query plan (index_plan.h): Search, with
// the bounded scorer (bounded_scorer.h), and ForEachCandidate. The one file
// that instantiates the plan.
#include <algorithm>
#include <string>
#include <vector>

#include "engine/bounded_scorer.h"
#include "engine/geo_grid.h"
#include "engine/index_plan.h"
#include "engine/profile_index.h"
#include "engine/rules.h"

namespace pamatch {
namespace {

// Visits every document within reach that the plan passes on.
class CandidateVisitor {
 public:
  CandidateVisitor(
      const CompiledQuery& q, const IndexColumns& columns,
      const std::vector<std::shared_ptr<const CompiledProfile>>& docs,
      absl::FunctionRef<void(const CompiledProfile&)> visit)
      : q_(q),
        columns_(columns),
        docs_(docs),
        visit_(visit),
        limit_km_(DistanceLimitKm(q.max_distance_km)) {}

  CellVisit OnCell(const GeoGrid::ReachableCell&) { return CellVisit::kVisit; }
  bool Skip(uint32_t, float) const { return false; }
  void OnDoc(uint32_t doc) {
    if (DecideReach(columns_.record(doc), q_, limit_km_).within) {
      visit_(*docs_[doc]);
    }
  }
  void OnCounted(int64_t) {}

 private:
  const CompiledQuery& q_;
  const IndexColumns& columns_;
  const std::vector<std::shared_ptr<const CompiledProfile>>& docs_;
  absl::FunctionRef<void(const CompiledProfile&)> visit_;
  const double limit_km_;
};

}  // namespace

IndexParts ProfileIndex::Parts() const {
  return {columns_, postings_, grid_, size()};
}

void ProfileIndex::ForEachCandidate(
    const CompiledQuery& q,
    absl::FunctionRef<void(const CompiledProfile&)> visit,
    bool any_status) const {
  CandidateVisitor visitor(q, columns_, docs_, visit);
  ForEachSetMatch(Parts(), q, visitor, any_status);
}

void ProfileIndex::Search(const CompiledQuery& q,
                          SearchCollector& collector) const {
  std::vector<uint32_t> excluded;  // documents of exclude_ids, sorted
  for (const std::string& id : q.exclude_ids) {
    auto it = doc_of_id_.find(id);
    if (it != doc_of_id_.end()) excluded.push_back(it->second);
  }
  std::sort(excluded.begin(), excluded.end());
  BoundedScorer scorer(q, columns_, docs_, std::move(excluded), collector);
  ForEachSetMatch(Parts(), q, scorer);
}

}  // namespace pamatch
