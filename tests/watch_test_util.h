// A Watch subscriber for tests: reads a Matcher.Watch stream on a thread of
// its own into a queue, so a test can wait for the next message with a
// timeout, and cancel or finish the stream.
#ifndef PA_MATCH_TESTS_WATCH_TEST_UTIL_H_
#define PA_MATCH_TESTS_WATCH_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/sync.h"
#include "pamatch/v1/matcher.grpc.pb.h"

namespace pamatch::testing {

// Thread-safety: one test thread calls the methods; the reader thread only
// fills the queue.
class WatchSubscriber {
 public:
  // Starts the call with `key` (none if empty) and a deadline of `deadline`.
  WatchSubscriber(v1::Matcher::Stub& stub, const std::string& key,
                  const v1::WatchRequest& request,
                  absl::Duration deadline = absl::Seconds(60)) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    if (!key.empty()) context_.AddMetadata("authorization", "Bearer " + key);
    reader_ = stub.Watch(&context_, request);
    thread_ = std::thread([this] {
      v1::WatchEvent event;
      while (reader_->Read(&event)) {
        MutexLock lock(&mu_);
        messages_.push_back(event);
        cv_.SignalAll();
      }
      grpc::Status status = reader_->Finish();
      MutexLock lock(&mu_);
      status_ = std::move(status);
      ended_ = true;
      cv_.SignalAll();
    });
  }
  ~WatchSubscriber() {
    Cancel();
    thread_.join();
  }
  WatchSubscriber(const WatchSubscriber&) = delete;
  WatchSubscriber& operator=(const WatchSubscriber&) = delete;

  // The next message (event or heartbeat), or nullopt if none came within
  // `timeout` or the stream ended.
  std::optional<v1::WatchEvent> Next(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    MutexLock lock(&mu_);
    while (messages_.empty() && !ended_) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      cv_.WaitFor(&mu_, left);
    }
    if (messages_.empty()) return std::nullopt;
    v1::WatchEvent event = std::move(messages_.front());
    messages_.pop_front();
    return event;
  }

  // The next MATCH_STARTED or MATCH_ENDED, skipping heartbeats.
  std::optional<v1::WatchEvent> NextEvent(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      std::optional<v1::WatchEvent> event = Next(deadline - absl::Now());
      if (!event.has_value() || event->kind() != v1::WatchEvent::HEARTBEAT) {
        return event;
      }
    }
  }

  void Cancel() { context_.TryCancel(); }

  // Waits up to `timeout` for the stream to end and returns its status
  // (DEADLINE_EXCEEDED, client side, if it has not ended by then).
  grpc::Status Finish(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    MutexLock lock(&mu_);
    while (!ended_) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                            "test: the stream did not end");
      }
      cv_.WaitFor(&mu_, left);
    }
    return status_;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader_;
  Mutex mu_;
  CondVar cv_;
  std::deque<v1::WatchEvent> messages_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace pamatch::testing

#endif  // PA_MATCH_TESTS_WATCH_TEST_UTIL_H_
