// The in-memory inverted index over compiled profiles.
//
// Documents: every stored profile gets a dense document id (uint32), reused
// after a delete, so memory does not grow under churn. The index is made of
// three parts, each in its own file, plus the documents themselves (here):
//   - columns (index_columns.h): what filters and scores read of each
//     document, in flat arrays;
//   - postings (postings.h): a CRoaring bitmap per value a set filter asks
//     for (skill, training, language, levels, gender, flags, ACTIVE);
//   - the geo grid (geo_grid.h): the documents of each grid cell, and which
//     cells can hold a PA within reach of a query.
// A search (index_search.cc) runs the query plan (index_plan.h) over those
// parts, with the bounded scorer (bounded_scorer.h) deciding and scoring
// each candidate by the rules of rules.h: it returns exactly what the
// reference scan returns, which tests/index_differential_test.cc checks on
// random data.
//
// Document order: BulkLoad (the rebuild at start) numbers documents by grid
// cell, then descending travel, so a cell's documents are consecutive in
// every column and the cell bitmaps are runs. Later upserts take free or
// new slots (the cells they touch are then read through their bitmaps, in
// full: unsorted_documents() counts them) until a relayout
// (engine/index_relayout.h) builds a fresh index in that order and Swaps
// it in. Profiles are immutable and shared (shared_ptr), so a relayout's
// copy of the index costs the columns and postings, not the profiles.
//
// Thread-safety: none inside, but for change tracking. An index is guarded
// by its LiveIndex (live_index.h): any number of readers (Search,
// ForEachCandidate, Find, Share, ForEach, Snapshot, unsorted_documents,
// active_size, profiles_by_local_authority) or one writer (Put, Erase,
// BulkLoad, Swap). StartTrackingChanges and TakeChanges are safe under
// either (they have their own mutex).
#ifndef PA_MATCH_ENGINE_PROFILE_INDEX_H_
#define PA_MATCH_ENGINE_PROFILE_INDEX_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "engine/geo_grid.h"
#include "engine/index_columns.h"
#include "engine/postings.h"
#include "engine/profile.h"
#include "engine/query.h"
#include "engine/scoring.h"
#include "engine/sync.h"
#include "engine/taxonomy.h"

namespace pamatch {

struct IndexParts;  // index_plan.h

class ProfileIndex {
 public:
  explicit ProfileIndex(const Taxonomy& taxonomy);
  ProfileIndex(const ProfileIndex&) = delete;
  ProfileIndex& operator=(const ProfileIndex&) = delete;

  using ProfilePtr = std::shared_ptr<const CompiledProfile>;

  // Adds `profile`, replacing the stored profile with the same id if any.
  void Put(ProfilePtr profile);
  // What BulkLoad does with the profiles it is given.
  enum class Profiles {
    // Keeps a deep copy of each, allocated in document order, so a scan in
    // document order reads memory in order (the rebuild at start, whose
    // profiles were compiled all over the heap by several threads).
    kCopy,
    // Keeps the pointers (a relayout: the profiles are the live index's).
    kShare,
  };
  // Replaces the contents of an empty index with `profiles` (unique ids),
  // numbering documents in grid-cell order. Much faster than Put one by one.
  void BulkLoad(std::vector<ProfilePtr> profiles,
                Profiles profiles_are = Profiles::kCopy);
  // Removes the profile `id`; false if there was none.
  bool Erase(absl::string_view id);
  // Exchanges the contents of the two indexes (same taxonomy), change
  // tracking apart (each keeps its own).
  void Swap(ProfileIndex& other);

  // The profile `id`, or nullptr.
  const CompiledProfile* Find(absl::string_view id) const;
  // The same, shared (nullptr if absent).
  ProfilePtr Share(absl::string_view id) const;
  // Every stored profile, shared, in document order.
  std::vector<ProfilePtr> Snapshot() const;

  // Documents in cells that are no longer one travel-sorted range (a write
  // touched them since BulkLoad built them): what a search reads in full.
  size_t unsorted_documents() const { return grid_.unsorted_documents(); }
  // Calls to Put, and to Erase that removed a profile, since construction
  // (not swapped).
  uint64_t writes() const { return writes_; }

  // Change tracking, for a relayout: from StartTrackingChanges on, Put and
  // Erase note the id of every profile they change; TakeChanges returns
  // the ids noted since the last take (each once) and, unless
  // keep_tracking, stops tracking.
  // Both are const: they touch only the tracking state, which has its own
  // lock, so a relayout may call them under the index's lock held shared.
  void StartTrackingChanges() const;
  std::vector<std::string> TakeChanges(bool keep_tracking) const;
  size_t size() const { return doc_of_id_.size(); }
  // Profiles that are not PAUSED (ACTIVE, or status left unset).
  size_t active_size() const { return postings_.active().cardinality(); }
  // Profiles by local authority code id (index); ids past the end have
  // none. Kept up to date by every write, so reading it costs nothing per
  // profile (GetStats and the metrics endpoint hold the index lock shared
  // while they read it).
  const std::vector<int64_t>& profiles_by_local_authority() const {
    return by_local_authority_;
  }
  // Document ids allocated, live or free: deleted ids are reused, so this
  // stays at the peak number of profiles rather than growing with churn.
  size_t document_slots() const { return docs_.size(); }

  // Every stored profile, in document order.
  void ForEach(absl::FunctionRef<void(const CompiledProfile&)> visit) const;

  // Every profile that passes `query`'s set filters (PassesSetFilters in
  // scoring.h), is within reach (distance and travel) and passes the DBS
  // age, rate and schedule coverage filters, as Search decides them: a
  // superset of the matches (exclusions and training expiry are left to
  // the caller), never missing one, in the plan's order. With any_status,
  // PAUSED profiles too (PassesSetFiltersAnyStatus): the PAs a job may
  // match.
  void ForEachCandidate(const CompiledQuery& query,
                        absl::FunctionRef<void(const CompiledProfile&)> visit,
                        bool any_status = false) const;

  // The index search: feeds `collector` exactly the matches the reference
  // scan would (SearchCollector::Consider on every profile), counting every
  // one and offering for the page those that may enter it.
  void Search(const CompiledQuery& query, SearchCollector& collector) const;

 private:
  uint32_t NewDocument();
  // Adds `doc` (holding `p`) to, or removes it from, the postings, the grid
  // and the counts.
  void Link(uint32_t doc, const CompiledProfile& p);
  void Unlink(uint32_t doc, const CompiledProfile& p);
  // Adds `delta` to the count of p's local authority.
  void CountLocalAuthority(const CompiledProfile& p, int delta);
  void NoteChange(absl::string_view id);
  // The parts the query plan reads (index_search.cc).
  IndexParts Parts() const;

  const Taxonomy& taxonomy_;
  std::vector<ProfilePtr> docs_;
  std::vector<uint32_t> free_docs_;
  // Keys view the id inside the profile they map to.
  absl::flat_hash_map<absl::string_view, uint32_t> doc_of_id_;
  IndexColumns columns_;
  Postings postings_;
  GeoGrid grid_;
  std::vector<int64_t> by_local_authority_;  // by CodeId
  // (Swap exchanges every member from docs_ to here: add new ones there.)

  uint64_t writes_ = 0;
  // Change tracking (not swapped). Put and Erase read tracking_ without
  // the mutex, so an index that is not tracked pays one relaxed load.
  mutable std::atomic<bool> tracking_{false};
  mutable Mutex changes_mu_;
  mutable absl::flat_hash_set<std::string> changed_
      ABSL_GUARDED_BY(changes_mu_);
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_PROFILE_INDEX_H_
