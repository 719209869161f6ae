#!/usr/bin/env bash
# Configures and builds pa-match. Usage: scripts/build.sh [BUILD_DIR] [cmake args...]
# Warnings are errors only with -DPA_MATCH_WERROR=ON (scripts/test.sh passes
# it; docs/DEVELOPMENT.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build_dir="${1:-build}"
shift || true
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
# PA_MATCH_BUILD_TARGETS (space-separated) limits the build to those targets.
targets=()
for t in ${PA_MATCH_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j"$(nproc)" "${targets[@]}"
