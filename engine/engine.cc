#include "engine/engine.h"

#include <algorithm>
#include <cstdio>
#include <future>
#include <thread>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/backup.h"
#include "engine/commit_queue.h"
#include "engine/index_relayout.h"
#include "engine/job.h"
#include "engine/job_matching.h"
#include "engine/live_index.h"
#include "engine/market.h"
#include "engine/policies.h"
#include "engine/profile.h"
#include "engine/profile_index.h"
#include "engine/profile_loader.h"
#include "engine/query.h"
#include "engine/scoring.h"
#include "engine/storage.h"
#include "engine/sync.h"
#include "engine/taxonomy.h"
#include "engine/validation.h"

namespace pamatch {

// Everything behind the Engine facade, in construction order (destroyed in
// reverse). Locks: the live index's (live_index.h) and the policies' own
// (policies.h); no call holds both. Profile writes are ordered,
// version-checked, written (disk first) and applied by the commit queue's
// one thread (commit_queue.h), the only writer of profiles to the index
// once Open has returned; the relayout thread (index_relayout.h) only
// swaps in a fresh index with the same profiles. Disk first, memory
// second: a crash between them loses only an unacknowledged write, and
// restart rebuilds memory from disk.
class EngineState {
 public:
  EngineState(Taxonomy taxonomy_in, std::unique_ptr<Store> store_in,
              MarketOptions market_options)
      : taxonomy(std::move(taxonomy_in)),
        store(std::move(store_in)),
        live(taxonomy),
        policies(taxonomy, store.get()),
        market(taxonomy, store.get(), &live, &policies, market_options) {}
  ~EngineState() {
    {
      MutexLock lock(&daily_mu);
      stopping = true;
    }
    daily_cv.SignalAll();
    if (daily.joinable()) daily.join();
  }

  // Runs `task` on the commit thread and waits for its result.
  template <typename Result>
  Result OnCommitThread(std::function<Result()> task) {
    std::promise<Result> result;
    commits->SubmitTask([&] { result.set_value(task()); });
    return result.get_future().get();
  }

  const absl::Time started = absl::Now();
  // EngineOptions::clock: what "today" is for the alerts and their stats.
  std::function<absl::Time()> clock;
  const Taxonomy taxonomy;
  const std::unique_ptr<Store> store;
  LiveIndex live;
  PolicyStore policies;
  Market market;
  // Started once the index is loaded. Destroyed first, after committing
  // what is queued, while the store and index still exist.
  std::unique_ptr<CommitQueue> commits;
  // Started after the commit queue, stopped before it.
  std::unique_ptr<IndexRelayout> relayout;
  // The daily pass and event trimming, every daily_pass_poll (if > 0);
  // stopped first (the destructor above).
  Mutex daily_mu;
  CondVar daily_cv;
  bool stopping ABSL_GUARDED_BY(daily_mu) = false;
  std::thread daily;
};

Engine::Engine(std::unique_ptr<EngineState> state) : state_(std::move(state)) {}
Engine::~Engine() = default;

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(
    const EngineOptions& options) {
  absl::StatusOr<Taxonomy> taxonomy = Taxonomy::Load(options.taxonomy_path);
  if (!taxonomy.ok()) return taxonomy.status();
  StoreOptions store_options;
  store_options.sync = options.sync_writes;
  store_options.create_if_missing = options.create_if_missing;
  store_options.purge_delay = options.erasure_delay;
  absl::StatusOr<std::unique_ptr<Store>> store =
      Store::Open(options.data_dir, store_options);
  if (!store.ok()) return store.status();
  MarketOptions market_options;
  market_options.alerts = options.alerts;
  market_options.prepare = options.alerts_prepare;
  market_options.event_retention = options.event_retention;
  market_options.max_retained_events = options.max_retained_events;
  auto state = std::make_unique<EngineState>(
      *std::move(taxonomy), *std::move(store), market_options);
  state->clock = options.clock;
  absl::Status status =
      LoadProfiles(*state->store, state->live, options.on_progress);
  if (!status.ok()) return status;
  status = state->policies.Load();
  if (!status.ok()) return status;
  status = state->market.Load(options.clock());
  if (!status.ok()) return status;
  {
    WriterLock lock(&state->live.mu());
    state->live.ExchangeVisible(state->store->TakeView());
  }
  state->commits = std::make_unique<CommitQueue>(
      state->store.get(), &state->live, &state->market);
  RelayoutOptions relayout;
  relayout.background = options.relayout_unsorted_fraction >= 0;
  relayout.unsorted_fraction = options.relayout_unsorted_fraction;
  relayout.min_unsorted_documents = options.relayout_min_unsorted;
  state->relayout = std::make_unique<IndexRelayout>(&state->live, relayout);
  std::unique_ptr<Engine> engine(new Engine(std::move(state)));
  if (options.daily_pass_poll > absl::ZeroDuration()) {
    status = engine->AdvanceAlertsDay(options.clock());
    if (!status.ok()) return status;
    EngineState* s = engine->state_.get();
    s->daily = std::thread([s, engine = engine.get(), clock = options.clock,
                            poll = options.daily_pass_poll] {
      MutexLock lock(&s->daily_mu);
      while (!s->stopping) {
        s->daily_cv.WaitFor(&s->daily_mu, poll);
        if (s->stopping) break;
        s->daily_mu.Unlock();
        const absl::Time now = clock();
        absl::Status passed = engine->AdvanceAlertsDay(now);
        if (passed.ok()) {
          passed = s->OnCommitThread<absl::Status>(
              [s, now] { return s->market.TrimEvents(now); });
        }
        if (!passed.ok()) {
          std::fprintf(stderr, "pa-match: alerts daily pass: %s\n",
                       std::string(passed.message()).c_str());
        }
        s->daily_mu.Lock();
      }
    });
  }
  return engine;
}

absl::StatusOr<v1::UpsertProfileResponse> Engine::Upsert(
    const v1::Profile& profile) {
  std::promise<absl::StatusOr<v1::UpsertProfileResponse>> result;
  UpsertAsync(profile, [&result](absl::StatusOr<v1::UpsertProfileResponse> r) {
    result.set_value(std::move(r));
  });
  return result.get_future().get();
}

std::vector<absl::StatusOr<v1::UpsertProfileResponse>> Engine::BulkUpsert(
    const std::vector<v1::Profile>& profiles) {
  std::promise<std::vector<absl::StatusOr<v1::UpsertProfileResponse>>> result;
  std::vector<const v1::Profile*> pointers;
  pointers.reserve(profiles.size());
  for (const v1::Profile& profile : profiles) pointers.push_back(&profile);
  BulkUpsertAsync(
      pointers,
      [&result](std::vector<absl::StatusOr<v1::UpsertProfileResponse>> r) {
        result.set_value(std::move(r));
      });
  return result.get_future().get();
}

void Engine::UpsertAsync(const v1::Profile& profile, UpsertDone done) {
  absl::StatusOr<CompiledProfile> compiled =
      CompileProfile(state_->taxonomy, profile);
  if (!compiled.ok()) return done(compiled.status());
  std::vector<ProfileWrite> writes(1);
  writes[0].compiled = *std::move(compiled);
  writes[0].value = SerializeProfile(profile);
  state_->commits->Submit(std::move(writes),
                          [id = profile.id(), done = std::move(done)](
                              std::vector<WriteResult> results) {
                            const WriteResult& result = results.front();
                            if (!result.status.ok()) return done(result.status);
                            v1::UpsertProfileResponse response;
                            response.set_id(id);
                            response.set_version(result.version);
                            response.set_created(result.created);
                            response.set_position(result.position);
                            done(std::move(response));
                          });
}

// Validates every item here, on the caller's thread, and queues the valid
// ones as one group (one WriteBatch, one sync); the results of both are put
// back in input order.
void Engine::BulkUpsertAsync(const std::vector<const v1::Profile*>& profiles,
                             BulkUpsertDone done) {
  auto results =
      std::make_shared<std::vector<absl::StatusOr<v1::UpsertProfileResponse>>>(
          profiles.size(), absl::UnknownError("not processed"));
  std::vector<ProfileWrite> writes;
  std::vector<size_t> positions;  // input index of each write
  std::vector<std::string> ids;   // and its id
  writes.reserve(profiles.size());
  for (size_t i = 0; i < profiles.size(); ++i) {
    absl::StatusOr<CompiledProfile> compiled =
        CompileProfile(state_->taxonomy, *profiles[i]);
    if (!compiled.ok()) {
      (*results)[i] = compiled.status();
      continue;
    }
    ids.push_back(profiles[i]->id());
    writes.emplace_back();
    writes.back().compiled = *std::move(compiled);
    writes.back().value = SerializeProfile(*profiles[i]);
    positions.push_back(i);
  }
  if (writes.empty()) return done(std::move(*results));
  state_->commits->Submit(
      std::move(writes),
      [results, positions = std::move(positions), ids = std::move(ids),
       done = std::move(done)](std::vector<WriteResult> written) {
        for (size_t k = 0; k < written.size(); ++k) {
          absl::StatusOr<v1::UpsertProfileResponse>& out =
              (*results)[positions[k]];
          if (!written[k].status.ok()) {
            out = written[k].status;
            continue;
          }
          v1::UpsertProfileResponse response;
          response.set_id(ids[k]);
          response.set_version(written[k].version);
          response.set_created(written[k].created);
          response.set_position(written[k].position);
          out = std::move(response);
        }
        done(std::move(*results));
      });
}

void Engine::DeleteProfileAsync(absl::string_view id, DeleteDone done) {
  absl::Status status = ValidateId(id, "id");
  if (!status.ok()) return done(status);
  std::vector<ProfileWrite> writes(1);
  writes[0].id = std::string(id);
  state_->commits->Submit(
      std::move(writes),
      [done = std::move(done)](std::vector<WriteResult> results) {
        done(std::move(results.front().status));
      });
}

absl::StatusOr<v1::GetProfileResponse> Engine::GetProfile(
    absl::string_view id) const {
  absl::Status status = ValidateId(id, "id");
  if (!status.ok()) return status;
  std::shared_ptr<const StoreView> view;
  {
    ReaderLock lock(&state_->live.mu());
    view = state_->live.visible();
  }
  auto stored = state_->store->GetProfile(id, view.get());
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return absl::NotFoundError(absl::StrCat("profile \"", id, "\" not found"));
  }
  v1::GetProfileResponse response;
  *response.mutable_profile() = **stored;
  auto compiled = CompileProfile(state_->taxonomy, response.profile());
  if (compiled.ok()) response.set_register_level(compiled->register_level);
  return response;
}

absl::Status Engine::DeleteProfile(absl::string_view id) {
  std::promise<absl::Status> result;
  DeleteProfileAsync(id, [&result](absl::Status status) {
    result.set_value(std::move(status));
  });
  return result.get_future().get();
}

absl::StatusOr<v1::SearchResponse> Engine::Search(
    const v1::SearchRequest& request, absl::Time now,
    const std::vector<std::string>& audience) const {
  return RunSearch(request, now, audience, /*use_index=*/true);
}

absl::StatusOr<v1::SearchResponse> Engine::ReferenceSearch(
    const v1::SearchRequest& request, absl::Time now,
    const std::vector<std::string>& audience) const {
  return RunSearch(request, now, audience, /*use_index=*/false);
}

// The index and the reference scan differ only in which profiles reach the
// collector: index candidates (set filters already answered) or every one.
absl::StatusOr<v1::SearchResponse> Engine::RunSearch(
    const v1::SearchRequest& request, absl::Time now,
    const std::vector<std::string>& audience, bool use_index) const {
  const EngineState& s = *state_;
  const std::optional<v1::Policy> policy =
      s.policies.Find(request.local_authority());
  absl::StatusOr<CompiledQuery> query =
      CompileQuery(s.taxonomy, request, policy ? &*policy : nullptr, now);
  if (!query.ok()) return query.status();
  RestrictToAuthorities(s.taxonomy, audience, &*query);
  SearchCollector collector(*query, s.taxonomy);
  ReaderLock lock(&s.live.mu());
  const ProfileIndex& index = s.live.index();
  if (use_index) {
    index.Search(*query, collector);
  } else {
    index.ForEach(
        [&](const CompiledProfile& profile) { collector.Consider(profile); });
  }
  // Still under the lock: the page points into the index's profiles.
  return collector.Finish();
}

absl::StatusOr<v1::Policy> Engine::SetPolicy(const v1::Policy& policy,
                                             absl::Time now) {
  absl::StatusOr<v1::Policy> normalized =
      state_->policies.Normalize(policy, now);
  if (!normalized.ok()) return normalized.status();
  EngineState* s = state_.get();
  return s->OnCommitThread<absl::StatusOr<v1::Policy>>(
      [s, &normalized] { return s->market.CommitPolicy(*normalized, false); });
}

absl::StatusOr<v1::Policy> Engine::GetPolicy(
    absl::string_view local_authority) const {
  return state_->policies.Get(local_authority);
}

std::vector<v1::Policy> Engine::ListPolicies() const {
  return state_->policies.List();
}

absl::Status Engine::DeletePolicy(absl::string_view local_authority) {
  v1::Policy policy;
  policy.set_local_authority(std::string(local_authority));
  EngineState* s = state_.get();
  return s->OnCommitThread<absl::Status>([s, &policy] {
    return s->market.CommitPolicy(policy, /*remove=*/true).status();
  });
}

v1::GetStatsResponse Engine::Stats() const {
  const EngineState& s = *state_;
  v1::GetStatsResponse stats;
  {
    ReaderLock lock(&s.live.mu());
    const ProfileIndex& index = s.live.index();
    stats.set_profiles(static_cast<int64_t>(index.size()));
    // Counts the index keeps as it goes: no walk over the profiles, so the
    // lock is held for microseconds at any size.
    const std::vector<int64_t>& by_id = index.profiles_by_local_authority();
    auto& by_la = *stats.mutable_profiles_by_local_authority();
    for (size_t id = 0; id < by_id.size(); ++id) {
      if (by_id[id] > 0) {
        by_la[s.taxonomy.local_authority(static_cast<CodeId>(id)).code] =
            by_id[id];
      }
    }
    const auto active = static_cast<int64_t>(index.active_size());
    stats.set_active_profiles(active);
    stats.set_paused_profiles(stats.profiles() - active);
    stats.set_unsorted_profiles(
        static_cast<int64_t>(index.unsorted_documents()));
  }
  const IndexRelayout::Stats relayout = s.relayout->stats();
  stats.set_index_relayouts(relayout.runs);
  stats.set_last_relayout_seconds(
      absl::ToDoubleSeconds(relayout.last_duration));
  stats.set_last_relayout_pause_seconds(
      absl::ToDoubleSeconds(relayout.last_exclusive));
  stats.set_last_relayout_write_pause_seconds(
      absl::ToDoubleSeconds(relayout.last_locked));
  stats.set_policies(static_cast<int64_t>(s.policies.size()));
  stats.set_uptime_seconds(absl::ToInt64Seconds(absl::Now() - s.started));
  stats.set_data_dir(s.store->dir());
  stats.set_version(PA_MATCH_VERSION);
  stats.set_taxonomy_skills(static_cast<int64_t>(s.taxonomy.skills().size()));
  stats.set_taxonomy_training(
      static_cast<int64_t>(s.taxonomy.training().size()));
  stats.set_jobs(s.market.jobs());
  stats.set_open_jobs(s.market.open_jobs(DayOf(s.clock())));
  const auto [first, last] = s.market.EventRange();
  stats.set_last_event_sequence(last);
  stats.set_oldest_event_sequence(last >= first ? first : 0);
  stats.set_retained_events(last >= first ? last - first + 1 : 0);
  stats.set_alerts_day(FormatDate(s.market.day()));
  return stats;
}

int64_t Engine::size() const {
  ReaderLock lock(&state_->live.mu());
  return static_cast<int64_t>(state_->live.index().size());
}

absl::StatusOr<v1::BackupResponse> Engine::Backup(
    const std::string& destination_dir, absl::Time now) const {
  return BackupStore(*state_->store, destination_dir, now);
}

void Engine::RelayoutIndex() { state_->relayout->RunNow(); }

absl::Status Engine::PurgeDeleted() { return state_->store->PurgeDeleted(); }

// ---- Jobs ------------------------------------------------------------------

namespace {

v1::UpsertJobResponse JobResponse(const std::string& id,
                                  const Market::JobResult& result) {
  v1::UpsertJobResponse response;
  response.set_id(id);
  response.set_version(result.version);
  response.set_created(result.created);
  response.set_position(result.position);
  return response;
}

}  // namespace

void Engine::UpsertJobAsync(const v1::Job& job, JobUpsertDone done) {
  std::vector<const v1::Job*> one = {&job};
  BulkUpsertJobsAsync(
      one, [done = std::move(done)](
               std::vector<absl::StatusOr<v1::UpsertJobResponse>> results) {
        done(std::move(results.front()));
      });
}

// Validates every item on the caller's thread; the valid ones are
// committed by one commit-thread task (one batch, one sync).
void Engine::BulkUpsertJobsAsync(const std::vector<const v1::Job*>& jobs,
                                 JobBulkUpsertDone done) {
  EngineState* s = state_.get();
  auto results =
      std::make_shared<std::vector<absl::StatusOr<v1::UpsertJobResponse>>>(
          jobs.size(), absl::UnknownError("not processed"));
  std::vector<JobWrite> writes;
  std::vector<size_t> positions;
  const DayNumber day = s->market.day();
  for (size_t i = 0; i < jobs.size(); ++i) {
    const std::optional<v1::Policy> policy =
        s->policies.Find(jobs[i]->request().local_authority());
    absl::StatusOr<CompiledJob> compiled =
        CompileJob(s->taxonomy, *jobs[i], policy ? &*policy : nullptr, day);
    if (!compiled.ok()) {
      (*results)[i] = compiled.status();
      continue;
    }
    writes.emplace_back();
    writes.back().compiled = *std::move(compiled);
    positions.push_back(i);
  }
  if (writes.empty()) return done(std::move(*results));
  // Their alert pairs found here, not on the commit thread (market.h).
  s->market.PrepareJobs(&writes);
  s->commits->SubmitTask([s, results, positions = std::move(positions),
                          writes = std::move(writes),
                          done = std::move(done)]() mutable {
    std::vector<std::string> ids;
    for (const JobWrite& write : writes) ids.push_back(write.compiled->id);
    std::vector<Market::JobResult> written =
        s->market.CommitJobs(std::move(writes));
    for (size_t k = 0; k < written.size(); ++k) {
      absl::StatusOr<v1::UpsertJobResponse>& out = (*results)[positions[k]];
      if (!written[k].status.ok()) {
        out = written[k].status;
      } else {
        out = JobResponse(ids[k], written[k]);
      }
    }
    done(std::move(*results));
  });
}

void Engine::DeleteJobAsync(absl::string_view id, DeleteDone done) {
  absl::Status status = ValidateId(id, "id");
  if (!status.ok()) return done(status);
  EngineState* s = state_.get();
  std::vector<JobWrite> writes(1);
  writes[0].id = std::string(id);
  s->market.PrepareJobs(&writes);
  s->commits->SubmitTask(
      [s, writes = std::move(writes), done = std::move(done)]() mutable {
        done(std::move(s->market.CommitJobs(std::move(writes)).front().status));
      });
}

absl::StatusOr<v1::UpsertJobResponse> Engine::UpsertJob(const v1::Job& job) {
  std::promise<absl::StatusOr<v1::UpsertJobResponse>> result;
  UpsertJobAsync(job, [&result](absl::StatusOr<v1::UpsertJobResponse> r) {
    result.set_value(std::move(r));
  });
  return result.get_future().get();
}

std::vector<absl::StatusOr<v1::UpsertJobResponse>> Engine::BulkUpsertJobs(
    const std::vector<v1::Job>& jobs) {
  std::promise<std::vector<absl::StatusOr<v1::UpsertJobResponse>>> result;
  std::vector<const v1::Job*> pointers;
  pointers.reserve(jobs.size());
  for (const v1::Job& job : jobs) pointers.push_back(&job);
  BulkUpsertJobsAsync(
      pointers,
      [&result](std::vector<absl::StatusOr<v1::UpsertJobResponse>> r) {
        result.set_value(std::move(r));
      });
  return result.get_future().get();
}

absl::Status Engine::DeleteJob(absl::string_view id) {
  std::promise<absl::Status> result;
  DeleteJobAsync(id, [&result](absl::Status status) {
    result.set_value(std::move(status));
  });
  return result.get_future().get();
}

absl::StatusOr<v1::GetJobResponse> Engine::GetJob(absl::string_view id,
                                                  absl::Time now) const {
  return state_->market.GetJob(id, DayOf(now));
}

namespace {

// The PA of a MatchJobs request: the stored profile (shared, so it stays
// valid whatever writes come), or the one sent, compiled.
absl::StatusOr<std::shared_ptr<const CompiledProfile>> MatchJobsPa(
    const EngineState& s, const v1::MatchJobsRequest& request) {
  switch (request.pa_case()) {
    case v1::MatchJobsRequest::kProfileId: {
      absl::Status status = ValidateId(request.profile_id(), "profile_id");
      if (!status.ok()) return status;
      ReaderLock lock(&s.live.mu());
      ProfileIndex::ProfilePtr pa = s.live.index().Share(request.profile_id());
      if (pa == nullptr) {
        return absl::NotFoundError(absl::StrCat(
            "profile \"", request.profile_id(), "\" not found"));
      }
      return pa;
    }
    case v1::MatchJobsRequest::kProfile: {
      absl::StatusOr<CompiledProfile> compiled =
          CompileProfile(s.taxonomy, request.profile());
      if (!compiled.ok()) {
        return absl::Status(compiled.status().code(),
                            absl::StrCat("profile.", compiled.status().message()));
      }
      return std::make_shared<const CompiledProfile>(*std::move(compiled));
    }
    default:
      return absl::InvalidArgumentError(
          "pa: one of profile_id or profile is required");
  }
}

}  // namespace

absl::StatusOr<v1::MatchJobsResponse> Engine::MatchJobs(
    const v1::MatchJobsRequest& request, absl::Time now,
    const std::vector<std::string>& audience) const {
  absl::Status status = CheckNoUnknownFields(request, "");
  if (!status.ok()) return status;
  absl::StatusOr<MatchJobsQuery> query = CompileMatchJobs(request, now);
  if (!query.ok()) return query.status();
  auto pa = MatchJobsPa(*state_, request);
  if (!pa.ok()) return pa.status();
  if (!audience.empty()) {
    const std::string& la =
        state_->taxonomy.local_authority((*pa)->local_authority).code;
    if (!std::binary_search(audience.begin(), audience.end(), la)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "MatchJobs: the PA's local authority is outside this key's (",
          absl::StrJoin(audience, ", "), ")"));
    }
    query->audience = audience;
  }
  return state_->market.MatchJobs(**pa, *query, /*reference=*/false);
}

absl::StatusOr<v1::MatchJobsResponse> Engine::ReferenceMatchJobs(
    const v1::MatchJobsRequest& request, absl::Time now) const {
  absl::Status status = CheckNoUnknownFields(request, "");
  if (!status.ok()) return status;
  absl::StatusOr<MatchJobsQuery> query = CompileMatchJobs(request, now);
  if (!query.ok()) return query.status();
  auto pa = MatchJobsPa(*state_, request);
  if (!pa.ok()) return pa.status();
  return state_->market.MatchJobs(**pa, *query, /*reference=*/true);
}

// ---- Alerts ------------------------------------------------------------------

absl::StatusOr<WatchCursor> Engine::StartWatch(
    const v1::WatchRequest& request) const {
  return state_->market.StartWatch(request);
}

absl::StatusOr<std::vector<v1::WatchEvent>> Engine::ReadEvents(
    WatchCursor* cursor, size_t max_events) const {
  return state_->market.ReadEvents(cursor, max_events);
}

int64_t Engine::LastEventSequence() const {
  return state_->market.EventRange().second;
}

int64_t Engine::AddEventListener(EventListener listener) {
  return state_->market.AddListener(std::move(listener));
}

void Engine::RemoveEventListener(int64_t id) {
  state_->market.RemoveListener(id);
}

absl::Status Engine::AdvanceAlertsDay(absl::Time now) {
  const DayNumber today = DayOf(now);
  if (today <= state_->market.day()) return absl::OkStatus();
  EngineState* s = state_.get();
  return s->OnCommitThread<absl::Status>(
      [s, today] { return s->market.AdvanceDay(today); });
}

}  // namespace pamatch
