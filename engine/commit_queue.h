// Group commit of profile writes (upserts and deletes).
//
// Callers hand in groups of writes (one upsert, one delete, or a bulk batch)
// with a completion callback and return at once. One commit thread takes
// every group queued so far as one round and, in queue order:
//   1. checks versions against the index and the earlier writes of the round
//      (stale upserts and deletes of absent ids fail; version 0 becomes the
//      stored version + 1);
//   2. writes the accepted writes to RocksDB as one WriteBatch with one WAL
//      sync (Store::WriteProfiles);
//   3. only then applies them to the index, under one exclusive lock, and
//      in that same section publishes a view of the store taken after the
//      batch (the `visible` StoreView GetProfile reads), so no API shows a
//      write before another does;
//   4. runs the groups' callbacks, in queue order.
// While one round syncs, the next one gathers in the queue, so under load
// many writes share each fsync without any caller thread waiting for it.
// The callbacks run on the commit thread itself: handing them to another
// thread was measured slower (write_bench upserts, 2 busy cores), as every
// acknowledgement then waited for that thread to be scheduled.
//
// Why one thread: it is the only writer of profiles to the store and to the
// index, so a version check against the index is exact without per-id locks,
// and disk and memory see every id's writes in the same order. Disk before
// memory, and the index is rebuilt from disk at start: a crash at any point
// loses only writes that were never acknowledged, and never leaves a stale
// write stored. If the batch write fails, none of the round is applied and
// every accepted write of the round fails with that error.
//
// Thread-safety: Submit may be called from any thread, including from a
// callback (it only queues). Callbacks run on the commit thread, one at a
// time, after their write is durable and in the index: they must be quick
// and must never wait for another write (that write would need this same
// thread). The destructor commits everything already queued, runs its
// callbacks, then joins.
#ifndef PA_MATCH_ENGINE_COMMIT_QUEUE_H_
#define PA_MATCH_ENGINE_COMMIT_QUEUE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/base/thread_annotations.h"
#include "engine/live_index.h"
#include "engine/profile.h"
#include "engine/storage.h"
#include "engine/sync.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

// What a CommitHook works out for one write before it is queued; each
// hook derives its own.
struct CommitHookPrepared {
  virtual ~CommitHookPrepared() = default;
};

// One write: an upsert when `compiled` is set, else a delete of `id`.
struct ProfileWrite {
  // Upsert: the validated, compiled profile, with the version as requested
  // (0: the stored version + 1), and the v1::Profile as requested, serialized
  // (SerializeProfile). The queue resolves the version, sets it in
  // `compiled` and appends it to `value` (AppendVersion), so the profile is
  // serialized once, on the caller's thread, not on the commit thread.
  std::optional<CompiledProfile> compiled;
  std::string value;
  // Delete: the id (upserts take theirs from `compiled`).
  std::string id;
  // Set by Submit: what the hook worked out for this write on the
  // caller's thread (CommitHook::Prepare), if anything.
  std::shared_ptr<const CommitHookPrepared> prepared;
};

// `profile` serialized, with room for AppendVersion.
std::string SerializeProfile(const v1::Profile& profile);

// Appends `version` to a serialized v1::Profile as a second `version` field.
// Protobuf parsers keep the last value of a repeated scalar field, so the
// result parses as the profile with that version (and takes the same bytes
// give or take a few as setting the field and serializing again).
void AppendVersion(int64_t version, std::string* value);

// Sees every round of profile writes on the commit thread: what must be
// written with them (alert events, engine/market.h) and whether they were.
class CommitHook {
 public:
  virtual ~CommitHook() = default;
  // Any thread, from Submit, before the write is queued: work the hook
  // may do for the write (`after`: the upsert's profile; null: a delete
  // of `id`) on the caller's thread rather than on the commit thread. The
  // result comes back in the write's Change; the hook must check there
  // that it still holds (the round may see another `before`). Null: none.
  virtual std::shared_ptr<const CommitHookPrepared> Prepare(
      const CompiledProfile* after, absl::string_view id) {
    (void)after;
    (void)id;
    return nullptr;
  }
  // One accepted write: the profile before and after it (null: absent),
  // and what Prepare returned for it (null: nothing).
  struct Change {
    const CompiledProfile* before;
    const CompiledProfile* after;
    const CommitHookPrepared* prepared = nullptr;
  };
  // Before the round's batch is written, with its accepted writes in
  // order; adds to `extras` what goes in the same batch, and sets
  // (*positions)[i] to the position of changes[i] (positions has their size).
  virtual void BeforeWrite(const std::vector<Change>& changes,
                           Store::Extras* extras,
                           std::vector<int64_t>* positions) = 0;
  // After the batch: durable and applied to the index, or failed.
  virtual void AfterWrite(bool written) = 0;
};

// What became of one write.
struct WriteResult {
  absl::Status status;   // FAILED_PRECONDITION stale, NOT_FOUND, storage error
  int64_t version = 0;   // upserts: the version stored
  bool created = false;  // upserts: the id was absent before
  int64_t position = 0;  // with a hook: the write's position
};

class CommitQueue {
 public:
  // Called once with one result per write of the group, in order.
  using Done = std::function<void(std::vector<WriteResult>)>;

  // `store` and `live` must outlive the queue. Each round is applied to
  // live's index and its visible view in one exclusive section (see
  // live_index.h). Starts the commit thread.
  // `hook` (optional) must outlive the queue too.
  CommitQueue(Store* store, LiveIndex* live, CommitHook* hook = nullptr);
  ~CommitQueue();
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues `writes` as one group (never split across rounds). An empty group
  // is completed, with no results, in the next round. With a hook, calls
  // its Prepare for each write first, on this thread.
  void Submit(std::vector<ProfileWrite> writes, Done done);
  // Runs `task` on the commit thread, alone in its round, in queue order
  // with the writes: how the engine's other writes (jobs, policies, the
  // daily pass) are ordered with profile writes. It must not wait for
  // another write.
  void SubmitTask(std::function<void()> task);

  // Rounds committed (one WriteBatch and one sync each; rounds with nothing
  // to write are not counted) and writes written in them, since
  // construction. For tests and benchmarks.
  struct Counters {
    int64_t rounds = 0;
    int64_t writes = 0;
  };
  Counters counters() const;

 private:
  struct Group {
    std::vector<ProfileWrite> writes;
    Done done;
    std::function<void()> task;  // set: a task, no writes
  };
  void CommitLoop();
  // Commits `round`; returns one result vector per group.
  std::vector<std::vector<WriteResult>> CommitRound(std::vector<Group>& round);

  Store* const store_;
  LiveIndex* const live_;
  CommitHook* const hook_;

  mutable Mutex mu_;
  CondVar queued_;
  std::deque<Group> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  Counters counters_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;       // last: started once the rest is ready
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_COMMIT_QUEUE_H_
