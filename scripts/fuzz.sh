#!/usr/bin/env bash
# Builds the fuzz harnesses (fuzz/, docs/SECURITY.md "Fuzzing") with clang,
# libFuzzer, ASan and UBSan in build-fuzz/ and runs each for SECONDS
# (default 60). Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   TARGET: search profile taxonomy page_token import_line keys (default all)
# Each run starts from the checked-in seeds (fuzz/corpus/<target>) and
# regressions (fuzz/regressions/<target>) plus what earlier runs found
# (build-fuzz/corpus/<target>, kept between runs, not checked in). A crash
# stops the script with a non-zero exit; its input is in
# build-fuzz/crashes/<target>/. To keep it as a test, fix the bug and copy
# the file into fuzz/regressions/<target>/ (the normal build's CTest then
# replays it: ctest -L fuzz).
# FUZZ_JOBS=2 runs two targets at a time; FUZZ_ARGS adds libFuzzer flags.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(search profile taxonomy page_token import_line keys)
fi
build=build-fuzz
fuzzers=()
for t in "${targets[@]}"; do fuzzers+=("${t}_fuzzer"); done
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
CC=clang CXX=clang++ PA_MATCH_BUILD_TARGETS="${fuzzers[*]}" \
  bash scripts/build.sh "$build" -DPA_MATCH_FUZZ=ON -DPA_MATCH_BUILD_BENCH=OFF \
  -DPA_MATCH_WERROR=ON "${launcher[@]}"

# Leaks are reported (the harnesses free what they make); a failed UBSan
# check stops the run like an ASan error.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

run() {
  local t="$1"
  local corpus="$build/corpus/$t" crashes="$build/crashes/$t/"
  mkdir -p "$corpus" "$crashes"
  local seeds=(fuzz/corpus/"$t")
  [ -d fuzz/regressions/"$t" ] && seeds+=(fuzz/regressions/"$t")
  # -max_len: the seeds are a few KB at most; larger inputs only slow the
  # run. The first corpus directory is where new inputs are written.
  if "$build/fuzz/${t}_fuzzer" "$corpus" "${seeds[@]}" \
      -max_total_time="$seconds" -max_len=8192 -timeout=25 -rss_limit_mb=3072 \
      -print_final_stats=1 -artifact_prefix="$crashes" ${FUZZ_ARGS:-} \
      >"$build/fuzz-$t.log" 2>&1; then
    local done_line
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$build/fuzz-$t.log" | tail -1 || true)
    echo "fuzz $t: ok: ${done_line}"
  else
    echo "fuzz $t: FAILED (input in $crashes); the end of $build/fuzz-$t.log:"
    tail -60 "$build/fuzz-$t.log"
    return 1
  fi
}

status=0
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
  pids=()
  for t in "${targets[@]}"; do
    run "$t" & pids+=($!)
    while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do sleep 1; done
  done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
else
  for t in "${targets[@]}"; do run "$t" || status=1; done
fi
exit $status
