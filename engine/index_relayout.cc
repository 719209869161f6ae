#include "engine/index_relayout.h"

#include <malloc.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace pamatch {
namespace {

// Replays `ids` from `live` onto `fresh`: the profile as `live` has it now,
// or erased if `live` has none. The caller holds `live`'s lock (shared at
// least); `fresh` is its own.
void Replay(const std::vector<std::string>& ids, const ProfileIndex& live,
            ProfileIndex& fresh) {
  for (const std::string& id : ids) {
    if (ProfileIndex::ProfilePtr profile = live.Share(id)) {
      fresh.Put(std::move(profile));
    } else {
      fresh.Erase(id);
    }
  }
}

}  // namespace

IndexRelayout::IndexRelayout(LiveIndex* live, RelayoutOptions options)
    : live_(live), options_(options) {
  if (options_.background) thread_ = std::thread([this] { Loop(); });
}

IndexRelayout::~IndexRelayout() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void IndexRelayout::RunNow() {
  MutexLock run(&run_mu_);
  Run();
}

IndexRelayout::Stats IndexRelayout::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

void IndexRelayout::Loop() {
  uint64_t writes_seen = 0;
  absl::Time last_write = absl::Now();
  absl::Time due_since = absl::InfiniteFuture();
  for (;;) {
    absl::Time next_allowed;
    {
      MutexLock lock(&mu_);
      const absl::Time wake_at = absl::Now() + options_.poll;
      while (!stop_ && wake_.WaitFor(&mu_, wake_at - absl::Now())) {
      }
      if (stop_) return;
      next_allowed = next_allowed_;
    }
    bool over;
    uint64_t writes;
    {
      ReaderLock index_lock(&live_->mu());
      const ProfileIndex& index = live_->index();
      const double unsorted = static_cast<double>(index.unsorted_documents());
      over = unsorted > static_cast<double>(options_.min_unsorted_documents) &&
             unsorted > options_.unsorted_fraction *
                            static_cast<double>(index.size());
      writes = index.writes();
    }
    const absl::Time now = absl::Now();
    if (writes != writes_seen) {
      writes_seen = writes;
      last_write = now;
    }
    if (!over) {
      due_since = absl::InfiniteFuture();
    } else if (due_since == absl::InfiniteFuture()) {
      due_since = now;
    }
    if (over && now >= next_allowed &&
        (now - last_write >= options_.quiet ||
         now - due_since >= options_.max_wait)) {
      MutexLock run(&run_mu_);
      Run();
      due_since = absl::InfiniteFuture();
    }
    MutexLock lock(&mu_);
    ++stats_.polls;
  }
}

void IndexRelayout::Run() {
  const absl::Time start = absl::Now();
  // Runs `step` (the caller holds the index's lock), adding its time to
  // `locked`: the time writes waited.
  absl::Duration locked;
  auto timed = [&locked](auto&& step) {
    const absl::Time at = absl::Now();
    step();
    const absl::Duration took = absl::Now() - at;
    locked += took;
    return took;
  };
  std::vector<ProfileIndex::ProfilePtr> snapshot;
  {
    ReaderLock lock(&live_->mu());  // 1
    const ProfileIndex& index = live_->index();
    timed([&] {
      snapshot = index.Snapshot();
      index.StartTrackingChanges();
    });
  }
  auto fresh = std::make_unique<ProfileIndex>(live_->taxonomy());  // 2
  fresh->BulkLoad(std::move(snapshot), ProfileIndex::Profiles::kShare);
  if (options_.after_step) options_.after_step(2);
  std::vector<std::string> changed;
  {
    ReaderLock lock(&live_->mu());  // 3
    const ProfileIndex& index = live_->index();
    timed([&] {
      changed = index.TakeChanges(/*keep_tracking=*/true);
      Replay(changed, index, *fresh);
    });
  }
  if (options_.after_step) options_.after_step(3);
  std::vector<std::string> last;
  absl::Duration exclusive;
  {
    WriterLock lock(&live_->mu());  // 4
    ProfileIndex& index = live_->mutable_index();
    exclusive = timed([&] {
      last = index.TakeChanges(/*keep_tracking=*/false);
      Replay(last, index, *fresh);
      index.Swap(*fresh);
    });
  }
  fresh.reset();  // 5
#ifdef __GLIBC__
  // The old contents were large blocks that malloc keeps for reuse once
  // its mmap threshold has grown; hand them back so resident memory
  // returns to what the index holds.
  malloc_trim(0);
#endif
  const absl::Time end = absl::Now();
  MutexLock lock(&mu_);
  ++stats_.runs;
  stats_.last_duration = end - start;
  stats_.last_exclusive = exclusive;
  stats_.last_locked = locked;
  stats_.replayed += static_cast<int64_t>(changed.size() + last.size());
  stats_.replayed_exclusive += static_cast<int64_t>(last.size());
  const double wait_factor = 1.0 / std::clamp(options_.max_duty, 1e-3, 1.0) - 1;
  next_allowed_ = end + wait_factor * stats_.last_duration;
}

}  // namespace pamatch
