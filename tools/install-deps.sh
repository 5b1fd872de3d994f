#!/usr/bin/env bash
# install-deps.sh — installs the Debian packages lmask needs, only if missing.
# Idempotent and fast when everything is present (one dpkg-query, no apt).
# clang (with libclang-rt-14-dev for libFuzzer and the sanitizer runtimes,
# libomp-dev for its OpenMP) is for `make fuzz` only; valgrind for `make valgrind`.
# Open MPI (libopenmpi-dev, openmpi-bin) lets `mpirun -np N lmask study` run the
# studies on many machines; the build switches it on when found (LMASK_MPI).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenblas-dev libopenblas-openmp-dev libdnnl-dev libhdf5-dev zlib1g-dev libpng-dev libjpeg-dev
  doctest-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libopenmpi-dev openmpi-bin
  clang libclang-rt-14-dev libomp-dev valgrind
  python3-torch python3-torchvision python3-h5py python3-numpy python3-pil python3-matplotlib
  python3-onnx libonnx-testdata  # tools/convert_onnx.py; the ONNX conformance cases (tests/test_onnx.cpp)
  pybind11-dev python3-pybind11 python3-dev python3-pytest  # the Python module (python/) and its tests
  dataset-fashion-mnist
  chromium
  g++-aarch64-linux-gnu qemu-user  # make embedded-test: the aarch64 cross build under emulation
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
