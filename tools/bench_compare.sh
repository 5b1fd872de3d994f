#!/usr/bin/env bash
# bench_compare.sh — the lmask figures of tools/bench_readme.sh for two
# builds of lmask, interleaved on one machine: how a change moves them.
#   tools/bench_compare.sh OLD_LMASK NEW_LMASK [ROUNDS] [THREADS]
# Every bench command runs once per binary per round, the order alternating
# between rounds (old first, then new first) so drift in the machine's speed
# falls on both. Per figure it prints each binary's best images/s over the
# rounds (and the lowest peak RSS), and new / old. Run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: tools/bench_compare.sh OLD_LMASK NEW_LMASK [ROUNDS] [THREADS]}
new=${2:?usage: tools/bench_compare.sh OLD_LMASK NEW_LMASK [ROUNDS] [THREADS]}
rounds=${3:-3}
threads=${4:-$(getconf _NPROCESSORS_ONLN)}
export OMP_NUM_THREADS=$threads
golden=../shared/golden/resnet50_random.h5
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "== $(date -u +%FT%TZ), $cpu, $threads threads, $rounds rounds; old $old, new $new"

# The bench_readme.sh commands, one per line: the arguments after `lmask bench`.
cases=(
  "--backend native --batch 1 --iters 10"
  "--backend onednn --batch 1 --iters 10"
  "--backend native --batch 8 --iters 3 --method layer --remove 0,0.5,0.75,0.9"
  "--backend onednn --batch 8 --iters 3 --method layer --remove 0,0.5,0.75,0.9"
  "--backend onednn --batch 1 --iters 10 --method layer --remove 0.5,0.9"
)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for ((r = 0; r < rounds; ++r)); do
  for c in "${cases[@]}"; do
    if ((r % 2 == 0)); then order="old new"; else order="new old"; fi
    for which in $order; do
      bin=$old
      [[ $which == new ]] && bin=$new
      # shellcheck disable=SC2086
      "$bin" bench --weights $golden $c | sed "s|^|$which batch=$(sed -n 's/.*--batch \([0-9]*\).*/\1/p' <<<"$c") |" >>"$log"
    done
  done
done

# Figure lines: "<which> batch=B <backend> <method> remove F best X median Y ...";
# header lines carry "peak RSS Z MB".
awk '
  $3 == "lmask" && $4 == "bench:" {
    backend = $5; sub(",", "", backend)
    key = sprintf("%-7s b%-2s peak RSS (MB, lowest)", backend, substr($2, 7))
    rss = $(NF - 1)
    if (!(key in lo_old)) { lo_old[key] = 1e18; lo_new[key] = 1e18; order[++n] = key; kind[key] = "rss" }
    if ($1 == "old" && rss < lo_old[key]) lo_old[key] = rss
    if ($1 == "new" && rss < lo_new[key]) lo_new[key] = rss
    next
  }
  $5 == "remove" {
    key = sprintf("%-7s b%-2s %-14s remove %s", $3, substr($2, 7), $4, $6)
    if (!(key in hi_old)) { hi_old[key] = 0; hi_new[key] = 0; order[++n] = key; kind[key] = "speed" }
    if ($1 == "old" && $8 > hi_old[key]) hi_old[key] = $8
    if ($1 == "new" && $8 > hi_new[key]) hi_new[key] = $8
  }
  END {
    printf "%-44s %10s %10s %8s\n", "figure", "old", "new", "new/old"
    for (i = 1; i <= n; ++i) {
      k = order[i]
      if (kind[k] == "rss") printf "%-44s %10.1f %10.1f %8.3f\n", k, lo_old[k], lo_new[k], lo_new[k] / lo_old[k]
      else printf "%-44s %10.2f %10.2f %8.3f\n", k, hi_old[k], hi_new[k], hi_new[k] / hi_old[k]
    }
  }' "$log"
