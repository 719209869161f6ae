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

IndexRelayout::IndexRelayout(ProfileIndex* index, std::shared_mutex* index_mu,
                             const Taxonomy& taxonomy, RelayoutOptions options)
    : index_(index),
      index_mu_(index_mu),
      taxonomy_(taxonomy),
      options_(options) {
  if (options_.background) thread_ = std::thread([this] { Loop(); });
}

IndexRelayout::~IndexRelayout() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IndexRelayout::RunNow() {
  std::lock_guard run(run_mu_);
  Run();
}

IndexRelayout::Stats IndexRelayout::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void IndexRelayout::Loop() {
  uint64_t writes_seen = 0;
  absl::Time last_write = absl::Now();
  absl::Time due_since = absl::InfiniteFuture();
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait_for(lock, absl::ToChronoNanoseconds(options_.poll),
                   [&] { return stop_; });
    if (stop_) return;
    const absl::Time next_allowed = next_allowed_;
    lock.unlock();
    bool over;
    uint64_t writes;
    {
      std::shared_lock index_lock(*index_mu_);
      const double unsorted = static_cast<double>(index_->unsorted_documents());
      over = unsorted > static_cast<double>(options_.min_unsorted_documents) &&
             unsorted > options_.unsorted_fraction *
                            static_cast<double>(index_->size());
      writes = index_->writes();
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
      std::lock_guard run(run_mu_);
      Run();
      due_since = absl::InfiniteFuture();
    }
    lock.lock();
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
    std::shared_lock lock(*index_mu_);  // 1
    timed([&] {
      snapshot = index_->Snapshot();
      index_->StartTrackingChanges();
    });
  }
  auto fresh = std::make_unique<ProfileIndex>(taxonomy_);  // 2
  fresh->BulkLoad(std::move(snapshot), ProfileIndex::Profiles::kShare);
  if (options_.after_step) options_.after_step(2);
  std::vector<std::string> changed;
  {
    std::shared_lock lock(*index_mu_);  // 3
    timed([&] {
      changed = index_->TakeChanges(/*keep_tracking=*/true);
      Replay(changed, *index_, *fresh);
    });
  }
  if (options_.after_step) options_.after_step(3);
  std::vector<std::string> last;
  absl::Duration exclusive;
  {
    std::unique_lock lock(*index_mu_);  // 4
    exclusive = timed([&] {
      last = index_->TakeChanges(/*keep_tracking=*/false);
      Replay(last, *index_, *fresh);
      index_->Swap(*fresh);
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
  std::lock_guard lock(mu_);
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
