// Global options of the pa-match CLI and where their values come from.
//
//   --server     flag, else env PA_MATCH_SERVER, else 127.0.0.1:50051
//   --key        flag, else env PA_MATCH_KEY, else the file ./data/admin.key
//                (the server writes its first admin key there), else none
//   --json       machine-readable output
//   --timeout_ms per-call deadline, default 10000
//   --tls_ca, --tls_cert, --tls_key, --tls_server_name
//                flag, else env PA_MATCH_TLS_CA, PA_MATCH_TLS_CERT,
//                PA_MATCH_TLS_KEY, PA_MATCH_TLS_SERVER_NAME; none: plaintext
//                (common/tls_channel.h)
// The environment and the file system are passed in as functions so the
// resolution is testable.
#ifndef PA_MATCH_CLI_CONFIG_H_
#define PA_MATCH_CLI_CONFIG_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "common/tls_channel.h"

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
  ClientTlsOptions tls;        // nothing set: plaintext
  // Built from `tls` by ResolveClientConfig (nullptr: plaintext), with the
  // channel arguments they need (the TLS server name override).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  grpc::ChannelArguments channel_args;
};

// The global flags every command accepts.
const std::vector<FlagSpec>& GlobalFlagSpecs();

using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
using FileReader =
    std::function<std::optional<std::string>(const std::string& path)>;

// Resolves the global options. INVALID_ARGUMENT for a bad --timeout_ms, or
// TLS files that cannot be read (read from the real file system).
absl::StatusOr<ClientConfig> ResolveClientConfig(const ParsedFlags& flags,
                                                 const EnvLookup& env,
                                                 const FileReader& read_file);

// The real environment and file system.
std::optional<std::string> RealEnv(const char* name);
std::optional<std::string> ReadWholeFile(const std::string& path);

}  // namespace pamatch::cli

#endif  // PA_MATCH_CLI_CONFIG_H_
