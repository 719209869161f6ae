// `pa-match policy set|get|list|delete`: local authority policies.
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"

namespace pamatch::cli {
namespace {

using pamatch::v1::Matcher;

int RunSet(const Invocation& inv) {
  if (!inv.flags.Has("la")) {
    return ReportError(
        absl::InvalidArgumentError("policy set needs --la CODE"));
  }
  pamatch::v1::SetPolicyRequest request;
  pamatch::v1::Policy* policy = request.mutable_policy();
  policy->set_local_authority(inv.flags.Get("la"));
  if (inv.flags.Has("dbs")) {
    auto level = ParseDbsLevel(inv.flags.Get("dbs"));
    if (!level.ok()) return ReportError(level.status());
    policy->set_min_dbs_level(*level);
  }
  auto min_level = inv.flags.GetInt("level");
  if (!min_level.ok()) return ReportError(min_level.status());
  if (min_level->has_value()) {
    if (**min_level < 0 || **min_level > 4) {
      return ReportError(absl::InvalidArgumentError("--level: must be 0..4"));
    }
    policy->set_min_register_level(static_cast<int32_t>(**min_level));
  }
  if (auto training = inv.flags.GetList("training")) {
    for (auto& code : *training) policy->add_required_training(code);
  }
  return CallUnary<pamatch::v1::SetPolicyRequest, pamatch::v1::Policy>(
      inv, &Matcher::Stub::SetPolicy, request, FormatPolicy);
}

int RunGet(const Invocation& inv) {
  pamatch::v1::GetPolicyRequest request;
  request.set_local_authority(inv.flags.positional()[0]);
  return CallUnary<pamatch::v1::GetPolicyRequest, pamatch::v1::Policy>(
      inv, &Matcher::Stub::GetPolicy, request, FormatPolicy);
}

int RunList(const Invocation& inv) {
  return CallUnary<pamatch::v1::ListPoliciesRequest,
                   pamatch::v1::ListPoliciesResponse>(
      inv, &Matcher::Stub::ListPolicies, pamatch::v1::ListPoliciesRequest(),
      FormatPolicyList);
}

int RunDelete(const Invocation& inv) {
  pamatch::v1::DeletePolicyRequest request;
  request.set_local_authority(inv.flags.positional()[0]);
  return CallUnary<pamatch::v1::DeletePolicyRequest,
                   pamatch::v1::DeletePolicyResponse>(
      inv, &Matcher::Stub::DeletePolicy, request,
      [&request](const pamatch::v1::DeletePolicyResponse&) {
        return absl::StrCat("deleted policy ", request.local_authority(), "\n");
      });
}

}  // namespace

std::vector<Command> PolicyCommands() {
  return {
      {"policy set",
       "",
       "create or replace a local authority's policy (unset floors = none)",
       {{"la", true, "CODE", "local_authority (ONS code), required"},
        {"dbs", true, "LEVEL",
         "min_dbs_level: none|basic|standard|enhanced|enhanced_barred_adults"},
        {"level", true, "N", "min_register_level 0..4"},
        {"training", true, "A,B", "extra required_training"}},
       0,
       0,
       RunSet},
      {"policy get", "CODE", "show one policy", {}, 1, 1, RunGet},
      {"policy list", "", "list all policies", {}, 0, 0, RunList},
      {"policy delete", "CODE", "delete one policy", {}, 1, 1, RunDelete},
  };
}

}  // namespace pamatch::cli
