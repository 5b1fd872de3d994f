#!/usr/bin/env bash
# bench_zoo.sh — issue 17's performance table: the zoo's CNNs at 224 px,
# batch 1 and 8, 1 and 2 threads, lmask (oneDNN) clean and layer-masked at 50%
# and 90% removal (16-px patches) beside PyTorch's and ONNX Runtime's clean
# forward, on the golden random weights (../shared/golden/zoo). Every
# measurement is one JSON line tagged with arch, batch and threads; ROUNDS
# rounds interleave the tools, so load that comes and goes hits all of them.
# tools/bench_zoo_table.py turns the log into the README's table.
#   ORT_NODE=/path/to/node_modules/onnxruntime-node tools/bench_zoo.sh [ROUNDS] [ARCHS...]
# (ONNX Runtime's CPU package: npm install --ignore-scripts onnxruntime-node.)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
shift || true
archs=("$@")
[[ ${#archs[@]} -gt 0 ]] || archs=(mobilenet_v3_large efficientnet_b0 densenet121 squeezenet1_1)
: "${ORT_NODE:?set ORT_NODE to the onnxruntime-node package directory}"
py=/usr/bin/python3
lmask=build/lmask
onnx_dir=$(mktemp -d)
trap 'rm -rf "$onnx_dir"' EXIT
# The CPU's widest vector ISA goes in the header: "AMD EPYC" alone has named
# both a Zen 3 (AVX2) and a Zen 5 (AVX-512) here.
isa=$(grep -q -m1 -w avx512f /proc/cpuinfo && echo AVX-512 || echo "AVX2, no AVX-512")
ort_version=$(node -p "require('$ORT_NODE/package.json').version")
echo "== $(date -u +%FT%TZ), $(lscpu | sed -n 's/^Model name: *//p') ($isa), $(getconf _NPROCESSORS_ONLN) cores, lmask $(git rev-parse --short HEAD), onnxruntime-node $ort_version"
for arch in "${archs[@]}"; do
  $py tools/zoo_peers.py export --weights "../shared/golden/zoo/${arch}_random.h5" --out "$onnx_dir/$arch.onnx"
done
tag() { sed "s/^{/{\"arch\":\"$1\",\"round\":$2,/"; }
for round in $(seq 1 "$rounds"); do
  for arch in "${archs[@]}"; do
    w="../shared/golden/zoo/${arch}_random.h5"
    for threads in 1 2; do
      for batch in 1 8; do
        iters=$(( batch == 1 ? 20 : 5 ))
        export OMP_NUM_THREADS=$threads
        $lmask bench --backend onednn --weights "$w" --batch $batch --iters $iters --threads $threads \
          --method layer --remove 0.5,0.9 --json | tag "$arch" "$round"
        $py tools/zoo_peers.py bench --weights "$w" --batch $batch --threads $threads --iters $iters | tag "$arch" "$round"
        node tools/bench_ort.js "$onnx_dir/$arch.onnx" --batch $batch --threads $threads --iters $iters |
          tag "$arch" "$round"
      done
    done
  done
done
