// Builds the pa-matchd gRPC server: the Matcher service, the standard
// grpc.health.v1.Health service and server reflection (unless turned off),
// on one port.
#ifndef PA_MATCH_SERVICE_SERVER_H_
#define PA_MATCH_SERVICE_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/tls.h"

namespace pamatch {

// Plain settings of the listening server; defaults are pa-matchd's.
struct ServerOptions {
  // host:port to listen on; port 0 picks a free port.
  std::string listen_address = "127.0.0.1:50051";
  // Largest request message accepted, bytes (a bulk stream's limit applies
  // per item).
  int max_receive_message_bytes = 4 << 20;
  // A connection that has not sent its HTTP/2 preface and settings within
  // this long is closed (gRPC's default is 120 s), so connections that open
  // and never speak do not pile up.
  int handshake_timeout_ms = 10'000;
  // Calls one connection may have open at once (HTTP/2
  // SETTINGS_MAX_CONCURRENT_STREAMS; a client queues the rest), so that one
  // connection's flood of calls queues at its own end and not ahead of
  // everyone else's. 0: gRPC's default (no limit).
  int max_concurrent_streams = 100;
  // Memory the gRPC layer may use for calls in flight, bytes.
  int64_t memory_quota_bytes = int64_t{1} << 30;
  // Serve grpc.reflection.v1alpha.ServerReflection (for grpcurl and the
  // like). On by default: the API contract (MATCHING.md, "API surface")
  // lists it beside Health. It describes the API, not its data, to anyone
  // who can connect, without a key; turn it off where that matters.
  bool reflection = true;
  // TLS (and mTLS if it has a client CA); nullptr: plaintext. Must outlive
  // the server; ServerTls::Reload applies to the server's new handshakes.
  std::shared_ptr<ServerTls> tls;
};

// A started server and the port it listens on.
struct StartedServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

// Starts a server (TLS if options.tls, else plaintext) with `matcher` (not owned; must outlive the server),
// health and, unless options.reflection is false, reflection. Health
// reports NOT_SERVING for "" and "pamatch.v1.Matcher" until
// SetServing(true).
absl::StatusOr<StartedServer> StartServer(const ServerOptions& options,
                                          grpc::Service* matcher);

// Whether a gRPC listen address can only be reached from this host:
// 127.0.0.0/8, [::1], localhost, or a unix: socket. pa-matchd refuses to
// listen elsewhere without TLS unless told --insecure_listen.
bool IsLoopbackListenAddress(absl::string_view address);

// Sets the health status of "" and "pamatch.v1.Matcher". Thread-safe.
void SetServing(grpc::Server& server, bool serving);

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_SERVER_H_
