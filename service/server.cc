#include "service/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "pamatch/v1/matcher.grpc.pb.h"

namespace pamatch {

absl::StatusOr<StartedServer> StartServer(const ServerOptions& options,
                                          grpc::Service* matcher) {
  // Debian's Abseil is built without NDEBUG, so every absl::Mutex lock (all
  // of gRPC's locks) runs the debug deadlock detector, which records lock
  // order in one process-wide graph behind a global spin lock: ~4% of CPU and
  // a point where every gRPC thread serialises (perf, write_bench upserts).
  // It is a debugging aid that release builds turn off; so do we.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Both are process-wide switches read when a server is built.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ResourceQuota quota("pa-matchd");
  quota.Resize(static_cast<size_t>(options.memory_quota_bytes));

  StartedServer started;
  grpc::ServerBuilder builder;
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.AddListeningPort(options.listen_address,
                           grpc::InsecureServerCredentials(), &started.port);
  builder.RegisterService(matcher);
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

void SetServing(grpc::Server& server, bool serving) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", serving);
  health->SetServingStatus(v1::Matcher::service_full_name(), serving);
}

}  // namespace pamatch
