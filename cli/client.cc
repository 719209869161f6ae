// gRPC plumbing shared by the CLI commands (see commands.h).
#include <chrono>
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"

namespace pamatch::cli {

Rpc::Rpc(const ClientConfig& config)
    : config_(config),
      channel_(grpc::CreateCustomChannel(
          config.server,
          config.credentials != nullptr ? config.credentials
                                        : grpc::InsecureChannelCredentials(),
          config.channel_args)),
      stub_(pamatch::v1::Matcher::NewStub(channel_)) {}

void Rpc::Prepare(grpc::ClientContext* context, int64_t timeout_ms) const {
  if (!config_.key.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", config_.key));
  }
  if (timeout_ms > 0) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(timeout_ms));
  }
}

int ReportRpcError(const grpc::Status& status) {
  std::cerr << "error: " << StatusCodeName(status.error_code()) << ": "
            << status.error_message() << "\n";
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    std::cerr << "hint: pass --key, set PA_MATCH_KEY, or run where "
                 "./data/admin.key exists\n";
  }
  return kExitError;
}

int ReportError(const absl::Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  return kExitError;
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    std::string data(std::istreambuf_iterator<char>(std::cin), {});
    if (std::cin.bad()) return absl::UnavailableError("cannot read stdin");
    return data;
  }
  std::optional<std::string> data = ReadWholeFile(path);
  if (!data.has_value()) {
    return absl::NotFoundError(absl::StrCat("cannot read file ", path));
  }
  return *data;
}

}  // namespace pamatch::cli
