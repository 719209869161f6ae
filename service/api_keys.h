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
// A line may go on with limits, each a further TAB-separated `name=value`,
// each at most once:
//
//   authorities=E08000021,E06000047
//           local authority codes (taxonomy `local_authorities`): the key
//           reaches only PAs, jobs and policies of these authorities
//           (service/README.md "Keys limited to local authorities").
//           Without it, every authority.
//   expires=2027-03-31
//           the last UTC day the key is accepted (or an RFC 3339 instant,
//           2027-03-31T17:00:00Z, from which it is refused).
//   rate=50 burst=100
//           a token bucket per key: `rate` calls per second on average
//           (> 0, fractions allowed), at most `burst` at once (>= 1;
//           default max(1, rate)). `burst` needs `rate`.
//
// Compatibility: a line without limits is the same three columns older
// builds read. Builds before limits refuse a file holding a limited key
// (they expect exactly three columns): they fail closed, never serving the
// key unlimited.
//
// Blank lines and lines starting with `#` are ignored. Any other malformed
// line makes the whole file invalid (an operator's typo must not silently
// drop or widen a key). Only hashes are stored: a copy of the file does not
// reveal the keys. Keys handed out by this program are "pam_" followed by 64
// hex digits (32 random bytes).
#ifndef PA_MATCH_SERVICE_API_KEYS_H_
#define PA_MATCH_SERVICE_API_KEYS_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
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

// A key's limits (the optional columns of its line).
struct KeyLimits {
  // Sorted, unique; empty: every local authority.
  std::vector<std::string> authorities;
  std::optional<absl::Time> expires;  // refused from this instant on
  double rate = 0;                    // calls per second; 0: unlimited
  double burst = 0;                   // bucket size, when rate > 0

  bool operator==(const KeyLimits&) const = default;
};

// The limit columns of `limits` ("" when none), each preceded by a TAB.
std::string FormatKeyLimits(const KeyLimits& limits);
// Parses limit columns ("authorities=...", "expires=...", "rate=...",
// "burst=...") as the keys file holds them after the hash.
absl::StatusOr<KeyLimits> ParseKeyLimits(
    const std::vector<absl::string_view>& columns);

// One line of the keys file, without the newline.
std::string FormatKeyLine(absl::string_view name, uint32_t scopes,
                          absl::string_view key_hash_hex,
                          const KeyLimits& limits = KeyLimits());

// A token bucket: `rate` tokens per second up to `burst`, starting full.
// Thread-safe.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double rate, double burst);
  // Takes a token at `now`: zero when one was there, else how long until
  // one will be (nothing is taken then).
  absl::Duration Take(Clock::time_point now);

 private:
  const double rate_, burst_;
  Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  Clock::time_point last_ ABSL_GUARDED_BY(mu_);
};

// A stored key: its name, scopes and limits, and its bucket.
struct ApiKey {
  std::string name;
  uint32_t scopes = 0;
  std::array<unsigned char, 32> sha256{};
  KeyLimits limits;
  // Set when limits.rate > 0; kept across reloads while name, rate and
  // burst stay the same, so SIGHUP does not refill it.
  std::shared_ptr<TokenBucket> bucket;
};

// What an authorized call may reach: the key it came with. Cheap to copy.
class KeyGrant {
 public:
  explicit KeyGrant(std::shared_ptr<const ApiKey> key) : key_(std::move(key)) {}
  const std::string& name() const { return key_->name; }
  // Whether the key reaches every local authority.
  bool all_authorities() const { return key_->limits.authorities.empty(); }
  // Whether it reaches `local_authority` (a code).
  bool Allows(absl::string_view local_authority) const;
  // Its authorities, sorted (empty: every one).
  const std::vector<std::string>& authorities() const {
    return key_->limits.authorities;
  }
  // "E08000021, E06000047" (for error messages).
  std::string AuthorityList() const;

 private:
  std::shared_ptr<const ApiKey> key_;
};

// Payload type URL of the retry delay a rate-limited call's status carries
// (serialized google.rpc.RetryInfo); service/grpc_status.h puts it into
// the gRPC status details.
inline constexpr absl::string_view kRetryInfoTypeUrl =
    "type.googleapis.com/google.rpc.RetryInfo";

// The set of API keys the server accepts, loaded from a keys file.
//
// Invariant: holds at least one valid key; a file without one is refused, so
// the server never runs open.
// Thread-safety: Authorize may be called from any thread at any time;
// Reload may run concurrently with it (readers see the old or the new set,
// never a mix).
class ApiKeyStore {
 public:
  // Whether a local authority code is known (the taxonomy's), to check a
  // key's `authorities` when the file is loaded; null checks nothing.
  using AuthorityCheck = std::function<bool(absl::string_view)>;

  // Loads `path`. Fails if the file is missing, unreadable, malformed, or
  // holds no key, or a key names an authority `known` does not know.
  static absl::StatusOr<std::unique_ptr<ApiKeyStore>> Open(
      std::string path, AuthorityCheck known = nullptr);

  // Parses keys file text; `origin` names it in error messages.
  static absl::StatusOr<std::unique_ptr<ApiKeyStore>> FromText(
      absl::string_view text, absl::string_view origin);

  // Re-reads the file given to Open. On failure the current keys stay.
  absl::Status Reload();

  // Checks an `authorization` metadata value ("Bearer <key>"; nullopt when
  // the header is absent) against the keys, at `now`. Returns the key's
  // grant when it carries `needed` and has a token in its bucket;
  // UNAUTHENTICATED "missing or invalid API key" for an absent or
  // malformed header or an unknown key, or naming the key and the day it
  // expired; PERMISSION_DENIED naming the missing scope;
  // RESOURCE_EXHAUSTED over the key's rate, with the delay after which a
  // call will be accepted in the message and as a kRetryInfoTypeUrl
  // payload. Never echoes the presented key.
  absl::StatusOr<KeyGrant> Authorize(
      std::optional<absl::string_view> authorization, Scope needed,
      absl::Time now = absl::Now()) const;

  // Number of keys loaded.
  size_t size() const;

 private:
  using Key = ApiKey;
  using Keys = std::vector<std::shared_ptr<ApiKey>>;
  friend absl::StatusOr<std::string> AppendApiKey(const std::string&,
                                                  absl::string_view, uint32_t,
                                                  const KeyLimits&);
  static absl::StatusOr<Keys> Parse(absl::string_view text,
                                    absl::string_view origin,
                                    const AuthorityCheck& known);

  ApiKeyStore(std::string path, AuthorityCheck known, Keys keys);

  const std::string path_;  // empty for FromText
  const AuthorityCheck known_;
  mutable SharedMutex mu_;
  Keys keys_ ABSL_GUARDED_BY(mu_);
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
                                         uint32_t scopes,
                                         const KeyLimits& limits = KeyLimits());

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_API_KEYS_H_
