#include "service/malformed_requests.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "pamatch/v1/matcher.pb.h"
#include "service/matcher_service.h"

namespace pamatch {

std::string MalformedRequestMessage(absl::string_view request_type) {
  return absl::StrCat(
      "request could not be parsed as ", request_type,
      " (malformed protobuf: invalid UTF-8 in a string field, a length or "
      "varint running past the end of the message, or bytes that are not "
      "this message)");
}

int MatcherMethodIndex(absl::string_view method) {
  const google::protobuf::ServiceDescriptor* service =
      v1::SearchRequest::descriptor()->file()->FindServiceByName("Matcher");
  const google::protobuf::MethodDescriptor* found =
      service == nullptr ? nullptr
                         : service->FindMethodByName(std::string(method));
  if (found == nullptr) {
    std::fprintf(stderr, "pamatch.v1.Matcher has no method %s\n",
                 std::string(method).c_str());
    std::abort();
  }
  return found->index();
}

namespace {

// The request and response types of a unary MatcherService method.
template <typename Method>
struct UnaryTypes;
template <typename Req, typename Resp>
struct UnaryTypes<grpc::ServerUnaryReactor* (
    MatcherService::*)(grpc::CallbackServerContext*, const Req*, Resp*)> {
  using Request = Req;
  using Response = Resp;
};

}  // namespace

// MatcherService's, here beside the handlers it installs (declared in
// matcher_service.h). gRPC's generated constructor has installed its own
// handlers by now; these replace the unary and server-streaming ones.
// Client-streaming methods read their requests in the reactor, which tells
// a malformed item itself.
void MatcherService::AnswerMalformedRequests() {
  auto unary = [this](absl::string_view name, auto method) {
    using Traits = UnaryTypes<decltype(method)>;
    MarkMethodCallback(
        MatcherMethodIndex(name),
        new ParseCheckingUnaryHandler<typename Traits::Request,
                                      typename Traits::Response>(
            [this, method](grpc::CallbackServerContext* context,
                           const typename Traits::Request* request,
                           typename Traits::Response* response) {
              return (this->*method)(context, request, response);
            }));
  };
  unary("UpsertProfile", &MatcherService::UpsertProfile);
  unary("GetProfile", &MatcherService::GetProfile);
  unary("DeleteProfile", &MatcherService::DeleteProfile);
  unary("Search", &MatcherService::Search);
  unary("SetPolicy", &MatcherService::SetPolicy);
  unary("GetPolicy", &MatcherService::GetPolicy);
  unary("ListPolicies", &MatcherService::ListPolicies);
  unary("DeletePolicy", &MatcherService::DeletePolicy);
  unary("GetStats", &MatcherService::GetStats);
  unary("Backup", &MatcherService::Backup);
  unary("UpsertJob", &MatcherService::UpsertJob);
  unary("GetJob", &MatcherService::GetJob);
  unary("DeleteJob", &MatcherService::DeleteJob);
  unary("MatchJobs", &MatcherService::MatchJobs);
  MarkMethodCallback(
      MatcherMethodIndex("Watch"),
      new ParseCheckingServerStreamingHandler<v1::WatchRequest, v1::WatchEvent>(
          [this](grpc::CallbackServerContext* context,
                 const v1::WatchRequest* request) {
            return Watch(context, request);
          }));
}

}  // namespace pamatch
