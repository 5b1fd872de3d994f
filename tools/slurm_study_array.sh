#!/usr/bin/env bash
# slurm_study_array.sh — one lmask study on a Slurm cluster, without MPI:
# a job array with one shard of the images per task, then a merge job that
# runs once every task has succeeded. The merged CSV is byte for byte the
# one a single process writes (README, "Running the studies on a cluster").
#
#   tools/slurm_study_array.sh SHARDS OUT_DIR STUDY [lmask study options...]
#
# e.g. S1 on ImageNet's validation set in 64 shards:
#   tools/slurm_study_array.sh 64 /shared/runs/s1 removal --weights /shared/resnet50.h5 \
#       --dataset folder:/shared/imagenet/val --limit 0 --seed 0 --batch 32
#
# It submits two jobs and prints their ids:
#   array  sbatch --array=0-(SHARDS-1): lmask study STUDY ... --shard $SLURM_ARRAY_TASK_ID/SHARDS --out OUT_DIR --resume
#          (each task writes OUT_DIR/STUDY.shard-<i>-of-<SHARDS>, atomically, when its shard is done)
#   merge  sbatch --dependency=afterok:<array>: lmask merge OUT_DIR (STUDY.csv, .png, .json, index.html)
# OUT_DIR, the weights and the dataset must be on a file system every node
# sees, under the same paths (the shard files name them; relative paths are
# relative to the directory this script is run from, which is where the
# jobs start).
#
# A task that died (node failure, time limit, preemption) leaves the other
# shards' files and its own checkpoint: run the same command again. With
# --resume, finished shards return at once and the others go on from
# their last finished batch.
#
# Environment:
#   LMASK       the lmask binary (default: build/lmask, made absolute)
#   THREADS     cores per task: --cpus-per-task and OMP_NUM_THREADS (default 8)
#   SBATCH_ARGS more sbatch options for both jobs, e.g. "--partition=cpu --time=04:00:00"
#   SBATCH      the sbatch command (default: sbatch)
set -euo pipefail

if [[ $# -lt 3 ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
shards=$1 out=$2 study=$3
shift 3
if ! [[ $shards =~ ^[1-9][0-9]*$ ]]; then
  echo "slurm_study_array.sh: SHARDS must be a positive number, not '$shards'" >&2
  exit 2
fi
lmask=$(realpath "${LMASK:-build/lmask}")
threads=${THREADS:-8}
sbatch=${SBATCH:-sbatch}
read -r -a extra <<<"${SBATCH_ARGS:-}"

# The task's command, quoted once for the shell that --wrap starts;
# SLURM_ARRAY_TASK_ID is left for that shell to expand.
study_cmd="OMP_NUM_THREADS=$threads exec $(printf '%q ' "$lmask" study "$study" "$@")"
study_cmd+="--shard \${SLURM_ARRAY_TASK_ID}/$shards --out $(printf '%q' "$out") --resume"
merge_cmd="exec $(printf '%q ' "$lmask" merge "$out")"

mkdir -p "$out"
array_id=$("$sbatch" --parsable --job-name="lmask-$study" --array="0-$((shards - 1))" \
  --cpus-per-task="$threads" --output="$out/slurm-%A_%a.out" "${extra[@]}" --wrap "$study_cmd")
array_id=${array_id%%;*}  # --parsable prints "id" or "id;cluster"
merge_id=$("$sbatch" --parsable --job-name="lmask-$study-merge" --dependency="afterok:$array_id" \
  --output="$out/slurm-%j-merge.out" "${extra[@]}" --wrap "$merge_cmd")
echo "array job $array_id ($shards shards of $study), merge job ${merge_id%%;*} -> $out/$study.csv"
