#include "engine/policies.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/validation.h"
#include "google/protobuf/util/time_util.h"

namespace pamatch {
namespace {

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

absl::Status NoPolicy(absl::string_view local_authority) {
  return absl::NotFoundError(absl::StrCat("no policy for local_authority \"",
                                          local_authority.substr(0, 64), "\""));
}

}  // namespace

absl::Status PolicyStore::Load() {
  WriterLock lock(&mu_);
  return store_->ForEachPolicy([&](v1::Policy& policy) {
    mu_.AssertHeld();
    policies_[policy.local_authority()] = policy;
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Policy> PolicyStore::Normalize(const v1::Policy& policy,
                                                  absl::Time now) const {
  absl::StatusOr<v1::Policy> normalized = ValidatePolicy(taxonomy_, policy);
  if (!normalized.ok()) return normalized.status();
  *normalized->mutable_updated_at() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(
          absl::ToUnixSeconds(now));
  return normalized;
}

void PolicyStore::Remember(const v1::Policy& policy) {
  WriterLock lock(&mu_);
  policies_[policy.local_authority()] = policy;
}

void PolicyStore::Forget(absl::string_view local_authority) {
  WriterLock lock(&mu_);
  policies_.erase(local_authority);
}

absl::StatusOr<v1::Policy> PolicyStore::Get(
    absl::string_view local_authority) const {
  ReaderLock lock(&mu_);
  auto it = policies_.find(local_authority);
  if (it == policies_.end()) return NoPolicy(local_authority);
  return it->second;
}


std::vector<v1::Policy> PolicyStore::List() const {
  std::vector<v1::Policy> out;
  {
    ReaderLock lock(&mu_);
    for (const auto& [code, policy] : policies_) out.push_back(policy);
  }
  std::sort(out.begin(), out.end(),
            [](const v1::Policy& a, const v1::Policy& b) {
              return a.local_authority() < b.local_authority();
            });
  return out;
}

std::optional<v1::Policy> PolicyStore::Find(
    absl::string_view local_authority) const {
  if (local_authority.empty()) return std::nullopt;
  ReaderLock lock(&mu_);
  auto it = policies_.find(local_authority);
  if (it == policies_.end()) return std::nullopt;
  return it->second;
}

size_t PolicyStore::size() const {
  ReaderLock lock(&mu_);
  return policies_.size();
}

}  // namespace pamatch
