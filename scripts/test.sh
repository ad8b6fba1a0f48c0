#!/usr/bin/env bash
# Builds (if needed) and runs the whole test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
ctest --test-dir build --output-on-failure -j "${PLIANT_TEST_JOBS:-$(nproc)}"
