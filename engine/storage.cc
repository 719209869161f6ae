#include "engine/storage.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace pamatch {
namespace {

constexpr char kSchemaKey[] = "schema_version";

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsNoSpace() || status.IsIOError()) {
    return absl::UnavailableError(message);
  }
  if (status.IsInvalidArgument()) return absl::FailedPreconditionError(message);
  return absl::InternalError(message);
}

rocksdb::Slice ToSlice(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir,
                                                   bool sync) {
  std::unique_ptr<Store> store(new Store());
  store->dir_ = dir;
  store->sync_ = sync;
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.paranoid_checks = true;
  options.IncreaseParallelism(2);
  options.keep_log_file_num = 5;
  rocksdb::ColumnFamilyOptions family_options;
  rocksdb::BlockBasedTableOptions table;
  family_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, family_options},
      {"profiles", family_options},
      {"policies", family_options},
      {"meta", family_options}};
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

  std::string schema;
  status = db->Get(rocksdb::ReadOptions(), store->meta_, kSchemaKey, &schema);
  if (status.IsNotFound()) {
    rocksdb::WriteOptions write;
    write.sync = true;
    status = db->Put(write, store->meta_, kSchemaKey,
                     std::to_string(kSchemaVersion));
    if (!status.ok()) return FromRocks(status, "cannot write schema version");
  } else if (!status.ok()) {
    return FromRocks(status, "cannot read schema version");
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
  return store;
}

Store::~Store() {
  if (db_) {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      db_->DestroyColumnFamilyHandle(handle);
    }
    db_->Close();
  }
}

absl::Status Store::PutProfiles(
    const std::vector<const v1::Profile*>& profiles) {
  rocksdb::WriteBatch batch;
  std::string value;
  for (const v1::Profile* profile : profiles) {
    profile->SerializeToString(&value);
    batch.Put(profiles_, profile->id(), value);
  }
  rocksdb::WriteOptions write;
  write.sync = sync_;
  return FromRocks(db_->Write(write, &batch), "cannot store profiles");
}

absl::Status Store::DeleteProfile(absl::string_view id) {
  rocksdb::WriteOptions write;
  write.sync = sync_;
  return FromRocks(db_->Delete(write, profiles_, ToSlice(id)),
                   "cannot delete profile");
}

absl::StatusOr<std::optional<v1::Profile>> Store::GetProfile(
    absl::string_view id) const {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), profiles_, ToSlice(id), &value);
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
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::Status status =
        visit(absl::string_view(it->key().data(), it->key().size()),
              absl::string_view(it->value().data(), it->value().size()));
    if (!status.ok()) return status;
  }
  return FromRocks(it->status(), "cannot scan the data dir");
}

absl::Status Store::ForEachProfile(
    absl::FunctionRef<absl::Status(v1::Profile&)> visit) const {
  v1::Profile profile;
  return ForEach(profiles_, [&](absl::string_view key, absl::string_view value) {
    profile.Clear();
    if (!profile.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(
          absl::StrCat("stored profile ", key, " does not parse"));
    }
    return visit(profile);
  });
}

absl::Status Store::PutPolicy(const v1::Policy& policy) {
  rocksdb::WriteOptions write;
  write.sync = sync_;
  return FromRocks(db_->Put(write, policies_, policy.local_authority(),
                            policy.SerializeAsString()),
                   "cannot store policy");
}

absl::Status Store::DeletePolicy(absl::string_view local_authority) {
  rocksdb::WriteOptions write;
  write.sync = sync_;
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
