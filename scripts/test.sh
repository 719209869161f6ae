#!/usr/bin/env bash
# Builds pa-match with warnings as errors (PA_MATCH_WERROR; CI runs this
# script) and runs the whole test suite with ctest.
# Usage: scripts/test.sh [BUILD_DIR] [cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
shift || true
bash scripts/build.sh "$build_dir" -DPA_MATCH_WERROR=ON "$@"
ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j2 ${PA_MATCH_CTEST_ARGS:-}
