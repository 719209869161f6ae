// Durable storage of profiles and policies in RocksDB.
//
// Layout (docs/STORAGE.md has the long form):
//   column family "profiles": key = profile id (bytes), value = the
//       pamatch.v1.Profile as protobuf binary, version resolved.
//   column family "policies": key = local authority code, value = the
//       pamatch.v1.Policy as protobuf binary.
//   column family "jobs": key = job id, value = the pamatch.v1.Job as
//       protobuf binary, version resolved.
//   column family "events": key = alert event sequence as 8 bytes big
//       endian, value = the pamatch.v1.WatchEvent as protobuf binary.
//   column family "meta": key "schema_version" = decimal ASCII, currently 1;
//       key "purge_pending" = "1" while a deleted profile or job may still
//       have bytes in the files (see erasure below); "alerts_day" =
//       "YYYY-MM-DD", the day alerts are judged on; "write_position" =
//       decimal ASCII, the position of the last write.
// Everything in memory (the compiled profiles, the policies map) is rebuilt
// from these at start; nothing derived is stored.
//
// Durability: with `sync` every write returns only after the WAL is fsynced.
// Profile writes arrive already grouped (engine/commit_queue.h: one
// WriteProfiles call, one WriteBatch and one fsync per round of concurrent
// writes); RocksDB's write thread groups any other concurrent writers.
//
// Erasure: a background thread purges deleted profiles from the files within
// `purge_delay` (plus the time of the purge itself) of the first delete not
// yet purged: it flushes every memtable (so the WAL holding the deleted bytes
// becomes obsolete and is deleted; no WAL archive is kept and log files are
// never recycled) and compacts the deleted key range of "profiles" down to
// and including the bottommost level, which drops the old values and the
// tombstones, once no StoreView older than the deletes is held (a snapshot
// keeps what it can see through any compaction). The "purge_pending" marker
// is written in the same batch as the delete and removed after a purge, so a
// purge interrupted by a crash is redone after the next Open.
//
// Thread-safety: all methods are safe to call from any thread (RocksDB
// handles concurrency); ordering between writes to one key is the caller's.
#ifndef PA_MATCH_ENGINE_STORAGE_H_
#define PA_MATCH_ENGINE_STORAGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/sync.h"
#include "pamatch/v1/matcher.pb.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Snapshot;
class Status;
}  // namespace rocksdb

namespace pamatch {

inline constexpr int kSchemaVersion = 1;

struct StoreOptions {
  // fsync the WAL before a write returns.
  bool sync = true;
  // Create the database if `dir` holds none. When false, a missing database
  // is an error (FAILED_PRECONDITION) instead of a silent empty start.
  bool create_if_missing = true;
  // Deleted profiles are purged from the files this long after the first
  // delete that is not purged yet (deletes in that window share one purge).
  absl::Duration purge_delay = absl::Seconds(60);
  // How long a purge waits for views (StoreView) taken before its deletes
  // to be released: compaction keeps whatever a snapshot can still see, so
  // purging under one would leave the deleted bytes in the files. The
  // engine replaces its view after every commit round, so the wait is
  // normally a moment; past it the purge fails and is retried after
  // `purge_delay`.
  absl::Duration snapshot_wait = absl::Seconds(10);
};

// The stored profiles as they were at one moment (a RocksDB snapshot): reads
// through it see neither later writes nor later deletes. Immutable, so any
// thread may read through it; the snapshot is released when the last
// shared_ptr to it goes. It must not outlive its Store.
class StoreView {
 public:
  ~StoreView();
  StoreView(const StoreView&) = delete;
  StoreView& operator=(const StoreView&) = delete;

 private:
  friend class Store;
  StoreView(rocksdb::DB* db, const rocksdb::Snapshot* snapshot)
      : db_(db), snapshot_(snapshot) {}
  rocksdb::DB* const db_;
  const rocksdb::Snapshot* const snapshot_;
};

class Store {
 public:
  // Opens or creates the database in `dir` (its parent must exist). Fails
  // (never opens empty) on a newer schema, corruption, or an unusable
  // directory, with a message naming the directory and the cause.
  static absl::StatusOr<std::unique_ptr<Store>> Open(
      const std::string& dir, const StoreOptions& options);
  ~Store();

  // Writes all profiles in one atomic batch (one fsync).
  absl::Status PutProfiles(const std::vector<const v1::Profile*>& profiles);
  // Deletes the profile and schedules its purge from the files.
  absl::Status DeleteProfile(absl::string_view id);
  // One profile put or delete.
  struct ProfileMutation {
    absl::string_view id;
    // The v1::Profile to store under `id`, serialized; null: delete `id`.
    const std::string* value = nullptr;
  };
  // Writes `mutations` in order as one atomic batch (one fsync): a later
  // mutation of an id wins. Deletes are scheduled for purging as
  // DeleteProfile's are. The group commit (commit_queue.h) writes through
  // this.
  // What a commit writes besides profiles, in the same batch: jobs (a
  // ProfileMutation of a v1::Job), policies (value null: delete), alert
  // events (sequence, serialized v1::WatchEvent) and meta values.
  struct Extras {
    std::vector<ProfileMutation> jobs;
    std::vector<ProfileMutation> policies;
    std::vector<std::pair<int64_t, std::string>> events;
    std::string alerts_day;    // empty: unchanged
    int64_t write_position = 0;  // 0: unchanged
  };
  absl::Status WriteProfiles(const std::vector<ProfileMutation>& mutations,
                             const Extras* extras = nullptr);
  // nullopt if absent: now, or as of `view` when given.
  absl::StatusOr<std::optional<v1::Profile>> GetProfile(
      absl::string_view id, const StoreView* view = nullptr) const;
  // The store as it is now (every write that has returned, nothing later).
  std::shared_ptr<const StoreView> TakeView() const;
  // Calls `visit` for every stored profile in key order, with its undecoded
  // value (bulk scan with read-ahead; the views are valid only during the
  // call); stops at the first error, which it returns.
  absl::Status ForEachProfileValue(
      absl::FunctionRef<absl::Status(absl::string_view key,
                                     absl::string_view value)>
          visit) const;
  // Every stored job, as ForEachProfileValue.
  absl::Status ForEachJobValue(
      absl::FunctionRef<absl::Status(absl::string_view key,
                                     absl::string_view value)>
          visit) const;
  // Events with sequence > after, in order, until `visit` returns false or
  // `max_events` were visited.
  absl::Status ForEachEvent(
      int64_t after, size_t max_events,
      absl::FunctionRef<bool(int64_t sequence, absl::string_view value)> visit)
      const;
  // The first and last stored event sequences (0, 0 when none).
  absl::StatusOr<std::pair<int64_t, int64_t>> EventRange() const;
  // Deletes every event with sequence < first_kept.
  absl::Status DropEventsBefore(int64_t first_kept);
  // A meta value, or "" when unset.
  absl::StatusOr<std::string> GetMeta(absl::string_view key) const;
  // RocksDB's estimate of the number of stored profiles (for progress).
  int64_t EstimateProfiles() const;

  absl::Status PutPolicy(const v1::Policy& policy);
  absl::Status DeletePolicy(absl::string_view local_authority);
  absl::Status ForEachPolicy(
      absl::FunctionRef<absl::Status(v1::Policy&)> visit) const;

  // Purges deleted profiles from the files now (see the header comment);
  // blocks until done. The background thread calls this on its own.
  absl::Status PurgeDeleted()
      ABSL_LOCKS_EXCLUDED(purge_run_mu_, marker_mu_, purge_mu_);
  // Number of purges completed since Open (for tests and logs).
  int64_t purges() const;

  // Writes a consistent checkpoint of the whole database to `dest` (must not
  // exist; its parent must): hard links to the immutable files where the
  // file system allows, after a flush, so it needs no WAL replay.
  absl::Status Checkpoint(const std::string& dest);

  // Opens the checkpoint in `dir` read-only (changing nothing in it), reads
  // every record (checksums verified) and counts profiles and policies.
  struct Counts {
    int64_t profiles = 0;
    int64_t policies = 0;
  };
  static absl::StatusOr<Counts> VerifyCheckpoint(const std::string& dir);

  const std::string& dir() const { return dir_; }

 private:
  Store() = default;
  absl::Status ForEach(rocksdb::ColumnFamilyHandle* family,
                       absl::FunctionRef<absl::Status(absl::string_view key,
                                                      absl::string_view value)>
                           visit) const;
  // Adds `id` to the pending purge. The caller holds marker_mu_ (shared)
  // from before its delete is written.
  void NotePending(absl::string_view id) ABSL_SHARED_LOCKS_REQUIRED(marker_mu_)
      ABSL_LOCKS_EXCLUDED(purge_mu_);
  // The same for deleted jobs.
  void NoteJobsPending() ABSL_SHARED_LOCKS_REQUIRED(marker_mu_)
      ABSL_LOCKS_EXCLUDED(purge_mu_);
  // The StoreViews (snapshots) held now and the oldest one's sequence
  // number (0 when none); false if RocksDB cannot say.
  bool HeldViews(uint64_t* count, uint64_t* oldest) const;
  // OK once no snapshot older than `sequence` is held (every delete written
  // by then is then invisible to all of them), or an error after
  // options_.snapshot_wait or when closing.
  rocksdb::Status WaitForSnapshotsFrom(uint64_t sequence) const
      ABSL_LOCKS_EXCLUDED(purge_mu_);
  void PurgeLoop() ABSL_LOCKS_EXCLUDED(purge_mu_);

  std::string dir_;
  StoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned by db_
  rocksdb::ColumnFamilyHandle* profiles_ = nullptr;
  rocksdb::ColumnFamilyHandle* policies_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* jobs_ = nullptr;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;

  // Lock order: purge_run_mu_, then marker_mu_, then purge_mu_.
  // Deleters hold it shared across their write and NotePending; a purge
  // holds it exclusively to decide whether to clear the marker, so a delete
  // whose marker it would clear is always seen as pending. (It guards the
  // marker in the database, no member.)
  SharedMutex marker_mu_ ABSL_ACQUIRED_BEFORE(purge_mu_);
  // Serialises PurgeDeleted callers.
  Mutex purge_run_mu_ ABSL_ACQUIRED_BEFORE(marker_mu_, purge_mu_);
  mutable Mutex purge_mu_;
  CondVar purge_cv_;  // signalled on a new pending purge and on stop_
  // The pending purge, if any.
  bool pending_ ABSL_GUARDED_BY(purge_mu_) = false;
  // Purge everything (marker found at Open).
  bool full_range_ ABSL_GUARDED_BY(purge_mu_) = false;
  // Whether [pending_min_, pending_max_] holds deleted profiles, and
  // whether jobs were deleted (the jobs family is then compacted whole).
  bool profiles_pending_ ABSL_GUARDED_BY(purge_mu_) = false;
  bool jobs_pending_ ABSL_GUARDED_BY(purge_mu_) = false;
  std::string pending_min_ ABSL_GUARDED_BY(purge_mu_);
  std::string pending_max_ ABSL_GUARDED_BY(purge_mu_);
  // A sequence number by which every pending delete is written.
  uint64_t pending_seq_ ABSL_GUARDED_BY(purge_mu_) = 0;
  absl::Time pending_since_ ABSL_GUARDED_BY(purge_mu_);
  bool stop_ ABSL_GUARDED_BY(purge_mu_) = false;
  int64_t purges_ ABSL_GUARDED_BY(purge_mu_) = 0;
  std::thread purge_thread_;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_STORAGE_H_
