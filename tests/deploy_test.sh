#!/usr/bin/env bash
# deploy/: `cmake --install` into a temporary prefix, then the systemd
# unit's own ExecStart line run there (/usr/local and /var/lib/pa-match
# moved under the prefix, ports made free ones): it must serve gRPC health
# and /metrics with the first-start admin key, take a metrics key made by
# keygen after a SIGHUP (the signal the unit's ExecReload must send), and
# stop on the unit's KillSignal with exit 0; stdout, where a first start
# prints the admin key, must go nowhere the journal keeps. Where systemd-analyze exists, the unit (paths moved likewise)
# must verify.
# Usage: deploy_test.sh BUILD_DIR SOURCE_DIR [CMAKE]
set -euo pipefail
build_dir=$1
src=$2
cmake=${3:-cmake}
unit="$src/deploy/pa-matchd.service"
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f "$tmp/log" ]] && cat "$tmp/log" >&2; exit 1; }

"$cmake" --install "$build_dir" --prefix "$tmp/usr/local" >/dev/null ||
  fail "cmake --install"

# The unit's value of KEY, continuation lines joined.
unit_value() {
  /usr/bin/python3 - "$unit" "$1" <<'PY'
import sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
for line in text.splitlines():
    if line.startswith(sys.argv[2] + "="):
        print(" ".join(line.split("=", 1)[1].split()))
PY
}
relocate() {
  sed -e "s|/usr/local/|$tmp/usr/local/|g" -e "s|/var/lib/pa-match|$tmp/state|g" \
      -e "s|127\.0\.0\.1:[0-9]*|127.0.0.1:0|g"
}
exec_start=$(unit_value ExecStart | relocate)
[[ -n "$exec_start" ]] || fail "no ExecStart in $unit"
[[ "$(unit_value ExecReload)" == '/bin/kill -HUP $MAINPID' ]] ||
  fail "ExecReload is not SIGHUP"
[[ "$(unit_value KillSignal)" == SIGTERM ]] || fail "KillSignal is not SIGTERM"
[[ "$(unit_value StandardOutput)" == null ]] ||
  fail "StandardOutput is not null: the first-start key would reach the journal"
# Every absolute path the command names was installed (or is the state dir).
for word in $exec_start; do
  if [[ "$word" == "$tmp/usr/local/"* && ! -e "$word" ]]; then
    fail "ExecStart names $word, which cmake --install did not install"
  fi
done
mkdir -m 0700 "$tmp/state"  # systemd's StateDirectory=

# Run it as systemd would: no shell, the unit's UMask.
(umask 0077; exec $exec_start) >"$tmp/out" 2>"$tmp/log" &
pid=$!
for _ in $(seq 1 600); do
  grep -q "serving:" "$tmp/log" && break
  kill -0 "$pid" 2>/dev/null || fail "pa-matchd exited at start"
  sleep 0.1
done
grep -q "serving:" "$tmp/log" || fail "pa-matchd not serving after 60 s"
grpc_port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/log")
metrics_port=$(sed -n 's|.*metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$tmp/log")
[[ -n "$grpc_port" && -n "$metrics_port" ]] || fail "ports not in the log"
admin_key=$(cat "$tmp/state/admin.key") || fail "no admin.key"
[[ "$(stat -c %a "$tmp/state/admin.key")" == 600 ]] || fail "admin.key not 0600"

"$tmp/usr/local/bin/pa-match" --server "127.0.0.1:$grpc_port" --key "$admin_key" \
  health >/dev/null || fail "pa-match health: not SERVING"

# HTTP status of GET /metrics with basic auth password $1 ("" = none).
scrape() {
  /usr/bin/python3 - "$metrics_port" "$1" <<'PY'
import base64, sys, urllib.error, urllib.request
# Straight to loopback, whatever http_proxy says.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/metrics")
if sys.argv[2]:
    token = base64.b64encode(f"prometheus:{sys.argv[2]}".encode()).decode()
    request.add_header("Authorization", "Basic " + token)
try:
    with opener.open(request, timeout=10) as response:
        body = response.read().decode()
        print(response.status if "pamatch_ready 1" in body else "no-ready")
except urllib.error.HTTPError as error:
    print(error.code)
PY
}
[[ "$(scrape "")" == 401 ]] || fail "/metrics without a key is not 401"
[[ "$(scrape "$admin_key")" == 200 ]] || fail "/metrics with the admin key"

metrics_key=$("$tmp/usr/local/bin/pa-matchd" keygen --name prometheus \
  --scopes metrics --data_dir "$tmp/state" | tail -n 1) || fail "keygen"
[[ "$(scrape "$metrics_key")" == 401 ]] || fail "new key works before the reload"
kill -HUP "$pid"
for _ in $(seq 1 50); do
  [[ "$(scrape "$metrics_key")" == 200 ]] && break
  sleep 0.1
done
[[ "$(scrape "$metrics_key")" == 200 ]] || fail "metrics key refused after SIGHUP"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[[ $status -eq 0 ]] || fail "exit status $status after SIGTERM"
grep -q "stopped" "$tmp/log" || fail "no 'stopped' in the log"

if command -v systemd-analyze >/dev/null; then
  relocate <"$unit" | sed -e "s|^User=.*|User=root|" -e "s|^Group=.*|Group=root|" \
    >"$tmp/pa-matchd.service"
  # Warnings about this machine (no systemd running) are not the unit's.
  # Only this unit's errors, not those of units the host pulls in.
  systemd-analyze verify --recursive-errors=no "$tmp/pa-matchd.service" \
    2>"$tmp/verify" ||
    { cat "$tmp/verify" >&2; fail "systemd-analyze verify"; }
else
  echo "systemd-analyze not installed: unit not verified"
fi
echo "deploy: installed, served, reloaded keys, stopped cleanly"
