// The index that searches read, the lock that guards it, and the view of
// the store that agrees with it: the engine's one piece of shared mutable
// search state, handed to the commit queue (commit_queue.h, its only
// writer of profiles), the relayout (index_relayout.h, which swaps in a
// fresh copy) and the engine's readers.
//
// The invariant it keeps: `visible` is the store exactly as `index` has it.
// Both change together, in one exclusive section (ApplyRound's caller and
// the relayout's swap), so a reader holding the lock shared sees a write in
// both or in neither; GetProfile reads through `visible`, so it never shows
// a write a search cannot see yet, nor a profile a delete already removed
// from searches.
//
// Thread-safety: the lock is mu(); index() and visible() need it held
// (shared to read, exclusive to change), which clang's -Wthread-safety
// checks at every call.
#ifndef PA_MATCH_ENGINE_LIVE_INDEX_H_
#define PA_MATCH_ENGINE_LIVE_INDEX_H_

#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "engine/profile_index.h"
#include "engine/storage.h"
#include "engine/sync.h"
#include "engine/taxonomy.h"

namespace pamatch {

class LiveIndex {
 public:
  // An empty index over `taxonomy` (which must outlive this), with no view.
  explicit LiveIndex(const Taxonomy& taxonomy)
      : taxonomy_(taxonomy), index_(std::make_unique<ProfileIndex>(taxonomy)) {}
  LiveIndex(const LiveIndex&) = delete;
  LiveIndex& operator=(const LiveIndex&) = delete;

  SharedMutex& mu() const ABSL_LOCK_RETURNED(mu_) { return mu_; }
  const Taxonomy& taxonomy() const { return taxonomy_; }

  const ProfileIndex& index() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return *index_;
  }
  ProfileIndex& mutable_index() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return *index_;
  }
  const std::shared_ptr<const StoreView>& visible() const
      ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return visible_;
  }
  // Replaces the visible view; returns the old one, for the caller to
  // release after unlocking.
  std::shared_ptr<const StoreView> ExchangeVisible(
      std::shared_ptr<const StoreView> view) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    visible_.swap(view);
    return view;
  }

 private:
  const Taxonomy& taxonomy_;
  mutable SharedMutex mu_;
  const std::unique_ptr<ProfileIndex> index_ ABSL_PT_GUARDED_BY(mu_);
  std::shared_ptr<const StoreView> visible_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_LIVE_INDEX_H_
