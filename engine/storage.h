// Durable storage of profiles and policies in RocksDB.
//
// Layout (docs/STORAGE.md has the long form):
//   column family "profiles": key = profile id (bytes), value = the
//       pamatch.v1.Profile as protobuf binary, version resolved.
//   column family "policies": key = local authority code, value = the
//       pamatch.v1.Policy as protobuf binary.
//   column family "meta": key "schema_version" = decimal ASCII, currently 1.
// Everything in memory (the compiled profiles, the policies map) is rebuilt
// from these at start; nothing derived is stored.
//
// Durability: with `sync` every write returns only after the WAL is fsynced;
// RocksDB's write thread groups concurrent writers behind one fsync.
// Thread-safety: all methods are safe to call from any thread (RocksDB
// handles concurrency); ordering between writes to one key is the caller's.
#ifndef PA_MATCH_ENGINE_STORAGE_H_
#define PA_MATCH_ENGINE_STORAGE_H_

#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pamatch/v1/matcher.pb.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace pamatch {

inline constexpr int kSchemaVersion = 1;

class Store {
 public:
  // Opens or creates the database in `dir`. Fails (never opens empty) on a
  // newer schema, corruption, or an unusable directory.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir,
                                                     bool sync);
  ~Store();

  // Writes all profiles in one atomic batch (one fsync).
  absl::Status PutProfiles(const std::vector<const v1::Profile*>& profiles);
  absl::Status DeleteProfile(absl::string_view id);
  // nullopt if absent.
  absl::StatusOr<std::optional<v1::Profile>> GetProfile(
      absl::string_view id) const;
  // Calls `visit` for every stored profile in key order; stops at the first
  // error, which it returns.
  absl::Status ForEachProfile(
      absl::FunctionRef<absl::Status(v1::Profile&)> visit) const;

  absl::Status PutPolicy(const v1::Policy& policy);
  absl::Status DeletePolicy(absl::string_view local_authority);
  absl::Status ForEachPolicy(
      absl::FunctionRef<absl::Status(v1::Policy&)> visit) const;

  const std::string& dir() const { return dir_; }

 private:
  Store() = default;
  absl::Status ForEach(rocksdb::ColumnFamilyHandle* family,
                       absl::FunctionRef<absl::Status(absl::string_view key,
                                                      absl::string_view value)>
                           visit) const;

  std::string dir_;
  bool sync_ = true;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned by db_
  rocksdb::ColumnFamilyHandle* profiles_ = nullptr;
  rocksdb::ColumnFamilyHandle* policies_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_STORAGE_H_
