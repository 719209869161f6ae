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
      {"tls_ca", true, "FILE",
       "connect over TLS, trusting only servers whose certificate chains to "
       "a CA in this PEM file (env PA_MATCH_TLS_CA)"},
      {"tls_cert", true, "FILE",
       "mTLS: client certificate (PEM) to present; needs --tls_key (env "
       "PA_MATCH_TLS_CERT)"},
      {"tls_key", true, "FILE",
       "mTLS: PEM private key of --tls_cert (env PA_MATCH_TLS_KEY)"},
      {"tls_server_name", true, "NAME",
       "TLS: expect this name in the server's certificate instead of the "
       "host of --server (env PA_MATCH_TLS_SERVER_NAME)"},
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

  struct TlsSource {
    const char* flag;
    const char* env;
    std::string* value;
  };
  for (const TlsSource& source :
       {TlsSource{"tls_ca", "PA_MATCH_TLS_CA", &config.tls.ca_file},
        TlsSource{"tls_cert", "PA_MATCH_TLS_CERT", &config.tls.cert_file},
        TlsSource{"tls_key", "PA_MATCH_TLS_KEY", &config.tls.key_file},
        TlsSource{"tls_server_name", "PA_MATCH_TLS_SERVER_NAME",
                  &config.tls.server_name}}) {
    if (flags.Has(source.flag)) {
      *source.value = flags.Get(source.flag);
    } else if (auto value = env(source.env); value.has_value()) {
      *source.value = *value;
    }
  }

  if (config.tls.enabled()) {
    auto credentials =
        ClientChannelCredentials(config.tls, &config.channel_args);
    if (!credentials.ok()) return credentials.status();
    config.credentials = *std::move(credentials);
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
