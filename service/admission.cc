#include "service/admission.h"

#include "absl/strings/str_cat.h"

namespace pamatch {
namespace {

const char* KindName(CallKind kind) {
  switch (kind) {
    case CallKind::kRead:
      return "reads";
    case CallKind::kWrite:
      return "writes";
    case CallKind::kAdmin:
      return "admin";
  }
  return "calls";
}

}  // namespace

Admission::Admission(CallLimits limits)
    : limits_{limits.reads, limits.writes, limits.admin} {}

Admission::Ticket::Ticket(Ticket&& other) noexcept
    : owner_(other.owner_), kind_(other.kind_) {
  other.owner_ = nullptr;
}

Admission::Ticket::~Ticket() {
  if (owner_ != nullptr) {
    owner_->in_flight_[static_cast<int>(kind_)].fetch_sub(
        1, std::memory_order_acq_rel);
  }
}

absl::StatusOr<Admission::Ticket> Admission::Enter(CallKind kind) {
  const int k = static_cast<int>(kind);
  if (in_flight_[k].fetch_add(1, std::memory_order_acq_rel) >= limits_[k]) {
    in_flight_[k].fetch_sub(1, std::memory_order_acq_rel);
    shed_[k].fetch_add(1, std::memory_order_relaxed);
    return absl::ResourceExhaustedError(absl::StrCat(
        "overloaded: ", limits_[k], " ", KindName(kind),
        " already in flight (pa-matchd --max_inflight_", KindName(kind),
        "); retry with backoff"));
  }
  return Ticket(this, kind);
}

int64_t Admission::in_flight(CallKind kind) const {
  return in_flight_[static_cast<int>(kind)].load(std::memory_order_acquire);
}

int64_t Admission::shed(CallKind kind) const {
  return shed_[static_cast<int>(kind)].load(std::memory_order_relaxed);
}

absl::Status CheckDeadline(std::chrono::system_clock::time_point deadline,
                           std::chrono::system_clock::time_point now) {
  if (deadline > now) return absl::OkStatus();
  return absl::DeadlineExceededError(
      "the call's deadline had passed before it could be run");
}

}  // namespace pamatch
