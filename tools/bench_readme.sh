#!/usr/bin/env bash
# bench_readme.sh — every throughput figure the README reports, in one run on
# one machine, lmask beside its PyTorch peer. Run it on an otherwise idle
# machine: OpenMP threads that wait for a descheduled peer make a busy one look
# many times slower. Takes about 5 minutes on 2 cores.
#   tools/bench_readme.sh [THREADS]   (default: all cores)
set -euo pipefail
cd "$(dirname "$0")/.."
cores=$(getconf _NPROCESSORS_ONLN)
threads=${1:-$cores}
export OMP_NUM_THREADS=$threads
golden=../shared/golden/resnet50_random.h5
py=/usr/bin/python3
lmask=build/lmask
echo "== machine: $cores cores, $threads threads, $(date -u +%FT%TZ)"

echo "== clean ResNet-50, 224 px: lmask backends vs PyTorch (batch 1, then 8)"
for batch in 1 8; do
  iters=$(( batch == 1 ? 20 : 6 ))
  for backend in native onednn; do
    $lmask bench --backend "$backend" --weights $golden --batch $batch --iters $iters
  done
  $py tools/bench_torch.py --weights $golden --batch $batch --iters $iters --threads "$threads"
done

echo "== layer masking, 224 px, batch 8, 16-px patches: active-region vs clean on each backend (interleaved)"
for backend in native onednn; do
  $lmask bench --backend "$backend" --weights $golden --batch 8 --iters 5 --method layer --remove 0,0.5,0.75,0.9
done
echo "== layer masking at batch 1 on oneDNN: latency and peak RSS"
$lmask bench --backend onednn --weights $golden --batch 1 --iters 10 --method layer --remove 0.5,0.9
echo "== the spec rendered densely in PyTorch, same masks"
for f in 0.5 0.9; do
  $py tools/bench_torch.py --weights $golden --mode layer --remove $f --batch 8 --iters 2 --threads "$threads"
done

echo "== LIME perturbations/s, layer method, shipped Fashion-MNIST model"
$py tools/bench_lime_torch.py --weights weights/resnet50_fmnist.h5 --images 2 --samples 256 \
  --threads "$threads" --lmask $lmask
