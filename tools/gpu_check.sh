#!/usr/bin/env bash
# gpu_check.sh — the CUDA backend's whole check on a GPU machine, in one run
# that ends well inside 8 minutes: build with -DLMASK_CUDA=ON (only the
# targets it needs, all cores), then
#   1. lmask_cuda_tests: every op the backend runs against native and the
#      spec, the golden ResNet-50 clean and layer-masked when
#      resnet50_random.h5 is there, the shipped ResNet-50 at 224x224 always;
#   2. the op table's cuda column (lmask_tests 'op table*': every op of the
#      graph, clean and masked, every fill and execution, against the
#      literal rule; the rows cuda refuses are listed, not failed);
#   3. the golden trained cases on cuda (lmask_tests 'golden trained*': the
#      shipped model against the authors' PyTorch outputs, trained_cases.h5);
#   4. `lmask bench --backend cuda` at batch 1, 64 and 256, clean and
#      layer-masked at 0/0.5/0.9 removal;
# and print one table with every step's result (also OUT/table.md; the logs
# beside it). Each step runs even when an earlier one failed; the exit
# status is 1 when any did.
#
#   tools/gpu_check.sh [OUT]          # on the GPU machine; OUT defaults to $OUT or build-cuda/gpu_check
#   tools/gpu_check.sh --fetch-deps   # here, before: .gpu-deps/*.deb for a machine without lmask's -dev packages
#
# The device tool's machine has nvcc, cuBLAS and CMake but none of lmask's
# Debian libraries: fetch them here once (`--fetch-deps`, ~15 MB, with
# trained_cases.h5 from ../shared/golden, 1.7 MB, into .gpu-deps/golden),
# then run
#   run(command="tools/gpu_check.sh $OUT", carry=[".gpu-deps"], timeout_s=540)
# and the script unpacks them into /tmp/lmask-deps (never into /). The
# golden ResNet-50 (resnet50_random.h5, 100 MB) cannot travel with the tree
# (64 MiB in all, the shipped weights' 46 MB included): there its cases are
# left out and the table says so; the shipped-model cases still run.
set -euo pipefail
cd "$(dirname "$0")/.."

DEPS_DEBS=(libopenblas-dev libopenblas0 libopenblas-openmp-dev libopenblas0-openmp libgfortran5 libquadmath0
           libhdf5-dev libhdf5-103-1 libsz2 libaec0 libcurl4 zlib1g-dev libpng-dev libpng16-16 libjpeg-dev
           libjpeg62-turbo-dev libjpeg62-turbo libfmt-dev libfmt9 doctest-dev libcli11-dev libgomp1)

if [[ "${1:-}" == "--fetch-deps" ]]; then
  mkdir -p .gpu-deps
  grep -qx '/.gpu-deps/' .git/info/exclude 2>/dev/null || echo '/.gpu-deps/' >> .git/info/exclude
  (cd .gpu-deps && apt-get download "${DEPS_DEBS[@]}")
  mkdir -p .gpu-deps/golden
  cp ../shared/golden/trained_cases.h5 .gpu-deps/golden/ \
    || echo "no ../shared/golden/trained_cases.h5: the golden trained cases will not run there"
  du -sh .gpu-deps
  # What travels: the tracked tree and the carried folder, 64 MiB at most.
  total=$(( $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) + $(du -sb .gpu-deps | cut -f1) ))
  echo "tree + .gpu-deps: $(( total / 1048576 )) MiB of the 64 MiB that may travel"
  exit 0
fi

out=${1:-${OUT:-build-cuda/gpu_check}}
mkdir -p "$out"
t0=$(date +%s)
step() { echo "== $(( $(date +%s) - t0 )) s: $*"; }

export PATH=/usr/local/cuda/bin:$PATH
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1 || echo "unknown GPU")
step "GPU: $gpu"

# lmask's libraries: the machine's own, or the carried .debs unpacked aside.
cmake_extra=()
if ! pkg-config --exists openblas 2>/dev/null && [[ -d .gpu-deps ]]; then
  step "unpacking .gpu-deps into /tmp/lmask-deps"
  mkdir -p /tmp/lmask-deps
  for f in .gpu-deps/*.deb; do dpkg-deb -x "$f" /tmp/lmask-deps; done
  d=/tmp/lmask-deps/usr
  arch=x86_64-linux-gnu
  export PKG_CONFIG_PATH=$d/lib/$arch/openblas-openmp/pkgconfig:$d/lib/$arch/pkgconfig:$d/share/pkgconfig:${PKG_CONFIG_PATH:-}
  export LD_LIBRARY_PATH=$d/lib/$arch:$d/lib/$arch/openblas-openmp:$d/lib/$arch/hdf5/serial:${LD_LIBRARY_PATH:-}
  export CPATH=$d/include:$d/include/hdf5/serial:${CPATH:-}
  # The .pc files name /usr as their prefix: point them at the unpacked tree.
  sed -i "s|^prefix=/usr|prefix=$d|; s|^libdir=/usr|libdir=$d|; s|^includedir=/usr|includedir=$d|" \
    $(find /tmp/lmask-deps -name '*.pc')
  cmake_extra+=(-DCMAKE_PREFIX_PATH="$d;$d/lib/$arch/cmake"
                -DHDF5_C_LIBRARY_hdf5="$d/lib/$arch/hdf5/serial/libhdf5.so"
                -DHDF5_C_INCLUDE_DIR="$d/include/hdf5/serial"
                -DHDF5_ROOT="$d/lib/$arch/hdf5/serial"
                -DCMAKE_LIBRARY_PATH="$d/lib/$arch;$d/lib/$arch/hdf5/serial")
fi
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}

step "configure and build (CUDA backend, sm_90, -j$(nproc))"
cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DLMASK_CUDA=ON -DLMASK_CUDA_ARCH=90 \
  -DLMASK_ONEDNN=OFF -DLMASK_MPI=OFF "${cmake_extra[@]}" > "$out/configure.log" 2>&1 \
  || { tail -30 "$out/configure.log"; exit 1; }
cmake --build build-cuda -j"$(nproc)" --target lmask lmask_cuda_tests lmask_tests > "$out/build.log" 2>&1 \
  || { grep -E 'error|Error' "$out/build.log" | head -30; exit 1; }

# The golden files: LMASK_GOLDEN, ../shared/golden, or the carried copy of
# trained_cases.h5 (--fetch-deps).
golden=${LMASK_GOLDEN:-../shared/golden}
[[ -d "$golden" ]] || golden=.gpu-deps/golden
export LMASK_GOLDEN=$golden
export OMP_NUM_THREADS=$(nproc)
failed=0
# run_tests NAME LOG BINARY ARGS...: one step's status line, "passed" or why not.
run_tests() {
  local name=$1 log=$2
  shift 2
  if "$@" > "$out/$log" 2>&1; then eval "${name}_status=passed"
  else eval "${name}_status='FAILED (exit $?, $log)'"; failed=1; fi
  grep -E '^\[doctest\] (test cases|assertions)' "$out/$log" || tail -5 "$out/$log"
}

step "lmask_cuda_tests"
filter=()
golden_note="golden ResNet-50 cases: run"
if [[ ! -f "$golden/resnet50_random.h5" ]]; then
  filter=(-tce='*golden*')
  golden_note="golden ResNet-50 cases: NOT run (resnet50_random.h5 is not in $golden)"
fi
run_tests cuda_tests tests.log build-cuda/lmask_cuda_tests "${filter[@]}"

step "op table, cuda column"
run_tests op_table op_table.log build-cuda/lmask_tests -tc='op table*'
{ grep -E 'MESSAGE: (cuda|native): ' "$out/op_table.log" || true; } | sed 's/^.*MESSAGE: //' | tee "$out/op_table_coverage.txt"

step "golden trained cases on cuda"
if [[ -f "$golden/trained_cases.h5" ]]; then
  run_tests trained trained.log build-cuda/lmask_tests -tc='golden trained*'
else
  trained_status="NOT run (trained_cases.h5 is not in $golden: run --fetch-deps here first)"
  failed=1
fi

step "lmask bench --backend cuda"
: > "$out/bench.jsonl"
for batch in 1 64 256; do
  iters=$(( batch == 1 ? 50 : batch == 64 ? 20 : 10 ))
  build-cuda/lmask bench --backend cuda --weights weights/resnet50_fmnist.h5 --size 224 --batch "$batch" \
    --iters "$iters" --warmup 3 --method layer --remove 0,0.5,0.9 --json >> "$out/bench.jsonl" \
    || { echo "bench at batch $batch FAILED"; failed=1; }
done

step "table"
{
  echo "CUDA backend, $(date -u '+%Y-%m-%d %H:%M UTC'), $gpu."
  echo "lmask_cuda_tests: $cuda_tests_status; $golden_note."
  echo "op table: $op_table_status; $(grep '^cuda:' "$out/op_table_coverage.txt" || echo 'no cuda column')."
  echo "golden trained (shipped model vs PyTorch, cuda and native): $trained_status."
  echo "ResNet-50 (shipped weights) at 224x224, float32. Median images/s over the timed iterations;"
  echo "masked: layer masking, 16-px patches, active-region execution; time = masked / clean forward."
  echo
  echo "| batch | clean | masked 0 | masked 0.5 | masked 0.9 | time at 0.5 vs clean |"
  echo "|---|---|---|---|---|---|"
  python3 - "$out/bench.jsonl" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = "clean" if r["mode"] == "clean" else r["remove"]
    rows.setdefault(r["batch"], {})[key] = r["median_images_per_s"]
for b in sorted(rows):
    c = rows[b]
    cells = [c.get("clean"), c.get(0.0, c.get(0)), c.get(0.5), c.get(0.9)]
    ratio = c["clean"] / c[0.5] if c.get(0.5) else float("nan")
    print(f"| {b} | " + " | ".join(f"{v:.0f}" if v else "-" for v in cells) + f" | {ratio:.2f}x |")
PY
} | tee "$out/table.md"
step "done"
exit $failed
