// Helpers for the service tests: calling the standard health service without
// its generated stubs, and attaching an API key to a call.
#ifndef PA_MATCH_TESTS_SERVICE_TEST_UTIL_H_
#define PA_MATCH_TESTS_SERVICE_TEST_UTIL_H_

#include <google/protobuf/empty.pb.h>
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/server.h"

#include <chrono>
#include <future>
#include <memory>
#include <string>

namespace pamatch::testing {

// Asks grpc.reflection.v1alpha.ServerReflection for the services it lists
// and returns its first answer's bytes (the service names appear in them as
// plain strings), or "" with *rpc_status saying why the call failed. The
// request, ServerReflectionRequest{list_services: ""} (field 7), is written
// by hand as an unknown field, as for the health check.
inline std::string ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel, grpc::Status* rpc_status) {
  grpc::TemplatedGenericStub<google::protobuf::Empty, google::protobuf::Empty>
      stub(channel);
  google::protobuf::Empty request, response;
  request.GetReflection()->MutableUnknownFields(&request)->AddLengthDelimited(
      7, "");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  auto await = [&cq] {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok;
  };
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      &cq);
  call->StartCall(nullptr);
  bool answered = await();
  if (answered) {
    call->Write(request, nullptr);
    answered = await();
  }
  if (answered) {
    call->WritesDone(nullptr);
    answered = await();
  }
  if (answered) {
    call->Read(&response, nullptr);
    answered = await();
  }
  call->Finish(rpc_status, nullptr);
  await();
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  return answered && rpc_status->ok() ? response.SerializeAsString() : "";
}

// grpc.health.v1.HealthCheckResponse.ServingStatus values.
inline constexpr int kHealthUnknown = 0;
inline constexpr int kHealthServing = 1;
inline constexpr int kHealthNotServing = 2;

// Calls grpc.health.v1.Health/Check for `service` and returns its status, or
// -1 if the call failed (then *rpc_status says why). Debian installs no
// health.proto, so the two one-field messages are written by hand as unknown
// fields of google.protobuf.Empty (field 1: service / status).
inline int CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& service,
                       grpc::Status* rpc_status = nullptr) {
  grpc::TemplatedGenericStub<google::protobuf::Empty, google::protobuf::Empty>
      stub(channel);
  google::protobuf::Empty request, response;
  if (!service.empty()) {
    request.GetReflection()->MutableUnknownFields(&request)->AddLengthDelimited(
        1, service);
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response,
                 [&done](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  if (rpc_status != nullptr) *rpc_status = status;
  if (!status.ok()) return -1;
  const google::protobuf::UnknownFieldSet& fields =
      response.GetReflection()->GetUnknownFields(response);
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == 1 &&
        fields.field(i).type() == google::protobuf::UnknownField::TYPE_VARINT) {
      return static_cast<int>(fields.field(i).varint());
    }
  }
  return kHealthUnknown;  // proto3 omits the default
}

// Starts `service` (not owned) on a free loopback port, reporting SERVING,
// and returns the server and a channel to it; on failure, a test failure
// and a null server.
struct LoopbackServer {
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<grpc::Channel> channel;
};
inline LoopbackServer ServeOnLoopback(grpc::Service* service) {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  absl::StatusOr<StartedServer> started = StartServer(options, service);
  if (!started.ok()) {
    ADD_FAILURE() << started.status();
    return {};
  }
  SetServing(*started->server, true);
  return {std::move(started->server),
          grpc::CreateChannel(absl::StrCat("127.0.0.1:", started->port),
                              grpc::InsecureChannelCredentials())};
}

// A client context with a 10 s deadline and, unless `key` is empty,
// `authorization: Bearer <key>`.
inline std::unique_ptr<grpc::ClientContext> ContextWithKey(
    const std::string& key) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(10));
  if (!key.empty()) context->AddMetadata("authorization", "Bearer " + key);
  return context;
}

}  // namespace pamatch::testing

#endif  // PA_MATCH_TESTS_SERVICE_TEST_UTIL_H_
