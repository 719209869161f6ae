// `pa-match upsert`, `get` and `delete`: single-profile operations.
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/search_request.h"

namespace pamatch::cli {
namespace {

using pamatch::v1::Matcher;

int RunUpsert(const Invocation& inv) {
  if (!inv.flags.Has("file")) {
    return ReportError(absl::InvalidArgumentError("upsert needs --file"));
  }
  auto data = ReadInput(inv.flags.Get("file"));
  if (!data.ok()) return ReportError(data.status());
  auto profile = ParseProfileJson(*data);
  if (!profile.ok()) return ReportError(profile.status());
  pamatch::v1::UpsertProfileRequest request;
  *request.mutable_profile() = std::move(*profile);
  return CallUnary<pamatch::v1::UpsertProfileRequest,
                   pamatch::v1::UpsertProfileResponse>(
      inv, &Matcher::Stub::UpsertProfile, request, FormatUpsert);
}

int RunGet(const Invocation& inv) {
  pamatch::v1::GetProfileRequest request;
  request.set_id(inv.flags.positional()[0]);
  return CallUnary<pamatch::v1::GetProfileRequest,
                   pamatch::v1::GetProfileResponse>(
      inv, &Matcher::Stub::GetProfile, request,
      [](const pamatch::v1::GetProfileResponse& response) {
        return absl::StrCat(ToJson(response.profile(), /*pretty=*/true),
                            "\nregister_level: ", response.register_level(),
                            "\n");
      });
}

int RunDelete(const Invocation& inv) {
  pamatch::v1::DeleteProfileRequest request;
  request.set_id(inv.flags.positional()[0]);
  return CallUnary<pamatch::v1::DeleteProfileRequest,
                   pamatch::v1::DeleteProfileResponse>(
      inv, &Matcher::Stub::DeleteProfile, request,
      [&request](const pamatch::v1::DeleteProfileResponse&) {
        return absl::StrCat("deleted ", request.id(), "\n");
      });
}

}  // namespace

std::vector<Command> ProfileCommands() {
  return {
      {"upsert",
       "",
       "insert or replace one profile from a JSON file",
       {{"file", true, "FILE", "one Profile as JSON ('-' = stdin)"}},
       0,
       0,
       RunUpsert},
      {"get",
       "ID",
       "print a profile as JSON and its derived register level",
       {},
       1,
       1,
       RunGet},
      {"delete", "ID", "delete a profile", {}, 1, 1, RunDelete},
  };
}

}  // namespace pamatch::cli
