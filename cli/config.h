// Global options of the pa-match CLI and where their values come from.
//
//   --server     flag, else env PA_MATCH_SERVER, else 127.0.0.1:50051
//   --key        flag, else env PA_MATCH_KEY, else the file ./data/admin.key
//                (the server writes its first admin key there), else none
//   --json       machine-readable output
//   --timeout_ms per-call deadline, default 10000
// The environment and the file system are passed in as functions so the
// resolution is testable.
#ifndef PA_MATCH_CLI_CONFIG_H_
#define PA_MATCH_CLI_CONFIG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/flags.h"

namespace pamatch::cli {

inline constexpr char kDefaultServer[] = "127.0.0.1:50051";
inline constexpr char kAdminKeyFile[] = "data/admin.key";
inline constexpr int64_t kDefaultTimeoutMs = 10000;

struct ClientConfig {
  std::string server;
  std::string key;         // empty: no authorization metadata is sent
  std::string key_source;  // "--key", "PA_MATCH_KEY", "data/admin.key", ""
  bool json = false;
  int64_t timeout_ms = kDefaultTimeoutMs;
  bool timeout_given = false;  // --timeout_ms was on the command line
};

// The global flags every command accepts.
const std::vector<FlagSpec>& GlobalFlagSpecs();

using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
using FileReader =
    std::function<std::optional<std::string>(const std::string& path)>;

// Resolves the global options. INVALID_ARGUMENT for a bad --timeout_ms.
absl::StatusOr<ClientConfig> ResolveClientConfig(const ParsedFlags& flags,
                                                 const EnvLookup& env,
                                                 const FileReader& read_file);

// The real environment and file system.
std::optional<std::string> RealEnv(const char* name);
std::optional<std::string> ReadWholeFile(const std::string& path);

}  // namespace pamatch::cli

#endif  // PA_MATCH_CLI_CONFIG_H_
