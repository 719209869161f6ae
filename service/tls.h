// pa-matchd's TLS: the server certificate, its key and (for mTLS) the CA
// that client certificates must chain to, read from PEM files and reloaded
// on request (SIGHUP) without dropping a call.
//
// How the reload works, and why this way. Debian 12's gRPC is 1.51. Its
// grpc::experimental::TlsServerCredentials take a certificate provider, but
// the only providers it ships are StaticDataCertificateProvider (fixed for
// the server's life) and FileWatcherCertificateProvider (re-reads the files
// on a timer: a reload can be neither asked for nor confirmed, and a bad
// file shows only in gRPC's own log); a provider of our own needs gRPC's
// internal headers. The SSL server credentials of gRPC's core instead
// take a "certificate config fetcher" (grpc_ssl_server_credentials_create_
// options_using_config_fetcher), a callback gRPC consults at the start of
// every new TLS handshake: it answers "unchanged" or hands over a new
// certificate config, which gRPC then uses for that handshake and the ones
// after it. Connections already up keep their TLS session, so calls on them
// (streams too) go on undisturbed. So: Reload() reads and checks the files
// first (PEM parses, the key matches the certificate, the CA parses); only
// a good set replaces the current one, and the fetcher hands it to gRPC at
// the next handshake. A bad set leaves the old one serving and Reload says
// why. The C credentials are wrapped in a grpc::ServerCredentials of our
// own (AddPortToServer is grpc_server_add_http2_port, as gRPC's own secure
// credentials do).
//
// The metrics endpoint stays plain HTTP (loopback only unless
// --insecure_listen): Debian 12's civetweb 1.15 crashes on its first HTTPS
// request with Debian's OpenSSL 3 (service/README.md, "TLS").
//
// gRPC 1.51 insists that a fetched config carries client root certificates
// even without mTLS; the server's own chain stands in, unused (tls.cc).
//
// Threads: every method may be called from any thread (Reload from the
// signal thread, the fetcher from gRPC's handshake threads). The object
// must outlive every server built with Credentials().
#ifndef PA_MATCH_SERVICE_TLS_H_
#define PA_MATCH_SERVICE_TLS_H_

#include <grpc/grpc_security.h>
#include <grpcpp/security/server_credentials.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/sync.h"

namespace pamatch {

// Where the PEM files are. cert_file may hold a chain (the server's
// certificate first); client_ca_file empty: no client certificates asked
// for (TLS, not mTLS).
struct ServerTlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
};

// The PEM text of one checked set.
struct TlsPem {
  std::string cert_chain;
  std::string private_key;
  std::string client_ca;  // empty: no mTLS
  // For the log: the first certificate's subject, serial and expiry.
  std::string description;
};

// Reads and checks a set: INVALID_ARGUMENT naming the file (and flag) when a
// file is unreadable, is not PEM, or the key is not the certificate's.
absl::StatusOr<TlsPem> LoadTlsPem(const ServerTlsFiles& files);

class ServerTls {
 public:
  // Loads the files once (LoadTlsPem's errors).
  static absl::StatusOr<std::shared_ptr<ServerTls>> Load(ServerTlsFiles files);
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // Reads the files again. OK: new handshakes use them from now on. Not OK:
  // the set in use stays, and the status says what was wrong.
  absl::Status Reload();

  // gRPC server credentials backed by this object: TLS, and mTLS (client
  // certificate required and verified against the CA) when a client CA was
  // given at Load. Whether client certificates are required is fixed then;
  // a reload changes the certificate, key and CA.
  std::shared_ptr<grpc::ServerCredentials> Credentials();

  bool mutual() const { return mutual_; }
  // The set in use.
  TlsPem CurrentPem() const;
  // How many sets have been loaded (1 after Load, +1 per good Reload).
  int64_t generation() const;

 private:
  // What one Credentials() hands gRPC as the fetcher's user data: gRPC's
  // security connector of each listening port keeps its own SSL context, so
  // each needs its own "last generation handed over". Read and written
  // under owner->mu_.
  struct FetchState {
    ServerTls* owner;
    int64_t fetched_generation = 0;  // 0: none yet
  };

  ServerTls(ServerTlsFiles files, TlsPem pem);
  static grpc_ssl_certificate_config_reload_status Fetch(
      void* state, grpc_ssl_server_certificate_config** config);

  const ServerTlsFiles files_;
  const bool mutual_;
  mutable Mutex mu_;
  TlsPem pem_ ABSL_GUARDED_BY(mu_);
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<std::unique_ptr<FetchState>> fetch_states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_TLS_H_
