// API keys: the keys file, hashing, and the bearer-token check of every
// Matcher RPC.
//
// Keys file format (text, UTF-8), one key per line:
//
//   name<TAB>scopes<TAB>sha256-hex-of-key
//
//   name    1..64 characters of [A-Za-z0-9_.:-], unique in the file; used in
//           logs and error messages, never secret.
//   scopes  comma-separated set of `search`, `write`, `metrics`, `admin`;
//           `admin` implies the other three. `metrics` reads the HTTP
//           metrics endpoint (service/metrics.h) and nothing else.
//   hash    64 hex digits: SHA-256 of the key's exact bytes.
//
// Blank lines and lines starting with `#` are ignored. Any other malformed
// line makes the whole file invalid (an operator's typo must not silently
// drop or widen a key). Only hashes are stored: a copy of the file does not
// reveal the keys. Keys handed out by this program are "pam_" followed by 64
// hex digits (32 random bytes).
#ifndef PA_MATCH_SERVICE_API_KEYS_H_
#define PA_MATCH_SERVICE_API_KEYS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/sync.h"

namespace pamatch {

// A permission an API key can carry. Values are bits of a scope set.
enum class Scope : uint32_t {
  kSearch = 1,
  kWrite = 2,
  kAdmin = 4,    // implies every other scope
  kMetrics = 8,  // the metrics endpoint only (no profile data)
};

// Every scope, in the order the keys file lists them.
inline constexpr Scope kAllScopes[] = {Scope::kSearch, Scope::kWrite,
                                       Scope::kMetrics, Scope::kAdmin};

// "search", "write", "metrics" or "admin".
absl::string_view ScopeName(Scope scope);

// Parses "search,write" into a scope set (bitwise OR of Scope values).
// Rejects empty sets, unknown names and empty items.
absl::StatusOr<uint32_t> ParseScopes(absl::string_view text);

// Formats a scope set back into "search,write,metrics,admin" order.
std::string FormatScopes(uint32_t scopes);

// Lowercase hex SHA-256 of `key` (OpenSSL EVP).
std::string HashApiKey(absl::string_view key);

// A fresh random key: "pam_" + 64 hex digits from OpenSSL RAND_bytes.
absl::StatusOr<std::string> GenerateApiKey();

// One line of the keys file, without the newline.
std::string FormatKeyLine(absl::string_view name, uint32_t scopes,
                          absl::string_view key_hash_hex);

// The set of API keys the server accepts, loaded from a keys file.
//
// Invariant: holds at least one valid key; a file without one is refused, so
// the server never runs open.
// Thread-safety: Authorize may be called from any thread at any time;
// Reload may run concurrently with it (readers see the old or the new set,
// never a mix).
class ApiKeyStore {
 public:
  // Loads `path`. Fails if the file is missing, unreadable, malformed, or
  // holds no key.
  static absl::StatusOr<std::unique_ptr<ApiKeyStore>> Open(std::string path);

  // Parses keys file text; `origin` names it in error messages.
  static absl::StatusOr<std::unique_ptr<ApiKeyStore>> FromText(
      absl::string_view text, absl::string_view origin);

  // Re-reads the file given to Open. On failure the current keys stay.
  absl::Status Reload();

  // Checks an `authorization` metadata value ("Bearer <key>"; nullopt when
  // the header is absent) against the keys. Returns the key's name when it
  // carries `needed`; UNAUTHENTICATED "missing or invalid API key" for an
  // absent or malformed header or an unknown key; PERMISSION_DENIED naming
  // the missing scope otherwise. Never echoes the presented key.
  absl::StatusOr<std::string> Authorize(
      std::optional<absl::string_view> authorization, Scope needed) const;

  // Number of keys loaded.
  size_t size() const;

 private:
  struct Key {
    std::string name;
    uint32_t scopes = 0;
    std::array<unsigned char, 32> sha256{};
  };
  friend absl::StatusOr<std::string> AppendApiKey(const std::string&,
                                                  absl::string_view, uint32_t);
  static absl::StatusOr<std::vector<Key>> Parse(absl::string_view text,
                                                absl::string_view origin);

  explicit ApiKeyStore(std::string path, std::vector<Key> keys);

  const std::string path_;  // empty for FromText
  mutable SharedMutex mu_;
  std::vector<Key> keys_ ABSL_GUARDED_BY(mu_);
};

// First start: if `keys_path` does not exist, creates it (mode 0600) with
// one key named "admin" with scope admin, writes the plaintext key to
// `admin_key_path` (mode 0600), and returns the plaintext so the caller can
// show it once. Returns nullopt if `keys_path` already exists (it is left
// untouched). admin_key_path is written first, so a crash in between leaves
// no keys file and the next start simply generates a new key.
absl::StatusOr<std::optional<std::string>> CreateKeysFileIfMissing(
    const std::string& keys_path, const std::string& admin_key_path);

// Appends a new random key named `name` with `scopes` to `keys_path`
// (created with mode 0600 if missing) and returns its plaintext. Rejects a
// malformed file, a bad name and a name already in the file. A running
// server sees the key after SIGHUP or a restart.
absl::StatusOr<std::string> AppendApiKey(const std::string& keys_path,
                                         absl::string_view name,
                                         uint32_t scopes);

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_API_KEYS_H_
