#include "engine/market.h"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/dates.h"
#include "engine/scoring.h"
#include "engine/validation.h"

namespace pamatch {
namespace {

// Events read from the store per ReadEvents call at most, concerning the
// cursor or not (a subscriber to one PA among millions of events moves on
// this many at a time).
constexpr size_t kMaxScan = 4096;

absl::Status StaleJob(absl::string_view id, int64_t version, int64_t stored) {
  return absl::FailedPreconditionError(absl::StrCat(
      "version: ", version, " is not newer than the stored version ", stored,
      " of job \"", id, "\" (stale upsert rejected)"));
}

// Whether a PA's match can change between day `from` and day `to` (> from)
// through the calendar alone: a training record expiring in [from, to),
// or a DBS certificate whose validity of some whole number of months
// (1..600, every dbs_max_age_months a request may set) ends in [from, to).
bool CalendarMayChange(const CompiledProfile& p, DayNumber from, DayNumber to) {
  for (const TrainingHeld& held : p.training) {
    if (held.expires_on != kNeverExpires && held.expires_on >= from &&
        held.expires_on < to) {
      return true;
    }
  }
  if (p.dbs_update_service || p.dbs_issued_on == kNoDate ||
      p.dbs_level <= v1::DBS_NONE) {
    return false;
  }
  // AddMonthsClamped is increasing in the months: start a little before
  // the first month count that can reach `from`.
  int months = std::max(1, static_cast<int>((from - p.dbs_issued_on) / 31) - 1);
  for (; months <= 600; ++months) {
    const DayNumber valid_until = AddMonthsClamped(p.dbs_issued_on, months);
    if (valid_until >= to) break;
    if (valid_until >= from) return true;
  }
  return false;
}

}  // namespace

Market::Market(const Taxonomy& taxonomy, Store* store, LiveIndex* live,
               PolicyStore* policies, MarketOptions options)
    : taxonomy_(taxonomy),
      store_(store),
      live_(live),
      policies_(policies),
      options_(options),
      jobs_(taxonomy) {}

absl::Status Market::Load(absl::Time now) {
  absl::StatusOr<std::string> day_text = store_->GetMeta("alerts_day");
  if (!day_text.ok()) return day_text.status();
  DayNumber day = DayOf(now);
  if (!day_text->empty()) {
    absl::StatusOr<DayNumber> stored = ParseDate(*day_text, "alerts_day");
    if (!stored.ok()) return absl::DataLossError(stored.status().message());
    day = *stored;
  }
  day_.store(day, std::memory_order_release);
  absl::StatusOr<std::string> position = store_->GetMeta("write_position");
  if (!position.ok()) return position.status();
  if (!position->empty() && !absl::SimpleAtoi(*position, &position_)) {
    return absl::DataLossError("unreadable write_position in the store");
  }
  staged_position_ = position_;
  published_position_.store(position_, std::memory_order_release);
  recent_floor_ = position_;
  absl::StatusOr<std::pair<int64_t, int64_t>> range = store_->EventRange();
  if (!range.ok()) return range.status();
  {
    MutexLock lock(&events_mu_);
    last_event_ = range->second;
    first_event_ = range->first > 0 ? range->first : last_event_ + 1;
    staged_sequence_ = last_event_;
  }
  WriterLock lock(&mu_);
  ++generation_;
  v1::Job job;
  return store_->ForEachJobValue([&](absl::string_view key,
                                     absl::string_view value) {
    mu_.AssertHeld();
    job.Clear();
    if (!job.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(
          absl::StrCat("stored job ", key, " does not parse"));
    }
    const std::optional<v1::Policy> policy =
        policies_->Find(job.request().local_authority());
    absl::StatusOr<CompiledJob> compiled =
        CompileJob(taxonomy_, job, policy ? &*policy : nullptr, day);
    if (!compiled.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "stored job ", key, " no longer compiles (taxonomy changed?): ",
          compiled.status().message()));
    }
    jobs_.Put(std::make_shared<const CompiledJob>(*std::move(compiled)));
    return absl::OkStatus();
  });
}

// ---- Finding the pairs a write turns ---------------------------------------

void ProfileMatchChanges(const JobIndex& jobs, const CompiledProfile* before,
                         const CompiledProfile* after, DayNumber day,
                         std::vector<TurnedJob>* out) {
  if (before == nullptr && after == nullptr) return;
  const size_t first = out->size();
  ForEachMatchChange(jobs, before, after, day,
                     [&](const CompiledJob& job, bool started,
                         const PairMatch* match) {
                       out->push_back(
                           {started, &job, started ? match->score : 0});
                     });
  // Ends first, then starts, each by job id.
  std::sort(out->begin() + static_cast<ptrdiff_t>(first), out->end(),
            [](const TurnedJob& a, const TurnedJob& b) {
              if (a.started != b.started) return b.started;
              return a.job->id < b.job->id;
            });
}

namespace {

// Protocol Buffers' wire format, for EncodeEvents.
void PutVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}
void PutVarintField(uint32_t field, uint64_t value, std::string* out) {
  if (value == 0) return;  // proto3: zero is not written
  PutVarint(uint64_t{field} << 3, out);
  PutVarint(value, out);
}
void PutStringField(uint32_t field, absl::string_view value,
                    std::string* out) {
  if (value.empty()) return;
  PutVarint((uint64_t{field} << 3) | 2, out);
  PutVarint(value.size(), out);
  out->append(value.data(), value.size());
}

// A WatchEvent serialised field by field, in field-number order, exactly
// as WatchEvent::SerializeAsString writes it (tests/alerts_prepare_test
// holds the two to each other): one allocation per event, none of a
// message's per-field work. What is the same for every event of a write
// is worked out once (Common).
class EventEncoder {
 public:
  EventEncoder(const char* cause, int64_t position, absl::Time time,
               DayNumber day)
      : cause_(cause), position_(position), day_(FormatDate(day)) {
    const int64_t nanos = absl::ToUnixNanos(time);
    int64_t seconds = nanos / 1'000'000'000;
    int64_t sub = nanos % 1'000'000'000;
    if (sub < 0) {
      sub += 1'000'000'000;
      --seconds;
    }
    PutVarintField(1, static_cast<uint64_t>(seconds), &stamp_);
    PutVarintField(2, static_cast<uint64_t>(sub), &stamp_);
  }

  std::string Encode(int64_t sequence, bool started, absl::string_view job_id,
                     absl::string_view profile_id, double score,
                     absl::string_view local_authority) const {
    std::string bytes;
    bytes.reserve(48 + cause_.size() + day_.size() + job_id.size() +
                  profile_id.size() + local_authority.size());
    PutVarintField(1, static_cast<uint64_t>(sequence), &bytes);
    PutVarintField(2,
                   started ? v1::WatchEvent::MATCH_STARTED
                           : v1::WatchEvent::MATCH_ENDED,
                   &bytes);
    PutStringField(3, job_id, &bytes);
    PutStringField(4, profile_id, &bytes);
    uint64_t score_bits;
    std::memcpy(&score_bits, &score, sizeof score_bits);
    if (score_bits != 0) {
      PutVarint((5 << 3) | 1, &bytes);
      for (int k = 0; k < 8; ++k) {
        bytes.push_back(static_cast<char>(score_bits >> (8 * k)));
      }
    }
    PutVarintField(6, static_cast<uint64_t>(position_), &bytes);
    PutStringField(7, cause_, &bytes);
    PutStringField(8, local_authority, &bytes);
    PutStringField(9, day_, &bytes);
    // A message field that is set is written even when empty.
    PutVarint((10 << 3) | 2, &bytes);
    PutVarint(stamp_.size(), &bytes);
    bytes += stamp_;
    return bytes;
  }

 private:
  const absl::string_view cause_;
  const int64_t position_;
  const std::string day_;
  std::string stamp_;
};

}  // namespace

namespace {

// Appends the events of `changes` to `out`, numbered from *sequence + 1,
// each encoded by `encode(number, change)`.
template <typename Change, typename Encode>
void AppendEvents(const std::vector<Change>& changes, int64_t* sequence,
                  std::vector<std::pair<int64_t, std::string>>* out,
                  Encode encode) {
  out->reserve(out->size() + changes.size());
  for (const Change& change : changes) {
    const int64_t number = ++*sequence;
    out->emplace_back(number, encode(number, change));
  }
}

}  // namespace

void EncodeEvents(const std::vector<PairChange>& changes, const char* cause,
                  int64_t position, absl::Time time, DayNumber day,
                  int64_t* sequence,
                  std::vector<std::pair<int64_t, std::string>>* out) {
  if (changes.empty()) return;
  const EventEncoder encoder(cause, position, time, day);
  AppendEvents(changes, sequence, out,
               [&](int64_t number, const PairChange& change) {
                 return encoder.Encode(number, change.started, change.job_id,
                                       change.profile_id, change.score,
                                       change.local_authority);
               });
}

void EncodeEvents(absl::string_view profile_id,
                  const std::vector<TurnedJob>& changes, const char* cause,
                  int64_t position, absl::Time time, DayNumber day,
                  int64_t* sequence,
                  std::vector<std::pair<int64_t, std::string>>* out) {
  if (changes.empty()) return;
  const EventEncoder encoder(cause, position, time, day);
  AppendEvents(changes, sequence, out,
               [&](int64_t number, const TurnedJob& change) {
                 return encoder.Encode(number, change.started, change.job->id,
                                       profile_id, change.score,
                                       change.job->local_authority);
               });
}

struct Market::PreparedDiff final : CommitHookPrepared {
  ProfileIndex::ProfilePtr before;  // kept alive, so its address is unique
  uint64_t generation = 0;
  DayNumber day = 0;
  // Point into the job index of `generation`: read only while it is.
  std::vector<TurnedJob> pairs;
};

std::shared_ptr<const CommitHookPrepared> Market::Prepare(
    const CompiledProfile* after, absl::string_view id) {
  if (!options_.alerts || !options_.prepare) return nullptr;
  auto prepared = std::make_shared<PreparedDiff>();
  {
    ReaderLock lock(&live_->mu());
    prepared->before = live_->index().Share(id);
  }
  if (prepared->before == nullptr && after == nullptr) return nullptr;
  ReaderLock lock(&mu_);
  if (jobs_.size() == 0) return nullptr;
  prepared->generation = generation_;
  prepared->day = day();
  ProfileMatchChanges(jobs_, prepared->before.get(), after, prepared->day,
                      &prepared->pairs);
  return prepared;
}

Market::DiffCounters Market::diff_counters() const {
  return {prepared_used_.load(std::memory_order_relaxed),
          found_on_commit_.load(std::memory_order_relaxed),
          jobs_prepared_used_.load(std::memory_order_relaxed),
          jobs_found_on_commit_.load(std::memory_order_relaxed),
          pas_judged_again_.load(std::memory_order_relaxed)};
}

struct PreparedJob {
  JobPtr before;  // as stored when prepared (kept alive: its address is unique)
  uint64_t policy_generation = 0;
  DayNumber day = 0;
  int64_t marker = 0;  // published position before any PA was read
  std::optional<CompiledJob> after;  // with the policy then in force
  std::vector<PairChange> pairs;
};

void Market::PrepareJobs(std::vector<JobWrite>* writes) const {
  if (!options_.alerts || !options_.prepare) return;
  for (JobWrite& write : *writes) {
    auto prepared = std::make_shared<PreparedJob>();
    // Read first: anything later moves them, and the commit sees it.
    prepared->marker = published_position_.load(std::memory_order_acquire);
    prepared->policy_generation =
        policy_generation_.load(std::memory_order_acquire);
    const std::string& id = write.compiled ? write.compiled->id : write.id;
    {
      ReaderLock lock(&mu_);
      prepared->before = jobs_.Share(id);
      prepared->day = day();
    }
    if (write.compiled) {
      const std::optional<v1::Policy> policy =
          policies_->Find(write.compiled->local_authority);
      absl::StatusOr<CompiledJob> compiled =
          RecompileJob(taxonomy_, *write.compiled, policy ? &*policy : nullptr,
                       prepared->day);
      if (!compiled.ok()) continue;  // CommitJobs says why
      prepared->after = *std::move(compiled);
    } else if (prepared->before == nullptr) {
      continue;
    }
    DiffJob(prepared->before.get(),
            prepared->after ? &*prepared->after : nullptr, prepared->day,
            &prepared->pairs);
    write.prepared = std::move(prepared);
  }
}

bool Market::UsePrepared(const JobWrite& write, const JobPtr& before,
                         DayNumber today, std::optional<CompiledJob>* after,
                         std::vector<PairChange>* out) {
  const PreparedJob* prepared = write.prepared.get();
  if (prepared == nullptr) return false;
  if (prepared->day != today || prepared->before != before ||
      prepared->policy_generation !=
          policy_generation_.load(std::memory_order_acquire) ||
      prepared->marker < recent_floor_ ||
      (write.compiled.has_value() != prepared->after.has_value())) {
    jobs_found_on_commit_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // The PAs written since the pairs were found: judged again, as they are
  // now; every other PA is as it was then.
  absl::flat_hash_set<absl::string_view> written;
  for (auto it = recent_profiles_.rbegin();
       it != recent_profiles_.rend() && it->first > prepared->marker; ++it) {
    written.insert(it->second);
  }
  for (const PairChange& change : prepared->pairs) {
    if (!written.contains(change.profile_id)) out->push_back(change);
  }
  if (!written.empty()) {
    const CompiledJob* was_job = before.get();
    const CompiledJob* now_job = prepared->after ? &*prepared->after : nullptr;
    const CompiledJob& some = was_job != nullptr ? *was_job : *now_job;
    CompiledQuery scratch;
    ReaderLock lock(&live_->mu());
    for (absl::string_view id : written) {
      const CompiledProfile* pa = live_->index().Find(id);
      if (pa == nullptr) continue;
      const bool was = was_job != nullptr && was_job->OpenOn(today) &&
                       JudgeJobPair(*was_job, today, *pa, &scratch).has_value();
      const std::optional<PairMatch> now =
          now_job != nullptr && now_job->OpenOn(today)
              ? JudgeJobPair(*now_job, today, *pa, &scratch)
              : std::nullopt;
      if (was && !now) {
        out->push_back({false, some.id, pa->id, some.local_authority, 0});
      } else if (now && !was) {
        out->push_back(
            {true, some.id, pa->id, now_job->local_authority, now->score});
      }
    }
    pas_judged_again_.fetch_add(static_cast<int64_t>(written.size()),
                                std::memory_order_relaxed);
    // DiffJob's order: the ends, then the starts, each by PA id.
    std::sort(out->begin(), out->end(),
              [](const PairChange& a, const PairChange& b) {
                return std::tie(a.started, a.profile_id) <
                       std::tie(b.started, b.profile_id);
              });
  }
  if (after != nullptr && prepared->after) *after = *prepared->after;
  jobs_prepared_used_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Market::ForEachPaOf(
    const CompiledJob& job, DayNumber day,
    const std::function<void(const CompiledProfile&, const PairMatch&)>& visit)
    const {
  if (!job.OpenOn(day)) return;
  CompiledQuery scratch;
  const CompiledQuery& q = QueryOn(job, day, &scratch);
  ReaderLock lock(&live_->mu());
  live_->index().ForEachCandidate(
      q,
      [&](const CompiledProfile& pa) {
        const std::optional<PairMatch> match = JudgePair(q, pa);
        if (match) visit(pa, *match);
      },
      /*any_status=*/true);
}

void Market::DiffJob(const CompiledJob* before, const CompiledJob* after,
                     DayNumber day, std::vector<PairChange>* out) const {
  absl::flat_hash_set<std::string> was;
  std::vector<PairChange> started, ended;
  const CompiledJob& some = before != nullptr ? *before : *after;
  if (before != nullptr) {
    ForEachPaOf(*before, day, [&](const CompiledProfile& pa, const PairMatch&) {
      was.insert(pa.id);
    });
  }
  if (after != nullptr) {
    ForEachPaOf(*after, day,
                [&](const CompiledProfile& pa, const PairMatch& match) {
                  if (was.erase(pa.id) == 0) {
                    started.push_back(
                        {true, some.id, pa.id, after->local_authority,
                         match.score});
                  }
                });
  }
  for (const std::string& pa : was) {
    ended.push_back({false, some.id, pa, some.local_authority, 0});
  }
  auto by_pa = [](const PairChange& a, const PairChange& b) {
    return a.profile_id < b.profile_id;
  };
  std::sort(ended.begin(), ended.end(), by_pa);
  std::sort(started.begin(), started.end(), by_pa);
  for (auto* list : {&ended, &started}) {
    for (PairChange& change : *list) out->push_back(std::move(change));
  }
}

void Market::Stage(const std::vector<PairChange>& changes, const char* cause,
                   int64_t position, Store::Extras* extras) {
  EncodeEvents(changes, cause, position, staged_time_, day(), &staged_sequence_,
               &extras->events);
}

void Market::Stage(absl::string_view profile_id,
                   const std::vector<TurnedJob>& changes, const char* cause,
                   int64_t position, Store::Extras* extras) {
  EncodeEvents(profile_id, changes, cause, position, staged_time_, day(),
               &staged_sequence_, &extras->events);
}

void Market::Publish(bool written) {
  if (!written) {
    staged_profiles_.clear();
    MutexLock lock(&events_mu_);
    staged_sequence_ = last_event_;
    staged_position_ = position_;
    return;
  }
  position_ = staged_position_;
  published_position_.store(position_, std::memory_order_release);
  for (auto& written_profile : staged_profiles_) {
    recent_profiles_.push_back(std::move(written_profile));
  }
  staged_profiles_.clear();
  while (recent_profiles_.size() > kRecentProfileWrites) {
    recent_floor_ = recent_profiles_.front().first;
    recent_profiles_.pop_front();
  }
  int64_t last;
  {
    MutexLock lock(&events_mu_);
    if (staged_sequence_ == last_event_) return;
    last_event_ = last = staged_sequence_;
  }
  MutexLock lock(&listeners_mu_);
  for (const auto& [id, listener] : listeners_) listener(last);
}

// ---- Commit-thread writes -----------------------------------------------------

void Market::BeforeWrite(const std::vector<Change>& changes,
                         Store::Extras* extras,
                         std::vector<int64_t>* positions) {
  staged_time_ = absl::Now();
  std::vector<TurnedJob> pairs;
  ReaderLock lock(&mu_);
  const DayNumber today = day();
  for (size_t i = 0; i < changes.size(); ++i) {
    const Change& change = changes[i];
    const int64_t position = ++staged_position_;
    (*positions)[i] = position;
    if (!options_.alerts) continue;
    staged_profiles_.emplace_back(
        position, change.after != nullptr ? change.after->id : change.before->id);
    if (jobs_.size() == 0) continue;
    const char* cause =
        change.after != nullptr ? "profile_upsert" : "profile_delete";
    const std::string& pa =
        change.after != nullptr ? change.after->id : change.before->id;
    // The writer's thread found the pairs against this very job index,
    // day and stored profile: they stand (the profile after is the
    // write's own, whatever its version turned out to be).
    const auto* prepared = static_cast<const PreparedDiff*>(change.prepared);
    if (prepared != nullptr && prepared->generation == generation_ &&
        prepared->day == today && prepared->before.get() == change.before) {
      prepared_used_.fetch_add(1, std::memory_order_relaxed);
      Stage(pa, prepared->pairs, cause, position, extras);
      continue;
    }
    found_on_commit_.fetch_add(1, std::memory_order_relaxed);
    pairs.clear();
    ProfileMatchChanges(jobs_, change.before, change.after, today, &pairs);
    Stage(pa, pairs, cause, position, extras);
  }
  extras->write_position = staged_position_;
}

void Market::AfterWrite(bool written) { Publish(written); }

std::vector<Market::JobResult> Market::CommitJobs(std::vector<JobWrite> writes) {
  std::vector<JobResult> results(writes.size());
  staged_time_ = absl::Now();
  const DayNumber today = day();
  Store::Extras extras;
  // The round's jobs, latest first: what a later write of the same id
  // sees as "before" (null: deleted in this round).
  absl::flat_hash_map<std::string, JobPtr> latest;
  std::vector<JobPtr> applied;  // in write order; null = erase
  std::vector<std::string> applied_ids;
  std::vector<std::string> values;
  values.reserve(writes.size());
  std::vector<PairChange> pairs;
  for (size_t i = 0; i < writes.size(); ++i) {
    JobWrite& write = writes[i];
    JobResult& result = results[i];
    const std::string& id = write.compiled ? write.compiled->id : write.id;
    pairs.clear();
    bool from_prepared = false;
    JobPtr before;
    auto it = latest.find(id);
    if (it != latest.end()) {
      before = it->second;
    } else {
      ReaderLock lock(&mu_);
      before = jobs_.Share(id);
    }
    const int64_t stored = before != nullptr ? before->version : 0;
    JobPtr after;
    if (!write.compiled) {
      if (before == nullptr) {
        result.status =
            absl::NotFoundError(absl::StrCat("job \"", id, "\" not found"));
        continue;
      }
    } else {
      int64_t version = write.compiled->version;
      if (version == 0) {
        if (stored == std::numeric_limits<int64_t>::max()) {
          result.status = absl::FailedPreconditionError(absl::StrCat(
              "version: 0 asks for the stored version + 1, but job \"", id,
              "\" is at the largest version there is"));
          continue;
        }
        version = stored + 1;
      } else if (stored > 0 && version <= stored) {
        result.status = StaleJob(id, version, stored);
        continue;
      }
      // Compiled again with the policy and day now in force (either may
      // have changed since the caller's thread validated it), unless the
      // prepared pairs hold, which were found with this very compilation.
      std::optional<CompiledJob> reused;
      from_prepared = options_.alerts &&
                      UsePrepared(write, before, today, &reused, &pairs);
      absl::StatusOr<CompiledJob> compiled = absl::UnknownError("unset");
      if (from_prepared) {
        compiled = *std::move(reused);
      } else {
        const std::optional<v1::Policy> policy =
            policies_->Find(write.compiled->local_authority);
        compiled = RecompileJob(taxonomy_, *write.compiled,
                                policy ? &*policy : nullptr, today);
      }
      if (!compiled.ok()) {
        result.status = compiled.status();
        continue;
      }
      compiled->version = version;
      compiled->job.set_version(version);
      after = std::make_shared<const CompiledJob>(*std::move(compiled));
      result.version = version;
      result.created = stored == 0;
    }
    result.position = ++staged_position_;
    if (options_.alerts) {
      if (!write.compiled) {
        from_prepared = UsePrepared(write, before, today, nullptr, &pairs);
      }
      if (!from_prepared) {
        pairs.clear();
        DiffJob(before.get(), after.get(), today, &pairs);
      }
      Stage(pairs, after != nullptr ? "job_upsert" : "job_delete",
            result.position, &extras);
    }
    latest[id] = after;
    applied.push_back(after);
    applied_ids.push_back(id);
  }
  if (applied.empty()) return results;
  for (size_t k = 0; k < applied.size(); ++k) {
    if (applied[k] != nullptr) {
      values.push_back(applied[k]->job.SerializeAsString());
      extras.jobs.push_back({applied_ids[k], &values.back()});
    } else {
      extras.jobs.push_back({applied_ids[k], nullptr});
    }
  }
  extras.write_position = staged_position_;
  const absl::Status written = store_->WriteProfiles({}, &extras);
  if (written.ok()) {
    WriterLock lock(&mu_);
    ++generation_;
    for (size_t k = 0; k < applied.size(); ++k) {
      if (applied[k] != nullptr) {
        jobs_.Put(applied[k]);
      } else {
        jobs_.Erase(applied_ids[k]);
      }
    }
  } else {
    for (JobResult& result : results) {
      if (result.status.ok()) result = JobResult{written};
    }
  }
  Publish(written.ok());
  return results;
}

absl::StatusOr<v1::Policy> Market::CommitPolicy(const v1::Policy& policy,
                                                bool remove) {
  const std::string& authority = policy.local_authority();
  if (remove && !policies_->Find(authority).has_value()) {
    return absl::NotFoundError(absl::StrCat(
        "no policy for local_authority \"", authority.substr(0, 64), "\""));
  }
  staged_time_ = absl::Now();
  const DayNumber today = day();
  // The jobs of the authority, compiled with the new policy.
  std::vector<JobPtr> before, after;
  {
    ReaderLock lock(&mu_);
    jobs_.ForEach([&](const JobPtr& job) {
      if (job->local_authority == authority) before.push_back(job);
    });
  }
  for (const JobPtr& job : before) {
    absl::StatusOr<CompiledJob> compiled =
        RecompileJob(taxonomy_, *job, remove ? nullptr : &policy, today);
    if (!compiled.ok()) return compiled.status();
    after.push_back(std::make_shared<const CompiledJob>(*std::move(compiled)));
  }
  // Taken once nothing can fail before the batch (a failed batch gives it
  // back, Publish).
  const int64_t position = ++staged_position_;
  Store::Extras extras;
  if (options_.alerts) {
    std::vector<PairChange> pairs;
    for (size_t k = 0; k < before.size(); ++k) {
      DiffJob(before[k].get(), after[k].get(), today, &pairs);
    }
    // One write, one order (MATCHING-DECISIONS.md "Order and ids"): ends
    // before starts, each by PA id, then job id; never the job index's
    // slot order, which depends on the engine's history (deletes, restarts).
    std::sort(pairs.begin(), pairs.end(),
              [](const PairChange& a, const PairChange& b) {
                return std::tie(a.started, a.profile_id, a.job_id) <
                       std::tie(b.started, b.profile_id, b.job_id);
              });
    Stage(pairs, "policy", position, &extras);
  }
  const std::string value = remove ? "" : policy.SerializeAsString();
  extras.policies.push_back({authority, remove ? nullptr : &value});
  extras.write_position = staged_position_;
  const absl::Status written = store_->WriteProfiles({}, &extras);
  if (written.ok()) {
    if (remove) {
      policies_->Forget(authority);
    } else {
      policies_->Remember(policy);
    }
    policy_generation_.fetch_add(1, std::memory_order_release);
    WriterLock lock(&mu_);
    ++generation_;
    for (const JobPtr& job : after) jobs_.Put(job);
  }
  Publish(written.ok());
  if (!written.ok()) return written;
  return policy;
}

absl::Status Market::AdvanceDay(DayNumber to) {
  const DayNumber from = day();
  if (to <= from) return absl::OkStatus();
  staged_time_ = absl::Now();
  Store::Extras extras;
  std::vector<PairChange> changes;
  if (options_.alerts) {
    ReaderLock jobs_lock(&mu_);
    if (jobs_.size() > 0) {
      // PAs whose own dates turn: their jobs on both days.
      std::vector<ProfileIndex::ProfilePtr> turning;
      {
        ReaderLock lock(&live_->mu());
        const ProfileIndex& index = live_->index();
        index.ForEach([&](const CompiledProfile& p) {
          if (CalendarMayChange(p, from, to)) turning.push_back(index.Share(p.id));
        });
      }
      absl::flat_hash_set<std::string> judged;
      for (const ProfileIndex::ProfilePtr& pa : turning) {
        judged.insert(pa->id);
        absl::flat_hash_set<const CompiledJob*> was;
        ForEachJobMatch(jobs_, *pa, from,
                        [&](const CompiledJob& job, const PairMatch&) {
                          was.insert(&job);
                        });
        // Time only ends matches (expiry, DBS age, closing), but a start
        // would be sent all the same.
        ForEachJobMatch(jobs_, *pa, to,
                        [&](const CompiledJob& job, const PairMatch& match) {
                          if (was.erase(&job) == 0) {
                            changes.push_back({true, job.id, pa->id,
                                               job.local_authority, match.score});
                          }
                        });
        for (const CompiledJob* job : was) {
          changes.push_back({false, job->id, pa->id, job->local_authority, 0});
        }
      }
      // Jobs that close: every PA they matched, but those judged above.
      jobs_.ForEach([&](const JobPtr& job) {
        if (!job->OpenOn(from) || job->OpenOn(to)) return;
        ForEachPaOf(*job, from, [&](const CompiledProfile& pa, const PairMatch&) {
          if (!judged.contains(pa.id)) {
            changes.push_back({false, job->id, pa.id, job->local_authority, 0});
          }
        });
      });
      std::sort(changes.begin(), changes.end(),
                [](const PairChange& a, const PairChange& b) {
                  return std::tie(a.job_id, a.profile_id) <
                         std::tie(b.job_id, b.profile_id);
                });
    }
  }
  // The events carry the new day: the day whose matches they lead to.
  day_.store(to, std::memory_order_release);
  Stage(changes, "calendar", 0, &extras);
  extras.alerts_day = FormatDate(to);
  const absl::Status written = store_->WriteProfiles({}, &extras);
  if (!written.ok()) {
    day_.store(from, std::memory_order_release);
    Publish(false);
    return written;
  }
  {
    // Every job judged on the new day from now on.
    WriterLock lock(&mu_);
    ++generation_;
    std::vector<JobPtr> all;
    jobs_.ForEach([&](const JobPtr& job) { all.push_back(job); });
    for (const JobPtr& job : all) {
      auto moved = std::make_shared<CompiledJob>(*job);
      SetAsOf(to, &moved->query);
      jobs_.Put(std::move(moved));
    }
  }
  Publish(true);
  return absl::OkStatus();
}

absl::Status Market::TrimEvents(absl::Time now) {
  int64_t first, last;
  {
    MutexLock lock(&events_mu_);
    first = first_event_;
    last = last_event_;
  }
  if (last < first) return absl::OkStatus();
  // Keep the last event always, so its sequence is never reused.
  int64_t cut = std::max(first, last + 1 - options_.max_retained_events);
  const absl::Time oldest_kept = now - options_.event_retention;
  bool more = true;
  while (more && cut < last) {
    more = false;
    absl::Status status = store_->ForEachEvent(
        cut - 1, 1024, [&](int64_t sequence, absl::string_view value) {
          v1::WatchEvent event;
          if (sequence >= last || !event.ParseFromArray(
                                      value.data(), static_cast<int>(value.size()))) {
            return false;
          }
          const absl::Time time = absl::FromUnixSeconds(event.time().seconds());
          if (time >= oldest_kept) return false;
          cut = sequence + 1;
          more = true;
          return true;
        });
    if (!status.ok()) return status;
  }
  if (cut <= first) return absl::OkStatus();
  {
    // Readers past this point see the new first before the events go.
    MutexLock lock(&events_mu_);
    first_event_ = cut;
  }
  return store_->DropEventsBefore(cut);
}

// ---- Reads ----------------------------------------------------------------

absl::StatusOr<v1::GetJobResponse> Market::GetJob(absl::string_view id,
                                                  DayNumber today) const {
  absl::Status status = ValidateId(id, "id");
  if (!status.ok()) return status;
  ReaderLock lock(&mu_);
  const CompiledJob* job = jobs_.Find(id);
  if (job == nullptr) {
    return absl::NotFoundError(absl::StrCat("job \"", id, "\" not found"));
  }
  v1::GetJobResponse response;
  *response.mutable_job() = job->job;
  response.set_open(job->OpenOn(today));
  return response;
}

absl::StatusOr<v1::MatchJobsResponse> Market::MatchJobs(
    const CompiledProfile& pa, const MatchJobsQuery& query,
    bool reference) const {
  JobCollector collector(query, taxonomy_, pa);
  auto offer = [&](const CompiledJob& job, const PairMatch& match) {
    if (!query.audience.empty() &&
        !std::binary_search(query.audience.begin(), query.audience.end(),
                            job.local_authority)) {
      return;
    }
    collector.Offer(job, match);
  };
  ReaderLock lock(&mu_);
  if (reference) {
    absl::Status status = ForEachJobMatchReference(
        jobs_, taxonomy_,
        [this](const std::string& authority) {
          return policies_->Find(authority);
        },
        pa, query.as_of, offer);
    if (!status.ok()) return status;
  } else {
    ForEachJobMatch(jobs_, pa, query.as_of, offer);
  }
  // Still under the lock: the page points into the index's jobs.
  return collector.Finish();
}

int64_t Market::jobs() const {
  ReaderLock lock(&mu_);
  return static_cast<int64_t>(jobs_.size());
}

int64_t Market::open_jobs(DayNumber today) const {
  ReaderLock lock(&mu_);
  return static_cast<int64_t>(jobs_.OpenOn(today));
}

// ---- Events ---------------------------------------------------------------

std::pair<int64_t, int64_t> Market::EventRange() const {
  MutexLock lock(&events_mu_);
  return {first_event_, last_event_};
}

absl::StatusOr<WatchCursor> Market::StartWatch(
    const v1::WatchRequest& request) const {
  absl::Status status = CheckNoUnknownFields(request, "");
  if (!status.ok()) return status;
  WatchCursor cursor;
  switch (request.target_case()) {
    case v1::WatchRequest::kJobId:
      status = ValidateId(request.job_id(), "job_id");
      cursor.job_id = request.job_id();
      break;
    case v1::WatchRequest::kProfileId:
      status = ValidateId(request.profile_id(), "profile_id");
      cursor.profile_id = request.profile_id();
      break;
    case v1::WatchRequest::kLocalAuthorities: {
      const auto& codes = request.local_authorities().codes();
      if (codes.empty()) {
        return absl::InvalidArgumentError(
            "local_authorities.codes: at least one local authority code");
      }
      if (codes.size() > kMaxListItems) {
        return absl::InvalidArgumentError(absl::StrCat(
            "local_authorities.codes: ", codes.size(), " codes, at most ",
            kMaxListItems));
      }
      for (int i = 0; i < codes.size(); ++i) {
        if (taxonomy_.local_authorities().Find(codes[i]) < 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "local_authorities.codes[", i,
              "]: unknown local authority code \"", codes[i].substr(0, 64),
              "\""));
        }
        cursor.local_authorities.push_back(codes[i]);
      }
      std::sort(cursor.local_authorities.begin(),
                cursor.local_authorities.end());
      cursor.local_authorities.erase(
          std::unique(cursor.local_authorities.begin(),
                      cursor.local_authorities.end()),
          cursor.local_authorities.end());
      break;
    }
    default:
      return absl::InvalidArgumentError(
          "target: one of job_id, profile_id or local_authorities is "
          "required");
  }
  if (!status.ok()) return status;
  const auto [first, last] = EventRange();
  if (!request.has_after_sequence()) {
    cursor.after = last;
    return cursor;
  }
  const int64_t after = request.after_sequence();
  if (after < 0 || after > last) {
    return absl::InvalidArgumentError(absl::StrCat(
        "after_sequence: ", after, " is not a sequence this server has "
        "reached (0..", last, ")"));
  }
  if (after < first - 1) {
    return absl::OutOfRangeError(absl::StrCat(
        "after_sequence: events after ", after,
        " are no longer retained (the oldest is ", first,
        "): resynchronise (MatchJobs or Search), then Watch without "
        "after_sequence"));
  }
  cursor.after = after;
  return cursor;
}

absl::StatusOr<std::vector<v1::WatchEvent>> Market::ReadEvents(
    WatchCursor* cursor, size_t max_events) const {
  std::vector<v1::WatchEvent> out;
  // (Plain variables: clang 14 cannot capture structured bindings.)
  const std::pair<int64_t, int64_t> range = EventRange();
  const int64_t first = range.first, last = range.second;
  auto gone = [&] {
    return absl::OutOfRangeError(absl::StrCat(
        "events after ", cursor->after,
        " are no longer retained: this subscriber fell behind the "
        "retention; resynchronise (MatchJobs or Search), then Watch "
        "without after_sequence"));
  };
  if (cursor->after < first - 1) return gone();
  if (cursor->after >= last || max_events == 0) return out;
  bool gap = false;
  v1::WatchEvent event;
  absl::Status status = store_->ForEachEvent(
      cursor->after, kMaxScan, [&](int64_t sequence, absl::string_view value) {
        if (sequence > last) return false;
        if (sequence != cursor->after + 1) {
          gap = true;
          return false;
        }
        if (!event.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          gap = true;
          return false;
        }
        bool concerns;
        if (!cursor->job_id.empty()) {
          concerns = event.job_id() == cursor->job_id;
        } else if (!cursor->profile_id.empty()) {
          concerns = event.profile_id() == cursor->profile_id;
        } else {
          concerns = std::binary_search(cursor->local_authorities.begin(),
                                        cursor->local_authorities.end(),
                                        event.local_authority());
        }
        if (concerns) {
          if (out.size() == max_events) return false;
          out.push_back(event);
        }
        cursor->after = sequence;
        return true;
      });
  if (!status.ok()) return status;
  if (gap) return gone();
  return out;
}

int64_t Market::AddListener(Engine::EventListener listener) {
  MutexLock lock(&listeners_mu_);
  const int64_t id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void Market::RemoveListener(int64_t id) {
  MutexLock lock(&listeners_mu_);
  listeners_.erase(id);
}

}  // namespace pamatch
