// Client channels to pa-matchd, plaintext or TLS, for every pa-match client
// (the CLI, the load generator, datagen): one place that turns the
// --tls_ca / --tls_cert / --tls_key / --tls_server_name options into gRPC
// channel credentials.
//
//   --tls_ca F           TLS; trust the server's certificate only if it
//                        chains to a CA in F (PEM)
//   --tls_cert F         mTLS: present this client certificate (PEM) ...
//   --tls_key F          ... with this key (PEM); the two go together
//   --tls_server_name N  check the server's certificate against N instead of
//                        the host of --server (e.g. when connecting by IP)
// With none of them the channel is plaintext, as pa-matchd serves on
// loopback by default. --tls_cert without --tls_ca trusts gRPC's default
// roots (the system's CAs).
//
// Threads: stateless; call from any thread.
#ifndef PA_MATCH_COMMON_TLS_CHANNEL_H_
#define PA_MATCH_COMMON_TLS_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pamatch {

struct ClientTlsOptions {
  std::string ca_file;      // --tls_ca
  std::string cert_file;    // --tls_cert
  std::string key_file;     // --tls_key
  std::string server_name;  // --tls_server_name
  // Whether any of the above asks for TLS.
  bool enabled() const {
    return !ca_file.empty() || !cert_file.empty() || !key_file.empty() ||
           !server_name.empty();
  }
};

// The help text of each option, for the binaries' flag definitions.
inline constexpr char kTlsCaHelp[] =
    "connect over TLS, trusting the server's certificate only if it chains "
    "to a CA in this PEM file";
inline constexpr char kTlsCertHelp[] =
    "mTLS: client certificate (PEM) to present; needs --tls_key";
inline constexpr char kTlsKeyHelp[] = "mTLS: PEM private key of --tls_cert";
inline constexpr char kTlsServerNameHelp[] =
    "TLS: expect this name in the server's certificate instead of the host "
    "of the server address";

// The text of the PEM file `path` given as --`flag`; INVALID_ARGUMENT naming
// the flag when it cannot be read or holds no PEM block. For the clients'
// and the server's certificate and key files alike.
absl::StatusOr<std::string> ReadPemFlagFile(absl::string_view flag,
                                            const std::string& path);

// Channel credentials for `options` (plaintext when !enabled()); sets the
// target name override in `args` when server_name is given.
// INVALID_ARGUMENT naming the flag when a file cannot be read or only one of
// --tls_cert / --tls_key is given.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
ClientChannelCredentials(const ClientTlsOptions& options,
                         grpc::ChannelArguments* args);

// A channel to `target` with `args` and ClientChannelCredentials.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateClientChannel(
    const std::string& target, const ClientTlsOptions& options,
    grpc::ChannelArguments args = {});

}  // namespace pamatch

#endif  // PA_MATCH_COMMON_TLS_CHANNEL_H_
