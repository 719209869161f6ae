// `pa-match job post|get|delete` (single jobs) and `pa-match match-jobs`
// (the OPEN jobs a PA matches). `job import` is in commands_import.cc.
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/job_request.h"

namespace pamatch::cli {
namespace {

using pamatch::v1::Matcher;

int RunPost(const Invocation& inv) {
  std::optional<std::string> json;
  if (inv.flags.Has("file")) {
    auto data = ReadInput(inv.flags.Get("file"));
    if (!data.ok()) return ReportError(data.status());
    json = std::move(*data);
  }
  auto job = BuildJob(inv.flags, json);
  if (!job.ok()) return ReportError(job.status());
  pamatch::v1::UpsertJobRequest request;
  *request.mutable_job() = *std::move(job);
  return CallUnary<pamatch::v1::UpsertJobRequest,
                   pamatch::v1::UpsertJobResponse>(
      inv, &Matcher::Stub::UpsertJob, request, FormatJobUpsert);
}

int RunGet(const Invocation& inv) {
  pamatch::v1::GetJobRequest request;
  request.set_id(inv.flags.positional()[0]);
  return CallUnary<pamatch::v1::GetJobRequest, pamatch::v1::GetJobResponse>(
      inv, &Matcher::Stub::GetJob, request,
      [](const pamatch::v1::GetJobResponse& response) {
        return absl::StrCat(ToJson(response.job(), /*pretty=*/true),
                            "\nopen: ", response.open() ? "true" : "false",
                            "\n");
      });
}

int RunDelete(const Invocation& inv) {
  pamatch::v1::DeleteJobRequest request;
  request.set_id(inv.flags.positional()[0]);
  return CallUnary<pamatch::v1::DeleteJobRequest,
                   pamatch::v1::DeleteJobResponse>(
      inv, &Matcher::Stub::DeleteJob, request,
      [&request](const pamatch::v1::DeleteJobResponse&) {
        return absl::StrCat("deleted job ", request.id(), "\n");
      });
}

int RunMatchJobs(const Invocation& inv) {
  std::optional<std::string> json;
  if (inv.flags.Has("profile_file")) {
    auto data = ReadInput(inv.flags.Get("profile_file"));
    if (!data.ok()) return ReportError(data.status());
    json = std::move(*data);
  }
  auto request = BuildMatchJobsRequest(inv.flags, json);
  if (!request.ok()) return ReportError(request.status());
  if (!inv.flags.GetBool("all_pages")) {
    const bool explain = request->explain();
    return CallUnary<pamatch::v1::MatchJobsRequest,
                     pamatch::v1::MatchJobsResponse>(
        inv, &Matcher::Stub::MatchJobs, *request,
        [explain](const pamatch::v1::MatchJobsResponse& response) {
          return FormatMatchJobsResponse(response, explain);
        });
  }
  // Every page: one table (ranks go on), or a JSON line per page. Later
  // pages reuse the first page's as_of through the token.
  Rpc rpc(inv.config);
  int64_t rank = 1;
  for (bool first = true;; first = false) {
    grpc::ClientContext context;
    rpc.Prepare(&context);
    pamatch::v1::MatchJobsResponse response;
    grpc::Status status = rpc.stub().MatchJobs(&context, *request, &response);
    if (!status.ok()) return ReportRpcError(status);
    if (inv.config.json) {
      std::cout << ToJson(response) << "\n";
    } else {
      std::cout << FormatMatchJobsResponse(response, request->explain(), rank,
                                           /*with_header=*/first,
                                           /*show_token=*/false);
    }
    rank += response.results_size();
    if (response.next_page_token().empty()) return kExitOk;
    request->set_page_token(response.next_page_token());
  }
}

}  // namespace

std::vector<Command> JobCommands() {
  return {
      {"job post",
       "",
       "insert or replace one job (JSON --file and/or search flags)",
       JobFlagSpecs(),
       0,
       0,
       RunPost},
      {"job get", "ID", "print a job as JSON and whether it is open today", {},
       1, 1, RunGet},
      {"job delete", "ID", "delete a job", {}, 1, 1, RunDelete},
  };
}

std::vector<Command> MatchJobsCommands() {
  return {
      {"match-jobs",
       "",
       "the OPEN jobs a PA matches, ranked (--profile_id or --profile_file)",
       MatchJobsFlagSpecs(),
       0,
       0,
       RunMatchJobs},
  };
}

}  // namespace pamatch::cli
