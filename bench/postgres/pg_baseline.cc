// pa-match-pg-baseline: drives the PostgreSQL + PostGIS baseline
// (bench/postgres/, docs/POSTGRES-BASELINE.md) with the standard query mix
// (bench/query_mix.h), the same requests pa-match's benchmarks send.
//
//   pa-match-pg-baseline check --pg CONNINFO --server HOST:PORT --key_file F
//       Copies pa-matchd's policies into PostgreSQL, then runs --variants
//       requests of each kind on both and compares total_matches and the
//       first page (ids, scores, distances, register levels, applied
//       policy). Prints every mismatch; exit 1 if there is any.
//   pa-match-pg-baseline run --pg CONNINFO --concurrency C --duration_s D
//       Closed loop: C workers, one connection each, each sending the five
//       kinds in turn; after --warmup_s, records D seconds and reports QPS
//       and p50/p90/p99/max overall and per kind (text, and JSON with
//       --json_out). With --system pamatch the same loop goes to pa-matchd
//       over gRPC (--server, --key_file), one channel per worker.
//
// Threads in run mode: PostgreSQL's workers are a thread each (libpq blocks);
// pa-matchd's are all driven by the calling thread through one completion
// queue. ClosedLoop's slots are each touched by one worker at a time.
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/query_mix.h"
#include "common/program_help.h"
#include "grpcpp/grpcpp.h"
#include "pamatch/v1/matcher.grpc.pb.h"

ABSL_FLAG(std::string, pg, "host=127.0.0.1 dbname=pamatch user=postgres",
          "libpq connection string of the baseline database");
ABSL_FLAG(std::string, server, "127.0.0.1:50051", "pa-matchd address (check)");
ABSL_FLAG(std::string, key_file, "data/admin.key",
          "file holding a pa-matchd API key with search scope (check)");
ABSL_FLAG(int, variants, 20, "check: requests of each kind (variants 0..N-1)");
ABSL_FLAG(int, concurrency, 4, "run: workers, one connection each");
ABSL_FLAG(double, duration_s, 30, "run: measured seconds");
ABSL_FLAG(double, warmup_s, 5, "run: seconds run before measuring");
ABSL_FLAG(std::string, json_out, "", "run: also write the figures as JSON here");
ABSL_FLAG(std::string, system, "postgres",
          "run: 'postgres', or 'pamatch' to send the same closed loop to "
          "pa-matchd (--server, --key_file) over gRPC, one channel per "
          "worker, for a like-for-like comparison");

namespace {

using pamatch::bench::AllQueryKinds;
using pamatch::bench::QueryKind;
using pamatch::bench::QueryKindName;
using pamatch::bench::StandardQuery;
namespace v1 = pamatch::v1;

constexpr char kStatement[] = "pa_search";
constexpr char kSql[] =
    "SELECT id, score, distance_km, register_level, total_matches, "
    "applied_policy FROM pa_search($1::float8, $2::float8, $3::text, "
    "$4::float8, $5::text[], $6::text[], $7::text[], $8::text[], $9::int, "
    "$10::int, $11::int, $12::bool, $13::bool, $14::bool, $15::bool, "
    "$16::text[], $17::text[], $18::int[], $19::int[], $20::int, $21::text[], "
    "$22::text[], $23::float8, $24::bool, $25::bigint, $26::text[], "
    "$27::date, $28::float8[], $29::int)";
constexpr int kParams = 29;

// Shortest text that reads back as the same double.
std::string Double(double x) { return absl::StrFormat("%.17g", x); }

std::string Bool(bool b) { return b ? "t" : "f"; }

// A PostgreSQL array literal of quoted elements.
template <typename Container>
std::string TextArray(const Container& values) {
  std::string out = "{";
  bool first = true;
  for (const auto& v : values) {
    if (!first) out += ',';
    first = false;
    out += '"';
    for (char c : std::string(v)) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

template <typename Container>
std::string IntArray(const Container& values) {
  std::vector<std::string> parts;
  for (const auto& v : values) parts.push_back(absl::StrCat(static_cast<int>(v)));
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string TodayUtc() {
  return absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
}

// pa_search's 29 parameters (search.sql) from a SearchRequest; nullopt =
// SQL NULL.
std::vector<std::optional<std::string>> Params(const v1::SearchRequest& r) {
  std::vector<std::optional<std::string>> p(kParams);
  if (r.has_location()) {
    p[0] = Double(r.location().lat());
    p[1] = Double(r.location().lon());
  }
  p[2] = r.local_authority();
  if (r.has_max_distance_km()) p[3] = Double(r.max_distance_km());
  p[4] = TextArray(r.must_have_skills());
  p[5] = TextArray(r.nice_to_have_skills());
  p[6] = TextArray(r.required_training());
  p[7] = TextArray(r.preferred_training());
  p[8] = absl::StrCat(static_cast<int>(r.min_dbs_level()));
  if (r.has_dbs_max_age_months()) p[9] = absl::StrCat(r.dbs_max_age_months());
  p[10] = absl::StrCat(r.min_register_level());
  p[11] = Bool(r.requires_driver());
  p[12] = Bool(r.requires_car());
  p[13] = Bool(r.has_pets());
  p[14] = Bool(r.requires_non_smoker());
  p[15] = TextArray(r.required_languages());
  p[16] = TextArray(r.preferred_languages());
  p[17] = IntArray(r.preferred_genders());
  p[18] = IntArray(r.preferred_age_bands());
  p[19] = absl::StrCat(static_cast<int>(r.required_gender()));
  p[20] = TextArray(r.interests());
  std::vector<std::string> schedule;
  for (const v1::TimeInterval& t : r.schedule()) {
    schedule.push_back(absl::StrCat(static_cast<int>(t.day()), " ", t.start(),
                                    " ", t.end()));
  }
  p[21] = TextArray(schedule);
  p[22] = Double(r.min_schedule_coverage());
  p[23] = Bool(r.short_notice());
  p[24] = absl::StrCat(r.max_hourly_rate_pence());
  p[25] = TextArray(r.exclude_ids());
  p[26] = r.as_of().empty() ? TodayUtc() : r.as_of();
  if (r.has_weights()) {
    const v1::Weights& w = r.weights();
    auto one = [](bool has, double v) { return has ? Double(v) : "NULL"; };
    p[27] = absl::StrCat(
        "{", absl::StrJoin({one(w.has_skills(), w.skills()),
                            one(w.has_schedule(), w.schedule()),
                            one(w.has_distance(), w.distance()),
                            one(w.has_interests(), w.interests()),
                            one(w.has_preferences(), w.preferences()),
                            one(w.has_training(), w.training()),
                            one(w.has_trust(), w.trust()),
                            one(w.has_recency(), w.recency())},
                           ","),
        "}");
  }
  p[28] = absl::StrCat(r.page_size() == 0 ? 20 : r.page_size());
  return p;
}

struct Row {
  std::string id;
  double score = 0;
  double distance_km = 0;
  int register_level = 0;
};

struct Page {
  std::vector<Row> rows;
  int64_t total_matches = 0;
  std::string applied_policy;  // known only when rows is non-empty
};

class PgConnection {
 public:
  explicit PgConnection(const std::string& conninfo)
      : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      Die(absl::StrCat("cannot connect to PostgreSQL: ", PQerrorMessage(conn_)));
    }
    PGresult* res = PQprepare(conn_, kStatement, kSql, 0, nullptr);
    Check(res, PGRES_COMMAND_OK, "prepare");
    PQclear(res);
  }
  ~PgConnection() { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Page Search(const v1::SearchRequest& request) {
    const auto params = Params(request);
    const char* values[kParams];
    for (int i = 0; i < kParams; ++i) {
      values[i] = params[i] ? params[i]->c_str() : nullptr;
    }
    PGresult* res = PQexecPrepared(conn_, kStatement, kParams, values, nullptr,
                                   nullptr, 0);
    Check(res, PGRES_TUPLES_OK, "pa_search");
    Page page;
    const int n = PQntuples(res);
    for (int i = 0; i < n; ++i) {
      Row row;
      row.id = PQgetvalue(res, i, 0);
      row.score = std::strtod(PQgetvalue(res, i, 1), nullptr);
      row.distance_km = std::strtod(PQgetvalue(res, i, 2), nullptr);
      row.register_level = std::atoi(PQgetvalue(res, i, 3));
      page.total_matches = std::strtoll(PQgetvalue(res, i, 4), nullptr, 10);
      page.applied_policy = PQgetvalue(res, i, 5);
      page.rows.push_back(std::move(row));
    }
    PQclear(res);
    return page;
  }

  // Runs `sql` (no result rows expected); dies on error.
  void Exec(const std::string& sql) {
    PGresult* res = PQexec(conn_, sql.c_str());
    Check(res, PGRES_COMMAND_OK, sql);
    PQclear(res);
  }

  std::string Quote(const std::string& text) {
    char* quoted = PQescapeLiteral(conn_, text.data(), text.size());
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
  }

 private:
  [[noreturn]] static void Die(const std::string& message) {
    std::fprintf(stderr, "pa-match-pg-baseline: %s\n", message.c_str());
    std::exit(2);
  }
  void Check(PGresult* res, ExecStatusType want, const std::string& what) {
    if (PQresultStatus(res) != want) {
      const std::string error = PQresultErrorMessage(res);
      PQclear(res);
      Die(absl::StrCat(what.substr(0, 200), ": ", error));
    }
  }

  PGconn* conn_;
};

std::string ReadKey(const std::string& path) {
  std::ifstream in(path);
  std::string key;
  in >> key;
  return key;
}

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Percentile(std::vector<double> sorted_ms, double p) {
  if (sorted_ms.empty()) return 0;
  std::sort(sorted_ms.begin(), sorted_ms.end());
  // Nearest rank.
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * sorted_ms.size()));
  return sorted_ms[std::clamp<size_t>(rank, 1, sorted_ms.size()) - 1];
}

// Replaces PostgreSQL's policies with pa-matchd's, so both judge every
// search with the same floors.
void SyncPolicies(v1::Matcher::Stub& stub, const std::string& key,
                  PgConnection& pg) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + key);
  v1::ListPoliciesResponse policies;
  grpc::Status status =
      stub.ListPolicies(&context, v1::ListPoliciesRequest(), &policies);
  if (!status.ok()) {
    std::fprintf(stderr, "ListPolicies: %s\n", status.error_message().c_str());
    std::exit(2);
  }
  std::string sql = "BEGIN; DELETE FROM la_policy;";
  for (const v1::Policy& p : policies.policies()) {
    std::vector<std::string> training(p.required_training().begin(),
                                      p.required_training().end());
    absl::StrAppend(&sql, " INSERT INTO la_policy VALUES (",
                    pg.Quote(p.local_authority()), ", ",
                    std::max(1, static_cast<int>(p.min_dbs_level())), ", ",
                    p.min_register_level(), ", ",
                    pg.Quote(TextArray(training)), "::text[]);");
    std::printf("policy mirrored: %s dbs>=%d level>=%d training={%s}\n",
                p.local_authority().c_str(), static_cast<int>(p.min_dbs_level()),
                p.min_register_level(),
                absl::StrJoin(training, ",").c_str());
  }
  sql += " COMMIT;";
  pg.Exec(sql);
  std::printf("%d policies on pa-matchd, mirrored into PostgreSQL\n",
              policies.policies_size());
}

int Check() {
  PgConnection pg(absl::GetFlag(FLAGS_pg));
  const std::string key = ReadKey(absl::GetFlag(FLAGS_key_file));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(
      absl::GetFlag(FLAGS_server), grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Matcher::NewStub(channel);
  SyncPolicies(*stub, key, pg);

  int mismatches = 0;
  int compared = 0;
  std::printf("%-13s %9s %12s %12s %12s %12s\n", "kind", "requests",
              "pa-match p50", "pa-match max", "postgres p50", "postgres max");
  for (QueryKind kind : AllQueryKinds()) {
    std::vector<double> grpc_ms, pg_ms;
    std::vector<int64_t> totals;
    for (int v = 0; v < absl::GetFlag(FLAGS_variants); ++v) {
      const v1::SearchRequest request = StandardQuery(kind, v);
      const std::string label =
          absl::StrCat(std::string(QueryKindName(kind)), " variant ", v);

      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + key);
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(60));
      v1::SearchResponse want;
      auto t0 = std::chrono::steady_clock::now();
      grpc::Status status = stub->Search(&context, request, &want);
      auto t1 = std::chrono::steady_clock::now();
      if (!status.ok()) {
        std::fprintf(stderr, "%s: pa-match Search: %s\n", label.c_str(),
                     status.error_message().c_str());
        return 2;
      }
      const Page got = pg.Search(request);
      auto t2 = std::chrono::steady_clock::now();
      grpc_ms.push_back(Ms(t1 - t0));
      pg_ms.push_back(Ms(t2 - t1));
      totals.push_back(want.total_matches());
      ++compared;

      std::vector<std::string> errors;
      if (got.total_matches != want.total_matches() &&
          !(got.rows.empty() && want.total_matches() == 0)) {
        errors.push_back(absl::StrCat("total_matches: pa-match ",
                                      want.total_matches(), ", postgres ",
                                      got.total_matches));
      }
      if (static_cast<int>(got.rows.size()) != want.results_size()) {
        errors.push_back(absl::StrCat("page size: pa-match ",
                                      want.results_size(), ", postgres ",
                                      got.rows.size()));
      }
      if (!got.rows.empty() && got.applied_policy != want.applied_policy()) {
        errors.push_back(absl::StrCat("applied_policy: pa-match \"",
                                      want.applied_policy(), "\", postgres \"",
                                      got.applied_policy, "\""));
      }
      const int n = std::min<int>(got.rows.size(), want.results_size());
      for (int i = 0; i < n; ++i) {
        const v1::SearchResult& w = want.results(i);
        const Row& g = got.rows[i];
        if (w.id() != g.id || w.score() != g.score ||
            w.distance_km() != g.distance_km ||
            w.register_level() != g.register_level) {
          errors.push_back(absl::StrFormat(
              "rank %d: pa-match %s %.17g %.17g L%d, postgres %s %.17g %.17g "
              "L%d",
              i + 1, w.id(), w.score(), w.distance_km(), w.register_level(),
              g.id, g.score, g.distance_km, g.register_level));
        }
      }
      if (!errors.empty()) {
        ++mismatches;
        std::printf("MISMATCH %s:\n", label.c_str());
        for (const std::string& e : errors) std::printf("  %s\n", e.c_str());
      }
    }
    std::sort(totals.begin(), totals.end());
    std::printf("%-13s %9zu %10.2fms %10.2fms %10.2fms %10.2fms  (matches %" PRId64
                "..%" PRId64 ")\n",
                std::string(QueryKindName(kind)).c_str(), grpc_ms.size(),
                Percentile(grpc_ms, 50),
                *std::max_element(grpc_ms.begin(), grpc_ms.end()),
                Percentile(pg_ms, 50),
                *std::max_element(pg_ms.begin(), pg_ms.end()), totals.front(),
                totals.back());
  }
  std::printf("%s: %d of %d requests differ (total_matches and first page: "
              "ids, scores, distances, levels)\n",
              mismatches == 0 ? "IDENTICAL" : "DIFFERENT", mismatches, compared);
  return mismatches == 0 ? 0 : 1;
}

using Clock = std::chrono::steady_clock;

// The closed loop's bookkeeping, shared by both systems' workers. Worker w
// calls Next(w) for its next request and Completed(w) when the answer has
// arrived, strictly in turn (one request outstanding per worker); workers
// touch only their own slot, so no locking is needed.
class ClosedLoop {
 public:
  ClosedLoop(int workers, double warmup_s, double duration_s)
      : workers_(workers),
        warmup_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(warmup_s))),
        duration_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(duration_s))),
        slots_(workers) {
    // Each worker starts at a different kind and variant, so the mix is
    // even and the workers do not send the same request in lock step.
    for (int w = 0; w < workers; ++w) {
      slots_[w].n = static_cast<uint64_t>(w);
      slots_[w].ms.resize(AllQueryKinds().size());
    }
  }

  // Starts the clock: the warm-up, then the measured window. Call once,
  // after every worker has connected and before any calls Next.
  void Start() {
    measure_from_ = Clock::now() + warmup_;
    stop_ = measure_from_ + duration_;
  }

  // Worker w's next request, or false once the window has closed.
  bool Next(int w, v1::SearchRequest* request) {
    Slot& slot = slots_[w];
    slot.sent = Clock::now();
    if (slot.sent >= stop_) return false;
    const size_t kind_count = AllQueryKinds().size();
    slot.kind = slot.n % kind_count;
    const uint64_t variant = (slot.n / kind_count) * workers_ + w;
    *request = StandardQuery(AllQueryKinds()[slot.kind], variant % 1000);
    ++slot.n;
    return true;
  }

  // Worker w's request has been answered. Throughput counts the requests
  // completed inside the window (a closed loop's completions per second);
  // requests still running at its end are not waited for. Requiring
  // "started inside" too would drop the slowest kinds' requests whenever
  // latencies approach the window's length.
  void Completed(int w) {
    Slot& slot = slots_[w];
    const Clock::time_point done = Clock::now();
    if (done >= measure_from_ && done <= stop_) {
      slot.ms[slot.kind].push_back(Ms(done - slot.sent));
    }
  }

  // Latencies of every worker, per kind (call after all workers stopped).
  std::vector<std::vector<double>> PerKind() const {
    std::vector<std::vector<double>> per_kind(AllQueryKinds().size());
    for (const Slot& slot : slots_) {
      for (size_t k = 0; k < per_kind.size(); ++k) {
        per_kind[k].insert(per_kind[k].end(), slot.ms[k].begin(),
                           slot.ms[k].end());
      }
    }
    return per_kind;
  }

 private:
  struct Slot {
    uint64_t n = 0;
    size_t kind = 0;
    Clock::time_point sent;
    std::vector<std::vector<double>> ms;  // per kind
  };
  const int workers_;
  const Clock::duration warmup_, duration_;
  Clock::time_point measure_from_, stop_;
  std::vector<Slot> slots_;
};

// PostgreSQL's workers: a thread each on its own connection, as libpq's
// calls block.
void RunPostgres(ClosedLoop& loop, int workers) {
  std::vector<std::unique_ptr<PgConnection>> connections;
  for (int w = 0; w < workers; ++w) {
    connections.push_back(
        std::make_unique<PgConnection>(absl::GetFlag(FLAGS_pg)));
  }
  loop.Start();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      v1::SearchRequest request;
      while (loop.Next(w, &request)) {
        connections[w]->Search(request);
        loop.Completed(w);
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

// pa-matchd's workers: a gRPC channel each (a TCP connection each, as each
// PostgreSQL worker has its own), all driven by one thread through a
// completion queue: the thread sends every worker's first request, then
// takes each answer off the queue and sends that worker's next. One thread
// polls the sockets and runs the loop, so no thread hands an answer to
// another (gRPC's synchronous client costs two such hand-offs per call).
class GrpcWorker {
 public:
  GrpcWorker(int w, const std::string& server, const std::string& key)
      : w_(w), authorization_("Bearer " + key) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    // A distinct argument per worker gives each its own connection.
    args.SetInt("pamatch.pg_baseline.worker", w);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    stub_ = v1::Matcher::NewStub(grpc::CreateCustomChannel(
        server, grpc::InsecureChannelCredentials(), args));
  }

  // Sends the worker's next request, its completion tagged with this; false
  // once the window has closed.
  bool Send(ClosedLoop& loop, grpc::CompletionQueue* cq) {
    if (!loop.Next(w_, &request_)) return false;
    context_ = std::make_unique<grpc::ClientContext>();
    context_->AddMetadata("authorization", authorization_);
    context_->set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(120));
    response_.Clear();
    reader_ = stub_->AsyncSearch(context_.get(), request_, cq);
    reader_->Finish(&response_, &status_, this);
    return true;
  }

  // The answer to the request Send sent has arrived.
  void Completed(ClosedLoop& loop) {
    if (!status_.ok()) {
      std::fprintf(stderr, "pa-match Search: %s\n",
                   status_.error_message().c_str());
      std::exit(2);
    }
    loop.Completed(w_);
  }

 private:
  const int w_;
  const std::string authorization_;
  std::unique_ptr<v1::Matcher::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::SearchResponse>> reader_;
  v1::SearchRequest request_;
  v1::SearchResponse response_;
  grpc::Status status_;
};

void RunPamatch(ClosedLoop& loop, int workers, const std::string& key) {
  std::vector<std::unique_ptr<GrpcWorker>> grpc_workers;
  for (int w = 0; w < workers; ++w) {
    grpc_workers.push_back(
        std::make_unique<GrpcWorker>(w, absl::GetFlag(FLAGS_server), key));
  }
  grpc::CompletionQueue cq;
  loop.Start();
  int running = 0;
  for (auto& worker : grpc_workers) running += worker->Send(loop, &cq);
  void* tag = nullptr;
  bool ok = false;
  while (running > 0 && cq.Next(&tag, &ok)) {
    auto* worker = static_cast<GrpcWorker*>(tag);
    worker->Completed(loop);
    if (!worker->Send(loop, &cq)) --running;
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

int Run() {
  const int workers = absl::GetFlag(FLAGS_concurrency);
  const double warmup_s = absl::GetFlag(FLAGS_warmup_s);
  const double duration_s = absl::GetFlag(FLAGS_duration_s);
  const auto& kinds = AllQueryKinds();
  const size_t kind_count = kinds.size();

  const std::string system = absl::GetFlag(FLAGS_system);
  if (system != "postgres" && system != "pamatch") {
    std::fprintf(stderr, "--system must be postgres or pamatch\n");
    return 2;
  }
  const std::string key =
      system == "pamatch" ? ReadKey(absl::GetFlag(FLAGS_key_file)) : "";
  ClosedLoop loop(workers, warmup_s, duration_s);
  if (system == "postgres") {
    RunPostgres(loop, workers);
  } else {
    RunPamatch(loop, workers, key);
  }

  const std::vector<std::vector<double>> per_kind = loop.PerKind();
  std::vector<double> all;
  for (const std::vector<double>& ms : per_kind) {
    all.insert(all.end(), ms.begin(), ms.end());
  }
  auto line = [&](const std::string& name, const std::vector<double>& ms) {
    std::printf("%-13s %8zu %9.1f %9.2f %9.2f %9.2f %9.2f\n", name.c_str(),
                ms.size(), ms.size() / duration_s, Percentile(ms, 50),
                Percentile(ms, 90), Percentile(ms, 99),
                ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()));
  };
  auto json = [&](const std::string& name, const std::vector<double>& ms) {
    return absl::StrFormat(
        "\"%s\":{\"requests\":%d,\"qps\":%.2f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
        "\"p99_ms\":%.3f,\"max_ms\":%.3f}",
        name, ms.size(), ms.size() / duration_s, Percentile(ms, 50),
        Percentile(ms, 90), Percentile(ms, 99),
        ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()));
  };
  std::printf("%s: concurrency %d, %.0f s measured after %.0f s warm-up\n",
              system.c_str(), workers, duration_s, warmup_s);
  std::printf("%-13s %8s %9s %9s %9s %9s %9s\n", "kind", "requests", "qps",
              "p50_ms", "p90_ms", "p99_ms", "max_ms");
  line("all", all);
  std::vector<std::string> parts = {json("all", all)};
  for (size_t k = 0; k < kind_count; ++k) {
    const std::string name(QueryKindName(kinds[k]));
    line(name, per_kind[k]);
    parts.push_back(json(name, per_kind[k]));
  }
  const std::string out = absl::StrFormat(
      "{\"system\":\"%s\",\"concurrency\":%d,\"duration_s\":%.1f,"
      "\"warmup_s\":%.1f,\"kinds\":{%s}}\n",
      system, workers, duration_s, warmup_s, absl::StrJoin(parts, ","));
  const std::string path = absl::GetFlag(FLAGS_json_out);
  if (!path.empty()) {
    std::ofstream f(path);
    f << out;
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 2;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  pamatch::SetUpProgramHelp(
      "drives the PostgreSQL + PostGIS baseline (docs/POSTGRES-BASELINE.md).\n"
      "  pa-match-pg-baseline check --pg CONNINFO --server HOST:PORT "
      "--key_file F   compare with pa-matchd\n"
      "  pa-match-pg-baseline run --pg CONNINFO --concurrency C "
      "--duration_s D   measure");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  // As in pa-matchd and pa-match-loadgen: Debian's Abseil runs its debug
  // deadlock detector on every gRPC lock, a cost that would be charged to
  // every pa-match call this driver measures.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string mode = args.size() == 2 ? args[1] : "";
  if (mode == "check") return Check();
  if (mode == "run") return Run();
  std::fprintf(stderr,
               "usage: pa-match-pg-baseline check|run [flags]; --help lists "
               "the flags\n");
  return 2;
}
