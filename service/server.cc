#include "service/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>

#include <arpa/inet.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "pamatch/v1/matcher.grpc.pb.h"

namespace pamatch {
namespace {

// Gives one builder server reflection, or takes it away. Linking gRPC's
// reflection library registers its plugin for every server the process
// builds (a static initializer), so "off" must remove it, per server.
class ReflectionOption : public grpc::ServerBuilderOption {
 public:
  explicit ReflectionOption(bool on) : on_(on) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(
      std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    const std::string name =
        grpc::reflection::ProtoServerReflectionPlugin().name();
    std::erase_if(*plugins, [&](const auto& plugin) {
      return plugin->name() == name;
    });
    if (on_) {
      plugins->push_back(
          std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
    }
  }

 private:
  const bool on_;
};

}  // namespace

absl::StatusOr<StartedServer> StartServer(const ServerOptions& options,
                                          grpc::Service* matcher) {
  // Debian's Abseil is built without NDEBUG, so every absl::Mutex lock (all
  // of gRPC's locks) runs the debug deadlock detector, which records lock
  // order in one process-wide graph behind a global spin lock: ~4% of CPU and
  // a point where every gRPC thread serialises (perf, write_bench upserts).
  // It is a debugging aid that release builds turn off; so do we.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // A process-wide switch read when a server is built.
  grpc::EnableDefaultHealthCheckService(true);

  grpc::ResourceQuota quota("pa-matchd");
  quota.Resize(static_cast<size_t>(options.memory_quota_bytes));

  StartedServer started;
  grpc::ServerBuilder builder;
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             options.handshake_timeout_ms);
  if (options.max_concurrent_streams > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                               options.max_concurrent_streams);
  }
  builder.AddListeningPort(options.listen_address,
                           options.tls != nullptr
                               ? options.tls->Credentials()
                               : grpc::InsecureServerCredentials(),
                           &started.port);
  builder.RegisterService(matcher);
  builder.SetOption(std::make_unique<ReflectionOption>(options.reflection));
  started.server = builder.BuildAndStart();
  if (started.server == nullptr || started.port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address));
  }
  // The default health service starts as SERVING; say NOT_SERVING until the
  // caller has the engine ready.
  SetServing(*started.server, false);
  return started;
}

bool IsLoopbackListenAddress(absl::string_view address) {
  if (absl::StartsWith(address, "unix:") ||
      absl::StartsWith(address, "unix-abstract:")) {
    return true;
  }
  if (!absl::ConsumePrefix(&address, "ipv4:")) {
    absl::ConsumePrefix(&address, "ipv6:");
  }
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return false;
  absl::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  return inet_pton(AF_INET6, text.c_str(), &v6) == 1 &&
         IN6_IS_ADDR_LOOPBACK(&v6);
}

void SetServing(grpc::Server& server, bool serving) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", serving);
  health->SetServingStatus(v1::Matcher::service_full_name(), serving);
}

}  // namespace pamatch
