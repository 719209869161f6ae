// Online, consistent backups of the store (Engine::Backup): a RocksDB
// checkpoint, then read back and counted. Restore: docs/STORAGE.md.
//
// Thread-safety: any thread; writes to the store may continue meanwhile.
#ifndef PA_MATCH_ENGINE_BACKUP_H_
#define PA_MATCH_ENGINE_BACKUP_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/storage.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

// A checkpoint of `store` in `destination_dir` (must not exist; its parent
// must), or, if empty, in <parent of the store's dir>/backups/<UTC time of
// `now`>. The response counts the profiles and policies in the backup as
// read back from it.
absl::StatusOr<v1::BackupResponse> BackupStore(Store& store,
                                               const std::string& destination_dir,
                                               absl::Time now);

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_BACKUP_H_
