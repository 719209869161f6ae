#include "engine/commit_queue.h"

#include <limits>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace pamatch {
namespace {

// A round stops taking groups past this many writes, so that one huge
// backlog does not delay the first callers' acknowledgement by more than
// about one bulk batch's write.
constexpr size_t kMaxRoundWrites = 4096;

absl::Status StaleVersion(absl::string_view id, int64_t version,
                          int64_t stored) {
  return absl::FailedPreconditionError(absl::StrCat(
      "version: ", version, " is not newer than the stored version ", stored,
      " of profile \"", id, "\" (stale upsert rejected)"));
}

}  // namespace

std::string SerializeProfile(const v1::Profile& profile) {
  constexpr size_t kVersionBytes = 11;  // tag + 10-byte varint at most
  const size_t size = profile.ByteSizeLong();
  std::string value(size + kVersionBytes, '\0');
  profile.SerializeWithCachedSizesToArray(
      reinterpret_cast<uint8_t*>(value.data()));
  value.resize(size);
  return value;
}

void AppendVersion(int64_t version, std::string* value) {
  // Wire format: tag (field number << 3 | wire type 0, varint), then the
  // value as a varint of its two's complement (int64, not zigzag).
  uint64_t tag = uint64_t{v1::Profile::kVersionFieldNumber} << 3;
  uint64_t bits = static_cast<uint64_t>(version);
  for (uint64_t* varint : {&tag, &bits}) {
    while (*varint >= 0x80) {
      value->push_back(static_cast<char>((*varint & 0x7f) | 0x80));
      *varint >>= 7;
    }
    value->push_back(static_cast<char>(*varint));
  }
}

CommitQueue::CommitQueue(Store* store, LiveIndex* live, CommitHook* hook)
    : store_(store), live_(live), hook_(hook) {
  thread_ = std::thread([this] { CommitLoop(); });
}

CommitQueue::~CommitQueue() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  queued_.SignalAll();
  thread_.join();
}

void CommitQueue::Submit(std::vector<ProfileWrite> writes, Done done) {
  if (hook_ != nullptr) {
    for (ProfileWrite& write : writes) {
      write.prepared = hook_->Prepare(
          write.compiled ? &*write.compiled : nullptr,
          write.compiled ? absl::string_view(write.compiled->id)
                         : absl::string_view(write.id));
    }
  }
  {
    MutexLock lock(&mu_);
    queue_.push_back(Group{std::move(writes), std::move(done), nullptr});
  }
  // Wakes the commit thread if it is idle; if it is busy with a round it
  // takes this group with the next one.
  queued_.Signal();
}

void CommitQueue::SubmitTask(std::function<void()> task) {
  {
    MutexLock lock(&mu_);
    queue_.push_back(Group{{}, nullptr, std::move(task)});
  }
  queued_.Signal();
}

CommitQueue::Counters CommitQueue::counters() const {
  MutexLock lock(&mu_);
  return counters_;
}

void CommitQueue::CommitLoop() {
  std::vector<Group> round;
  for (;;) {
    {
      MutexLock lock(&mu_);
      while (!stop_ && queue_.empty()) queued_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping, and everything is committed
      size_t writes = 0;
      // A task is a round of its own.
      while (!queue_.empty() &&
             (round.empty() ||
              (!queue_.front().task && !round.front().task &&
               writes + queue_.front().writes.size() <= kMaxRoundWrites))) {
        writes += queue_.front().writes.size();
        round.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (round.front().task) {
      round.front().task();
      round.clear();
      continue;
    }
    std::vector<std::vector<WriteResult>> results = CommitRound(round);
    for (size_t g = 0; g < round.size(); ++g) {
      round[g].done(std::move(results[g]));
    }
    // Freed after the acknowledgements, which should not wait for it.
    round.clear();
  }
}

std::vector<std::vector<WriteResult>> CommitQueue::CommitRound(
    std::vector<Group>& round) {
  std::vector<std::vector<WriteResult>> results(round.size());
  std::vector<Store::ProfileMutation> mutations;
  // Indexes (group, write) of the accepted writes, in mutation order.
  std::vector<std::pair<size_t, size_t>> accepted;
  // For the hook: each accepted write's profile before it (the round's
  // earlier write of the id, or the index's, kept alive here).
  std::vector<CommitHook::Change> changes;
  std::vector<ProfileIndex::ProfilePtr> befores;
  {
    // Version checks. The index holds exactly what is on disk (this thread
    // is its only writer); `pending` holds the outcome of this round's
    // earlier writes (0: deleted).
    absl::flat_hash_map<absl::string_view, int64_t> pending;
    absl::flat_hash_map<absl::string_view, const CompiledProfile*> latest;
    ReaderLock lock(&live_->mu());
    const ProfileIndex& index = live_->index();
    auto stored_version = [&](absl::string_view id) -> int64_t {
      auto it = pending.find(id);
      if (it != pending.end()) return it->second;
      const CompiledProfile* profile = index.Find(id);
      return profile == nullptr ? 0 : profile->version;
    };
    auto note_change = [&](absl::string_view id, const CompiledProfile* after,
                           const CommitHookPrepared* prepared) {
      if (hook_ == nullptr) return;
      const CompiledProfile* before = nullptr;
      auto it = latest.find(id);
      if (it != latest.end()) {
        before = it->second;
      } else if (ProfileIndex::ProfilePtr stored = index.Share(id)) {
        before = stored.get();
        befores.push_back(std::move(stored));
      }
      changes.push_back({before, after, prepared});
      latest[id] = after;
    };
    for (size_t g = 0; g < round.size(); ++g) {
      std::vector<ProfileWrite>& writes = round[g].writes;
      results[g].resize(writes.size());
      for (size_t w = 0; w < writes.size(); ++w) {
        ProfileWrite& write = writes[w];
        WriteResult& result = results[g][w];
        if (!write.compiled.has_value()) {
          if (stored_version(write.id) == 0) {
            result.status = absl::NotFoundError(
                absl::StrCat("profile \"", write.id, "\" not found"));
            continue;
          }
          pending[write.id] = 0;
          note_change(write.id, nullptr, write.prepared.get());
          mutations.push_back({write.id, nullptr});
          accepted.emplace_back(g, w);
          continue;
        }
        const std::string& id = write.compiled->id;
        const int64_t stored = stored_version(id);
        int64_t version = write.compiled->version;
        if (version == 0) {
          if (stored == std::numeric_limits<int64_t>::max()) {
            result.status = absl::FailedPreconditionError(absl::StrCat(
                "version: 0 asks for the stored version + 1, but profile \"",
                id, "\" is at ", stored,
                ", the largest version there is (no newer write is possible)"));
            continue;
          }
          version = stored + 1;
        } else if (stored > 0 && version <= stored) {
          result.status = StaleVersion(id, version, stored);
          continue;
        }
        AppendVersion(version, &write.value);
        write.compiled->version = version;
        pending[id] = version;
        note_change(id, &*write.compiled, write.prepared.get());
        result.version = version;
        result.created = stored == 0;
        mutations.push_back({id, &write.value});
        accepted.emplace_back(g, w);
      }
    }
  }
  if (!mutations.empty()) {
    Store::Extras extras;
    if (hook_ != nullptr) {
      std::vector<int64_t> positions(changes.size(), 0);
      hook_->BeforeWrite(changes, &extras, &positions);
      for (size_t k = 0; k < accepted.size(); ++k) {
        results[accepted[k].first][accepted[k].second].position = positions[k];
      }
    }
    const absl::Status written =
        store_->WriteProfiles(mutations, hook_ != nullptr ? &extras : nullptr);
    if (written.ok()) {
      // This thread is the only writer of profiles: the view taken now is
      // the store with exactly this round added.
      std::shared_ptr<const StoreView> view = store_->TakeView();
      WriterLock lock(&live_->mu());
      // The old view is released after the unlock.
      view = live_->ExchangeVisible(std::move(view));
      ProfileIndex& index = live_->mutable_index();
      for (const auto& [g, w] : accepted) {
        ProfileWrite& write = round[g].writes[w];
        if (write.compiled.has_value()) {
          index.Put(std::make_shared<const CompiledProfile>(
              *std::move(write.compiled)));
        } else {
          index.Erase(write.id);
        }
      }
    } else {
      for (const auto& [g, w] : accepted) {
        results[g][w] = WriteResult{written, 0, false};
      }
    }
    if (hook_ != nullptr) hook_->AfterWrite(written.ok());
    MutexLock lock(&mu_);
    ++counters_.rounds;
    counters_.writes += static_cast<int64_t>(mutations.size());
  }
  return results;
}

}  // namespace pamatch
