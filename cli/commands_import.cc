// `pa-match import` and `pa-match job import`: stream a JSON Lines file of
// profiles (jobs) to the server with BulkUpsertProfiles (BulkUpsertJobs), a
// new stream per --chunk items so each response stays bounded. Lines that
// are not valid Profile (Job) JSON are rejected locally (with their line
// number) and never sent. Progress goes to stderr once a second; the summary
// goes to stdout. Exit 0 when every line was accepted, 1 when any was
// rejected, 2 when a stream failed.
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cli/commands.h"
#include "cli/import_tally.h"
#include "cli/job_request.h"
#include "cli/search_request.h"
#include "google/protobuf/struct.pb.h"

namespace pamatch::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kDefaultChunk = 10000;
// Import streams are long; unless --timeout_ms is given, each stream (one
// chunk) gets this deadline instead of the 10 s default.
constexpr int64_t kDefaultChunkTimeoutMs = 300000;

// What an import of profiles or of jobs differs in.
struct ProfileImport {
  static constexpr char kCommand[] = "import";
  using Item = pamatch::v1::Profile;
  using Request = pamatch::v1::UpsertProfileRequest;
  using Response = pamatch::v1::BulkUpsertProfilesResponse;
  static absl::StatusOr<Item> Parse(absl::string_view line) {
    return ParseProfileJson(line);
  }
  static void Set(Item item, Request* request) {
    *request->mutable_profile() = std::move(item);
  }
  static std::unique_ptr<grpc::ClientWriter<Request>> Open(
      pamatch::v1::Matcher::Stub& stub, grpc::ClientContext* context,
      Response* response) {
    return stub.BulkUpsertProfiles(context, response);
  }
};
struct JobImport {
  static constexpr char kCommand[] = "job import";
  using Item = pamatch::v1::Job;
  using Request = pamatch::v1::UpsertJobRequest;
  using Response = pamatch::v1::BulkUpsertJobsResponse;
  static absl::StatusOr<Item> Parse(absl::string_view line) {
    return ParseJobJson(line);
  }
  static void Set(Item item, Request* request) {
    *request->mutable_job() = std::move(item);
  }
  static std::unique_ptr<grpc::ClientWriter<Request>> Open(
      pamatch::v1::Matcher::Stub& stub, grpc::ClientContext* context,
      Response* response) {
    return stub.BulkUpsertJobs(context, response);
  }
};

// One bulk stream (Kind: ProfileImport or JobImport), opened on the first
// item.
template <typename Kind>
class ChunkStream {
 public:
  ChunkStream(Rpc* rpc, int64_t timeout_ms)
      : rpc_(rpc), timeout_ms_(timeout_ms) {}

  // False when the stream broke (its status comes from Finish()).
  bool Write(typename Kind::Item item, int64_t line) {
    if (writer_ == nullptr) {
      context_ = std::make_unique<grpc::ClientContext>();
      rpc_->Prepare(context_.get(), timeout_ms_);
      writer_ = Kind::Open(rpc_->stub(), context_.get(), &response_);
    }
    lines_.push_back(line);
    typename Kind::Request request;
    Kind::Set(std::move(item), &request);
    // buffer_hint lets gRPC coalesce small messages; WritesDone flushes.
    return writer_->Write(request, grpc::WriteOptions().set_buffer_hint());
  }
  size_t size() const { return lines_.size(); }
  const std::vector<int64_t>& lines() const { return lines_; }
  const typename Kind::Response& response() const { return response_; }
  grpc::Status Finish() {
    if (writer_ == nullptr) return grpc::Status::OK;
    writer_->WritesDone();
    return writer_->Finish();
  }

 private:
  Rpc* rpc_;
  int64_t timeout_ms_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientWriter<typename Kind::Request>> writer_;
  typename Kind::Response response_;
  std::vector<int64_t> lines_;
};

// protobuf's JSON errors may add a second line with a caret; keep the first.
std::string FirstLine(absl::string_view text) {
  return std::string(
      absl::StripTrailingAsciiWhitespace(text.substr(0, text.find('\n'))));
}

void PrintSummary(const Invocation& inv, const ImportTally& tally) {
  if (!inv.config.json) {
    std::cout << tally.Summary();
    return;
  }
  google::protobuf::Struct out;
  auto& fields = *out.mutable_fields();
  fields["lines"].set_number_value(static_cast<double>(tally.lines()));
  fields["accepted"].set_number_value(static_cast<double>(tally.accepted()));
  fields["rejected"].set_number_value(static_cast<double>(tally.rejected()));
  fields["unconfirmed"].set_number_value(
      static_cast<double>(tally.unconfirmed()));
  auto* list = fields["rejections"].mutable_list_value();
  for (const auto& r : tally.rejections()) {
    auto& item = *list->add_values()->mutable_struct_value()->mutable_fields();
    item["line"].set_number_value(static_cast<double>(r.line));
    item["id"].set_string_value(r.id);
    item["reason"].set_string_value(r.reason);
  }
  std::cout << ToJson(out) << "\n";
}

template <typename Kind>
int RunImport(const Invocation& inv) {
  if (!inv.flags.Has("file")) {
    return ReportError(absl::InvalidArgumentError(
        absl::StrCat(Kind::kCommand, " needs --file")));
  }
  auto chunk_flag = inv.flags.GetInt("chunk");
  if (!chunk_flag.ok()) return ReportError(chunk_flag.status());
  const int64_t chunk = chunk_flag->value_or(kDefaultChunk);
  if (chunk <= 0) {
    return ReportError(absl::InvalidArgumentError("--chunk: must be > 0"));
  }
  const std::string path = inv.flags.Get("file");
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) {
      return ReportError(
          absl::NotFoundError(absl::StrCat("cannot read ", path)));
    }
  }
  std::istream& in = path == "-" ? std::cin : file;
  const bool quiet = inv.flags.GetBool("quiet");
  const int64_t timeout_ms =
      inv.config.timeout_given ? inv.config.timeout_ms : kDefaultChunkTimeoutMs;

  Rpc rpc(inv.config);
  ImportTally tally;
  const Clock::time_point start = Clock::now();
  Clock::time_point next_progress = start + std::chrono::seconds(1);
  auto elapsed = [&start] {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };

  std::string line;
  int64_t line_no = 0;
  bool eof = false;
  while (!eof) {
    ChunkStream<Kind> stream(&rpc, timeout_ms);
    bool broken = false;
    while (static_cast<int64_t>(stream.size()) < chunk) {
      if (!std::getline(in, line)) {
        eof = true;
        break;
      }
      ++line_no;
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      tally.LineRead();
      auto item = Kind::Parse(line);
      if (!item.ok()) {
        tally.RejectLocal(line_no, FirstLine(item.status().message()));
      } else if (!stream.Write(*std::move(item), line_no)) {
        broken = true;
        break;
      }
      if (!quiet && Clock::now() >= next_progress) {
        std::cerr << tally.ProgressLine(elapsed()) << std::endl;
        next_progress = Clock::now() + std::chrono::seconds(1);
      }
    }
    grpc::Status status = stream.Finish();
    if (!status.ok() || broken) {
      tally.AddUnconfirmed(static_cast<int64_t>(stream.size()));
      PrintSummary(inv, tally);
      if (status.ok()) {
        status = grpc::Status(grpc::StatusCode::UNKNOWN,
                              "stream closed before all items were sent");
      }
      return ReportRpcError(status);
    }
    tally.AddChunk(stream.response(), stream.lines());
  }
  if (in.bad()) {
    PrintSummary(inv, tally);
    return ReportError(
        absl::DataLossError(absl::StrCat("read error on ", path)));
  }
  if (!quiet && elapsed() >= 1.0) {
    std::cerr << tally.ProgressLine(elapsed()) << std::endl;
  }
  PrintSummary(inv, tally);
  return tally.rejected() > 0 ? kExitPartial : kExitOk;
}

}  // namespace

std::vector<Command> ImportCommands() {
  return {{"import",
           "",
           "bulk upsert profiles from JSON Lines (exit 1 if any rejected)",
           {{"file", true, "FILE",
             "JSON Lines, one Profile per line ('-' = stdin)"},
            {"chunk", true, "N",
             "items per BulkUpsertProfiles stream (default 10000)"},
            {"quiet", false, "", "no progress lines on stderr"}},
           0,
           0,
           RunImport<ProfileImport>}};
}

std::vector<Command> JobImportCommands() {
  return {{"job import",
           "",
           "bulk upsert jobs from JSON Lines (exit 1 if any rejected)",
           {{"file", true, "FILE", "JSON Lines, one Job per line ('-' = stdin)"},
            {"chunk", true, "N",
             "items per BulkUpsertJobs stream (default 10000)"},
            {"quiet", false, "", "no progress lines on stderr"}},
           0,
           0,
           RunImport<JobImport>}};
}

}  // namespace pamatch::cli
