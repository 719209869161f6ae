// Fuzz target: the API keys file (the input is the file's text) through
// ApiKeyStore::FromText, then Authorize. Properties: the file loads or is
// refused with a status, never crashes; a loaded store holds at least one
// key and refuses a header that carries no key (UNAUTHENTICATED); a key
// passes (with a name) or is refused, UNAUTHENTICATED or PERMISSION_DENIED,
// never with another code.
#include <algorithm>
#include <cstdint>

#include "absl/status/status.h"
#include "fuzz/fuzz_util.h"
#include "service/api_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pamatch;
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> store =
      ApiKeyStore::FromText(fuzz::Bytes(data, size), "fuzz keys");
  if (!store.ok()) {
    PA_FUZZ_CHECK(!store.status().message().empty(), "an error says why");
    return 0;
  }
  PA_FUZZ_CHECK((*store)->size() >= 1, "a keys file without keys loaded");
  // Headers that carry no key at all.
  for (const char* header : {"", "Bearer ", "Bearer \t ", "Basic x", "x"}) {
    const absl::StatusOr<KeyGrant> name =
        (*store)->Authorize(header, Scope::kSearch);
    PA_FUZZ_CHECK(absl::IsUnauthenticated(name.status()), header);
  }
  PA_FUZZ_CHECK(absl::IsUnauthenticated(
                    (*store)->Authorize(std::nullopt, Scope::kSearch).status()),
                "");
  // Keys the file may or may not hold ("x", and the seeds' key, whose hash
  // is their third column): a name, or one of the two refusals.
  const std::string seed_key =
      "pam_00000000000000000000000000000000000000000000000000000000000000"
      "00";
  for (const std::string& key : {std::string("x"), seed_key}) {
    for (Scope scope : kAllScopes) {
      // Limits add an expired key (UNAUTHENTICATED) and a key over its
      // rate (RESOURCE_EXHAUSTED).
      const absl::StatusOr<KeyGrant> name =
          (*store)->Authorize(absl::StrCat("Bearer ", key), scope);
      PA_FUZZ_CHECK(name.ok() || absl::IsUnauthenticated(name.status()) ||
                        absl::IsPermissionDenied(name.status()) ||
                        absl::IsResourceExhausted(name.status()),
                    name.status().ToString());
      PA_FUZZ_CHECK(!name.ok() || !name->name().empty(),
                    "a key without a name");
      // A limited key's authorities are what the file said, sorted.
      PA_FUZZ_CHECK(!name.ok() || std::is_sorted(name->authorities().begin(),
                                                 name->authorities().end()),
                    "authorities unsorted");
    }
  }
  return 0;
}
