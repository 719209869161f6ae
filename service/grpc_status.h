// The one place where engine errors (absl::Status) become gRPC statuses.
#ifndef PA_MATCH_SERVICE_GRPC_STATUS_H_
#define PA_MATCH_SERVICE_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace pamatch {

// Maps code 1:1 (absl::StatusCode and grpc::StatusCode share the canonical
// google.rpc.Code numbering) and keeps the message. Pure; thread-safe.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_GRPC_STATUS_H_
