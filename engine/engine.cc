#include "engine/engine.h"

#include <malloc.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/commit_queue.h"
#include "engine/index_relayout.h"
#include "engine/profile.h"
#include "engine/profile_index.h"
#include "engine/query.h"
#include "engine/scoring.h"
#include "engine/storage.h"
#include "engine/taxonomy.h"
#include "engine/validation.h"
#include "google/protobuf/util/time_util.h"

namespace pamatch {

// Everything behind the Engine facade.
//
// Locking:
//   profiles_mu: shared by searches for the whole scan, and by GetProfile
//      to take the visible store view; exclusive only for applying a
//      committed round to the index (and its view), so a search sees a
//      profile wholly before or wholly after a write, and for a relayout's
//      swap.
//      Profile writes are ordered, version-checked, written (disk first) and
//      applied by the commit queue's one thread (commit_queue.h), which is
//      the only writer of profiles to the index once Open has returned; the
//      relayout thread (index_relayout.h) only swaps in a fresh index with
//      the same profiles.
//   policy_write_mu then policies_mu protect the policies the same way.
// Disk first, memory second: a crash between them loses only an
// unacknowledged write, and restart rebuilds memory from disk.
class EngineState {
 public:
  Taxonomy taxonomy;
  std::unique_ptr<Store> store;
  absl::Time started;

  mutable std::shared_mutex profiles_mu;
  // GUARDED_BY(profiles_mu). Built in the constructor body, once the
  // taxonomy it refers to is loaded.
  std::unique_ptr<ProfileIndex> index;
  // GUARDED_BY(profiles_mu). The store as `index` has it: replaced by the
  // commit queue with each round it applies. GetProfile reads through it,
  // so it never shows a write a search cannot see yet (nor hides a delete
  // a search still shows): "a delete removes the profile from every API
  // at once".
  std::shared_ptr<const StoreView> visible;

  std::mutex policy_write_mu;
  mutable std::shared_mutex policies_mu;
  // GUARDED_BY(policies_mu)
  absl::flat_hash_map<std::string, v1::Policy> policies;

  // Started once the index is loaded. Declared last: destroyed first, after
  // committing what is queued, while the store and index still exist.
  std::unique_ptr<CommitQueue> commits;
  // Started after the commit queue, stopped before it (destroyed first).
  std::unique_ptr<IndexRelayout> relayout;

  // A copy of the policy of `local_authority`, or nullopt.
  std::optional<v1::Policy> FindPolicy(absl::string_view local_authority) const {
    if (local_authority.empty()) return std::nullopt;
    std::shared_lock lock(policies_mu);
    auto it = policies.find(local_authority);
    if (it == policies.end()) return std::nullopt;
    return it->second;
  }
  // `request` compiled with its local authority's policy, if any.
  absl::StatusOr<CompiledQuery> CompileSearch(const v1::SearchRequest& request,
                                              absl::Time now) const {
    const std::optional<v1::Policy> policy =
        FindPolicy(request.local_authority());
    return CompileQuery(taxonomy, request, policy ? &*policy : nullptr, now);
  }
};

namespace {

// Rebuilds the index from the store: this thread scans RocksDB (sequential,
// with read-ahead) and hands batches of raw values to kLoadWorkers threads
// that parse, validate and compile them; the index is then built in one
// BulkLoad (documents in geographic order).
// Reports progress about once a second. The first error stops everything.
absl::Status LoadProfiles(EngineState& state, const EngineOptions& options) {
  constexpr int kLoadWorkers = 2;
  constexpr size_t kBatch = 1024;
  constexpr size_t kMaxQueued = 16;  // batches; bounds the memory in flight
  struct Batch {
    std::string bytes;             // values back to back
    std::vector<size_t> ends;      // end offset of each value
  };
  std::mutex mu;
  std::condition_variable changed;
  std::deque<Batch> queue;       // GUARDED_BY(mu)
  bool scan_done = false;        // GUARDED_BY(mu)
  absl::Status failure;          // GUARDED_BY(mu)
  std::atomic<int64_t> loaded{0};
  std::vector<ProfileIndex::ProfilePtr> all;  // GUARDED_BY(mu)
  auto fail = [&](absl::Status status) {
    std::lock_guard lock(mu);
    if (failure.ok()) failure = std::move(status);
    changed.notify_all();
  };
  auto work = [&] {
    v1::Profile stored;
    std::vector<ProfileIndex::ProfilePtr> compiled;
    for (;;) {
      Batch batch;
      {
        std::unique_lock lock(mu);
        changed.wait(lock, [&] {
          return !queue.empty() || scan_done || !failure.ok();
        });
        if (!failure.ok() || queue.empty()) return;
        batch = std::move(queue.front());
        queue.pop_front();
      }
      changed.notify_all();
      compiled.clear();
      size_t begin = 0;
      for (size_t end : batch.ends) {
        stored.Clear();
        if (!stored.ParseFromArray(batch.bytes.data() + begin,
                                   static_cast<int>(end - begin))) {
          return fail(absl::DataLossError(absl::StrCat(
              "a stored profile does not parse (after ",
              compiled.empty() ? std::string("the batch start")
                               : compiled.back()->id,
              ")")));
        }
        begin = end;
        absl::StatusOr<CompiledProfile> one =
            CompileProfile(state.taxonomy, stored);
        if (!one.ok()) {
          return fail(absl::FailedPreconditionError(absl::StrCat(
              "stored profile \"", stored.id(),
              "\" no longer validates (taxonomy changed?): ",
              one.status().message())));
        }
        compiled.push_back(
            std::make_shared<const CompiledProfile>(*std::move(one)));
      }
      {
        std::lock_guard lock(mu);
        for (auto& profile : compiled) all.push_back(std::move(profile));
      }
      loaded.fetch_add(static_cast<int64_t>(batch.ends.size()),
                       std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < kLoadWorkers; ++i) workers.emplace_back(work);

  LoadProgress progress;
  progress.estimated_total = state.store->EstimateProfiles();
  const absl::Time start = absl::Now();
  absl::Time next_report = start + absl::Seconds(1);
  auto report = [&](bool done) {
    if (!options.on_progress) return;
    progress.loaded = loaded.load(std::memory_order_relaxed);
    progress.elapsed = absl::Now() - start;
    progress.done = done;
    options.on_progress(progress);
  };
  Batch batch;
  auto hand_over = [&]() -> absl::Status {
    std::unique_lock lock(mu);
    changed.wait(lock,
                 [&] { return queue.size() < kMaxQueued || !failure.ok(); });
    if (!failure.ok()) return failure;
    queue.push_back(std::move(batch));
    batch = Batch();
    lock.unlock();
    changed.notify_all();
    if (absl::Now() >= next_report) {
      report(false);
      next_report = absl::Now() + absl::Seconds(1);
    }
    return absl::OkStatus();
  };
  absl::Status scanned = state.store->ForEachProfileValue(
      [&](absl::string_view, absl::string_view value) -> absl::Status {
        batch.bytes.append(value.data(), value.size());
        batch.ends.push_back(batch.bytes.size());
        return batch.ends.size() >= kBatch ? hand_over() : absl::OkStatus();
      });
  if (scanned.ok() && !batch.ends.empty()) scanned = hand_over();
  if (!scanned.ok()) fail(scanned);
  {
    std::lock_guard lock(mu);
    scan_done = true;
  }
  changed.notify_all();
  for (std::thread& worker : workers) worker.join();
  if (!failure.ok()) return failure;
  {
    std::unique_lock lock(state.profiles_mu);
    state.index->BulkLoad(std::move(all));
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

absl::StatusOr<v1::Policy> ValidatePolicy(const Taxonomy& taxonomy,
                                          const v1::Policy& policy) {
  absl::Status status = CheckNoUnknownFields(policy, "policy");
  if (!status.ok()) return status;
  if (taxonomy.local_authorities().Find(policy.local_authority()) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "policy.local_authority: unknown local authority code \"",
        policy.local_authority().substr(0, 64), "\""));
  }
  if (!v1::DbsLevel_IsValid(policy.min_dbs_level())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "policy.min_dbs_level: ", static_cast<int>(policy.min_dbs_level()),
        " is not a DBS level"));
  }
  if (policy.min_register_level() < 0 || policy.min_register_level() > 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy.min_register_level: ",
                     policy.min_register_level(), " is outside 0..4"));
  }
  auto training = ResolveCodes(taxonomy.training(), policy.required_training(),
                               "policy.required_training");
  if (!training.ok()) return training.status();
  v1::Policy normalized;
  normalized.set_local_authority(policy.local_authority());
  normalized.set_min_dbs_level(std::max(v1::DBS_NONE, policy.min_dbs_level()));
  normalized.set_min_register_level(policy.min_register_level());
  for (CodeId id : *training) {
    normalized.add_required_training(taxonomy.training().code(id));
  }
  return normalized;
}

}  // namespace

Engine::Engine(std::unique_ptr<EngineState> state) : state_(std::move(state)) {}
Engine::~Engine() = default;

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(
    const EngineOptions& options) {
  auto state = std::make_unique<EngineState>();
  state->started = absl::Now();
  absl::StatusOr<Taxonomy> taxonomy = Taxonomy::Load(options.taxonomy_path);
  if (!taxonomy.ok()) return taxonomy.status();
  state->taxonomy = *std::move(taxonomy);
  state->index = std::make_unique<ProfileIndex>(state->taxonomy);
  StoreOptions store_options;
  store_options.sync = options.sync_writes;
  store_options.create_if_missing = options.create_if_missing;
  store_options.purge_delay = options.erasure_delay;
  absl::StatusOr<std::unique_ptr<Store>> store =
      Store::Open(options.data_dir, store_options);
  if (!store.ok()) return store.status();
  state->store = *std::move(store);
  absl::Status status = LoadProfiles(*state, options);
  if (!status.ok()) return status;
  status = state->store->ForEachPolicy([&](v1::Policy& policy) {
    state->policies[policy.local_authority()] = policy;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  {
    std::unique_lock lock(state->profiles_mu);
    state->visible = state->store->TakeView();
  }
  state->commits = std::make_unique<CommitQueue>(
      state->store.get(), state->index.get(), &state->profiles_mu,
      &state->visible);
  RelayoutOptions relayout;
  relayout.background = options.relayout_unsorted_fraction >= 0;
  relayout.unsorted_fraction = options.relayout_unsorted_fraction;
  relayout.min_unsorted_documents = options.relayout_min_unsorted;
  state->relayout = std::make_unique<IndexRelayout>(
      state->index.get(), &state->profiles_mu, state->taxonomy, relayout);
  return std::unique_ptr<Engine>(new Engine(std::move(state)));
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
    std::shared_lock lock(state_->profiles_mu);
    view = state_->visible;
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
    const v1::SearchRequest& request, absl::Time now) const {
  return RunSearch(request, now, /*use_index=*/true);
}

absl::StatusOr<v1::SearchResponse> Engine::ReferenceSearch(
    const v1::SearchRequest& request, absl::Time now) const {
  return RunSearch(request, now, /*use_index=*/false);
}

// The index and the reference scan differ only in which profiles reach the
// collector: index candidates (set filters already answered) or every one.
absl::StatusOr<v1::SearchResponse> Engine::RunSearch(
    const v1::SearchRequest& request, absl::Time now, bool use_index) const {
  const EngineState& s = *state_;
  absl::StatusOr<CompiledQuery> query = s.CompileSearch(request, now);
  if (!query.ok()) return query.status();
  SearchCollector collector(*query, s.taxonomy);
  std::shared_lock lock(s.profiles_mu);
  if (use_index) {
    s.index->Search(*query, collector);
  } else {
    s.index->ForEach(
        [&](const CompiledProfile& profile) { collector.Consider(profile); });
  }
  return collector.Finish();
}

absl::StatusOr<v1::Policy> Engine::SetPolicy(const v1::Policy& policy,
                                             absl::Time now) {
  absl::StatusOr<v1::Policy> normalized =
      ValidatePolicy(state_->taxonomy, policy);
  if (!normalized.ok()) return normalized.status();
  *normalized->mutable_updated_at() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(
          absl::ToUnixSeconds(now));
  EngineState& s = *state_;
  std::lock_guard writer(s.policy_write_mu);
  absl::Status status = s.store->PutPolicy(*normalized);
  if (!status.ok()) return status;
  std::unique_lock lock(s.policies_mu);
  s.policies[normalized->local_authority()] = *normalized;
  return normalized;
}

absl::StatusOr<v1::Policy> Engine::GetPolicy(
    absl::string_view local_authority) const {
  std::shared_lock lock(state_->policies_mu);
  auto it = state_->policies.find(local_authority);
  if (it == state_->policies.end()) {
    return absl::NotFoundError(absl::StrCat(
        "no policy for local_authority \"", local_authority.substr(0, 64),
        "\""));
  }
  return it->second;
}

std::vector<v1::Policy> Engine::ListPolicies() const {
  std::shared_lock lock(state_->policies_mu);
  std::vector<v1::Policy> out;
  for (const auto& [code, policy] : state_->policies) out.push_back(policy);
  std::sort(out.begin(), out.end(), [](const v1::Policy& a, const v1::Policy& b) {
    return a.local_authority() < b.local_authority();
  });
  return out;
}

absl::Status Engine::DeletePolicy(absl::string_view local_authority) {
  EngineState& s = *state_;
  std::lock_guard writer(s.policy_write_mu);
  {
    std::shared_lock lock(s.policies_mu);
    if (!s.policies.contains(local_authority)) {
      return absl::NotFoundError(absl::StrCat(
          "no policy for local_authority \"", local_authority.substr(0, 64),
          "\""));
    }
  }
  absl::Status status = s.store->DeletePolicy(local_authority);
  if (!status.ok()) return status;
  std::unique_lock lock(s.policies_mu);
  s.policies.erase(local_authority);
  return absl::OkStatus();
}

v1::GetStatsResponse Engine::Stats() const {
  const EngineState& s = *state_;
  v1::GetStatsResponse stats;
  {
    std::shared_lock lock(s.profiles_mu);
    stats.set_profiles(static_cast<int64_t>(s.index->size()));
    // Counts the index keeps as it goes: no walk over the profiles, so the
    // lock is held for microseconds at any size.
    const std::vector<int64_t>& by_id = s.index->profiles_by_local_authority();
    auto& by_la = *stats.mutable_profiles_by_local_authority();
    for (size_t id = 0; id < by_id.size(); ++id) {
      if (by_id[id] > 0) {
        by_la[s.taxonomy.local_authority(static_cast<CodeId>(id)).code] =
            by_id[id];
      }
    }
    const auto active = static_cast<int64_t>(s.index->active_size());
    stats.set_active_profiles(active);
    stats.set_paused_profiles(stats.profiles() - active);
    stats.set_unsorted_profiles(
        static_cast<int64_t>(s.index->unsorted_documents()));
  }
  const IndexRelayout::Stats relayout = s.relayout->stats();
  stats.set_index_relayouts(relayout.runs);
  stats.set_last_relayout_seconds(
      absl::ToDoubleSeconds(relayout.last_duration));
  stats.set_last_relayout_pause_seconds(
      absl::ToDoubleSeconds(relayout.last_exclusive));
  stats.set_last_relayout_write_pause_seconds(
      absl::ToDoubleSeconds(relayout.last_locked));
  {
    std::shared_lock lock(s.policies_mu);
    stats.set_policies(static_cast<int64_t>(s.policies.size()));
  }
  stats.set_uptime_seconds(absl::ToInt64Seconds(absl::Now() - s.started));
  stats.set_data_dir(s.store->dir());
  stats.set_version(PA_MATCH_VERSION);
  stats.set_taxonomy_skills(static_cast<int64_t>(s.taxonomy.skills().size()));
  stats.set_taxonomy_training(
      static_cast<int64_t>(s.taxonomy.training().size()));
  return stats;
}

int64_t Engine::size() const {
  std::shared_lock lock(state_->profiles_mu);
  return static_cast<int64_t>(state_->index->size());
}

absl::StatusOr<v1::BackupResponse> Engine::Backup(
    const std::string& destination_dir, absl::Time now) const {
  namespace fs = std::filesystem;
  std::error_code error;
  std::string dest = destination_dir;
  if (dest.empty()) {
    fs::path base = fs::path(state_->store->dir()).parent_path() / "backups";
    fs::create_directories(base, error);
    if (error) {
      return absl::UnavailableError(absl::StrCat(
          "cannot create backup dir ", base.string(), ": ", error.message()));
    }
    dest = (base / absl::FormatTime("%Y%m%dT%H%M%E3SZ", now,
                                    absl::UTCTimeZone()))
               .string();
  }
  if (fs::exists(dest, error)) {
    return absl::AlreadyExistsError(
        absl::StrCat("backup destination ", dest, " already exists"));
  }
  const fs::path parent = fs::path(dest).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "backup destination's parent ", parent.string(), " does not exist"));
  }
  absl::Status status = state_->store->Checkpoint(dest);
  if (!status.ok()) return status;
  absl::StatusOr<Store::Counts> counts = Store::VerifyCheckpoint(dest);
  if (!counts.ok()) return counts.status();
  v1::BackupResponse response;
  response.set_path(fs::absolute(dest, error).string());
  response.set_profiles(counts->profiles);
  response.set_policies(counts->policies);
  *response.mutable_created_at() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(
          absl::ToUnixSeconds(now));
  return response;
}

void Engine::RelayoutIndex() { state_->relayout->RunNow(); }

absl::Status Engine::PurgeDeleted() { return state_->store->PurgeDeleted(); }

}  // namespace pamatch
