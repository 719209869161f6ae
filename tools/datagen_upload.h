// Streams generated profiles straight into a pa-match server with
// BulkUpsertProfiles, one stream per chunk (as `pa-match import` does), so a
// data set can be loaded without writing a JSON Lines file first.
#ifndef PA_MATCH_TOOLS_DATAGEN_UPLOAD_H_
#define PA_MATCH_TOOLS_DATAGEN_UPLOAD_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pamatch/v1/matcher.grpc.pb.h"

namespace pamatch::tools {

// One connection to a server and the running totals of what it answered.
// Single-threaded: one caller sends chunks one after another.
class ProfileUploader {
 public:
  // `channel` leads to the server (plaintext or TLS: CreateClientChannel,
  // common/tls_channel.h). A non-empty `api_key` is sent as
  // "authorization: Bearer <key>", the convention of every pa-match client;
  // the key needs the `write` scope.
  ProfileUploader(std::shared_ptr<grpc::Channel> channel, std::string api_key,
                  int64_t stream_timeout_ms);

  // Sends `profiles` as one BulkUpsertProfiles stream and adds the server's
  // per-item results to the totals. A non-OK status means the stream itself
  // failed (unreachable server, bad key, deadline): its items are counted as
  // unconfirmed.
  grpc::Status SendChunk(const std::vector<v1::Profile>& profiles);

  int64_t accepted() const { return accepted_; }
  int64_t rejected() const { return rejected_; }
  int64_t unconfirmed() const { return unconfirmed_; }
  // The first few rejections, "id: message", for the final report.
  const std::vector<std::string>& first_rejections() const {
    return first_rejections_;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Matcher::Stub> stub_;
  std::string api_key_;
  int64_t stream_timeout_ms_;
  int64_t accepted_ = 0;
  int64_t rejected_ = 0;
  int64_t unconfirmed_ = 0;
  std::vector<std::string> first_rejections_;
};

}  // namespace pamatch::tools

#endif  // PA_MATCH_TOOLS_DATAGEN_UPLOAD_H_
