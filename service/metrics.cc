#include "service/metrics.h"

#include <dirent.h>
#include <prometheus/client_metric.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pamatch {
namespace {

// Server time of an RPC: from a cached Health-like read (tens of
// microseconds) to a backup or a bulk import (seconds to minutes).
prometheus::Histogram::BucketBoundaries DurationBuckets() {
  return {25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3,   2.5e-3,
          5e-3,  10e-3, 25e-3,  50e-3,  100e-3, 250e-3, 500e-3,
          1.0,   2.5,   5.0,    10.0,   30.0,   60.0};
}

prometheus::ClientMetric Value(
    double value, std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  metric.counter.value = value;
  return metric;
}

prometheus::MetricFamily Family(std::string name, std::string help,
                                prometheus::MetricType type,
                                std::vector<prometheus::ClientMetric> metrics) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  family.metric = std::move(metrics);
  return family;
}

prometheus::MetricFamily Gauge(std::string name, std::string help,
                               double value) {
  return Family(std::move(name), std::move(help), prometheus::MetricType::Gauge,
                {Value(value)});
}

// What /proc/self says of this process; nullopt where it cannot be read.
struct ProcessStats {
  std::optional<double> cpu_seconds, start_time_seconds, resident_bytes,
      virtual_bytes, open_fds;
};

// "btime" of /proc/stat: the boot time, seconds since the Unix epoch.
std::optional<double> BootTimeSeconds() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime" && (stat >> value)) return value;
    stat.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

ProcessStats ReadProcessStats() {
  ProcessStats out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces; the
  // fields after its closing parenthesis start at field 3 (state).
  if (const size_t close = stat.rfind(')');
      close != std::string::npos && ticks > 0) {
    std::vector<absl::string_view> fields = absl::StrSplit(
        absl::string_view(stat).substr(close + 1), ' ', absl::SkipEmpty());
    // fields[0] is field 3; utime 14, stime 15, starttime 22, vsize 23,
    // rss 24 (pages).
    auto field = [&](size_t number) -> std::optional<double> {
      double value = 0;
      if (number - 3 >= fields.size() ||
          !absl::SimpleAtod(fields[number - 3], &value)) {
        return std::nullopt;
      }
      return value;
    };
    const auto utime = field(14), stime = field(15);
    if (utime && stime) out.cpu_seconds = (*utime + *stime) / ticks;
    if (const auto vsize = field(23)) out.virtual_bytes = *vsize;
    if (const auto rss = field(24)) out.resident_bytes = *rss * page;
    // The boot time (`btime`, whole seconds) plus the start in ticks after
    // boot: the same value at every scrape, so a change means a restart.
    static const std::optional<double> boot = BootTimeSeconds();  // fixed
    if (const auto start = field(22); start && boot) {
      out.start_time_seconds = *boot + *start / ticks;
    }
  }
  if (DIR* dir = ::opendir("/proc/self/fd"); dir != nullptr) {
    int64_t count = 0;
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    ::closedir(dir);
    out.open_fds = static_cast<double>(count - 1);  // not the DIR's own fd
  }
  return out;
}

// Whether `address` is an IPv4 address or a bracketed IPv6 one, a colon and
// a port 0..65535. civetweb would read a bare port as "every interface"
// and a comma as a list of ports.
bool IsHostAndPort(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return false;
  const absl::string_view host = address.substr(0, colon);
  const absl::string_view port = address.substr(colon + 1);
  int port_number = 0;
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port, &port_number) || port_number > 65535) {
    return false;
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    const absl::string_view v6 = host.substr(1, host.size() - 2);
    return std::all_of(v6.begin(), v6.end(), [](char c) {
      return absl::ascii_isxdigit(c) || c == ':' || c == '.';
    });
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  return parts.size() == 4 &&
         std::all_of(parts.begin(), parts.end(), [](absl::string_view part) {
           return !part.empty() && part.size() <= 3 &&
                  std::all_of(part.begin(), part.end(), absl::ascii_isdigit);
         });
}

}  // namespace

absl::string_view RpcMethodName(RpcMethod method) {
  switch (method) {
    case RpcMethod::kUpsertProfile:
      return "UpsertProfile";
    case RpcMethod::kBulkUpsertProfiles:
      return "BulkUpsertProfiles";
    case RpcMethod::kGetProfile:
      return "GetProfile";
    case RpcMethod::kDeleteProfile:
      return "DeleteProfile";
    case RpcMethod::kSearch:
      return "Search";
    case RpcMethod::kSetPolicy:
      return "SetPolicy";
    case RpcMethod::kGetPolicy:
      return "GetPolicy";
    case RpcMethod::kListPolicies:
      return "ListPolicies";
    case RpcMethod::kDeletePolicy:
      return "DeletePolicy";
    case RpcMethod::kGetStats:
      return "GetStats";
    case RpcMethod::kBackup:
      return "Backup";
    case RpcMethod::kUpsertJob:
      return "UpsertJob";
    case RpcMethod::kBulkUpsertJobs:
      return "BulkUpsertJobs";
    case RpcMethod::kGetJob:
      return "GetJob";
    case RpcMethod::kDeleteJob:
      return "DeleteJob";
    case RpcMethod::kMatchJobs:
      return "MatchJobs";
    case RpcMethod::kWatch:
      return "Watch";
  }
  return "unknown";
}

RpcMetrics::RpcMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("pamatch_rpc_requests_total")
                    .Help("Matcher RPCs finished, by method and gRPC status "
                          "code")
                    .Register(registry)),
      bulk_items_(prometheus::BuildCounter()
                      .Name("pamatch_bulk_items_total")
                      .Help("Items of BulkUpsertProfiles streams, by result")
                      .Register(registry)),
      bulk_accepted_(bulk_items_.Add({{"result", "accepted"}})),
      bulk_rejected_(bulk_items_.Add({{"result", "rejected"}})),
      bulk_job_items_(prometheus::BuildCounter()
                          .Name("pamatch_bulk_job_items_total")
                          .Help("Items of BulkUpsertJobs streams, by result")
                          .Register(registry)),
      bulk_jobs_accepted_(bulk_job_items_.Add({{"result", "accepted"}})),
      bulk_jobs_rejected_(bulk_job_items_.Add({{"result", "rejected"}})),
      watch_streams_(prometheus::BuildGauge()
                         .Name("pamatch_watch_streams")
                         .Help("Watch streams open (admitted and streaming)")
                         .Register(registry)
                         .Add({})),
      watch_messages_(prometheus::BuildCounter()
                          .Name("pamatch_watch_messages_total")
                          .Help("Messages written to Watch streams, by kind")
                          .Register(registry)),
      watch_started_(watch_messages_.Add({{"kind", "match_started"}})),
      watch_ended_(watch_messages_.Add({{"kind", "match_ended"}})),
      watch_heartbeats_(watch_messages_.Add({{"kind", "heartbeat"}})),
      rate_limited_(prometheus::BuildCounter()
                        .Name("pamatch_rate_limited_total")
                        .Help("Calls refused because their API key was over "
                              "its rate (RESOURCE_EXHAUSTED)")
                        .Register(registry)
                        .Add({})) {
  auto& durations =
      prometheus::BuildHistogram()
          .Name("pamatch_rpc_duration_seconds")
          .Help(
              "Server time of a Matcher RPC, from the handler's start to "
              "its answer (writes: until synced), by method")
          .Register(registry);
  for (int m = 0; m < kRpcMethods; ++m) {
    const std::string method(RpcMethodName(static_cast<RpcMethod>(m)));
    durations_[m] = &durations.Add({{"method", method}}, DurationBuckets());
    // OK is there from the start, so a rate over it starts at zero.
    counters_[m][0].store(&requests_.Add({{"method", method}, {"code", "OK"}}),
                          std::memory_order_release);
  }
}

void RpcMetrics::Record(RpcMethod method, absl::StatusCode code,
                        Clock::time_point start) {
  const int m = static_cast<int>(method);
  int c = static_cast<int>(code);
  if (c < 0 || c >= kCodes) c = static_cast<int>(absl::StatusCode::kUnknown);
  prometheus::Counter* counter =
      counters_[m][c].load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &requests_.Add(
        {{"method", std::string(RpcMethodName(method))},
         {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(c))}});
    counters_[m][c].store(counter, std::memory_order_release);
  }
  counter->Increment();
  durations_[m]->Observe(
      std::chrono::duration<double>(Clock::now() - start).count());
}

void RpcMetrics::RecordBulkItems(RpcMethod method, int64_t accepted,
                                 int64_t rejected) {
  const bool jobs = method == RpcMethod::kBulkUpsertJobs;
  prometheus::Counter& accepted_counter =
      jobs ? bulk_jobs_accepted_ : bulk_accepted_;
  prometheus::Counter& rejected_counter =
      jobs ? bulk_jobs_rejected_ : bulk_rejected_;
  if (accepted > 0) accepted_counter.Increment(static_cast<double>(accepted));
  if (rejected > 0) rejected_counter.Increment(static_cast<double>(rejected));
}

void RpcMetrics::RecordWatchMessage(v1::WatchEvent::Kind kind) {
  switch (kind) {
    case v1::WatchEvent::MATCH_STARTED:
      watch_started_.Increment();
      return;
    case v1::WatchEvent::MATCH_ENDED:
      watch_ended_.Increment();
      return;
    case v1::WatchEvent::HEARTBEAT:
      watch_heartbeats_.Increment();
      return;
    default:
      return;
  }
}

void StateCollector::SetEngine(Engine* engine) {
  engine_.store(engine, std::memory_order_release);
}

std::vector<prometheus::MetricFamily> StateCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  Engine* engine = engine_.load(std::memory_order_acquire);
  out.push_back(Gauge("pamatch_ready",
                      "1 once the engine is open and serving, else 0",
                      engine != nullptr ? 1 : 0));
  if (engine != nullptr) {
    const v1::GetStatsResponse stats = engine->Stats();
    out.push_back(Family("pamatch_build_info",
                         "Always 1; the version in a label", MetricType::Gauge,
                         {Value(1, {{"version", stats.version()}})}));
    out.push_back(Family("pamatch_profiles", "Profiles held, by status",
                         MetricType::Gauge,
                         {Value(static_cast<double>(stats.active_profiles()),
                                {{"status", "active"}}),
                          Value(static_cast<double>(stats.paused_profiles()),
                                {{"status", "paused"}})}));
    // Sorted by code, so a scrape reads the same from one to the next.
    const std::map<std::string, int64_t> by_la(
        stats.profiles_by_local_authority().begin(),
        stats.profiles_by_local_authority().end());
    std::vector<prometheus::ClientMetric> la_metrics;
    for (const auto& [code, count] : by_la) {
      la_metrics.push_back(
          Value(static_cast<double>(count), {{"local_authority", code}}));
    }
    out.push_back(Family("pamatch_profiles_by_local_authority",
                         "Profiles held (active and paused), by the ONS code "
                         "of the PA's local authority",
                         MetricType::Gauge, std::move(la_metrics)));
    out.push_back(Gauge("pamatch_policies", "Local authority policies set",
                        static_cast<double>(stats.policies())));
    out.push_back(Gauge("pamatch_jobs", "Jobs stored (any status)",
                        static_cast<double>(stats.jobs())));
    out.push_back(Gauge("pamatch_jobs_open",
                        "Jobs that can match today (status OPEN, closes_on "
                        "not past)",
                        static_cast<double>(stats.open_jobs())));
    out.push_back(Gauge("pamatch_alert_last_event_sequence",
                        "Sequence of the last alert event written (0: none "
                        "yet); never goes back, across restarts",
                        static_cast<double>(stats.last_event_sequence())));
    out.push_back(Gauge("pamatch_alert_oldest_event_sequence",
                        "Sequence of the oldest alert event still retained; "
                        "a subscriber behind it must resynchronise",
                        static_cast<double>(stats.oldest_event_sequence())));
    out.push_back(Gauge("pamatch_alert_retained_events",
                        "Alert events retained for Watch subscribers",
                        static_cast<double>(stats.retained_events())));
    out.push_back(Gauge("pamatch_index_unsorted_profiles",
                        "Profiles in grid cells that writes have put out of "
                        "travel order since the last relayout",
                        static_cast<double>(stats.unsorted_profiles())));
    out.push_back(
        Family("pamatch_index_relayouts_total",
               "Index relayouts done since start", MetricType::Counter,
               {Value(static_cast<double>(stats.index_relayouts()))}));
    out.push_back(Gauge("pamatch_index_last_relayout_seconds",
                        "How long the last index relayout took",
                        stats.last_relayout_seconds()));
  }
  const ProcessStats process = ReadProcessStats();
  if (process.cpu_seconds) {
    out.push_back(Family("process_cpu_seconds_total",
                         "User and system CPU time of the process, seconds",
                         MetricType::Counter, {Value(*process.cpu_seconds)}));
  }
  if (process.resident_bytes) {
    out.push_back(Gauge("process_resident_memory_bytes",
                        "Resident memory size, bytes",
                        *process.resident_bytes));
  }
  if (process.virtual_bytes) {
    out.push_back(Gauge("process_virtual_memory_bytes",
                        "Virtual memory size, bytes", *process.virtual_bytes));
  }
  if (process.open_fds) {
    out.push_back(
        Gauge("process_open_fds", "Open file descriptors", *process.open_fds));
  }
  if (process.start_time_seconds) {
    out.push_back(Gauge("process_start_time_seconds",
                        "Start time of the process, seconds since the Unix "
                        "epoch",
                        *process.start_time_seconds));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, const ApiKeyStore* keys,
    std::shared_ptr<prometheus::Registry> registry,
    std::shared_ptr<StateCollector> state) {
  if (!IsHostAndPort(address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics_listen: \"", address.substr(0, 64),
        "\" is not IPV4:PORT or [IPV6]:PORT (e.g. 127.0.0.1:9464)"));
  }
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->registry_ = std::move(registry);
  endpoint->state_ = std::move(state);
  try {
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", address, ": ", e.what()));
  }
  const std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", address));
  }
  endpoint->port_ = ports.front();
  endpoint->exposer_->RegisterAuth(
      [keys](const std::string& /*user*/, const std::string& password) {
        return keys
            ->Authorize(absl::StrCat("Bearer ", password), Scope::kMetrics)
            .ok();
      },
      "pa-matchd metrics (password: an API key with scope metrics)");
  endpoint->exposer_->RegisterCollectable(endpoint->registry_);
  endpoint->exposer_->RegisterCollectable(endpoint->state_);
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

}  // namespace pamatch
