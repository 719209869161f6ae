#!/usr/bin/env bash
# PostgreSQL + PostGIS baseline for pa-match (docs/POSTGRES-BASELINE.md).
#
# Generates the data set once, loads the same JSON Lines into a private
# PostgreSQL 15 cluster (COPY) and into a private pa-matchd (import), checks
# that both answer the standard query mix identically, then measures
# PostgreSQL at each concurrency. Both servers listen on 127.0.0.1 only and
# are stopped at the end.
#
# Usage (as root: it installs missing Debian packages with apt-get):
#   bench/postgres/run.sh [--work DIR] [--count N] [--concurrency "4 16"]
#       [--duration S] [--warmup S] [--variants V] [--taxonomy FILE]
#       [--datagen_flags "--scenario national ..."] [--reuse] [--keep]
#       [--skip_check] [--skip_run] [--policy "--la E06000057 --dbs enhanced ..."]
#       [--pamatch_runs] [--rounds R]
#   --reuse  keep the data set, cluster and pa-matchd store of an earlier
#            run with the same --work and --count (skips generate and load)
#   --keep   leave PostgreSQL running at the end (prints how to connect)
#   --pamatch_runs  after the check, run the same closed loop against
#            pa-matchd (gRPC) at each concurrency, for a like-for-like ratio
#            (the project's load generator is the reference for pa-match)
#   --rounds R  measure each system R times at each concurrency (pa-match's
#            rounds back to back, then PostgreSQL's); the ratios are then
#            of the medians, with the rounds' spread (default 1)
#   --policy set this policy on pa-matchd (`pa-match policy set` flags)
#            before the check; the check mirrors pa-matchd's policies into
#            PostgreSQL, so the runs use it too. By default neither side has
#            any policy (neither the data set nor the query mix sets one).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

work=/tmp/pa-match-pg
count=100000
concurrency="4 16"
duration=30
warmup=5
variants=20
taxonomy="$repo/taxonomy/north_east.json"
datagen_flags=""
reuse=0
keep=0
skip_check=0
skip_run=0
policy=""
pamatch_runs=0
rounds=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --work) work=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --taxonomy) taxonomy=$(realpath "$2"); shift 2 ;;
    --datagen_flags) datagen_flags=$2; shift 2 ;;
    --reuse) reuse=1; shift ;;
    --keep) keep=1; shift ;;
    --skip_check) skip_check=1; shift ;;
    --skip_run) skip_run=1; shift ;;
    --policy) policy=$2; shift 2 ;;
    --pamatch_runs) pamatch_runs=1; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { echo "[$(date -u +%H:%M:%S)] $*"; }
if ! [[ $rounds =~ ^[1-9][0-9]*$ ]]; then
  echo "--rounds must be a whole number >= 1, not '$rounds'" >&2
  exit 2
fi
# A run's result files: SYSTEM-cC (one round) or SYSTEM-cC-rK (several),
# as bench/postgres/ratios.py reads them.
run_name() {
  if [[ $rounds -eq 1 ]]; then echo "$1-c$2"; else echo "$1-c$2-r$3"; fi
}
# measure SYSTEM LABEL DRIVER_FLAGS...: `pa-match-pg-baseline run` against
# SYSTEM, every round at each concurrency, after clearing that
# concurrency's older result files of SYSTEM.
measure() {
  local system=$1 label=$2
  shift 2
  for c in $concurrency; do
    rm -f "$results/$system-c$c."* "$results/$system-c$c-r"*
    for r in $(seq 1 "$rounds"); do
      local name
      name=$(run_name "$system" "$c" "$r")
      log "$label: concurrency $c, ${warmup}s warm-up, ${duration}s measured$(round_label "$r")"
      "$driver" run "$@" --concurrency "$c" --duration_s "$duration" \
        --warmup_s "$warmup" --json_out "$results/$name.json" |
        tee "$results/$name.txt"
    done
  done
}
round_label() {
  if [[ $rounds -gt 1 ]]; then echo ", round $1 of $rounds"; fi
}

# ---- packages -------------------------------------------------------------
need=()
for pkg in postgresql-15 postgresql-15-postgis-3 libpq-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing ${need[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
pgbin=/usr/lib/postgresql/15/bin

# ---- build (only what this needs) -----------------------------------------
log "building"
PA_MATCH_BUILD_TARGETS="pa-matchd pa-match pa-match-datagen pa-match-pg-baseline" \
  bash scripts/build.sh build >/dev/null
driver="$repo/build/bench/postgres/pa-match-pg-baseline"

mkdir -p "$work"
chmod 755 "$work"
tag="n${count}"
# Another scenario (datagen flags or taxonomy) gets its own data, cluster
# and store, so --reuse never mixes them.
if [[ -n "$datagen_flags" || "$taxonomy" != "$repo/taxonomy/north_east.json" ]]; then
  tag="$tag-$(echo "$datagen_flags|$taxonomy" | md5sum | cut -c1-8)"
fi
data="$work/profiles-$tag.jsonl"
pgdata="$work/pg-$tag"
pmdata="$work/pamatch-$tag"
results="$work/results-$tag"
mkdir -p "$results"

# ---- data set ---------------------------------------------------------------
if [[ $reuse -eq 0 || ! -s "$data" ]]; then
  log "generating $count profiles into $data"
  # shellcheck disable=SC2086  # datagen_flags is a list of flags
  build/tools/pa-match-datagen --count "$count" --seed 42 --now 2026-06-15 \
    $datagen_flags --out "$data.tmp"
  mv "$data.tmp" "$data"
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- PostgreSQL -------------------------------------------------------------
pg_port=$(free_port)
as_pg() { runuser -u postgres -- "$@"; }
psql_pg() { as_pg "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -d pamatch "$@"; }
fresh_pg=0
if [[ $reuse -eq 0 || ! -f "$pgdata/PG_VERSION" ]]; then
  rm -rf "$pgdata"
  mkdir -p "$pgdata"
  chown postgres:postgres "$pgdata"
  # C collation: ids sort in byte order, as the contract's tie-break does.
  as_pg "$pgbin/initdb" -D "$pgdata" --no-locale -E UTF8 -A trust >/dev/null
  fresh_pg=1
fi
# The tuning (docs/POSTGRES-BASELINE.md says why for each line).
cp bench/postgres/postgresql.tuned.conf "$pgdata/tuned.conf"
chown postgres:postgres "$pgdata/tuned.conf"
grep -q "^include 'tuned.conf'" "$pgdata/postgresql.conf" ||
  echo "include 'tuned.conf'" >>"$pgdata/postgresql.conf"
log "starting PostgreSQL on 127.0.0.1:$pg_port ($pgdata)"
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -k /tmp" start >/dev/null

pamatchd_pid=""
cleanup() {
  if [[ -n "$pamatchd_pid" ]]; then kill "$pamatchd_pid" 2>/dev/null || true; fi
  if [[ $keep -eq 0 ]]; then
    as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast stop >/dev/null 2>&1 || true
  else
    echo "PostgreSQL left running: psql -h 127.0.0.1 -p $pg_port -U postgres pamatch"
  fi
}
trap cleanup EXIT

if [[ $fresh_pg -eq 1 ]]; then
  as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" pamatch
  psql_pg -f bench/postgres/schema.sql
  python3 bench/postgres/to_copy.py taxonomy "$taxonomy" | psql_pg
  log "loading $data into PostgreSQL (COPY)"
  start=$(date +%s)
  # TRUNCATE and COPY in one transaction: with wal_level = minimal the
  # new table file is written without WAL and synced once at commit.
  {
    echo "BEGIN; TRUNCATE pa; COPY pa FROM STDIN;"
    python3 bench/postgres/to_copy.py profiles "$taxonomy" "$data"
    printf '\\.\nCOMMIT;\n'
  } | psql_pg
  log "COPY took $(( $(date +%s) - start )) s; building indexes"
  start=$(date +%s)
  psql_pg -f bench/postgres/indexes.sql
  log "indexes, CLUSTER and ANALYZE took $(( $(date +%s) - start )) s"
  psql_pg -c "SELECT pg_size_pretty(pg_table_size('pa')) AS table_size, pg_size_pretty(pg_indexes_size('pa')) AS indexes_size, count(*) AS profiles FROM pa"
fi
# The search function is (re)defined on every run.
psql_pg -f bench/postgres/search.sql
pg_conn="host=127.0.0.1 port=$pg_port dbname=pamatch user=postgres"

# ---- pa-match: same data, check mode ----------------------------------------
if [[ $skip_check -eq 0 ]]; then
  pm_port=$(free_port)
  new_store=0
  if [[ $reuse -eq 0 || ! -f "$pmdata/admin.key" ]]; then
    rm -rf "$pmdata"
    new_store=1
  fi
  start_pamatchd() {
    log "starting pa-matchd on 127.0.0.1:$pm_port ($pmdata)"
    build/service/pa-matchd --listen "127.0.0.1:$pm_port" --data_dir "$pmdata" \
      --taxonomy "$taxonomy" --demo_profiles 0 >>"$work/pa-matchd-$tag.log" 2>&1 &
    pamatchd_pid=$!
    for _ in $(seq 1 600); do
      [[ -f "$pmdata/admin.key" ]] &&
        build/cli/pa-match --server "127.0.0.1:$pm_port" --key "$(cat "$pmdata/admin.key")" \
          health >/dev/null 2>&1 && break
      sleep 0.5
    done
  }
  start_pamatchd
  key=$(cat "$pmdata/admin.key")
  if [[ $new_store -eq 1 ]]; then
    log "importing $data into pa-matchd"
    # Progress lines go to stderr: keep them in a log, show the summary.
    build/cli/pa-match --server "127.0.0.1:$pm_port" --key "$key" import --file "$data" \
      2>"$work/import-$tag.log" | tail -2
    # Restart, as in production after a bulk load: the index is rebuilt with
    # documents in geographic order (imported profiles are numbered in
    # arrival order until then).
    kill "$pamatchd_pid"
    wait "$pamatchd_pid" 2>/dev/null || true
    start_pamatchd
  fi
  if [[ -n "$policy" ]]; then
    log "policy set $policy"
    # shellcheck disable=SC2086  # policy is a list of flags
    build/cli/pa-match --server "127.0.0.1:$pm_port" --key "$key" policy set $policy
  fi
  log "check: $variants requests of each kind on both"
  set +e
  "$driver" check --pg "$pg_conn" --server "127.0.0.1:$pm_port" \
    --key_file "$pmdata/admin.key" --variants "$variants" | tee "$results/check.txt"
  check_rc=${PIPESTATUS[0]}
  set -e
  if [[ $check_rc -eq 0 && $pamatch_runs -eq 1 ]]; then
    measure pamatch "pa-match run" --system pamatch \
      --server "127.0.0.1:$pm_port" --key_file "$pmdata/admin.key"
  fi
  kill "$pamatchd_pid"
  wait "$pamatchd_pid" 2>/dev/null || true
  pamatchd_pid=""
  if [[ $check_rc -ne 0 ]]; then
    echo "check failed (exit $check_rc): results differ" >&2
    exit 1
  fi
fi

# ---- PostgreSQL throughput and latency ---------------------------------------
if [[ $skip_run -eq 0 ]]; then
  measure postgres "run" --pg "$pg_conn"
fi
# ---- Ratios (pa-match against PostgreSQL, at each concurrency run on both) --
if [[ $pamatch_runs -eq 1 && $skip_check -eq 0 && $skip_run -eq 0 ]]; then
  log "ratios (issue 6 targets: both >= 100x)"
  python3 bench/postgres/ratios.py "$results" --concurrency "$concurrency" |
    tee "$results/ratios.txt"
fi
log "results in $results"
