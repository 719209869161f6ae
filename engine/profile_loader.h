// The rebuild of the index at start: every stored profile read from the
// store, parsed, validated and compiled, then laid out in one BulkLoad
// (documents in geographic order). The calling thread scans RocksDB
// (sequential, with read-ahead) and hands batches of raw values to two
// worker threads that parse and compile them.
//
// Thread-safety: call from one thread, before anything else uses `live`.
#ifndef PA_MATCH_ENGINE_PROFILE_LOADER_H_
#define PA_MATCH_ENGINE_PROFILE_LOADER_H_

#include <functional>

#include "absl/status/status.h"
#include "engine/engine.h"
#include "engine/live_index.h"
#include "engine/storage.h"

namespace pamatch {

// Loads every profile of `store` into `live`'s index (which must be empty).
// Calls on_progress (if set) about once a second and once at the end (done
// = true). The first error stops everything: DATA_LOSS for a value that
// does not parse, FAILED_PRECONDITION for a profile that no longer
// validates (the taxonomy changed), or the store's error.
absl::Status LoadProfiles(const Store& store, LiveIndex& live,
                          const std::function<void(const LoadProgress&)>&
                              on_progress);

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_PROFILE_LOADER_H_
