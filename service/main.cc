// pa-matchd: the pa-match gRPC server.
//
//   pa-matchd [--listen 127.0.0.1:50051] [--data_dir ./data] [--taxonomy F]
//             [--keys_file F] [--demo_profiles 2000] [--demo_seed 42]
//             [--restore_from BACKUP] [--allow_new_db]
//             [--erasure_delay_seconds 60]
//             [--relayout_unsorted_fraction 0.01]
//             [--metrics_listen 127.0.0.1:9464] [--noalerts]
//             [--tls_cert F --tls_key F [--tls_client_ca F]]
//             [--insecure_listen]
//             [--event_retention_hours 168] [--watch_heartbeat_seconds 10] ...
//   pa-matchd keygen --name NAME --scopes search,write [--keys_file F]
//
// On the first start (no keys file) it creates the keys file with one admin
// key, prints the key once on stdout and saves it to <data_dir>/admin.key
// (mode 0600). SIGINT/SIGTERM shut down gracefully; SIGHUP reloads the keys
// file and the TLS certificate, key and client CA (--tls_*). Log lines go to
// stderr; secrets are never logged.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/program_help.h"
#include "demo/demo_data.h"
#include "engine/engine.h"
#include "engine/taxonomy.h"
#include "service/api_keys.h"
#include "service/matcher_service.h"
#include "service/metrics.h"
#include "service/server.h"
#include "service/tls.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to listen on (port 0 picks a free port); an address "
          "other than loopback (127.0.0.0/8, [::1], localhost) needs "
          "--tls_cert or --insecure_listen");
ABSL_FLAG(std::string, tls_cert, "",
          "serve gRPC over TLS with this PEM certificate (chain, server's "
          "first); needs --tls_key; reloaded on SIGHUP. (The metrics "
          "endpoint stays HTTP: service/README.md, \"TLS\")");
ABSL_FLAG(std::string, tls_key, "",
          "PEM private key of --tls_cert (unencrypted; keep it mode 0600); "
          "reloaded on SIGHUP");
ABSL_FLAG(std::string, tls_client_ca, "",
          "mTLS: require every client to present a certificate issued by a "
          "CA in this PEM file; reloaded on SIGHUP");
ABSL_FLAG(bool, insecure_listen, false,
          "allow --listen without TLS, or --metrics_listen, which is always "
          "HTTP, on an address other than loopback (API keys then cross the "
          "network in plaintext: only behind a TLS-terminating proxy or on a "
          "trusted network)");
ABSL_FLAG(std::string, data_dir, "./data",
          "directory of the database, keys file and admin.key; created if "
          "missing");
ABSL_FLAG(std::string, taxonomy, "taxonomy/north_east.json",
          "taxonomy (vocabulary) JSON file");
ABSL_FLAG(std::string, keys_file, "",
          "API keys file (name<TAB>scopes<TAB>sha256-hex); default "
          "<data_dir>/api_keys.txt");
ABSL_FLAG(int, demo_profiles, 2000,
          "when the store is empty at start, load this many generated demo "
          "profiles (0: none)");
ABSL_FLAG(uint64_t, demo_seed, 42, "seed of the demo profile generator");
ABSL_FLAG(std::string, demo_scenario, "north_east",
          "demo data scenario: north_east, or national (Great Britain by "
          "population; needs --taxonomy taxonomy/great_britain.json)");
ABSL_FLAG(std::string, demo_now, "",
          "reference date YYYY-MM-DD of the demo data (expiries, DBS dates, "
          "last_active); default today. Benchmarks use 2026-06-15, the "
          "as_of of the standard query mix");
ABSL_FLAG(int, max_message_bytes, 4 << 20,
          "largest request message accepted, bytes");
ABSL_FLAG(int, memory_quota_mb, 1024,
          "memory the gRPC layer may use for calls in flight, MiB");
ABSL_FLAG(int, max_concurrent_streams, 100,
          "calls one connection may have open at once (HTTP/2 "
          "MAX_CONCURRENT_STREAMS; the client queues the rest), so one "
          "connection's flood queues at its own end; 0: no limit");
ABSL_FLAG(int, handshake_timeout_ms, 10'000,
          "close a connection that has not sent its HTTP/2 preface within "
          "this long, ms");
ABSL_FLAG(bool, grpc_reflection, true,
          "serve gRPC server reflection (grpcurl without .proto files), as "
          "the API contract asks; --nogrpc_reflection turns it off where "
          "callers without a key must not learn the API's shape");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port of the Prometheus metrics endpoint (GET /metrics, HTTP "
          "basic auth with an API key of scope metrics as the password); "
          "empty: no endpoint");
ABSL_FLAG(int, shutdown_grace_seconds, 10,
          "on SIGINT/SIGTERM, how long calls in flight may take to finish");
ABSL_FLAG(bool, allow_new_db, false,
          "start with a new empty database even though the data dir is an "
          "existing install (keys file present) whose database is missing");
ABSL_FLAG(std::string, restore_from, "",
          "before opening, copy this backup (a checkpoint written by "
          "`pa-match backup`) to <data_dir>/db, which must not exist");
ABSL_FLAG(int, erasure_delay_seconds, 60,
          "deleted profiles are purged from the database files this long "
          "after a delete (plus one flush and compaction)");
ABSL_FLAG(double, relayout_unsorted_fraction, 0.01,
          "lay the index out again in the background, once writes pause, "
          "when they have put more than this fraction of the profiles (and "
          "over 1,000) in grid cells out of travel order; negative: never");
ABSL_FLAG(bool, alerts, true,
          "find and store the alert events each write causes (Watch); "
          "--noalerts writes none (jobs and MatchJobs work the same)");
ABSL_FLAG(int, event_retention_hours, 24 * 7,
          "alert events are kept at least this long (and at most "
          "--max_retained_events of them); a subscriber further behind must "
          "resynchronise");
ABSL_FLAG(int, max_inflight_reads, pamatch::CallLimits().reads,
          "Searches, MatchJobs, GetProfile and GetJob calls in flight at most; "
          "one more is refused at once with RESOURCE_EXHAUSTED (never "
          "queued)");
ABSL_FLAG(int, max_inflight_writes, pamatch::CallLimits().writes,
          "Profile and job upserts and deletes in flight (validated, waiting "
          "for the commit thread's fsync) at most; one more is refused at "
          "once with RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_inflight_admin, pamatch::CallLimits().admin,
          "Policy, GetStats and Backup calls in flight at most; one more is "
          "refused at once with RESOURCE_EXHAUSTED");
ABSL_FLAG(int64_t, max_retained_events, 50'000'000,
          "most alert events kept; the oldest are dropped first");
ABSL_FLAG(double, watch_heartbeat_seconds, 10,
          "a Watch stream with nothing to send gets a HEARTBEAT after this "
          "long");
ABSL_FLAG(std::string, name, "", "keygen: name of the new key");
ABSL_FLAG(std::string, scopes, "",
          "keygen: scopes of the new key, from search, write, metrics and "
          "admin, e.g. search,write");
ABSL_FLAG(std::string, authorities, "",
          "keygen: local authority codes the new key is limited to, "
          "comma-separated (checked against --taxonomy); empty: every one");
ABSL_FLAG(std::string, expires, "",
          "keygen: last UTC day the new key is accepted (YYYY-MM-DD) or an "
          "RFC 3339 time it is refused from; empty: never expires");
ABSL_FLAG(double, rate, 0,
          "keygen: calls per second the new key may make on average "
          "(token bucket); 0: unlimited");
ABSL_FLAG(double, burst, 0,
          "keygen: calls the new key may make at once (with --rate; 0: "
          "max(1, rate))");

namespace pamatch {
namespace {

template <typename... Args>
void Log(const absl::FormatSpec<Args...>& format, const Args&... args) {
  std::string line = absl::StrFormat(format, args...);
  absl::FPrintF(stderr, "%s pa-matchd: %s\n",
                absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                 absl::UTCTimeZone()),
                line);
}

std::string KeysPath() {
  std::string path = absl::GetFlag(FLAGS_keys_file);
  if (!path.empty()) return path;
  return (std::filesystem::path(absl::GetFlag(FLAGS_data_dir)) / "api_keys.txt")
      .string();
}

// Whether a local authority code is in --taxonomy's vocabulary: checks the
// keys file's `authorities` limits. Null (no check) if the taxonomy cannot
// be read here; the engine then refuses to start on it anyway.
ApiKeyStore::AuthorityCheck KnownAuthorities() {
  absl::StatusOr<Taxonomy> taxonomy =
      Taxonomy::Load(absl::GetFlag(FLAGS_taxonomy));
  if (!taxonomy.ok()) return nullptr;
  auto shared = std::make_shared<const Taxonomy>(*std::move(taxonomy));
  return [shared](absl::string_view code) {
    return shared->local_authorities().Find(code) >= 0;
  };
}

// The limit columns the keygen flags ask for, as the keys file spells them.
absl::StatusOr<KeyLimits> KeygenLimits() {
  std::vector<std::string> columns;
  if (std::string v = absl::GetFlag(FLAGS_authorities); !v.empty()) {
    columns.push_back("authorities=" + v);
  }
  if (std::string v = absl::GetFlag(FLAGS_expires); !v.empty()) {
    columns.push_back("expires=" + v);
  }
  if (double v = absl::GetFlag(FLAGS_rate); v != 0) {
    columns.push_back(absl::StrCat("rate=", v));
  }
  if (double v = absl::GetFlag(FLAGS_burst); v != 0) {
    columns.push_back(absl::StrCat("burst=", v));
  }
  absl::StatusOr<KeyLimits> limits = ParseKeyLimits(
      std::vector<absl::string_view>(columns.begin(), columns.end()));
  if (!limits.ok()) return limits.status();
  if (!limits->authorities.empty()) {
    ApiKeyStore::AuthorityCheck known = KnownAuthorities();
    if (known == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--authorities: cannot read --taxonomy ",
          absl::GetFlag(FLAGS_taxonomy), " to check the codes"));
    }
    for (const std::string& code : limits->authorities) {
      if (!known(code)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--authorities: unknown local authority \"", code, "\" in ",
            absl::GetFlag(FLAGS_taxonomy)));
      }
    }
  }
  return limits;
}

// `pa-matchd keygen`: appends a key and prints its plaintext once.
int RunKeygen() {
  absl::StatusOr<uint32_t> scopes = ParseScopes(absl::GetFlag(FLAGS_scopes));
  if (absl::GetFlag(FLAGS_name).empty() || !scopes.ok()) {
    absl::FPrintF(stderr,
                  "usage: pa-matchd keygen --name NAME --scopes "
                  "search[,write][,metrics][,admin] [--authorities CODE,...] "
                  "[--expires YYYY-MM-DD] [--rate N [--burst N]] "
                  "[--keys_file F | --data_dir D]\n%s\n",
                  scopes.ok() ? "" : scopes.status().message());
    return 2;
  }
  absl::StatusOr<KeyLimits> limits = KeygenLimits();
  if (!limits.ok()) {
    Log("keygen failed: %s", limits.status().ToString());
    return 2;
  }
  const std::string path = KeysPath();
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(),
                                      ignored);
  absl::StatusOr<std::string> key =
      AppendApiKey(path, absl::GetFlag(FLAGS_name), *scopes, *limits);
  if (!key.ok()) {
    Log("keygen failed: %s", key.status().ToString());
    return 1;
  }
  const std::string limit_text = FormatKeyLimits(*limits);
  absl::PrintF(
      "Added key \"%s\" (scopes %s%s%s) to %s.\n"
      "API key (shown only this once; a running pa-matchd picks it up on "
      "SIGHUP or restart):\n%s\n",
      absl::GetFlag(FLAGS_name), FormatScopes(*scopes),
      limit_text.empty() ? "" : "; limits", absl::StrReplaceAll(limit_text, {{"\t", " "}}),
      path, *key);
  return 0;
}

// Loads generated demo profiles into an empty store.
void LoadDemoProfiles(Engine& engine) {
  const int count = absl::GetFlag(FLAGS_demo_profiles);
  if (count <= 0 || engine.size() > 0) return;
  const std::string scenario_name = absl::GetFlag(FLAGS_demo_scenario);
  demo::DemoScenario scenario;
  if (scenario_name == "north_east") {
    scenario = demo::DemoScenario::kNorthEast;
  } else if (scenario_name == "national") {
    scenario = demo::DemoScenario::kNational;
  } else {
    Log("--demo_scenario: \"%s\" is not north_east or national; no demo data",
        scenario_name);
    return;
  }
  absl::Time now = absl::Now();
  if (const std::string date = absl::GetFlag(FLAGS_demo_now); !date.empty()) {
    absl::CivilDay day;
    if (!absl::ParseCivilTime(date, &day)) {
      Log("--demo_now: \"%s\" is not YYYY-MM-DD; no demo data", date);
      return;
    }
    now = absl::FromCivil(day, absl::UTCTimeZone());
  }
  const uint64_t seed = absl::GetFlag(FLAGS_demo_seed);
  // Generated batch by batch, so a million demo profiles never sit in
  // memory as protos all at once.
  int64_t accepted = 0, rejected = 0;
  std::vector<v1::Profile> batch;
  for (int begin = 0; begin < count; begin += static_cast<int>(kBulkBatchSize)) {
    const int end = std::min<int>(count, begin + static_cast<int>(kBulkBatchSize));
    batch.clear();
    for (int i = begin; i < end; ++i) {
      batch.push_back(
          demo::GenerateScenarioProfile(scenario, seed, i, now, "pa-"));
    }
    for (const auto& outcome : engine.BulkUpsert(batch)) {
      if (outcome.ok()) {
        ++accepted;
      } else if (rejected++ == 0) {
        Log("demo profile rejected: %s", outcome.status().ToString());
      }
    }
  }
  Log("loaded %d %s demo profiles (seed %d), %d rejected", accepted,
      scenario_name, seed, rejected);
}

// --restore_from: copies the backup to `db_dir`, which must not exist.
bool RestoreBackup(const std::string& from, const std::string& db_dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(fs::path(from) / "CURRENT", error)) {
    Log("cannot restore: %s is not a backup (no CURRENT file)", from);
    return false;
  }
  if (fs::exists(db_dir, error)) {
    Log("cannot restore: %s already exists; restore into a new data dir or "
        "move it away first",
        db_dir);
    return false;
  }
  const std::string partial = db_dir + ".restoring";
  fs::remove_all(partial, error);
  fs::copy(from, partial, fs::copy_options::recursive, error);
  if (!error) fs::rename(partial, db_dir, error);
  if (error) {
    Log("cannot restore %s to %s: %s", from, db_dir, error.message());
    return false;
  }
  Log("restored backup %s to %s", from, db_dir);
  return true;
}

// Host part of host:port, to log the port actually chosen.
std::string WithPort(const std::string& address, int port) {
  const size_t colon = address.rfind(':');
  return absl::StrFormat("%s:%d", address.substr(0, colon), port);
}

// TLS from the --tls_* flags: nullptr when off; false (refuse to start) on
// a bad combination or bad files. Unless --insecure_listen, also refuses a
// non-loopback --listen without TLS and a non-loopback --metrics_listen
// (the metrics endpoint is always HTTP).
bool SetUpTls(std::shared_ptr<ServerTls>* tls) {
  ServerTlsFiles files;
  files.cert_file = absl::GetFlag(FLAGS_tls_cert);
  files.key_file = absl::GetFlag(FLAGS_tls_key);
  files.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  if (files.cert_file.empty() != files.key_file.empty()) {
    Log("--tls_cert and --tls_key go together: give both or neither");
    return false;
  }
  if (files.cert_file.empty() && !files.client_ca_file.empty()) {
    Log("--tls_client_ca needs --tls_cert and --tls_key (mTLS is TLS with "
        "client certificates)");
    return false;
  }
  if (!absl::GetFlag(FLAGS_insecure_listen)) {
    if (const std::string address = absl::GetFlag(FLAGS_listen);
        files.cert_file.empty() && !IsLoopbackListenAddress(address)) {
      Log("refusing to start: --listen %s is not a loopback address, and "
          "without TLS API keys and data would cross the network in "
          "plaintext. Give --tls_cert and --tls_key (service/README.md, "
          "\"TLS\"), or --insecure_listen if a TLS proxy or a trusted "
          "network is in front",
          address);
      return false;
    }
    if (const std::string address = absl::GetFlag(FLAGS_metrics_listen);
        !address.empty() && !IsLoopbackListenAddress(address)) {
      Log("refusing to start: --metrics_listen %s is not a loopback "
          "address, and the metrics endpoint is plain HTTP whose password "
          "is an API key (Debian's civetweb cannot serve HTTPS: "
          "service/README.md, \"TLS\"). Scrape it on this host or through "
          "a TLS proxy, or give --insecure_listen on a trusted network",
          address);
      return false;
    }
  }
  if (files.cert_file.empty()) return true;
  absl::StatusOr<std::shared_ptr<ServerTls>> loaded =
      ServerTls::Load(std::move(files));
  if (!loaded.ok()) {
    Log("refusing to start: %s", loaded.status().message());
    return false;
  }
  *tls = *std::move(loaded);
  Log("TLS%s: %s", (*tls)->mutual() ? " with client certificates (mTLS)" : "",
      (*tls)->CurrentPem().description);
  return true;
}

int RunServer() {
  // Signals are taken by one thread with sigwait; block them everywhere
  // else before gRPC starts its threads (they inherit the mask).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    Log("cannot create data dir %s: %s", data_dir, error.message());
    return 1;
  }
  Log("starting: data_dir %s, taxonomy %s", data_dir,
      absl::GetFlag(FLAGS_taxonomy));

  const std::string keys_path = KeysPath();
  const std::string admin_key_path =
      (std::filesystem::path(data_dir) / "admin.key").string();
  // An install that has keys had a database: if it is gone, refuse to start
  // empty (Engine::Open says so) unless told otherwise.
  // (admin.key alone is what a first start that crashed before writing the
  // keys file leaves; it never had a database.)
  const bool existing_install =
      std::filesystem::exists(
          std::filesystem::path(data_dir) / "api_keys.txt", error) ||
      (std::filesystem::exists(admin_key_path, error) &&
       std::filesystem::exists(keys_path, error));
  const std::string db_dir = (std::filesystem::path(data_dir) / "db").string();
  if (!absl::GetFlag(FLAGS_restore_from).empty() &&
      !RestoreBackup(absl::GetFlag(FLAGS_restore_from), db_dir)) {
    return 1;
  }
  absl::StatusOr<std::optional<std::string>> created =
      CreateKeysFileIfMissing(keys_path, admin_key_path);
  if (!created.ok()) {
    Log("cannot create keys file: %s", created.status().ToString());
    return 1;
  }
  if (created->has_value()) {
    // The only time the key is shown; stdout, never the log.
    absl::PrintF(
        "Created API keys file %s with one admin key.\n"
        "Admin API key (shown only this once; also saved to %s, mode 0600):\n"
        "%s\n",
        keys_path, admin_key_path, **created);
    std::fflush(stdout);
  }
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> opened =
      ApiKeyStore::Open(keys_path, KnownAuthorities());
  if (!opened.ok()) {
    Log("refusing to start: %s", opened.status().ToString());
    return 1;
  }
  // Shared with the detached signal thread, which may outlive this frame.
  std::shared_ptr<ApiKeyStore> keys = *std::move(opened);
  Log("%d API key(s) loaded from %s", keys->size(), keys_path);
  std::shared_ptr<ServerTls> tls;
  if (!SetUpTls(&tls)) return 1;

  auto stop = std::make_shared<std::promise<int>>();
  std::future<int> stopped = stop->get_future();
  std::thread([signals, stop, keys, tls] {
    for (;;) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      if (signal == SIGHUP) {
        absl::Status status = keys->Reload();
        if (status.ok()) {
          Log("SIGHUP: %d API key(s) reloaded", keys->size());
        } else {
          Log("SIGHUP: keeping the old keys: %s", status.ToString());
        }
        if (tls != nullptr) {
          // New handshakes get the new certificate; connections already up
          // keep theirs, so no call is dropped.
          if (absl::Status reloaded = tls->Reload(); reloaded.ok()) {
            Log("SIGHUP: TLS certificate reloaded: %s",
                tls->CurrentPem().description);
          } else {
            Log("SIGHUP: keeping the old TLS certificate: %s",
                reloaded.message());
          }
        }
        continue;
      }
      stop->set_value(signal);
      return;
    }
  }).detach();

  // Metrics: RPC counters recorded by the service, engine and process
  // state read at each scrape. The endpoint goes before the engine closes.
  auto registry = std::make_shared<prometheus::Registry>();
  RpcMetrics rpc_metrics(*registry);
  auto state = std::make_shared<StateCollector>();
  std::unique_ptr<MetricsEndpoint> metrics_endpoint;
  if (const std::string address = absl::GetFlag(FLAGS_metrics_listen);
      !address.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> started =
        MetricsEndpoint::Start(address, keys.get(), registry, state);
    if (!started.ok()) {
      Log("%s", started.status().ToString());
      return 1;
    }
    metrics_endpoint = *std::move(started);
    Log("metrics on http://%s/metrics",
        WithPort(address, metrics_endpoint->port()));
  }

  WatchOptions watch_options;
  watch_options.heartbeat_period =
      absl::Seconds(absl::GetFlag(FLAGS_watch_heartbeat_seconds));
  if (watch_options.heartbeat_period <= absl::ZeroDuration()) {
    Log("--watch_heartbeat_seconds: must be > 0");
    return 1;
  }
  CallLimits call_limits;
  call_limits.reads = absl::GetFlag(FLAGS_max_inflight_reads);
  call_limits.writes = absl::GetFlag(FLAGS_max_inflight_writes);
  call_limits.admin = absl::GetFlag(FLAGS_max_inflight_admin);
  if (call_limits.reads < 1 || call_limits.writes < 1 ||
      call_limits.admin < 1) {
    Log("--max_inflight_reads, --max_inflight_writes, --max_inflight_admin: "
        "must be >= 1");
    return 1;
  }
  MatcherService service(keys.get(), &rpc_metrics, watch_options, call_limits);
  ServerOptions server_options;
  server_options.listen_address = absl::GetFlag(FLAGS_listen);
  server_options.max_receive_message_bytes =
      absl::GetFlag(FLAGS_max_message_bytes);
  server_options.memory_quota_bytes =
      int64_t{absl::GetFlag(FLAGS_memory_quota_mb)} << 20;
  server_options.reflection = absl::GetFlag(FLAGS_grpc_reflection);
  server_options.tls = tls;
  server_options.max_concurrent_streams =
      absl::GetFlag(FLAGS_max_concurrent_streams);
  server_options.handshake_timeout_ms =
      absl::GetFlag(FLAGS_handshake_timeout_ms);
  absl::StatusOr<StartedServer> server = StartServer(server_options, &service);
  if (!server.ok()) {
    Log("%s", server.status().ToString());
    return 1;
  }
  Log("listening on %s (%s; health NOT_SERVING until ready)",
      WithPort(server_options.listen_address, server->port),
      tls == nullptr ? "plaintext" : tls->mutual() ? "mTLS" : "TLS");

  EngineOptions engine_options;
  // The database lives in its own subdirectory so that a backup or a copy
  // of it never carries the keys file or admin.key beside it.
  engine_options.data_dir = db_dir;
  engine_options.taxonomy_path = absl::GetFlag(FLAGS_taxonomy);
  engine_options.create_if_missing =
      !existing_install || absl::GetFlag(FLAGS_allow_new_db);
  engine_options.erasure_delay =
      absl::Seconds(absl::GetFlag(FLAGS_erasure_delay_seconds));
  engine_options.relayout_unsorted_fraction =
      absl::GetFlag(FLAGS_relayout_unsorted_fraction);
  engine_options.alerts = absl::GetFlag(FLAGS_alerts);
  engine_options.event_retention =
      absl::Hours(absl::GetFlag(FLAGS_event_retention_hours));
  engine_options.max_retained_events = absl::GetFlag(FLAGS_max_retained_events);
  engine_options.on_progress = [](const LoadProgress& p) {
    const double seconds = absl::ToDoubleSeconds(p.elapsed);
    const double rate = seconds > 0 ? p.loaded / seconds : 0;
    if (p.done) {
      Log("index rebuilt: %d profiles in %.1f s (%.0f/s)", p.loaded, seconds,
          rate);
      return;
    }
    const int64_t left = std::max<int64_t>(0, p.estimated_total - p.loaded);
    Log("rebuilding index: %d of ~%d profiles, %.0f/s, ETA %.0f s", p.loaded,
        p.estimated_total, rate, rate > 0 ? left / rate : 0.0);
  };
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(engine_options);
  if (!engine.ok()) {
    Log("cannot open the engine: %s", engine.status().ToString());
    server->server->Shutdown();
    metrics_endpoint.reset();
    return 1;
  }
  LoadDemoProfiles(**engine);
  service.SetEngine(engine->get());
  state->SetEngine(engine->get());
  SetServing(*server->server, true);
  Log("serving: %d profiles", (*engine)->size());

  const int signal = stopped.get();
  const int grace_s = absl::GetFlag(FLAGS_shutdown_grace_seconds);
  Log("signal %d: shutting down (up to %d s for calls in flight)", signal,
      grace_s);
  SetServing(*server->server, false);
  // Watch streams never end by themselves; end them now (their subscribers
  // reconnect with their last sequence) so the grace is for other calls.
  service.StopWatches();
  server->server->Shutdown(std::chrono::system_clock::now() +
                           std::chrono::seconds(grace_s));
  server->server->Wait();
  server->server.reset();
  service.SetEngine(nullptr);
  metrics_endpoint.reset();  // waits for a scrape in progress
  state->SetEngine(nullptr);
  engine->reset();
  Log("stopped");
  return 0;
}

}  // namespace
}  // namespace pamatch

int main(int argc, char** argv) {
  pamatch::SetUpProgramHelp(
      "pa-match gRPC server.\n"
      "  pa-matchd [flags]                      serve\n"
      "  pa-matchd keygen --name N --scopes S   add an API key and print it");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() == 2 && std::string(args[1]) == "keygen") {
    return pamatch::RunKeygen();
  }
  if (args.size() > 1) {
    absl::FPrintF(stderr, "pa-matchd: unknown command \"%s\" (try --help)\n",
                  args[1]);
    return 2;
  }
  return pamatch::RunServer();
}
