#!/usr/bin/env bash
# --help of every pa-match binary that takes flags (tests/help.cmake): it
# exits as expected, prints its usage and lists the binary's own flags by
# name with their defaults, and (Abseil binaries) none of Abseil's or gRPC's
# internal flags, which belong to --helpfull.
#
# Usage: help_test.sh SOURCE_DIR NAME=PATH...
# NAME is a binary's target name. tests/help.cmake passes the targets this
# build defines (no benchmarks with -DPA_MATCH_BUILD_BENCH=OFF); each must
# have been built, except pa-match-pg-baseline, built only on request.
set -uo pipefail

src=$1
shift
declare -A bin
for arg in "$@"; do bin[${arg%%=*}]=${arg#*=}; done

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# Every binary runs in an empty directory: were --help ignored, pa-matchd
# would create ./data and serve there (the timeout then ends it).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

out=""     # stdout of the last run
flat=""    # the same with every run of blanks and newlines made one space
err=""     # its stderr
rc=0
run() {
  local name=$1
  shift
  (cd "$work" && timeout 30 "${bin[$name]}" "$@" >"$work/.out" 2>"$work/.err" </dev/null)
  rc=$?
  out=$(cat "$work/.out")
  err=$(cat "$work/.err")
  flat=" $(tr -s ' \t\n' '   ' <"$work/.out") "
  echo "--- $name $* (exit $rc): $(head -n 1 "$work/.out")"
}

# present NAME: whether to check NAME (fails when a binary that must be
# there is not).
present() {
  if [[ -z ${bin[$1]:-} ]]; then
    case $1 in
      pa-matchd | pa-match | pa-match-datagen | pa-match-loadgen)
        fail "$1: no path given" ;;
      *) echo "--- $1: not a target of this build, skipped" ;;
    esac
    return 1
  fi
  if [[ ! -x ${bin[$1]} ]]; then
    if [[ $1 == pa-match-pg-baseline ]]; then
      echo "--- $1: not built (${bin[$1]}), skipped"
    else
      fail "$1: not built: ${bin[$1]}"
    fi
    return 1
  fi
}

has() {  # has WHAT TEXT: the flattened stdout contains TEXT
  [[ $flat == *"$2"* ]] || fail "$current: $1 missing from its --help: $2"
}
has_not() {
  [[ $flat != *"$2"* ]] || fail "$current: $1 in its --help: $2"
}

# Abseil prints a flag as
#   --NAME (HELP); default: DEFAULT;
# wrapped at 80 columns (hence the flattened text).
absl_default() {  # absl_default FLAG: the default --help shows for FLAG
  local rest=${flat#*" --$1 ("}
  [[ $rest == "$flat" ]] && return 1
  rest=${rest#*"); default: "}
  printf '%s' "${rest%%;*}"
}

# check_absl NAME SOURCE FLAG=DEFAULT...: NAME's --help, an Abseil binary
# whose flags are defined in SOURCE (relative to the source tree).
check_absl() {
  current=$1
  local source=$2
  shift 2
  present "$current" || return
  run "$current" --help
  # Abseil exits 1 after --help (Debian 12's 20220623; later versions 0).
  if [[ $rc != 0 && $rc != 1 ]]; then
    fail "$current --help: exit $rc, stderr: $err"
    return
  fi
  [[ $out == "$current: "* ]] ||
    fail "$current: --help does not start with its usage message"
  has_not "'No flags matched'" "No flags matched"
  has "its flag file" "Flags from pa-match/$source:"
  # Every flag the source defines is listed.
  local flag
  for flag in $(sed -n 's/^ABSL_FLAG([^,]*, *\([a-z_0-9]*\).*/\1/p' \
                  "$src/$source"); do
    has "flag --$flag" " --$flag ("
  done
  # With the default --help shows.
  local pair want got
  for pair in "$@"; do
    flag=${pair%%=*}
    want=${pair#*=}
    if ! got=$(absl_default "$flag"); then
      fail "$current: --$flag not listed"
    elif [[ $got != "$want" ]]; then
      fail "$current: --$flag default shown as [$got], expected [$want]"
    fi
  done
  # Abseil's own flags (parse.cc, usage.cc) and any other library's are
  # --helpfull's business.
  for flag in flagfile fromenv tryfromenv undefok helpfull helpshort version \
              only_check_args; do
    has_not "Abseil's --$flag" " --$flag ("
  done
  local other
  other=$(grep -o 'Flags from [^:]*:' <<<"$out" | grep -v 'Flags from pa-match/')
  [[ -z $other ]] || fail "$current: flags of other files listed: $other"
}

check_absl pa-matchd service/main.cc \
  'listen="127.0.0.1:50051"' 'data_dir="./data"' \
  'taxonomy="taxonomy/north_east.json"' 'demo_profiles=2000' \
  'demo_seed=42' 'demo_scenario="north_east"' 'grpc_reflection=true' \
  'erasure_delay_seconds=60' 'relayout_unsorted_fraction=0.01' \
  'allow_new_db=false' 'max_message_bytes=4194304' 'metrics_listen=""' \
  'alerts=true' 'event_retention_hours=168' 'watch_heartbeat_seconds=10'
check_absl pa-match-loadgen bench/loadgen/main.cc \
  'api_key_file="data/admin.key"' 'phases="search"' 'mode="closed"' \
  'concurrency=32' 'channels=4' 'rate=1000' 'warmup_s=2' 'duration_s=10' \
  'write_fraction=0.05' 'seed=7' 'progress=true' 'server_pid=0' \
  'server_proc=""'
check_absl pa-match-datagen tools/datagen_main.cc \
  'count=2000' 'seed=42' 'scenario="north_east"' 'id_prefix="pa-"' \
  'threads=0' 'stream_timeout_ms=300000'
check_absl pa-match-pg-baseline bench/postgres/pg_baseline.cc \
  'server="127.0.0.1:50051"' 'key_file="data/admin.key"' 'variants=20' \
  'concurrency=4' 'system="postgres"'

# The operator CLI has its own parser (cli/flags.h) and help.
current=pa-match
if present pa-match; then
  for args in "--help" "help"; do
    run pa-match $args
    [[ $rc == 0 ]] || fail "pa-match $args: exit $rc, stderr: $err"
    has "the usage line" "usage: pa-match [global flags] <command>"
    has "a command" " search "
    has "--server" " --server HOST:PORT server address (env PA_MATCH_SERVER; default 127.0.0.1:50051)"
    has "--key" " --key KEY "
    has "--json" " --json "
    has "--timeout_ms" " --timeout_ms MS deadline of each call (default 10000)"
  done
  run pa-match help search
  [[ $rc == 0 ]] || fail "pa-match help search: exit $rc, stderr: $err"
  has "--lat" " --lat DEG "
  has "--max_km" " --max_km KM "
  has "--page_size" " --page_size N 1..100 (default 20)"
  has "--server" " --server HOST:PORT "
  run pa-match help
  for command in "job post" "job get ID" "job delete ID" "job import" \
                 "match-jobs" "watch"; do
    has "command $command" " $command "
  done
  run pa-match help job post
  [[ $rc == 0 ]] || fail "pa-match help job post: exit $rc, stderr: $err"
  has "--id" " --id ID "
  has "--must" " --must A,B "
  has_not "--page_size" " --page_size "
  run pa-match help watch
  [[ $rc == 0 ]] || fail "pa-match help watch: exit $rc, stderr: $err"
  has "--position_file" " --position_file FILE "
  has "--local_authorities" " --local_authorities A,B "
fi

# Google Benchmark binaries: Google Benchmark's own --help.
for current in search_bench relayout_bench; do
  present "$current" || continue
  run "$current" --help
  [[ $rc == 0 ]] || fail "$current --help: exit $rc, stderr: $err"
  has "--benchmark_filter" "--benchmark_filter="
done

# write_bench takes a mode and numbers, no flags.
current=write_bench
if present write_bench; then
  run write_bench --help
  [[ $rc == 0 ]] || fail "write_bench --help: exit $rc, stderr: $err"
  has "mode upserts" " write_bench upserts [CLIENTS=16] [SECONDS=10] "
  has "mode engine_upserts" " write_bench engine_upserts [THREADS=16] [SECONDS=10] "
  has "mode bulk" " write_bench bulk [PROFILES=200000] "
  has "mode restart" " write_bench restart [PROFILES=1000000] "
fi

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all --help checks passed"
