#include "engine/profile_loader.h"

#include <malloc.h>

#include <atomic>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/profile.h"
#include "engine/sync.h"

namespace pamatch {
namespace {

constexpr int kLoadWorkers = 2;
constexpr size_t kBatch = 1024;
constexpr size_t kMaxQueued = 16;  // batches; bounds the memory in flight

// Raw values back to back, with the end offset of each.
struct Batch {
  std::string bytes;
  std::vector<size_t> ends;
};

// The bounded hand-over from the scanning thread to the workers, and the
// first failure of any of them.
class BatchQueue {
 public:
  // Waits while the queue is full; the failure if there is one.
  absl::Status Push(Batch batch) {
    MutexLock lock(&mu_);
    while (queue_.size() >= kMaxQueued && failure_.ok()) changed_.Wait(&mu_);
    if (!failure_.ok()) return failure_;
    queue_.push_back(std::move(batch));
    changed_.SignalAll();
    return absl::OkStatus();
  }
  // The next batch; nullopt once the queue is closed and empty, or failed.
  std::optional<Batch> Pop() {
    MutexLock lock(&mu_);
    while (queue_.empty() && !closed_ && failure_.ok()) changed_.Wait(&mu_);
    if (!failure_.ok() || queue_.empty()) return std::nullopt;
    Batch batch = std::move(queue_.front());
    queue_.pop_front();
    changed_.SignalAll();
    return batch;
  }
  // No more batches.
  void Close() {
    MutexLock lock(&mu_);
    closed_ = true;
    changed_.SignalAll();
  }
  // Stops everyone; the first failure is kept.
  void Fail(absl::Status status) {
    MutexLock lock(&mu_);
    if (failure_.ok()) failure_ = std::move(status);
    changed_.SignalAll();
  }
  absl::Status failure() {
    MutexLock lock(&mu_);
    return failure_;
  }

 private:
  Mutex mu_;
  CondVar changed_;
  std::deque<Batch> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

// The compiled profiles, from every worker.
class Compiled {
 public:
  void Add(std::vector<ProfileIndex::ProfilePtr>& batch) {
    MutexLock lock(&mu_);
    for (auto& profile : batch) all_.push_back(std::move(profile));
  }
  // Once the workers are joined.
  std::vector<ProfileIndex::ProfilePtr> Take() {
    MutexLock lock(&mu_);
    return std::move(all_);
  }

 private:
  Mutex mu_;
  std::vector<ProfileIndex::ProfilePtr> all_ ABSL_GUARDED_BY(mu_);
};

// A worker: parses and compiles batches until the queue ends.
void CompileBatches(const Taxonomy& taxonomy, BatchQueue& queue,
                    Compiled& out, std::atomic<int64_t>& loaded) {
  v1::Profile stored;
  std::vector<ProfileIndex::ProfilePtr> compiled;
  while (std::optional<Batch> batch = queue.Pop()) {
    compiled.clear();
    size_t begin = 0;
    for (size_t end : batch->ends) {
      stored.Clear();
      if (!stored.ParseFromArray(batch->bytes.data() + begin,
                                 static_cast<int>(end - begin))) {
        return queue.Fail(absl::DataLossError(absl::StrCat(
            "a stored profile does not parse (after ",
            compiled.empty() ? std::string("the batch start")
                             : compiled.back()->id,
            ")")));
      }
      begin = end;
      absl::StatusOr<CompiledProfile> one = CompileProfile(taxonomy, stored);
      if (!one.ok()) {
        return queue.Fail(absl::FailedPreconditionError(absl::StrCat(
            "stored profile \"", stored.id(),
            "\" no longer validates (taxonomy changed?): ",
            one.status().message())));
      }
      compiled.push_back(
          std::make_shared<const CompiledProfile>(*std::move(one)));
    }
    out.Add(compiled);
    loaded.fetch_add(static_cast<int64_t>(batch->ends.size()),
                     std::memory_order_relaxed);
  }
}

}  // namespace

absl::Status LoadProfiles(
    const Store& store, LiveIndex& live,
    const std::function<void(const LoadProgress&)>& on_progress) {
  BatchQueue queue;
  Compiled compiled;
  std::atomic<int64_t> loaded{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < kLoadWorkers; ++i) {
    workers.emplace_back([&] {
      CompileBatches(live.taxonomy(), queue, compiled, loaded);
    });
  }

  LoadProgress progress;
  progress.estimated_total = store.EstimateProfiles();
  const absl::Time start = absl::Now();
  absl::Time next_report = start + absl::Seconds(1);
  auto report = [&](bool done) {
    if (!on_progress) return;
    progress.loaded = loaded.load(std::memory_order_relaxed);
    progress.elapsed = absl::Now() - start;
    progress.done = done;
    on_progress(progress);
  };
  Batch batch;
  auto hand_over = [&]() -> absl::Status {
    absl::Status status = queue.Push(std::exchange(batch, Batch()));
    if (status.ok() && absl::Now() >= next_report) {
      report(false);
      next_report = absl::Now() + absl::Seconds(1);
    }
    return status;
  };
  absl::Status scanned = store.ForEachProfileValue(
      [&](absl::string_view, absl::string_view value) -> absl::Status {
        batch.bytes.append(value.data(), value.size());
        batch.ends.push_back(batch.bytes.size());
        return batch.ends.size() >= kBatch ? hand_over() : absl::OkStatus();
      });
  if (scanned.ok() && !batch.ends.empty()) scanned = hand_over();
  if (!scanned.ok()) queue.Fail(scanned);
  queue.Close();
  for (std::thread& worker : workers) worker.join();
  if (absl::Status failed = queue.failure(); !failed.ok()) return failed;
  {
    WriterLock lock(&live.mu());
    live.mutable_index().BulkLoad(compiled.Take());
  }
#ifdef __GLIBC__
  // Loading freed a lot of short-lived memory (values, protos, batches) in
  // the workers' malloc arenas; hand it back to the system so resident
  // memory reflects what the engine keeps.
  malloc_trim(0);
#endif
  report(true);
  return absl::OkStatus();
}

}  // namespace pamatch
