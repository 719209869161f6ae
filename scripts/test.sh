#!/usr/bin/env bash
# Builds pa-match and runs the whole test suite with ctest.
# Usage: scripts/test.sh [BUILD_DIR] [cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
shift || true
bash scripts/build.sh "$build_dir" "$@"
ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j2 ${PA_MATCH_CTEST_ARGS:-}
