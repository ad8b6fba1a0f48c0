#!/usr/bin/env bash
# Builds (if needed) and runs the whole test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
# ctest runs two tests at once on a 2-core machine and several tests use two
# OpenMP threads: with OpenMP's default spin-waiting, oversubscribed barriers
# slow such tests down 10-50x.  Passive waiting keeps the suite's time stable.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
ctest --test-dir build --output-on-failure -j "${PLIANT_TEST_JOBS:-$(nproc)}"
