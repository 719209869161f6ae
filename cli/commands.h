// The commands of the pa-match CLI and the gRPC plumbing they share.
//
// Each commands_*.cc file returns its Command entries; main.cc collects them,
// parses the command line and dispatches. Conventions every command keeps:
//   - human output on stdout, or the response message as one JSON line with
//     --json (proto field names, primitive fields always printed);
//   - an RPC failure prints "error: <CODE_NAME>: <message>" on stderr and
//     exits 2; a usage error prints "error: <message>" and exits 2;
//   - every call carries "authorization: Bearer <key>" and a deadline of
//     --timeout_ms.
#ifndef PA_MATCH_CLI_COMMANDS_H_
#define PA_MATCH_CLI_COMMANDS_H_

#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/config.h"
#include "cli/flags.h"
#include "cli/format.h"
#include "grpcpp/grpcpp.h"
#include "pamatch/v1/matcher.grpc.pb.h"

namespace pamatch::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitPartial = 1;  // import with rejections, unhealthy
inline constexpr int kExitError = 2;    // RPC or usage error

// What a command runs with: the resolved global options and its own flags
// (positional arguments in flags.positional()).
struct Invocation {
  ClientConfig config;
  ParsedFlags flags;
};

struct Command {
  std::string name;     // "search", "policy set", ...
  std::string args;     // positional arguments for the usage line, e.g. "ID"
  std::string summary;  // one line for `pa-match help`
  std::vector<FlagSpec> flags;  // the command's own flags
  size_t min_args = 0;
  size_t max_args = 0;
  std::function<int(const Invocation&)> run;
};

std::vector<Command> SearchCommands();     // search
std::vector<Command> ProfileCommands();    // upsert, get, delete
std::vector<Command> ImportCommands();     // import
std::vector<Command> JobCommands();        // job post/get/delete
std::vector<Command> JobImportCommands();  // job import
std::vector<Command> MatchJobsCommands();  // match-jobs
std::vector<Command> WatchCommands();      // watch
std::vector<Command> PolicyCommands();     // policy set/get/list/delete
std::vector<Command> AdminCommands();      // stats, health, backup

// A channel and stub for the configured server.
class Rpc {
 public:
  explicit Rpc(const ClientConfig& config);
  pamatch::v1::Matcher::Stub& stub() { return *stub_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // Adds the authorization metadata and a deadline of timeout_ms (none if
  // timeout_ms <= 0).
  void Prepare(grpc::ClientContext* context, int64_t timeout_ms) const;
  void Prepare(grpc::ClientContext* context) const {
    Prepare(context, config_.timeout_ms);
  }

 private:
  ClientConfig config_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pamatch::v1::Matcher::Stub> stub_;
};

// Prints "error: CODE: message" to stderr; returns kExitError.
int ReportRpcError(const grpc::Status& status);
// Prints "error: message" to stderr; returns kExitError.
int ReportError(const absl::Status& status);

// The contents of `path`, or of stdin for "-".
absl::StatusOr<std::string> ReadInput(const std::string& path);

// Calls a unary method and prints the response: JSON with --json, else
// human(response). Returns the exit code.
template <typename Request, typename Response>
int CallUnary(const Invocation& inv,
              grpc::Status (pamatch::v1::Matcher::Stub::*method)(
                  grpc::ClientContext*, const Request&, Response*),
              const Request& request,
              const std::function<std::string(const Response&)>& human) {
  Rpc rpc(inv.config);
  grpc::ClientContext context;
  rpc.Prepare(&context);
  Response response;
  grpc::Status status = (rpc.stub().*method)(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status);
  if (inv.config.json) {
    std::cout << ToJson(response) << "\n";
  } else {
    std::cout << human(response);
  }
  return kExitOk;
}

}  // namespace pamatch::cli

#endif  // PA_MATCH_CLI_COMMANDS_H_
