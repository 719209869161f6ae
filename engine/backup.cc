#include "engine/backup.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"

namespace pamatch {

absl::StatusOr<v1::BackupResponse> BackupStore(
    Store& store, const std::string& destination_dir, absl::Time now) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::string dest = destination_dir;
  if (dest.empty()) {
    fs::path base = fs::path(store.dir()).parent_path() / "backups";
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
  absl::Status status = store.Checkpoint(dest);
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

}  // namespace pamatch
