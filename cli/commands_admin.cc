// `pa-match stats`, `pa-match health` and `pa-match backup`.
//
// The health check calls grpc.health.v1.Health/Check through a generic stub,
// because the generated health stubs are not installed: the request
// (HealthCheckRequest{string service = 1}) and the response
// (HealthCheckResponse{ServingStatus status = 1}) are encoded by hand.
#include <future>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/generic/generic_stub.h"

namespace pamatch::cli {
namespace {

using pamatch::v1::Matcher;

int RunStats(const Invocation& inv) {
  return CallUnary<pamatch::v1::GetStatsRequest, pamatch::v1::GetStatsResponse>(
      inv, &Matcher::Stub::GetStats, pamatch::v1::GetStatsRequest(),
      FormatStats);
}

// `pa-match backup [--dest DIR]`: an online checkpoint, written by the
// server on the server's file system.
int RunBackup(const Invocation& inv) {
  pamatch::v1::BackupRequest request;
  request.set_destination_dir(inv.flags.Get("dest"));
  return CallUnary<pamatch::v1::BackupRequest, pamatch::v1::BackupResponse>(
      inv, &Matcher::Stub::Backup, request,
      [](const pamatch::v1::BackupResponse& response) {
        return absl::StrCat("backup written to ", response.path(), " (",
                            response.profiles(), " profiles, ",
                            response.policies(), " policies)\n");
      });
}

std::string EncodeHealthRequest(const std::string& service) {
  std::string out;
  if (service.empty()) return out;
  out.push_back(0x0a);  // field 1, length-delimited
  size_t n = service.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  return out + service;
}

// Returns the ServingStatus (0 when absent), or -1 if undecodable.
int DecodeHealthResponse(const std::string& bytes) {
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  int status = 0;
  while (uint32_t tag = in.ReadTag()) {
    if (tag == 0x08) {
      uint32_t value = 0;
      if (!in.ReadVarint32(&value)) return -1;
      status = static_cast<int>(value);
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in,
                                                                      tag)) {
      return -1;
    }
  }
  return status;
}

int RunHealth(const Invocation& inv) {
  Rpc rpc(inv.config);
  grpc::ClientContext context;
  rpc.Prepare(&context);
  const std::string payload = EncodeHealthRequest(inv.flags.Get("service"));
  grpc::Slice slice(payload);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::GenericStub stub(rpc.channel());
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response,
                 [&done](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return ReportRpcError(status);
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (response.Dump(&slices).ok()) {
    for (const auto& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  static const char* const kNames[] = {"UNKNOWN", "SERVING", "NOT_SERVING",
                                       "SERVICE_UNKNOWN"};
  const int code = DecodeHealthResponse(bytes);
  const std::string name =
      code >= 0 && code <= 3 ? kNames[code] : absl::StrCat("STATUS_", code);
  if (inv.config.json) {
    std::cout << "{\"status\":\"" << name << "\"}\n";
  } else {
    std::cout << name << "\n";
  }
  return code == 1 ? kExitOk : kExitPartial;
}

}  // namespace

std::vector<Command> AdminCommands() {
  return {
      {"stats", "", "server statistics (admin scope)", {}, 0, 0, RunStats},
      {"health",
       "",
       "grpc.health.v1 check; exit 0 when SERVING, 1 otherwise",
       {{"service", true, "NAME",
         "service to check (default \"\": the whole server)"}},
       0,
       0,
       RunHealth},
      {"backup",
       "",
       "online consistent backup of the database on the server (admin "
       "scope)",
       {{"dest", true, "DIR",
         "server-side directory to create (default "
         "<data_dir>/backups/<UTC time>)"}},
       0,
       0,
       RunBackup},
  };
}

}  // namespace pamatch::cli
