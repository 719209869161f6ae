// The other side of the market (issue 20): the stored jobs and their index,
// a PA's jobs (MatchJobs), and the alert events (MATCHING.md "Alerts").
//
// Every write that can change match(job, PA, day) runs on the commit
// thread (commit_queue.h), so all of them are in one order:
//   - profile writes, through CommitHook: before a round's batch is
//     written, the pairs each accepted write turns (its PA as stored and
//     as written, against the job index) become MATCH_STARTED /
//     MATCH_ENDED events in the same batch. The pairs are found on the
//     writer's thread before the write is queued (Prepare, one scan of
//     the job index), so that writers find them in parallel and while the
//     commit thread syncs; the commit thread uses them when the job index,
//     the day and the stored profile are still the ones they were found
//     against, and finds them itself otherwise;
//   - job writes, policy changes and the daily pass, as commit-queue tasks
//     (CommitJobs, CommitPolicy, AdvanceDay): each finds the PAs its jobs
//     matched and now match through the profile index (any status), writes
//     the events with the change in one batch, and only then applies it.
// An event is therefore durable exactly when the write that caused it is,
// and the events, replayed in sequence order, turn the empty set into the
// set of matching pairs on the alerts day. Events are judged on the
// alerts day `day()`: the UTC day the daily pass last moved it to.
//
// Thread-safety: the commit-thread methods are marked so; every other
// method may be called from any thread. The job index is guarded by mu_
// (shared to read, exclusive to change, only the commit thread changes
// it); the event log's published range by events_mu_; listeners by
// listeners_mu_, held while they are called, so that after
// RemoveListener returns a listener is never called again. Lock order:
// mu_ before the profile index's lock (live_index.h), both shared: the
// daily pass holds them so on the commit thread. No thread takes mu_ while holding the profile index's
// lock; Prepare takes the profile index's lock, releases it, then mu_.
#ifndef PA_MATCH_ENGINE_MARKET_H_
#define PA_MATCH_ENGINE_MARKET_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/commit_queue.h"
#include "engine/engine.h"
#include "engine/job.h"
#include "engine/job_index.h"
#include "engine/job_matching.h"
#include "engine/live_index.h"
#include "engine/policies.h"
#include "engine/storage.h"
#include "engine/sync.h"
#include "engine/taxonomy.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

struct MarketOptions {
  bool alerts = true;
  bool prepare = true;  // EngineOptions::alerts_prepare
  absl::Duration event_retention = absl::Hours(24 * 7);
  int64_t max_retained_events = 50'000'000;
};

// A pair whose match turned.
struct PairChange {
  bool started;
  std::string job_id, profile_id, local_authority;
  double score;
};

// A job whose match with one PA turned: a PairChange without its
// strings, valid while the job index holds `job`.
struct TurnedJob {
  bool started;
  const CompiledJob* job;
  double score;  // started: the pair's score; else 0
};

// The jobs whose match with a PA turns when it goes from `before` to
// `after` (either null: absent) against `jobs` on `day`, in the order of
// one write's events (MATCHING-DECISIONS.md "Order and ids"): the ends,
// then the starts, each by job id. One scan of the index
// (ForEachMatchChange). The caller holds the job index's lock shared.
void ProfileMatchChanges(const JobIndex& jobs, const CompiledProfile* before,
                         const CompiledProfile* after, DayNumber day,
                         std::vector<TurnedJob>* out);

// Appends `changes` to `out` as serialised WatchEvents caused by `cause`
// at write `position`, stamped with `time` and the alerts day `day`,
// numbered from *sequence + 1 (*sequence is left at the last).
void EncodeEvents(const std::vector<PairChange>& changes, const char* cause,
                  int64_t position, absl::Time time, DayNumber day,
                  int64_t* sequence,
                  std::vector<std::pair<int64_t, std::string>>* out);
// The same for one PA's turned jobs (the caller holds the job index's
// lock shared, or knows that it still holds the jobs).
void EncodeEvents(absl::string_view profile_id,
                  const std::vector<TurnedJob>& changes, const char* cause,
                  int64_t position, absl::Time time, DayNumber day,
                  int64_t* sequence,
                  std::vector<std::pair<int64_t, std::string>>* out);

// What Market::PrepareJobs works out for a job write (market.cc).
struct PreparedJob;

// One job write: an upsert when `compiled` is set (version as requested),
// else a delete of `id`; `prepared` by Market::PrepareJobs, if at all.
struct JobWrite {
  std::optional<CompiledJob> compiled;
  std::string id;
  std::shared_ptr<const PreparedJob> prepared;
};

class Market final : public CommitHook {
 public:
  // Everything given must outlive this.
  Market(const Taxonomy& taxonomy, Store* store, LiveIndex* live,
         PolicyStore* policies, MarketOptions options);
  Market(const Market&) = delete;
  Market& operator=(const Market&) = delete;

  // At Open, after the profiles and policies, before the commit queue
  // starts: the alerts day (stored, else the day of `now`), the write
  // position, the event range and the jobs.
  absl::Status Load(absl::Time now);

  // Any thread (CommitQueue::Submit): a profile write's pairs, found on
  // the writer's thread against the job index as it is, so that the commit
  // thread only checks that they still hold (same stored profile, job
  // index and day) instead of finding them itself.
  std::shared_ptr<const CommitHookPrepared> Prepare(
      const CompiledProfile* after, absl::string_view id) override;

  // Any thread, before the writes go to CommitJobs: each job write's
  // pairs (the PAs it starts and ends matching), found on the caller's
  // thread through the profile index. CommitJobs uses them if the job as
  // stored, the policies and the day are still those they were found
  // with, after judging again just the PAs written since (a ring of the
  // latest profile writes' ids, kRecentProfileWrites long); otherwise it
  // finds them itself, as without.
  void PrepareJobs(std::vector<JobWrite>* writes) const;

  // ---- Commit thread only ----------------------------------------------
  void BeforeWrite(const std::vector<Change>& changes, Store::Extras* extras,
                   std::vector<int64_t>* positions) override;
  void AfterWrite(bool written) override;
  // Version checks, events, one batch, then the index; a result per write.
  struct JobResult {
    absl::Status status;
    int64_t version = 0;
    bool created = false;
    int64_t position = 0;
  };
  std::vector<JobResult> CommitJobs(std::vector<JobWrite> writes);
  // Sets `policy` (normalised) or, with `remove`, deletes the policy of
  // policy.local_authority() (NOT_FOUND if it has none).
  absl::StatusOr<v1::Policy> CommitPolicy(const v1::Policy& policy,
                                          bool remove);
  // The daily pass: moves the alerts day on to `to` (no-op unless later).
  absl::Status AdvanceDay(DayNumber to);
  // Drops events past the retention (keeps the last one always).
  absl::Status TrimEvents(absl::Time now);

  // ---- Any thread ------------------------------------------------------
  DayNumber day() const { return day_.load(std::memory_order_acquire); }
  absl::StatusOr<v1::GetJobResponse> GetJob(absl::string_view id,
                                            DayNumber today) const;
  // The OPEN jobs `pa` matches on query.as_of, through the index or by the
  // reference scan.
  absl::StatusOr<v1::MatchJobsResponse> MatchJobs(const CompiledProfile& pa,
                                                  const MatchJobsQuery& query,
                                                  bool reference) const;
  int64_t jobs() const;
  int64_t open_jobs(DayNumber today) const;

  absl::StatusOr<WatchCursor> StartWatch(const v1::WatchRequest& request) const;
  absl::StatusOr<std::vector<v1::WatchEvent>> ReadEvents(
      WatchCursor* cursor, size_t max_events) const;
  // Published event range: first retained and last (first = last + 1
  // when none is retained).
  std::pair<int64_t, int64_t> EventRange() const;
  int64_t AddListener(Engine::EventListener listener);
  void RemoveListener(int64_t id);

  // Profile writes whose pairs were found by Prepare and used as they
  // were, and those the commit thread had to find (again). For tests,
  // benchmarks and metrics.
  struct DiffCounters {
    int64_t prepared_used = 0;
    int64_t found_on_commit = 0;
    // The same for job writes, and the PAs judged again on the commit
    // thread because they were written after a job write was prepared.
    int64_t jobs_prepared_used = 0;
    int64_t jobs_found_on_commit = 0;
    int64_t pas_judged_again = 0;
  };
  // Profile writes remembered for PrepareJobs.
  static constexpr size_t kRecentProfileWrites = 1 << 16;
  DiffCounters diff_counters() const;

 private:
  // What Prepare works out for a profile write: its pairs against the job
  // index at `generation` on `day`, from the stored profile `before`.
  struct PreparedDiff;
  // The PAs (any status) `job` matches on `day` (none unless open then).
  void ForEachPaOf(const CompiledJob& job, DayNumber day,
                   const std::function<void(const CompiledProfile&,
                                            const PairMatch&)>& visit) const;
  // The pairs of `write` (its job stored as `before`) on `today`, from its
  // prepared pairs if they still hold (then *after is set from them,
  // the version aside); false if they do not.
  bool UsePrepared(const JobWrite& write, const JobPtr& before,
                   DayNumber today, std::optional<CompiledJob>* after,
                   std::vector<PairChange>* out);
  // The changes of one job going from `before` to `after`.
  void DiffJob(const CompiledJob* before, const CompiledJob* after,
               DayNumber day, std::vector<PairChange>* out) const;
  // Stages `changes` as events caused by `cause` at `position` into
  // `extras` (commit thread; published by Publish).
  void Stage(const std::vector<PairChange>& changes, const char* cause,
             int64_t position, Store::Extras* extras);
  void Stage(absl::string_view profile_id, const std::vector<TurnedJob>& changes,
             const char* cause, int64_t position, Store::Extras* extras);
  // After a batch: publish the staged events, or forget them.
  void Publish(bool written);

  const Taxonomy& taxonomy_;
  Store* const store_;
  LiveIndex* const live_;
  PolicyStore* const policies_;
  const MarketOptions options_;

  mutable SharedMutex mu_;
  JobIndex jobs_ ABSL_GUARDED_BY(mu_);
  // Bumped with every change to jobs_ (and the day, which moves every job):
  // a prepared diff of the same generation was found against this index.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> prepared_used_{0}, found_on_commit_{0};
  std::atomic<int64_t> jobs_prepared_used_{0}, jobs_found_on_commit_{0};
  std::atomic<int64_t> pas_judged_again_{0};
  // Bumped (release) after every policy change is applied.
  std::atomic<uint64_t> policy_generation_{0};
  // The position of the last write applied (release, in Publish): every
  // profile write at or before it is in the profile index.
  std::atomic<int64_t> published_position_{0};
  // Commit thread only: the latest profile writes (position, PA id), in
  // position order, at most kRecentProfileWrites; every profile write
  // after recent_floor_ is in it. Those of the round being written are
  // staged until it is.
  std::deque<std::pair<int64_t, std::string>> recent_profiles_;
  int64_t recent_floor_ = 0;
  std::vector<std::pair<int64_t, std::string>> staged_profiles_;
  std::atomic<DayNumber> day_{0};

  // Commit thread only: the last position and sequence written, and those
  // staged for the batch being written.
  int64_t position_ = 0, staged_position_ = 0;
  int64_t staged_sequence_ = 0;
  absl::Time staged_time_;

  mutable Mutex events_mu_;
  int64_t first_event_ ABSL_GUARDED_BY(events_mu_) = 1;
  int64_t last_event_ ABSL_GUARDED_BY(events_mu_) = 0;

  mutable Mutex listeners_mu_;
  absl::flat_hash_map<int64_t, Engine::EventListener> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
  int64_t next_listener_ ABSL_GUARDED_BY(listeners_mu_) = 1;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_MARKET_H_
