// Background relayout of the profile index.
//
// Why: BulkLoad (the rebuild at start) numbers documents by grid cell, then
// descending travel, so a search reads a cell's columns as one range and
// stops at the first PA who cannot travel far enough. A write puts its
// profile in a free or new document slot, so every cell it touches loses
// that order, and searches read all of that cell through its bitmap. Left
// alone, that lasts until the next restart: after a bulk import of 43,000
// North East profiles into the 1,000,000 national ones, searches/s were
// 3,274 against 5,022 after a restart on the same data
// (docs/PERFORMANCE.md).
//
// What: a background thread that, once enough documents sit in unsorted
// cells (ProfileIndex::unsorted_documents), builds a fresh index in BulkLoad
// order and swaps it in (Run):
//   1. shared lock: snapshot the profiles (shared pointers, no copies) and
//      start the live index's change tracking;
//   2. no lock: BulkLoad the snapshot into a fresh index;
//   3. shared lock: replay onto the fresh index the profiles changed since
//      step 1, as the live index has them now (Put, or Erase if gone);
//   4. exclusive lock: replay the few changed during step 3, stop
//      tracking, Swap the two indexes' contents;
//   5. no lock: free the old contents.
// Searches wait only during step 4; writes (the commit thread) wait during
// steps 1, 3 and 4. Nothing is written to disk: document numbers are never
// stored, and a search sees each profile as the live index had it.
//
// When: the thread looks every poll. A relayout is due once unsorted
// documents exceed both min_unsorted_documents and unsorted_fraction of
// all profiles, and it runs when writes have paused for `quiet` (a bulk
// import has ended), or when it has been due for max_wait whatever the
// writes. Under a steady stream of writes a relayout would not pay: at 5%
// writes in the load generator's mixed phase (~300 writes/s into North
// East cells) the cells it sorted were unsorted again within seconds,
// while each run cost ~2 s of a core and blocked the commit thread for
// ~0.2 s. And never sooner after the previous run than (1 / max_duty - 1)
// times that run's duration, so that relayouts take at most max_duty of
// one core.
//
// Costs: during steps 2 to 4 the index's columns and postings exist twice
// (profiles are shared, not copied). A profile deleted during a run stays
// in memory, referenced by the fresh index, until step 3 or 4 erases it.
//
// Thread-safety: RunNow and stats may be called from any thread; runs never
// overlap. The destructor stops the thread, after the run in progress if
// any.
#ifndef PA_MATCH_ENGINE_INDEX_RELAYOUT_H_
#define PA_MATCH_ENGINE_INDEX_RELAYOUT_H_

#include <cstdint>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "engine/live_index.h"
#include "engine/sync.h"

namespace pamatch {

struct RelayoutOptions {
  // Start the background thread. Off: only RunNow relayouts.
  bool background = true;
  double unsorted_fraction = 0.01;
  int64_t min_unsorted_documents = 1000;
  absl::Duration quiet = absl::Seconds(2);
  absl::Duration max_wait = absl::Minutes(10);
  double max_duty = 0.1;
  absl::Duration poll = absl::Milliseconds(500);
  // Tests: called on the running thread after steps 2 and 3 (step = 2, 3),
  // with no lock held, to write to the index in between.
  std::function<void(int step)> after_step;
};

class IndexRelayout {
 public:
  // `live` must outlive this.
  IndexRelayout(LiveIndex* live, RelayoutOptions options);
  ~IndexRelayout();
  IndexRelayout(const IndexRelayout&) = delete;
  IndexRelayout& operator=(const IndexRelayout&) = delete;

  // Relayouts now, whatever the thresholds; returns when the fresh index is
  // in place.
  void RunNow();

  struct Stats {
    int64_t runs = 0;
    absl::Duration last_duration;
    // Of last_duration, the time under the exclusive lock (step 4:
    // searches waited) and under either lock (steps 1, 3, 4: writes
    // waited).
    absl::Duration last_exclusive, last_locked;
    // Profiles written during runs, replayed in steps 3 and 4, and of
    // those, replayed under the exclusive lock (step 4); all runs.
    int64_t replayed = 0;
    int64_t replayed_exclusive = 0;
    // Times the background thread has looked whether a relayout is due,
    // each counted once that look (and the run it started, if any) is
    // over: tests wait on it to know the thread has looked again.
    int64_t polls = 0;
  };
  Stats stats() const;

 private:
  void Loop();
  // The five steps.
  void Run() ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mu_);

  LiveIndex* const live_;
  const RelayoutOptions options_;

  Mutex run_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one run at a time

  mutable Mutex mu_;
  CondVar wake_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  absl::Time next_allowed_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_INDEX_RELAYOUT_H_
