// The one place where engine errors (absl::Status) become gRPC statuses.
#ifndef PA_MATCH_SERVICE_GRPC_STATUS_H_
#define PA_MATCH_SERVICE_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace pamatch {

// Maps code 1:1 (absl::StatusCode and grpc::StatusCode share the canonical
// google.rpc.Code numbering) and keeps the message. A status with payloads
// (absl::Status::SetPayload, keyed by a type URL such as
// type.googleapis.com/google.rpc.RetryInfo) also gets them as its details:
// a google.rpc.Status whose `details` are those payloads as Any messages,
// which gRPC sends in the grpc-status-details-bin trailer. Pure;
// thread-safe.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_GRPC_STATUS_H_
