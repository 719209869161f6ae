// `pa-match watch`: follows a Watch stream and prints each event as one
// JSON line as it arrives (heartbeats too with --heartbeats). With
// --position_file it resumes after the sequence saved there and saves the
// sequence of every message it receives (events and heartbeats), after
// printing it: a run killed in between prints that event again on the next
// run (at least once), never skips one.
//
// The stream has no deadline unless --timeout_ms is given, which is then
// how long to watch (exit 0 when it runs out). It ends with exit 0 after
// --max_events events, or exit 2 on an error: OUT_OF_RANGE when the events
// after the position are no longer retained (resynchronise with search or
// match-jobs, then delete the position file), UNAVAILABLE when the server
// stops (run again to resume).
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/watch_position.h"

namespace pamatch::cli {
namespace {

int RunWatch(const Invocation& inv) {
  const std::string position_file = inv.flags.Get("position_file");
  std::optional<int64_t> saved;
  if (!position_file.empty()) {
    auto read = ReadWatchPosition(position_file);
    if (!read.ok()) return ReportError(read.status());
    saved = *read;
  }
  auto request = BuildWatchRequest(inv.flags, saved);
  if (!request.ok()) return ReportError(request.status());
  auto max_events = inv.flags.GetInt("max_events");
  if (!max_events.ok()) return ReportError(max_events.status());
  const bool heartbeats = inv.flags.GetBool("heartbeats");

  Rpc rpc(inv.config);
  grpc::ClientContext context;
  rpc.Prepare(&context, inv.config.timeout_given ? inv.config.timeout_ms : 0);
  std::unique_ptr<grpc::ClientReader<pamatch::v1::WatchEvent>> reader =
      rpc.stub().Watch(&context, *request);
  pamatch::v1::WatchEvent event;
  int64_t events = 0;
  while (reader->Read(&event)) {
    const bool is_event = event.kind() != pamatch::v1::WatchEvent::HEARTBEAT;
    if (is_event || heartbeats) std::cout << ToJson(event) << std::endl;
    if (!position_file.empty()) {
      absl::Status saved_status =
          SaveWatchPosition(position_file, event.sequence());
      if (!saved_status.ok()) {
        context.TryCancel();
        reader->Finish();
        return ReportError(saved_status);
      }
    }
    if (is_event && max_events->has_value() && ++events >= **max_events) {
      context.TryCancel();
      reader->Finish();
      return kExitOk;
    }
  }
  grpc::Status status = reader->Finish();
  if (status.ok() ||
      (inv.config.timeout_given &&
       status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)) {
    return kExitOk;
  }
  const int code = ReportRpcError(status);
  if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
    std::cerr << "hint: the events after that position are no longer kept; "
                 "resynchronise (pa-match match-jobs / search), then watch "
                 "without --after_sequence"
              << (position_file.empty()
                      ? std::string()
                      : absl::StrCat(" after deleting ", position_file))
              << "\n";
  } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
             !position_file.empty()) {
    std::cerr << "hint: run the same command again to resume from "
              << position_file << "\n";
  }
  return code;
}

}  // namespace

std::vector<Command> WatchCommands() {
  return {{"watch",
           "",
           "print alert events (JSON lines) as matches start and end",
           WatchFlagSpecs(),
           0,
           0,
           RunWatch}};
}

}  // namespace pamatch::cli
