#include "engine/storage.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace pamatch {
namespace {

constexpr char kSchemaKey[] = "schema_version";
constexpr char kPurgeKey[] = "purge_pending";
constexpr char kAlertsDayKey[] = "alerts_day";
constexpr char kPositionKey[] = "write_position";

// Event keys sort by sequence: 8 bytes, big endian.
std::string EventKey(int64_t sequence) {
  std::string key(8, '\0');
  auto bits = static_cast<uint64_t>(sequence);
  for (int i = 7; i >= 0; --i) {
    key[i] = static_cast<char>(bits & 0xff);
    bits >>= 8;
  }
  return key;
}

int64_t EventSequence(const rocksdb::Slice& key) {
  uint64_t bits = 0;
  for (size_t i = 0; i < key.size() && i < 8; ++i) {
    bits = (bits << 8) | static_cast<unsigned char>(key.data()[i]);
  }
  return static_cast<int64_t>(bits);
}

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (status.IsIOError()) return absl::UnavailableError(message);
  if (status.IsInvalidArgument()) return absl::FailedPreconditionError(message);
  return absl::InternalError(message);
}

rocksdb::Slice ToSlice(absl::string_view s) { return {s.data(), s.size()}; }

// RocksDB's own log, warnings and errors only, to stderr (pa-matchd's log)
// instead of a LOG file in the data dir: on a full disk the file logger
// itself fails and, in Debian's RocksDB 7.8 build, aborts the process on an
// assertion when the error is logged.
class StderrLogger final : public rocksdb::Logger {
 public:
  StderrLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[1024];
    const int n = std::vsnprintf(line, sizeof(line), format, ap);
    int end = std::min<int>(n, sizeof(line) - 1);
    while (end > 0 && line[end - 1] == '\n') --end;
    std::fprintf(stderr, "rocksdb: %.*s\n", end, line);
  }
};

// Checks what is in `dir` before RocksDB sees it, so that no case of a
// vanished or damaged database can turn into a fresh empty one.
absl::Status CheckDir(const std::string& dir, bool create_if_missing) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path path(dir);
  const fs::path parent = path.parent_path();
  if (!parent.empty() && !fs::is_directory(parent, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open data dir ", dir, ": its parent directory ",
        parent.string(), " does not exist"));
  }
  if (!fs::exists(path, error)) {
    if (create_if_missing) {
      fs::create_directory(path, error);  // RocksDB reports the rest
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir ", dir,
        " does not exist, but this is an existing install (keys file "
        "present): refusing to start with an empty database; restore a "
        "backup (--restore_from) or pass --allow_new_db"));
  }
  if (!fs::is_directory(path, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("data dir ", dir, " is not a directory"));
  }
  if (fs::exists(path / "CURRENT", error)) return absl::OkStatus();
  bool has_files = false;
  for (const auto& entry : fs::directory_iterator(path, error)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "MANIFEST-") || absl::EndsWith(name, ".sst") ||
        absl::EndsWith(name, ".log")) {
      has_files = true;
    }
  }
  if (has_files) {
    return absl::DataLossError(absl::StrCat(
        "data dir ", dir,
        " has database files but no CURRENT file (damaged or partly "
        "copied); refusing to start with an empty database"));
  }
  if (!create_if_missing) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir ", dir,
        " holds no database, but this is an existing install (keys file "
        "present): refusing to start with an empty database; restore a "
        "backup (--restore_from) or pass --allow_new_db"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(
    const std::string& dir, const StoreOptions& store_options) {
  absl::Status checked = CheckDir(dir, store_options.create_if_missing);
  if (!checked.ok()) return checked;
  std::unique_ptr<Store> store(new Store());
  store->dir_ = dir;
  store->options_ = store_options;
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.paranoid_checks = true;
  options.IncreaseParallelism(2);
  options.info_log = std::make_shared<StderrLogger>();
  // Erasure: a WAL that held a deleted profile is deleted as soon as it is
  // obsolete: never archived, never recycled.
  options.WAL_ttl_seconds = 0;
  options.WAL_size_limit_MB = 0;
  options.recycle_log_file_num = 0;
  // Erasure: every version edit (flush, compaction) starts a new MANIFEST
  // holding only the live files, whose boundary keys are live keys; the old
  // MANIFEST, which may name a deleted id as a boundary key, is deleted.
  // Cheap: the snapshot is one line per live SST.
  options.max_manifest_file_size = 1;
  options.compaction_readahead_size = 2 << 20;
  rocksdb::ColumnFamilyOptions family_options;
  rocksdb::BlockBasedTableOptions table;
  family_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, family_options},
      {"profiles", family_options},
      {"policies", family_options},
      {"meta", family_options},
      {"jobs", family_options},
      {"events", family_options}};
  rocksdb::DB* db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(
      rocksdb::DBOptions(options), dir, families, &store->handles_, &db);
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("cannot open data dir ", dir));
  }
  store->db_.reset(db);
  store->profiles_ = store->handles_[1];
  store->policies_ = store->handles_[2];
  store->meta_ = store->handles_[3];
  store->jobs_ = store->handles_[4];
  store->events_ = store->handles_[5];

  std::string schema;
  status = db->Get(rocksdb::ReadOptions(), store->meta_, kSchemaKey, &schema);
  if (status.IsNotFound()) {
    rocksdb::WriteOptions write;
    write.sync = true;
    status = db->Put(write, store->meta_, kSchemaKey,
                     std::to_string(kSchemaVersion));
    if (!status.ok()) {
      return FromRocks(status, absl::StrCat("data dir ", dir,
                                            ": cannot write schema version"));
    }
  } else if (!status.ok()) {
    return FromRocks(status, absl::StrCat("data dir ", dir,
                                          ": cannot read schema version"));
  } else {
    int version = 0;
    if (!absl::SimpleAtoi(schema, &version)) {
      return absl::DataLossError(absl::StrCat(
          "data dir ", dir, ": unreadable schema version \"", schema, "\""));
    }
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data dir ", dir, " has schema version ", version,
          ", newer than this pa-match understands (", kSchemaVersion,
          "); run a newer pa-matchd"));
    }
  }
  std::string marker;
  status = db->Get(rocksdb::ReadOptions(), store->meta_, kPurgeKey, &marker);
  if (status.ok()) {
    // A purge was due when the last process ended: redo it over everything.
    // (No other thread sees the store yet; the lock is for the analysis.)
    MutexLock lock(&store->purge_mu_);
    store->pending_ = true;
    store->full_range_ = true;
    store->pending_since_ = absl::Now();
  } else if (!status.IsNotFound()) {
    return FromRocks(status, absl::StrCat("data dir ", dir,
                                          ": cannot read the purge marker"));
  }
  store->purge_thread_ = std::thread([s = store.get()] { s->PurgeLoop(); });
  return store;
}

Store::~Store() {
  {
    MutexLock lock(&purge_mu_);
    stop_ = true;
  }
  purge_cv_.SignalAll();
  if (purge_thread_.joinable()) purge_thread_.join();
  if (db_) {
    // A StoreView still held would release its snapshot into a closed
    // database later: fail here, loudly, rather than there.
    uint64_t views = 0, oldest = 0;
    if (HeldViews(&views, &oldest) && views > 0) {
      std::fprintf(stderr,
                   "pa-match: store %s closed with %llu StoreView(s) still "
                   "held (a view must not outlive its Store)\n",
                   dir_.c_str(), static_cast<unsigned long long>(views));
      std::abort();
    }
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      db_->DestroyColumnFamilyHandle(handle);
    }
    db_->Close();
  }
}

absl::Status Store::PutProfiles(
    const std::vector<const v1::Profile*>& profiles) {
  std::vector<std::string> values(profiles.size());
  std::vector<ProfileMutation> mutations;
  mutations.reserve(profiles.size());
  for (size_t i = 0; i < profiles.size(); ++i) {
    profiles[i]->SerializeToString(&values[i]);
    mutations.push_back({profiles[i]->id(), &values[i]});
  }
  return WriteProfiles(mutations);
}

absl::Status Store::DeleteProfile(absl::string_view id) {
  return WriteProfiles({{id, nullptr}});
}

absl::Status Store::WriteProfiles(
    const std::vector<ProfileMutation>& mutations, const Extras* extras) {
  // Reserved up front: growing a multi-megabyte batch by doubling costs
  // large reallocations on the commit thread (malloc_consolidate in perf).
  size_t bytes = 64;
  auto count = [&bytes](const std::vector<ProfileMutation>& list) {
    for (const ProfileMutation& mutation : list) {
      bytes += mutation.id.size() + 16 +
               (mutation.value != nullptr ? mutation.value->size() : 0);
    }
  };
  count(mutations);
  if (extras != nullptr) {
    count(extras->jobs);
    count(extras->policies);
    for (const auto& event : extras->events) bytes += event.second.size() + 24;
  }
  rocksdb::WriteBatch batch(bytes);
  bool deletes = false, job_deletes = false;
  for (const ProfileMutation& mutation : mutations) {
    if (mutation.value != nullptr) {
      batch.Put(profiles_, ToSlice(mutation.id), *mutation.value);
    } else {
      batch.Delete(profiles_, ToSlice(mutation.id));
      deletes = true;
    }
  }
  if (extras != nullptr) {
    for (const ProfileMutation& job : extras->jobs) {
      if (job.value != nullptr) {
        batch.Put(jobs_, ToSlice(job.id), *job.value);
      } else {
        batch.Delete(jobs_, ToSlice(job.id));
        job_deletes = true;
      }
    }
    for (const ProfileMutation& policy : extras->policies) {
      if (policy.value != nullptr) {
        batch.Put(policies_, ToSlice(policy.id), *policy.value);
      } else {
        batch.Delete(policies_, ToSlice(policy.id));
      }
    }
    for (const auto& [sequence, value] : extras->events) {
      batch.Put(events_, EventKey(sequence), value);
    }
    if (!extras->alerts_day.empty()) {
      batch.Put(meta_, kAlertsDayKey, extras->alerts_day);
    }
    if (extras->write_position > 0) {
      batch.Put(meta_, kPositionKey, std::to_string(extras->write_position));
    }
  }
  deletes = deletes || job_deletes;
  // The purge marker goes in the same batch as the deletes, so no delete is
  // ever on disk without it.
  if (deletes) batch.Put(meta_, kPurgeKey, "1");
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  if (!deletes) {
    return FromRocks(db_->Write(write, &batch), "cannot store profiles");
  }
  ReaderLock marker(&marker_mu_);
  absl::Status status =
      FromRocks(db_->Write(write, &batch), "cannot delete profile");
  if (status.ok()) {
    for (const ProfileMutation& mutation : mutations) {
      if (mutation.value == nullptr) NotePending(mutation.id);
    }
    if (job_deletes) NoteJobsPending();
  }
  return status;
}

void Store::NoteJobsPending() {
  {
    MutexLock lock(&purge_mu_);
    pending_seq_ = std::max(pending_seq_, db_->GetLatestSequenceNumber());
    if (!pending_) {
      pending_ = true;
      pending_since_ = absl::Now();
    }
    jobs_pending_ = true;
  }
  purge_cv_.SignalAll();
}

void Store::NotePending(absl::string_view id) {
  const uint64_t written = db_->GetLatestSequenceNumber();
  {
    MutexLock lock(&purge_mu_);
    pending_seq_ = std::max(pending_seq_, written);
    if (!pending_) {
      pending_ = true;
      pending_since_ = absl::Now();
    }
    if (!profiles_pending_) {
      profiles_pending_ = true;
      pending_min_ = pending_max_ = std::string(id);
    } else {
      if (id < pending_min_) pending_min_ = std::string(id);
      if (id > pending_max_) pending_max_ = std::string(id);
    }
  }
  purge_cv_.SignalAll();
}

void Store::PurgeLoop() {
  while (true) {
    {
      // Until a purge is due, or the store closes.
      MutexLock lock(&purge_mu_);
      while (true) {
        if (stop_) return;
        if (!pending_) {
          purge_cv_.Wait(&purge_mu_);
          continue;
        }
        const absl::Duration wait =
            pending_since_ + options_.purge_delay - absl::Now();
        if (wait <= absl::ZeroDuration()) break;
        purge_cv_.WaitFor(&purge_mu_, wait);
      }
    }
    // On failure the range is pending again and is retried after the delay.
    PurgeDeleted().IgnoreError();
  }
}

bool Store::HeldViews(uint64_t* count, uint64_t* oldest) const {
  *count = *oldest = 0;
  return db_->GetIntProperty(rocksdb::DB::Properties::kNumSnapshots, count) &&
         (*count == 0 ||
          db_->GetIntProperty(rocksdb::DB::Properties::kOldestSnapshotSequence,
                              oldest));
}

rocksdb::Status Store::WaitForSnapshotsFrom(uint64_t sequence) const {
  const absl::Time deadline = absl::Now() + options_.snapshot_wait;
  while (true) {
    uint64_t snapshots = 0, oldest = 0;
    if (!HeldViews(&snapshots, &oldest)) {
      return rocksdb::Status::Incomplete("cannot read the oldest snapshot");
    }
    // A snapshot at `sequence` or later sees the deletes, not the values.
    if (snapshots == 0 || oldest >= sequence) return rocksdb::Status::OK();
    {
      MutexLock lock(&purge_mu_);
      if (stop_) return rocksdb::Status::Aborted("closing");
    }
    if (absl::Now() >= deadline) {
      return rocksdb::Status::Busy(
          "a view of the store older than the deletes is still held");
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
}

absl::Status Store::PurgeDeleted() {
  MutexLock run(&purge_run_mu_);
  bool full = false, profiles = false, jobs = false;
  std::string min, max;
  uint64_t deleted_by = 0;
  {
    MutexLock lock(&purge_mu_);
    if (!pending_) return absl::OkStatus();
    full = full_range_;
    profiles = profiles_pending_;
    jobs = jobs_pending_;
    min = pending_min_;
    max = pending_max_;
    deleted_by = pending_seq_;
    pending_ = false;
    full_range_ = false;
    profiles_pending_ = false;
    jobs_pending_ = false;
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  flush.allow_write_stall = true;
  rocksdb::Status status = WaitForSnapshotsFrom(deleted_by);
  // Every family: a WAL is deleted only when no family still needs it.
  if (status.ok()) status = db_->Flush(flush, handles_);
  if (status.ok()) {
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction =
        rocksdb::BottommostLevelCompaction::kForce;
    const rocksdb::Slice begin(min), end(max);
    if (full || profiles) {
      status = db_->CompactRange(compact, profiles_, full ? nullptr : &begin,
                                 full ? nullptr : &end);
    }
    // Jobs are few beside profiles: their family is compacted whole.
    if (status.ok() && (full || jobs)) {
      status = db_->CompactRange(compact, jobs_, nullptr, nullptr);
    }
  }
  if (!status.ok()) {
    MutexLock lock(&purge_mu_);
    pending_ = true;
    if (profiles) {
      if (!profiles_pending_) {
        profiles_pending_ = true;
        pending_min_ = min;
        pending_max_ = max;
      } else {
        if (min < pending_min_) pending_min_ = min;
        if (max > pending_max_) pending_max_ = max;
      }
    }
    jobs_pending_ = jobs_pending_ || jobs;
    full_range_ = full_range_ || full;
    pending_since_ = absl::Now();
    return FromRocks(status, "cannot purge deleted profiles");
  }
  bool still_pending = false;
  {
    WriterLock marker(&marker_mu_);
    {
      MutexLock lock(&purge_mu_);
      still_pending = pending_;  // a newer delete keeps the marker
    }
    rocksdb::WriteOptions write;
    write.sync = options_.sync;
    status = still_pending ? db_->Put(write, meta_, kPurgeKey, "1")
                           : db_->Delete(write, meta_, kPurgeKey);
  }
  // One more version edit after the compaction: it starts a new MANIFEST
  // (max_manifest_file_size) that names only live files, so a deleted id
  // that was an old SST's boundary key leaves the MANIFEST too.
  if (status.ok()) status = db_->Flush(flush, meta_);
  if (!status.ok()) return FromRocks(status, "cannot finish the purge");
  MutexLock lock(&purge_mu_);
  ++purges_;
  return absl::OkStatus();
}

int64_t Store::purges() const {
  MutexLock lock(&purge_mu_);
  return purges_;
}

absl::Status Store::Checkpoint(const std::string& dest) {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status status = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (status.ok()) {
    // log_size_for_flush 0: always flush first, so the copy is all SSTs.
    status = checkpoint->CreateCheckpoint(dest, /*log_size_for_flush=*/0);
  }
  return FromRocks(status, absl::StrCat("cannot write backup to ", dest));
}

absl::StatusOr<Store::Counts> Store::VerifyCheckpoint(const std::string& dir) {
  rocksdb::Options options;
  options.paranoid_checks = true;
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, options},
      {"profiles", options},
      {"policies", options},
      {"meta", options},
      {"jobs", options},
      {"events", options}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::OpenForReadOnly(
      rocksdb::DBOptions(options), dir, families, &handles, &raw);
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("cannot read back backup ", dir));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  Counts counts;
  for (int family : {1, 2}) {
    rocksdb::ReadOptions read;
    read.fill_cache = false;
    read.verify_checksums = true;
    read.readahead_size = 4 << 20;
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(read, handles[family]));
    int64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    if (!it->status().ok()) {
      status = it->status();
      break;
    }
    (family == 1 ? counts.profiles : counts.policies) = n;
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    db->DestroyColumnFamilyHandle(handle);
  }
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("backup ", dir, " does not verify"));
  }
  return counts;
}

StoreView::~StoreView() { db_->ReleaseSnapshot(snapshot_); }

std::shared_ptr<const StoreView> Store::TakeView() const {
  return std::shared_ptr<const StoreView>(
      new StoreView(db_.get(), db_->GetSnapshot()));
}

absl::StatusOr<std::optional<v1::Profile>> Store::GetProfile(
    absl::string_view id, const StoreView* view) const {
  rocksdb::ReadOptions read;
  if (view != nullptr) read.snapshot = view->snapshot_;
  std::string value;
  rocksdb::Status status = db_->Get(read, profiles_, ToSlice(id), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return FromRocks(status, "cannot read profile");
  v1::Profile profile;
  if (!profile.ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat("stored profile ", id,
                                            " does not parse"));
  }
  return profile;
}

absl::Status Store::ForEach(
    rocksdb::ColumnFamilyHandle* family,
    absl::FunctionRef<absl::Status(absl::string_view, absl::string_view)> visit)
    const {
  rocksdb::ReadOptions read;
  read.fill_cache = false;
  read.verify_checksums = true;
  read.readahead_size = 4 << 20;  // one sequential pass over the files
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::Status status =
        visit(absl::string_view(it->key().data(), it->key().size()),
              absl::string_view(it->value().data(), it->value().size()));
    if (!status.ok()) return status;
  }
  return FromRocks(it->status(),
                   absl::StrCat("cannot scan the data dir ", dir_));
}

absl::Status Store::ForEachProfileValue(
    absl::FunctionRef<absl::Status(absl::string_view, absl::string_view)> visit)
    const {
  return ForEach(profiles_, visit);
}

absl::Status Store::ForEachJobValue(
    absl::FunctionRef<absl::Status(absl::string_view, absl::string_view)> visit)
    const {
  return ForEach(jobs_, visit);
}

absl::Status Store::ForEachEvent(
    int64_t after, size_t max_events,
    absl::FunctionRef<bool(int64_t, absl::string_view)> visit) const {
  rocksdb::ReadOptions read;
  read.fill_cache = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, events_));
  size_t visited = 0;
  for (it->Seek(EventKey(after + 1)); it->Valid() && visited < max_events;
       it->Next()) {
    ++visited;
    if (!visit(EventSequence(it->key()),
               absl::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), "cannot read alert events");
}

absl::StatusOr<std::pair<int64_t, int64_t>> Store::EventRange() const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), events_));
  it->SeekToFirst();
  if (!it->Valid()) {
    absl::Status status = FromRocks(it->status(), "cannot read alert events");
    if (!status.ok()) return status;
    return std::make_pair(int64_t{0}, int64_t{0});
  }
  const int64_t first = EventSequence(it->key());
  it->SeekToLast();
  if (!it->Valid()) return FromRocks(it->status(), "cannot read alert events");
  return std::make_pair(first, EventSequence(it->key()));
}

absl::Status Store::DropEventsBefore(int64_t first_kept) {
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  return FromRocks(db_->DeleteRange(write, events_, EventKey(0),
                                    EventKey(first_kept)),
                   "cannot drop old alert events");
}

absl::StatusOr<std::string> Store::GetMeta(absl::string_view key) const {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), meta_, ToSlice(key), &value);
  if (status.IsNotFound()) return std::string();
  if (!status.ok()) return FromRocks(status, "cannot read meta");
  return value;
}

int64_t Store::EstimateProfiles() const {
  uint64_t keys = 0;
  if (!db_->GetIntProperty(profiles_, "rocksdb.estimate-num-keys", &keys)) {
    return 0;
  }
  return static_cast<int64_t>(keys);
}

absl::Status Store::PutPolicy(const v1::Policy& policy) {
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  return FromRocks(db_->Put(write, policies_, policy.local_authority(),
                            policy.SerializeAsString()),
                   "cannot store policy");
}

absl::Status Store::DeletePolicy(absl::string_view local_authority) {
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  return FromRocks(db_->Delete(write, policies_, ToSlice(local_authority)),
                   "cannot delete policy");
}

absl::Status Store::ForEachPolicy(
    absl::FunctionRef<absl::Status(v1::Policy&)> visit) const {
  v1::Policy policy;
  return ForEach(policies_, [&](absl::string_view key, absl::string_view value) {
    policy.Clear();
    if (!policy.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(
          absl::StrCat("stored policy ", key, " does not parse"));
    }
    return visit(policy);
  });
}

}  // namespace pamatch
