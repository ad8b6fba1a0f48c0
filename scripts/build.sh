#!/usr/bin/env bash
# Configures and builds Pliant into build/ (Release).  Extra arguments go to
# CMake's configure step, e.g. scripts/build.sh -DPLIANT_CUDA=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${PLIANT_BUILD_JOBS:-$(nproc)}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$JOBS"
