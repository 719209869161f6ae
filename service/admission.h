// Overload protection at the service edge (issue 18, point 4): a bounded
// number of calls in flight per kind, and no work for a call whose deadline
// has already passed.
//
// Kinds: reads (Search, MatchJobs, GetProfile, GetJob), writes
// (UpsertProfile, DeleteProfile, UpsertJob, DeleteJob, and the bulk
// streams) and admin calls
// (policies, GetStats, Backup). A call over its kind's bound is refused at
// once with RESOURCE_EXHAUSTED naming the bound and its flag: never queued,
// so memory and latency stay bounded whatever arrives. Reads run inline on
// gRPC's callback threads, so they are bounded by those threads as well;
// writes wait for the commit thread's fsync without holding a thread, and
// without this bound a flood of them would queue without limit.
// A bulk stream counts as one write for as long as it is open (and is
// bounded within by kBulkBatchesInFlight); Watch streams are not counted.
//
// Thread-safety: every method may be called from any thread; the counters
// are atomics.
#ifndef PA_MATCH_SERVICE_ADMISSION_H_
#define PA_MATCH_SERVICE_ADMISSION_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pamatch {

enum class CallKind : int { kRead = 0, kWrite = 1, kAdmin = 2 };
inline constexpr int kCallKinds = 3;

struct CallLimits {
  int reads = 512;    // --max_inflight_reads
  int writes = 4096;  // --max_inflight_writes
  int admin = 64;     // --max_inflight_admin
};

class Admission {
 public:
  explicit Admission(CallLimits limits = CallLimits());
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // One admitted call: holds its kind's slot until destroyed.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&&) = delete;
    Ticket(const Ticket&) = delete;
    ~Ticket();

   private:
    friend class Admission;
    Ticket(Admission* owner, CallKind kind) : owner_(owner), kind_(kind) {}
    Admission* owner_;
    CallKind kind_;
  };

  // A slot for a call of `kind`, or RESOURCE_EXHAUSTED if its kind has
  // its bound in flight already.
  absl::StatusOr<Ticket> Enter(CallKind kind);

  int64_t in_flight(CallKind kind) const;
  // Calls refused so far.
  int64_t shed(CallKind kind) const;

 private:
  const std::array<int, kCallKinds> limits_;
  std::array<std::atomic<int64_t>, kCallKinds> in_flight_{};
  std::array<std::atomic<int64_t>, kCallKinds> shed_{};
};

// DEADLINE_EXCEEDED if `deadline` is at or before `now`: a call that no
// caller waits for any more is not run.
absl::Status CheckDeadline(std::chrono::system_clock::time_point deadline,
                           std::chrono::system_clock::time_point now);

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_ADMISSION_H_
