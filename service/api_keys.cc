#include "service/api_keys.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "google/rpc/error_details.pb.h"

namespace pamatch {
namespace {

constexpr absl::string_view kUnauthenticated = "missing or invalid API key";
constexpr absl::string_view kKeyPrefix = "pam_";
constexpr size_t kMaxKeyBytes = 512;  // longer bearer tokens are not ours

constexpr absl::string_view kKeysFileHeader =
    "# pa-matchd API keys: name<TAB>scopes<TAB>sha256-hex-of-key[<TAB>limit]...\n"
    "# scopes: comma-separated from search,write,metrics,admin (admin implies\n"
    "# all). Limits: authorities=CODE,... expires=YYYY-MM-DD rate=N burst=N\n"
    "# (service/README.md).\n"
    "# Only hashes are stored. Add a key with:\n"
    "#   pa-matchd keygen --name NAME --scopes search --keys_file FILE\n";

using Sha256 = std::array<unsigned char, 32>;

// OpenSSL 3's EVP_sha256() is looked up again (a locked name fetch) on
// every EVP_Digest; every authorized call hashes its key, so the algorithm
// is fetched once (thread-safe static init; a fetched EVP_MD is immutable
// and may be shared by threads) and kept for the process's life.
const EVP_MD* Sha256Algorithm() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

Sha256 Sha256Of(absl::string_view data) {
  Sha256 digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length,
                 Sha256Algorithm(), nullptr) != 1 ||
      length != digest.size()) {
    // Without a working hash no key can be checked safely.
    std::fprintf(stderr, "pa-matchd: OpenSSL SHA-256 failed\n");
    std::abort();
  }
  return digest;
}

bool IsValidKeyName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '.' && c != ':' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsHex(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// NOT_FOUND when the file does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    }
    return ErrnoError("cannot read", path);
  }
  std::string content;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = ErrnoError("cannot read", path);
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return content;
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Makes a rename or a new file in `path`'s directory durable.
void SyncParentDir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Writes `content` to `path` (mode 0600) via a temporary file and rename, so
// readers see the old file or the whole new one.
absl::Status WritePrivateFile(const std::string& path,
                              absl::string_view content) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  absl::Status status = WriteAll(fd, content, tmp);
  if (status.ok() && ::fchmod(fd, 0600) != 0) status = ErrnoError("chmod", tmp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("fsync", tmp);
  ::close(fd);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("cannot rename to", path);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  SyncParentDir(path);
  return absl::OkStatus();
}

}  // namespace

absl::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kSearch:
      return "search";
    case Scope::kWrite:
      return "write";
    case Scope::kAdmin:
      return "admin";
    case Scope::kMetrics:
      return "metrics";
  }
  return "unknown";
}

absl::StatusOr<uint32_t> ParseScopes(absl::string_view text) {
  uint32_t scopes = 0;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    bool known = false;
    for (Scope scope : kAllScopes) {
      if (item == ScopeName(scope)) {
        scopes |= static_cast<uint32_t>(scope);
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown scope \"", item, "\" (expected search, write, metrics or admin)"));
    }
  }
  return scopes;
}

std::string FormatScopes(uint32_t scopes) {
  std::vector<absl::string_view> names;
  for (Scope scope : kAllScopes) {
    if (scopes & static_cast<uint32_t>(scope))
      names.push_back(ScopeName(scope));
  }
  return absl::StrJoin(names, ",");
}

std::string HashApiKey(absl::string_view key) {
  Sha256 digest = Sha256Of(key);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
}

absl::StatusOr<std::string> GenerateApiKey() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("OpenSSL RAND_bytes failed");
  }
  std::string key = absl::StrCat(
      kKeyPrefix, absl::BytesToHexString(absl::string_view(
                      reinterpret_cast<const char*>(bytes), sizeof(bytes))));
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return key;
}

std::string FormatKeyLimits(const KeyLimits& limits) {
  std::string out;
  if (!limits.authorities.empty()) {
    absl::StrAppend(&out, "\tauthorities=",
                    absl::StrJoin(limits.authorities, ","));
  }
  if (limits.expires.has_value()) {
    const absl::CivilSecond utc =
        absl::ToCivilSecond(*limits.expires, absl::UTCTimeZone());
    // A day's end, as `expires=DAY` reads, is written back as the day.
    if (utc == absl::CivilSecond(absl::CivilDay(utc)) &&
        *limits.expires != absl::InfinitePast()) {
      absl::StrAppend(&out, "\texpires=",
                      absl::FormatCivilTime(absl::CivilDay(utc) - 1));
    } else {
      absl::StrAppend(&out, "\texpires=",
                      absl::FormatTime(absl::RFC3339_sec, *limits.expires,
                                       absl::UTCTimeZone()));
    }
  }
  if (limits.rate > 0) {
    absl::StrAppend(&out, "\trate=", limits.rate, "\tburst=", limits.burst);
  }
  return out;
}

absl::StatusOr<KeyLimits> ParseKeyLimits(
    const std::vector<absl::string_view>& columns) {
  KeyLimits limits;
  bool seen_authorities = false, seen_expires = false, seen_rate = false,
       seen_burst = false;
  auto once = [](bool& seen, absl::string_view name) -> absl::Status {
    if (seen) {
      return absl::InvalidArgumentError(
          absl::StrCat("limit \"", name, "\" given twice"));
    }
    seen = true;
    return absl::OkStatus();
  };
  for (absl::string_view column : columns) {
    const size_t eq = column.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected a limit name=value after the hash, got \"",
          column.substr(0, 40), "\""));
    }
    const absl::string_view name = column.substr(0, eq);
    const absl::string_view value = column.substr(eq + 1);
    if (name == "authorities") {
      if (absl::Status s = once(seen_authorities, name); !s.ok()) return s;
      for (absl::string_view code : absl::StrSplit(value, ',')) {
        code = absl::StripAsciiWhitespace(code);
        if (code.empty() || code.size() > 32) {
          return absl::InvalidArgumentError(
              "authorities: a comma-separated list of local authority codes");
        }
        limits.authorities.emplace_back(code);
      }
      std::sort(limits.authorities.begin(), limits.authorities.end());
      limits.authorities.erase(
          std::unique(limits.authorities.begin(), limits.authorities.end()),
          limits.authorities.end());
    } else if (name == "expires") {
      if (absl::Status s = once(seen_expires, name); !s.ok()) return s;
      absl::CivilDay day;
      absl::Time instant;
      std::string error;
      if (value.size() == 10 && absl::ParseCivilTime(value, &day)) {
        // The last day accepted: refused from the next day's start (UTC).
        limits.expires = absl::FromCivil(day + 1, absl::UTCTimeZone());
      } else if (absl::ParseTime(absl::RFC3339_full, value, &instant,
                                 &error)) {
        limits.expires = instant;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "expires: expected YYYY-MM-DD or an RFC 3339 time, got \"",
            value.substr(0, 40), "\""));
      }
    } else if (name == "rate" || name == "burst") {
      if (absl::Status s = once(name == "rate" ? seen_rate : seen_burst, name);
          !s.ok()) {
        return s;
      }
      double number = 0;
      if (!absl::SimpleAtod(value, &number) || !(number > 0) ||
          number > 1e9) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, ": expected a number > 0, got \"", value.substr(0, 40),
            "\""));
      }
      (name == "rate" ? limits.rate : limits.burst) = number;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown limit \"", name.substr(0, 40),
          "\" (expected authorities, expires, rate or burst)"));
    }
  }
  if (seen_burst && !seen_rate) {
    return absl::InvalidArgumentError("burst: needs rate");
  }
  if (seen_rate) {
    if (!seen_burst) limits.burst = std::max(1.0, limits.rate);
    if (limits.burst < 1) {
      return absl::InvalidArgumentError("burst: must be at least 1");
    }
  }
  return limits;
}

std::string FormatKeyLine(absl::string_view name, uint32_t scopes,
                          absl::string_view key_hash_hex,
                          const KeyLimits& limits) {
  return absl::StrCat(name, "\t", FormatScopes(scopes), "\t", key_hash_hex,
                      FormatKeyLimits(limits));
}

TokenBucket::TokenBucket(double rate, double burst)
    : rate_(rate), burst_(burst), tokens_(burst), last_(Clock::now()) {}

absl::Duration TokenBucket::Take(Clock::time_point now) {
  MutexLock lock(&mu_);
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return absl::ZeroDuration();
  }
  return absl::Seconds((1 - tokens_) / rate_);
}

bool KeyGrant::Allows(absl::string_view local_authority) const {
  const std::vector<std::string>& allowed = key_->limits.authorities;
  return allowed.empty() ||
         std::binary_search(allowed.begin(), allowed.end(), local_authority);
}

std::string KeyGrant::AuthorityList() const {
  return absl::StrJoin(key_->limits.authorities, ", ");
}

ApiKeyStore::ApiKeyStore(std::string path, AuthorityCheck known, Keys keys)
    : path_(std::move(path)), known_(std::move(known)), keys_(std::move(keys)) {}

absl::StatusOr<ApiKeyStore::Keys> ApiKeyStore::Parse(
    absl::string_view text, absl::string_view origin,
    const AuthorityCheck& known) {
  Keys keys;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, " line ", line_number, ": ", what));
    };
    std::vector<absl::string_view> parts = absl::StrSplit(trimmed, '\t');
    if (parts.size() < 3) {
      return error(
          "expected name<TAB>scopes<TAB>sha256-hex-of-key[<TAB>limit]...");
    }
    Key key;
    key.name = std::string(parts[0]);
    if (!IsValidKeyName(key.name)) {
      return error("name must be 1..64 characters of [A-Za-z0-9_.:-]");
    }
    absl::StatusOr<uint32_t> scopes = ParseScopes(parts[1]);
    if (!scopes.ok()) return error(scopes.status().message());
    key.scopes = *scopes;
    if (parts[2].size() != 64 || !IsHex(parts[2])) {
      return error("the key hash must be 64 hex digits (SHA-256)");
    }
    std::string raw = absl::HexStringToBytes(parts[2]);
    std::memcpy(key.sha256.data(), raw.data(), key.sha256.size());
    absl::StatusOr<KeyLimits> limits = ParseKeyLimits(
        std::vector<absl::string_view>(parts.begin() + 3, parts.end()));
    if (!limits.ok()) return error(limits.status().message());
    key.limits = *std::move(limits);
    if (known) {
      for (const std::string& code : key.limits.authorities) {
        if (!known(code)) {
          return error(absl::StrCat("authorities: unknown local authority \"",
                                    code, "\""));
        }
      }
    }
    for (const auto& other : keys) {
      if (other->name == key.name) return error("duplicate key name");
      if (other->sha256 == key.sha256) return error("duplicate key hash");
    }
    if (key.limits.rate > 0) {
      key.bucket =
          std::make_shared<TokenBucket>(key.limits.rate, key.limits.burst);
    }
    keys.push_back(std::make_shared<Key>(std::move(key)));
  }
  return keys;
}

absl::StatusOr<std::unique_ptr<ApiKeyStore>> ApiKeyStore::Open(
    std::string path, AuthorityCheck known) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<Keys> keys = Parse(*text, path, known);
  if (!keys.ok()) return keys.status();
  if (keys->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": no API key; refusing to serve without one"));
  }
  return std::unique_ptr<ApiKeyStore>(
      new ApiKeyStore(std::move(path), std::move(known), *std::move(keys)));
}

absl::StatusOr<std::unique_ptr<ApiKeyStore>> ApiKeyStore::FromText(
    absl::string_view text, absl::string_view origin) {
  absl::StatusOr<Keys> keys = Parse(text, origin, nullptr);
  if (!keys.ok()) return keys.status();
  if (keys->empty()) {
    return absl::FailedPreconditionError(absl::StrCat(origin, ": no API key"));
  }
  return std::unique_ptr<ApiKeyStore>(
      new ApiKeyStore("", nullptr, *std::move(keys)));
}

absl::Status ApiKeyStore::Reload() {
  if (path_.empty()) return absl::FailedPreconditionError("no keys file");
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> fresh = Open(path_, known_);
  if (!fresh.ok()) return fresh.status();
  Keys keys;
  {
    ApiKeyStore& loaded = **fresh;
    WriterLock lock(&loaded.mu_);
    keys = std::move(loaded.keys_);
  }
  WriterLock lock(&mu_);
  // A key whose name and rate are unchanged keeps its bucket: a reload
  // must not hand a flooding key a fresh burst.
  for (auto& key : keys) {
    if (key->bucket == nullptr) continue;
    for (const auto& old : keys_) {
      if (old->name == key->name && old->bucket != nullptr &&
          old->limits.rate == key->limits.rate &&
          old->limits.burst == key->limits.burst) {
        key->bucket = old->bucket;
      }
    }
  }
  keys_ = std::move(keys);
  return absl::OkStatus();
}

absl::StatusOr<KeyGrant> ApiKeyStore::Authorize(
    std::optional<absl::string_view> authorization, Scope needed,
    absl::Time now) const {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(kUnauthenticated);
  }
  absl::string_view value = absl::StripAsciiWhitespace(*authorization);
  constexpr absl::string_view kScheme = "Bearer ";
  if (!absl::StartsWithIgnoreCase(value, kScheme)) {
    return absl::UnauthenticatedError(kUnauthenticated);
  }
  absl::string_view token =
      absl::StripAsciiWhitespace(value.substr(kScheme.size()));
  if (token.empty() || token.size() > kMaxKeyBytes) {
    return absl::UnauthenticatedError(kUnauthenticated);
  }
  const Sha256 presented = Sha256Of(token);

  std::shared_ptr<const Key> match;
  {
    ReaderLock lock(&mu_);
    // Compare against every key without stopping early, in constant time
    // per key, so timing reveals nothing about which stored hash came close.
    for (const auto& key : keys_) {
      if (CRYPTO_memcmp(key->sha256.data(), presented.data(),
                        presented.size()) == 0) {
        match = key;
      }
    }
  }
  if (match == nullptr) return absl::UnauthenticatedError(kUnauthenticated);
  if (match->limits.expires.has_value() && now >= *match->limits.expires) {
    return absl::UnauthenticatedError(absl::StrCat(
        "API key \"", match->name, "\" expired at ",
        absl::FormatTime(absl::RFC3339_sec, *match->limits.expires,
                         absl::UTCTimeZone())));
  }
  const uint32_t granted = match->scopes;
  if ((granted & static_cast<uint32_t>(Scope::kAdmin)) == 0 &&
      (granted & static_cast<uint32_t>(needed)) == 0) {
    return absl::PermissionDeniedError(absl::StrCat("API key \"", match->name,
                                                    "\" lacks scope \"",
                                                    ScopeName(needed), "\""));
  }
  if (match->bucket != nullptr) {
    const absl::Duration wait = match->bucket->Take(TokenBucket::Clock::now());
    if (wait > absl::ZeroDuration()) {
      // Whole milliseconds, rounded up, so a caller waiting this long finds
      // a token.
      const int64_t wait_ms = absl::ToInt64Milliseconds(
          absl::Ceil(wait, absl::Milliseconds(1)));
      absl::Status status = absl::ResourceExhaustedError(absl::StrCat(
          "API key \"", match->name, "\" is over its rate of ",
          match->limits.rate, " calls/s (burst ", match->limits.burst,
          "); retry after ", wait_ms, " ms"));
      google::rpc::RetryInfo retry;
      retry.mutable_retry_delay()->set_seconds(wait_ms / 1000);
      retry.mutable_retry_delay()->set_nanos(
          static_cast<int32_t>(wait_ms % 1000) * 1'000'000);
      status.SetPayload(kRetryInfoTypeUrl,
                        absl::Cord(retry.SerializeAsString()));
      return status;
    }
  }
  return KeyGrant(std::move(match));
}

size_t ApiKeyStore::size() const {
  ReaderLock lock(&mu_);
  return keys_.size();
}

absl::StatusOr<std::optional<std::string>> CreateKeysFileIfMissing(
    const std::string& keys_path, const std::string& admin_key_path) {
  struct stat info;
  if (::stat(keys_path.c_str(), &info) == 0) return std::nullopt;
  if (errno != ENOENT) return ErrnoError("cannot stat", keys_path);

  absl::StatusOr<std::string> key = GenerateApiKey();
  if (!key.ok()) return key.status();
  absl::Status status = WritePrivateFile(admin_key_path, *key + "\n");
  if (!status.ok()) return status;
  status = WritePrivateFile(
      keys_path,
      absl::StrCat(kKeysFileHeader,
                   FormatKeyLine("admin", static_cast<uint32_t>(Scope::kAdmin),
                                 HashApiKey(*key)),
                   "\n"));
  if (!status.ok()) return status;
  return std::optional<std::string>(*std::move(key));
}

absl::StatusOr<std::string> AppendApiKey(const std::string& keys_path,
                                         absl::string_view name,
                                         uint32_t scopes,
                                         const KeyLimits& limits) {
  if (!IsValidKeyName(name)) {
    return absl::InvalidArgumentError(
        "key name must be 1..64 characters of [A-Za-z0-9_.:-]");
  }
  if (scopes == 0) return absl::InvalidArgumentError("no scope given");
  absl::StatusOr<std::string> existing = ReadFile(keys_path);
  const bool is_new = absl::IsNotFound(existing.status());
  if (!existing.ok() && !is_new) return existing.status();
  std::string prefix;
  if (is_new) {
    prefix = std::string(kKeysFileHeader);
  } else {
    absl::StatusOr<ApiKeyStore::Keys> keys =
        ApiKeyStore::Parse(*existing, keys_path, nullptr);
    if (!keys.ok()) return keys.status();
    for (const auto& key : *keys) {
      if (key->name == name) {
        return absl::AlreadyExistsError(absl::StrCat(
            "a key named \"", name, "\" is already in ", keys_path));
      }
    }
    // (push_back: GCC 12 warns wrongly about `prefix = "\n"`.)
    if (!existing->empty() && existing->back() != '\n') prefix.push_back('\n');
  }

  absl::StatusOr<std::string> key = GenerateApiKey();
  if (!key.ok()) return key.status();
  int fd = ::open(keys_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                  0600);
  if (fd < 0) return ErrnoError("cannot open", keys_path);
  absl::Status status = WriteAll(
      fd,
      absl::StrCat(prefix, FormatKeyLine(name, scopes, HashApiKey(*key), limits),
                   "\n"),
      keys_path);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("fsync", keys_path);
  ::close(fd);
  if (!status.ok()) return status;
  if (is_new) SyncParentDir(keys_path);
  return key;
}

}  // namespace pamatch
