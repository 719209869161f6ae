// Implementation of the CLI's global option resolution (see config.h).
#include "cli/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace pamatch::cli {

const std::vector<FlagSpec>& GlobalFlagSpecs() {
  static const auto* specs = new std::vector<FlagSpec>{
      {"server", true, "HOST:PORT",
       "server address (env PA_MATCH_SERVER; default 127.0.0.1:50051)"},
      {"key", true, "KEY",
       "API key (else env PA_MATCH_KEY, else ./data/admin.key)"},
      {"json", false, "", "print responses as JSON (proto field names)"},
      {"timeout_ms", true, "MS", "deadline of each call (default 10000)"},
  };
  return *specs;
}

absl::StatusOr<ClientConfig> ResolveClientConfig(const ParsedFlags& flags,
                                                 const EnvLookup& env,
                                                 const FileReader& read_file) {
  ClientConfig config;
  if (flags.Has("server")) {
    config.server = flags.Get("server");
  } else if (auto server = env("PA_MATCH_SERVER");
             server.has_value() && !server->empty()) {
    config.server = *server;
  } else {
    config.server = kDefaultServer;
  }

  if (flags.Has("key")) {
    config.key = flags.Get("key");
    config.key_source = "--key";
  } else if (auto key = env("PA_MATCH_KEY"); key.has_value() && !key->empty()) {
    config.key = *key;
    config.key_source = "PA_MATCH_KEY";
  } else if (auto file = read_file(kAdminKeyFile); file.has_value()) {
    config.key = std::string(absl::StripAsciiWhitespace(*file));
    config.key_source = kAdminKeyFile;
  }

  config.json = flags.GetBool("json");
  auto timeout = flags.GetInt("timeout_ms");
  if (!timeout.ok()) return timeout.status();
  if (timeout->has_value()) {
    if (**timeout <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--timeout_ms: must be > 0, got ", **timeout));
    }
    config.timeout_ms = **timeout;
    config.timeout_given = true;
  }
  return config;
}

std::optional<std::string> RealEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return buffer.str();
}

}  // namespace pamatch::cli
