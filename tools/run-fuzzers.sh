#!/usr/bin/env bash
# run-fuzzers.sh BUILD SECONDS TARGET... — runs each libFuzzer target of
# tests/fuzz for SECONDS, one after another (`make fuzz` calls it).
#
# Each target works on its own corpus in BUILD/corpus/<target>, seeded from
# tests/fuzz/corpus/<target> and kept between runs, so later runs go deeper.
# A crash, sanitizer report, leak, timeout or out-of-memory is written to
# BUILD/artifacts/<target>/ and fails the whole run; reproduce one with
# `BUILD/tests/fuzz/fuzz_<target> FILE`, and once it is fixed keep it as a
# regression test in tests/fuzz/regressions/<target>/.
set -euo pipefail
build=$1 seconds=$2
shift 2
root="$(cd "$(dirname "$0")/.." && pwd)"
failed=()
for target in "$@"; do
  corpus="$build/corpus/$target" artifacts="$build/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  log="$build/fuzz_$target.log"
  echo "fuzz: $target for ${seconds}s (log: $log)"
  # -timeout: one input may take at most 30 s; -rss_limit_mb: a run past
  # 2 GiB is a finding (an input should never cost that much memory).
  if ! "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$root/tests/fuzz/corpus/$target" \
      >"$log" 2>&1; then
    failed+=("$target")
    grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error)" "$log" | head -5 >&2 || true
  fi
  grep -E "^(stat::number_of_executed_units|Done )" "$log" | sed "s/^/  /" || true
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: findings in: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "fuzz: no findings"
