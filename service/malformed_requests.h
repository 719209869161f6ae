// Requests whose protobuf cannot be parsed (invalid UTF-8 in a string field,
// a length or varint running past the end, bytes that are not the message)
// get INVALID_ARGUMENT naming the request type, not gRPC's UNIMPLEMENTED.
//
// Why: gRPC's callback API (1.51, CallbackUnaryHandler::RunHandler and
// CallbackServerStreamingHandler's) answers a request it failed to
// deserialize with UNIMPLEMENTED and an empty message, which tells a caller
// the method does not exist, and the service's method never runs. The
// handlers below wrap gRPC's: a request that parsed goes to gRPC's handler
// untouched (one virtual call more); one that did not is answered by a
// reactor that finishes with INVALID_ARGUMENT. MatcherService installs them
// for its unary and server-streaming methods (AnswerMalformedRequests). A
// server interceptor could do the same for every service without naming
// methods, but it costs every call (gRPC then builds interceptor state per
// call and runs hooks on every batch): 2-15 us of CPU more per sequential
// GetPolicy call in an in-process A/B (docs/SECURITY.md). A client stream's
// item that cannot be parsed is the bulk reactor's (matcher_service.cc),
// since gRPC reports it as the stream's end.
//
// These use gRPC's internal handler classes (grpc::internal), stable in
// practice but not a public API: tests/service_abuse_test.cc sends malformed
// bytes to every method and fails if an upgrade changes the behaviour.
#ifndef PA_MATCH_SERVICE_MALFORMED_REQUESTS_H_
#define PA_MATCH_SERVICE_MALFORMED_REQUESTS_H_

#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>

#include <functional>
#include <new>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace pamatch {

// "request could not be parsed as <type> (malformed protobuf: ...)", for
// `request_type`, a full message name such as "pamatch.v1.SearchRequest".
std::string MalformedRequestMessage(absl::string_view request_type);

// gRPC's callback handler of a unary method, but a request that cannot be
// parsed gets INVALID_ARGUMENT (MalformedRequestMessage). Thread-safe as
// gRPC's handlers are.
template <typename Request, typename Response>
class ParseCheckingUnaryHandler final : public grpc::internal::MethodHandler {
 public:
  using GetReactor = std::function<grpc::ServerUnaryReactor*(
      grpc::CallbackServerContext*, const Request*, Response*)>;

  explicit ParseCheckingUnaryHandler(GetReactor get_reactor)
      : handler_(std::move(get_reactor)),
        refuse_([](grpc::CallbackServerContext* context, const Request*,
                   Response*) {
          grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
          reactor->Finish(grpc::Status(
              grpc::StatusCode::INVALID_ARGUMENT,
              MalformedRequestMessage(Request::descriptor()->full_name())));
          return reactor;
        }) {}

  void* Deserialize(grpc_call* call, grpc_byte_buffer* request,
                    grpc::Status* status, void** handler_data) override {
    return handler_.Deserialize(call, request, status, handler_data);
  }

  void RunHandler(const HandlerParameter& param) override {
    if (param.status.ok()) {
      handler_.RunHandler(param);
      return;
    }
    // gRPC's handler would answer UNIMPLEMENTED; its twin answers with
    // refuse_'s reactor instead. The request and response it hands that
    // reactor (handler_data, from Deserialize) are valid, and unused.
    refuse_.RunHandler(HandlerParameter(
        param.call, param.server_context, param.request, grpc::Status::OK,
        param.internal_data, param.call_requester));
  }

 private:
  grpc::internal::CallbackUnaryHandler<Request, Response> handler_;
  grpc::internal::CallbackUnaryHandler<Request, Response> refuse_;
};

// The same for a server-streaming method.
template <typename Request, typename Response>
class ParseCheckingServerStreamingHandler final
    : public grpc::internal::MethodHandler {
 public:
  using GetReactor = std::function<grpc::ServerWriteReactor<Response>*(
      grpc::CallbackServerContext*, const Request*)>;

  explicit ParseCheckingServerStreamingHandler(GetReactor get_reactor)
      : handler_(std::move(get_reactor)),
        refuse_([](grpc::CallbackServerContext*, const Request*) {
          return new Refusal(grpc::Status(
              grpc::StatusCode::INVALID_ARGUMENT,
              MalformedRequestMessage(Request::descriptor()->full_name())));
        }) {}

  void* Deserialize(grpc_call* call, grpc_byte_buffer* request,
                    grpc::Status* status, void** handler_data) override {
    return handler_.Deserialize(call, request, status, handler_data);
  }

  void RunHandler(const HandlerParameter& param) override {
    if (param.status.ok()) {
      handler_.RunHandler(param);
      return;
    }
    // gRPC's handler destroys the request it is given when the call is
    // done, as it would one from Deserialize (in the call's arena): an
    // empty one, made the same way, stands in for the one that failed.
    Request* empty =
        new (grpc_call_arena_alloc(param.call->call(), sizeof(Request)))
            Request();
    refuse_.RunHandler(HandlerParameter(param.call, param.server_context, empty,
                                        grpc::Status::OK, param.internal_data,
                                        param.call_requester));
  }

 private:
  // Finishes at once with a status; deletes itself when done.
  class Refusal final : public grpc::ServerWriteReactor<Response> {
   public:
    explicit Refusal(grpc::Status status) { this->Finish(std::move(status)); }
    void OnDone() override { delete this; }
  };

  grpc::internal::CallbackServerStreamingHandler<Request, Response> handler_;
  grpc::internal::CallbackServerStreamingHandler<Request, Response> refuse_;
};

// The index of `method` in service pamatch.v1.Matcher (the generated code's
// numbering, for grpc::Service::MarkMethodCallback); dies if it has none.
int MatcherMethodIndex(absl::string_view method);

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_MALFORMED_REQUESTS_H_
