#!/usr/bin/env bash
# What a burst of writes does to search throughput over gRPC, with the
# index relayout on or off (docs/PERFORMANCE.md "Index relayout after
# writes"): a pa-matchd on a fresh copy of DB_DIR answers searches, takes
# WRITE_S seconds of half-write load (upserts, many of them new North East
# profiles), rests IDLE_S seconds, then answers searches again.
#
#   bash bench/relayout_load.sh DB_DIR FRACTION [WRITE_S] [IDLE_S]
#
# DB_DIR: a database of national profiles, e.g. the one search_bench keeps
# with PA_MATCH_BENCH_PROFILES=1000000 PA_MATCH_BENCH_DATA_DIR=/tmp/pa1m.
# FRACTION: pa-matchd --relayout_unsorted_fraction (-1 turns relayout off).
# Run from the repository root after a build (scripts/build.sh build).
set -euo pipefail
db=${1:?database directory}
fraction=${2:?relayout fraction, -1 for off}
write_s=${3:-30}
idle_s=${4:-20}
port=50079
work=$(mktemp -d /tmp/pa-match-relayout-load-XXXXXX)
cp -r "$db" "$work/db"
build/service/pa-matchd --data_dir "$work" --listen "127.0.0.1:$port" \
  --taxonomy taxonomy/great_britain.json --demo_profiles 0 \
  --relayout_unsorted_fraction "$fraction" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 120); do
  grep -q serving "$work/server.log" && break
  sleep 1
done
key=$(cat "$work/admin.key")
loadgen() {
  build/bench/loadgen/pa-match-loadgen --server "127.0.0.1:$port" \
    --api_key "$key" --concurrency 16 --channels 4 --progress=false "$@"
}
stats() {
  build/cli/pa-match --server "127.0.0.1:$port" --key "$key" stats |
    grep -E '^(profiles|unsorted_profiles|index_relayouts|last_relayout_s):'
}
echo "== searches before the writes"
loadgen --phases search --duration_s 10 --warmup_s 2 | grep -E '\(searches\)|cpu:'
echo "== ${write_s} s of writes (half the calls)"
loadgen --phases mixed --write_fraction 0.5 --delete_fraction 0 \
  --duration_s "$write_s" --warmup_s 0 | grep -E '\(searches\)|upsert|^writes'
stats
sleep "$idle_s"
echo "== after ${idle_s} s idle"
stats
echo "== searches after"
loadgen --phases search --duration_s 10 --warmup_s 2 | grep -E '\(searches\)|cpu:'
grep -E 'VmHWM|VmRSS' "/proc/$server/status"
