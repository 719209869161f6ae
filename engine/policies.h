// Local authority policies (MATCHING.md): per local authority, a floor for
// min_dbs_level and min_register_level and extra required_training, which
// every search naming that authority is judged with. Validated here and
// kept in memory for searches; written to the Store by the engine's commit
// thread (engine/market.h), in the batch of the alert events the change
// causes, which then calls Remember or Forget.
//
// Thread-safety: every method may be called from any thread; Remember and
// Forget are called by the commit thread only, after the write is durable.
// Readers take mu_ shared and never wait for a disk write.
#ifndef PA_MATCH_ENGINE_POLICIES_H_
#define PA_MATCH_ENGINE_POLICIES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/storage.h"
#include "engine/sync.h"
#include "engine/taxonomy.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

class PolicyStore {
 public:
  // `taxonomy` and `store` must outlive this.
  PolicyStore(const Taxonomy& taxonomy, Store* store)
      : taxonomy_(taxonomy), store_(store) {}
  PolicyStore(const PolicyStore&) = delete;
  PolicyStore& operator=(const PolicyStore&) = delete;

  // Reads every stored policy into memory (at start).
  absl::Status Load();

  // Validates and normalises `policy` (codes deduplicated, DBS level
  // UNSPECIFIED as NONE, updated_at = now): what is then stored.
  absl::StatusOr<v1::Policy> Normalize(const v1::Policy& policy,
                                       absl::Time now) const;
  // After the write is durable: the policy searches see from now on.
  void Remember(const v1::Policy& policy);
  void Forget(absl::string_view local_authority);
  // NOT_FOUND when the authority has none.
  absl::StatusOr<v1::Policy> Get(absl::string_view local_authority) const;
  // Every policy, by local authority code.
  std::vector<v1::Policy> List() const;
  // A copy of the policy of `local_authority`, or nullopt (empty code:
  // nullopt); what a search is compiled with.
  std::optional<v1::Policy> Find(absl::string_view local_authority) const;
  size_t size() const;

 private:
  const Taxonomy& taxonomy_;
  Store* const store_;
  mutable SharedMutex mu_;
  absl::flat_hash_map<std::string, v1::Policy> policies_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_POLICIES_H_
