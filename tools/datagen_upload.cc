// ProfileUploader (see datagen_upload.h).
#include "tools/datagen_upload.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace pamatch::tools {

namespace {
constexpr size_t kMaxReportedRejections = 5;
}  // namespace

ProfileUploader::ProfileUploader(std::shared_ptr<grpc::Channel> channel,
                                 std::string api_key, int64_t stream_timeout_ms)
    : channel_(std::move(channel)),
      stub_(v1::Matcher::NewStub(channel_)),
      api_key_(std::move(api_key)),
      stream_timeout_ms_(stream_timeout_ms) {}

grpc::Status ProfileUploader::SendChunk(
    const std::vector<v1::Profile>& profiles) {
  if (profiles.empty()) return grpc::Status::OK;
  grpc::ClientContext context;
  if (!api_key_.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", api_key_));
  }
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(stream_timeout_ms_));
  v1::BulkUpsertProfilesResponse response;
  auto writer = stub_->BulkUpsertProfiles(&context, &response);
  v1::UpsertProfileRequest request;
  for (const v1::Profile& p : profiles) {
    *request.mutable_profile() = p;
    // buffer_hint lets gRPC coalesce the small messages; WritesDone flushes.
    if (!writer->Write(request, grpc::WriteOptions().set_buffer_hint())) break;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) {
    unconfirmed_ += static_cast<int64_t>(profiles.size());
    return status;
  }
  accepted_ += response.accepted();
  rejected_ += response.rejected();
  // Items the server did not answer (a stream cut short) stay unconfirmed.
  unconfirmed_ += static_cast<int64_t>(profiles.size()) - response.accepted() -
                  response.rejected();
  for (const v1::BulkItemResult& r : response.results()) {
    if (r.code() != 0 && first_rejections_.size() < kMaxReportedRejections) {
      first_rejections_.push_back(absl::StrCat(r.id(), ": ", r.error()));
    }
  }
  return status;
}

}  // namespace pamatch::tools
