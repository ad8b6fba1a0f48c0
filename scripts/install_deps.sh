#!/usr/bin/env bash
# Installs what Pliant needs to build and test on a fresh Debian 12 machine.
# Idempotent: packages already present are skipped quickly.  Run as root (or
# with sudo available).  The CUDA toolkit (nvcc + CCCL headers) is expected
# under /usr/local/cuda; without nvcc the CPU backend still builds, using the
# CCCL headers that ship with the toolkit, so the toolkit's headers are required.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libeigen3-dev libgtest-dev libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  zlib1g-dev python3
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[install_deps] installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "[install_deps] Debian packages already installed"
fi

# NumPy: the tests read Pliant's PLY and npz outputs back with it (an
# independent reader).  pip first, as asked of developers; Debian 12's system
# Python refuses pip installs (PEP 668), so fall back to its python3-numpy.
if python3 -c 'import numpy' 2>/dev/null; then
  echo "[install_deps] numpy already installed"
elif python3 -m pip install --quiet numpy 2>/dev/null && python3 -c 'import numpy' 2>/dev/null; then
  echo "[install_deps] installed numpy with pip"
else
  echo "[install_deps] installing python3-numpy (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-numpy >/dev/null
fi

# Python package (issue 8): pybind11 and scikit-build-core build `import pliant`
# (`pip install .`, and the CMake build's module for the tests); pytest runs
# tests/python.  pip into the default python3 (a pyenv here); skipped when present.
for mod in pybind11:pybind11 scikit_build_core:scikit-build-core pytest:pytest; do
  import_name="${mod%%:*}"; pip_name="${mod##*:}"
  if python3 -c "import ${import_name}" 2>/dev/null; then
    echo "[install_deps] ${pip_name} already installed"
  else
    echo "[install_deps] installing ${pip_name} with pip"
    python3 -m pip install --quiet "${pip_name}" ||
      echo "[install_deps] WARNING: pip could not install ${pip_name}; without pybind11 the Python module and its tests are skipped" >&2
  fi
done

# Ray (issue 10): the RayExecutor tests (tests/python/test_executors_ray.py)
# start a local 2-CPU cluster; without Ray they are skipped.  About 80 s and
# 240 MB (the ray 2.x wheel and its few dependencies); skipped when present.
if python3 -c 'import ray' 2>/dev/null; then
  echo "[install_deps] ray already installed"
else
  echo "[install_deps] installing ray with pip (for the Ray executor tests)"
  python3 -m pip install --quiet ray ||
    echo "[install_deps] WARNING: pip could not install ray; the Ray executor tests will be skipped" >&2
fi

if [ -x /usr/local/cuda/bin/nvcc ] || command -v nvcc >/dev/null 2>&1; then
  echo "[install_deps] CUDA toolkit found: $( (command -v nvcc || echo /usr/local/cuda/bin/nvcc) )"
elif [ -f /usr/local/cuda/include/cccl/thrust/for_each.h ]; then
  echo "[install_deps] CCCL headers found (no nvcc): building the CPU backend only"
else
  echo "[install_deps] ERROR: the CUDA toolkit (for its Thrust/CCCL headers) is not under /usr/local/cuda." >&2
  echo "  Install NVIDIA's CUDA toolkit (12.x or 13.x); Pliant's CPU backend uses its Thrust headers." >&2
  exit 1
fi
