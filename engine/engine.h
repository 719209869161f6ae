// The pa-match engine: profiles, policies and search, persisted in RocksDB.
//
// This is the library the gRPC service wraps; it has no gRPC in it and can be
// embedded on its own (tests, benchmarks, the CLI's offline tools). Requests
// and responses are the API's protobuf messages (proto/pamatch/v1), so there
// is exactly one definition of every field; the engine validates them and
// compiles them into its own compact structures.
//
// Errors are values: every fallible call returns absl::Status(Or). Codes:
//   INVALID_ARGUMENT     bad input; the message names the field and value.
//   FAILED_PRECONDITION  stale version on upsert.
//   NOT_FOUND            unknown id or policy.
//   INTERNAL / UNAVAILABLE  storage failure (disk full, read-only dir, ...).
// A call that returns an error has changed nothing.
//
// Thread-safety: every public method is safe to call from any thread at any
// time. Profile writes (upserts, bulk batches, deletes) are validated on the
// calling thread, then committed by one commit thread in rounds: each round
// is one RocksDB WriteBatch with one WAL sync, so concurrent writers share
// fsyncs, and version checks are exact (engine/commit_queue.h). A search sees
// each profile either before or after any concurrent write to it, never a
// mix, and sees every write that was acknowledged before the search started.
#ifndef PA_MATCH_ENGINE_ENGINE_H_
#define PA_MATCH_ENGINE_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

// Progress of the index rebuild at start.
struct LoadProgress {
  int64_t loaded = 0;
  int64_t estimated_total = 0;  // RocksDB's estimate; may be off either way
  absl::Duration elapsed;
  bool done = false;
};

struct EngineOptions {
  // Directory of the RocksDB database; created if missing (its parent must
  // exist).
  std::string data_dir = "./data";
  // Vocabulary file (JSON, see taxonomy/north_east.json).
  std::string taxonomy_path = "taxonomy/north_east.json";
  // fsync the WAL before acknowledging each write. Only tests of pure
  // in-memory behaviour should turn this off.
  bool sync_writes = true;
  // Create the database when options.data_dir holds none. pa-matchd turns
  // this off for an existing install (keys file present) so that a vanished
  // database is an error, never a silent empty start.
  bool create_if_missing = true;
  // A deleted profile's bytes leave the RocksDB files (SSTs and WAL) within
  // this long after the delete, plus the time of one flush and compaction
  // of the deleted range (docs/STORAGE.md "Erasure").
  absl::Duration erasure_delay = absl::Seconds(60);
  // Background relayout of the index (engine/index_relayout.h): it is due
  // when the profiles in grid cells that writes have put out of travel
  // order are more than this fraction of all profiles and more than
  // relayout_min_unsorted, and runs once writes pause for 2 s (or after
  // 10 minutes of steady writes). Negative: never in the background.
  double relayout_unsorted_fraction = 0.01;
  int64_t relayout_min_unsorted = 1000;
  // Called during Open's rebuild of the index, about once a second and once
  // at the end (done = true). From Open's thread only.
  std::function<void(const LoadProgress&)> on_progress;
  // Alerts (MATCHING.md "Alerts"): every write also finds the (job, PA)
  // pairs whose match it starts or ends and writes those events in its
  // batch. Off: no events are written (Watch then sees none); jobs and
  // MatchJobs work the same.
  bool alerts = true;
  // Whether a write's alert pairs are found on its caller's thread before
  // it is queued (Market::Prepare, PrepareJobs), rather than on the commit
  // thread. The events are the same either way; off only to measure what
  // it gains (bench/match_jobs_bench.cc).
  bool alerts_prepare = true;
  // Events are kept at least this long and at most max_retained_events of
  // them (the older are dropped first); a subscriber further behind must
  // resynchronise.
  absl::Duration event_retention = absl::Hours(24 * 7);
  int64_t max_retained_events = 50'000'000;
  // The daily pass (and the trimming of events past the retention) runs in
  // the background every this long, so within it after 00:00 UTC (and at
  // Open when the stored alerts day is past). Zero: never in the background
  // (tests call AdvanceAlertsDay; events are then never trimmed).
  absl::Duration daily_pass_poll = absl::Seconds(30);
  // The clock the alerts day follows (the first alerts day of a new
  // database, the daily pass); tests set their own.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

// Where a Watch subscriber is in the event log, and what it follows
// (exactly one of job_id, profile_id, local_authorities is set). Made by
// Engine::StartWatch, advanced by ReadEvents.
struct WatchCursor {
  // Events with sequence > after come next.
  int64_t after = 0;
  std::string job_id;
  std::string profile_id;
  std::vector<std::string> local_authorities;  // sorted, unique
};

class EngineState;  // defined in engine.cc

class Engine {
 public:
  // Opens (or creates) the database in options.data_dir, loads the taxonomy
  // and rebuilds the in-memory state from disk. Fails with a clear message on
  // a missing taxonomy, a database of a newer schema, or corrupt files.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(
      const EngineOptions& options);

  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Inserts or replaces one profile; durable when it returns OK.
  absl::StatusOr<v1::UpsertProfileResponse> Upsert(const v1::Profile& profile);

  // Upserts many profiles with one fsync; one result per input, in order.
  // Items fail independently (an invalid item does not stop the others).
  std::vector<absl::StatusOr<v1::UpsertProfileResponse>> BulkUpsert(
      const std::vector<v1::Profile>& profiles);

  // Asynchronous writes, for callers that must not block (the gRPC
  // service): each validates on the calling thread, queues the write and
  // returns. `done` runs exactly once, when the write is durable and visible
  // to searches or has failed, on the engine's commit thread; it must be
  // quick and must not wait for another write of this engine (that would
  // stall every writer). Results are those of the blocking calls.
  using UpsertDone =
      std::function<void(absl::StatusOr<v1::UpsertProfileResponse>)>;
  using BulkUpsertDone = std::function<void(
      std::vector<absl::StatusOr<v1::UpsertProfileResponse>>)>;
  using DeleteDone = std::function<void(absl::Status)>;
  void UpsertAsync(const v1::Profile& profile, UpsertDone done);
  // Reads `profiles` only during the call (they are validated and
  // serialized before it returns), so they may live in an arena the caller
  // frees at once.
  void BulkUpsertAsync(const std::vector<const v1::Profile*>& profiles,
                       BulkUpsertDone done);
  void DeleteProfileAsync(absl::string_view id, DeleteDone done);

  absl::StatusOr<v1::GetProfileResponse> GetProfile(absl::string_view id) const;

  // Removes the profile from memory and disk; durable when it returns OK.
  absl::Status DeleteProfile(absl::string_view id);

  // Runs a search judged at `now` (used when request.as_of is empty).
  // `audience`: local authority codes; when not empty, only PAs of these
  // authorities match (and are counted), for a caller limited to them.
  absl::StatusOr<v1::SearchResponse> Search(
      const v1::SearchRequest& request, absl::Time now,
      const std::vector<std::string>& audience = {}) const;

  // The same search answered by the reference scan: every profile checked
  // against every hard filter, no index. Slow; kept as the oracle the index
  // is tested and benchmarked against.
  absl::StatusOr<v1::SearchResponse> ReferenceSearch(
      const v1::SearchRequest& request, absl::Time now,
      const std::vector<std::string>& audience = {}) const;

  absl::StatusOr<v1::Policy> SetPolicy(const v1::Policy& policy, absl::Time now);
  absl::StatusOr<v1::Policy> GetPolicy(absl::string_view local_authority) const;
  std::vector<v1::Policy> ListPolicies() const;
  absl::Status DeletePolicy(absl::string_view local_authority);

  v1::GetStatsResponse Stats() const;

  // Online, consistent backup: a RocksDB checkpoint of the database in
  // `destination_dir` (must not exist; its parent must), or, if empty, in
  // <parent of data_dir>/backups/<UTC timestamp>. Writes may continue
  // meanwhile; the backup holds each of them entirely or not at all. The
  // response counts the profiles and policies in the backup as read back
  // from it. Restore: docs/STORAGE.md.
  absl::StatusOr<v1::BackupResponse> Backup(const std::string& destination_dir,
                                            absl::Time now) const;

  // Lays the index out again now, in the order of the rebuild at start
  // (engine/index_relayout.h), as the background relayout does; blocks
  // until done. Searches and writes go on meanwhile.
  void RelayoutIndex();

  // Purges deleted profiles from the files now instead of after
  // erasure_delay; blocks until done (tests, shutdown).
  absl::Status PurgeDeleted();

  // Number of stored profiles.
  int64_t size() const;

  // ---- Jobs (MATCHING.md "Jobs: the same contract read backwards") -------
  // Writes follow the profile writes: validated on the calling thread
  // (a job's request exactly as a Search), ordered and committed by the
  // commit thread with the alert events they cause, `done` run there once
  // durable and visible (or failed). Same codes as profile writes.
  using JobUpsertDone =
      std::function<void(absl::StatusOr<v1::UpsertJobResponse>)>;
  using JobBulkUpsertDone = std::function<void(
      std::vector<absl::StatusOr<v1::UpsertJobResponse>>)>;
  void UpsertJobAsync(const v1::Job& job, JobUpsertDone done);
  // Reads `jobs` only during the call.
  void BulkUpsertJobsAsync(const std::vector<const v1::Job*>& jobs,
                           JobBulkUpsertDone done);
  void DeleteJobAsync(absl::string_view id, DeleteDone done);
  absl::StatusOr<v1::UpsertJobResponse> UpsertJob(const v1::Job& job);
  std::vector<absl::StatusOr<v1::UpsertJobResponse>> BulkUpsertJobs(
      const std::vector<v1::Job>& jobs);
  absl::Status DeleteJob(absl::string_view id);
  // `now` says whether the job is open today.
  absl::StatusOr<v1::GetJobResponse> GetJob(absl::string_view id,
                                            absl::Time now) const;

  // The OPEN jobs the PA matches on as_of (`now` when the request has
  // none), through the job index.
  // `audience`: sorted local authority codes; when not empty, the PA must
  // be of one of them (PERMISSION_DENIED otherwise) and only jobs naming
  // one of them are offered, for a caller limited to them.
  absl::StatusOr<v1::MatchJobsResponse> MatchJobs(
      const v1::MatchJobsRequest& request, absl::Time now,
      const std::vector<std::string>& audience = {}) const;
  // The same answer from a plain scan: every stored job's request compiled
  // as a Search and judged against the PA by the reference scan's rules.
  // Slow; the oracle MatchJobs is tested and benchmarked against.
  absl::StatusOr<v1::MatchJobsResponse> ReferenceMatchJobs(
      const v1::MatchJobsRequest& request, absl::Time now) const;

  // ---- Alerts (MATCHING.md "Alerts") -------------------------------------
  // Validates a Watch request and places its cursor: after_sequence when
  // given (OUT_OF_RANGE if events after it are no longer retained,
  // INVALID_ARGUMENT if it is beyond the last event), else the last event.
  absl::StatusOr<WatchCursor> StartWatch(const v1::WatchRequest& request) const;
  // Up to `max_events` events after the cursor that concern it, in order;
  // advances cursor->after past every event read (concerning it or not).
  // OUT_OF_RANGE if events after the cursor have been dropped meanwhile.
  absl::StatusOr<std::vector<v1::WatchEvent>> ReadEvents(
      WatchCursor* cursor, size_t max_events) const;
  // Sequence of the last durable event (0 if none yet).
  int64_t LastEventSequence() const;
  // `listener` is called with the last sequence after every commit that
  // wrote events, on the commit thread, after the events are durable: it
  // must be quick and must not call back into the engine's writes.
  using EventListener = std::function<void(int64_t last_sequence)>;
  int64_t AddEventListener(EventListener listener);
  void RemoveEventListener(int64_t id);
  // Runs the daily pass up to the UTC day of `now` (a no-op when the
  // alerts day is already that day): the MATCH_ENDED events only the
  // calendar causes (training expiring, DBS certificates ageing, jobs
  // closing), then the alerts day moves on. The background thread calls
  // this; tests call it with their own clock.
  absl::Status AdvanceAlertsDay(absl::Time now);

 private:
  explicit Engine(std::unique_ptr<EngineState> state);
  absl::StatusOr<v1::SearchResponse> RunSearch(
      const v1::SearchRequest& request, absl::Time now,
      const std::vector<std::string>& audience, bool use_index) const;
  std::unique_ptr<EngineState> state_;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_ENGINE_H_
