#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz", clang, with the sample game so its targets are
# built too) and runs each for a bounded time over a copy of its seed corpus in
# tests/fuzz/corpus/<target>/.
#   scripts/fuzz.sh [seconds-per-target]     (default 60)
# The whole run stays within QUAY_FUZZ_TOTAL_SECONDS (default 180): with more targets than
# fit, each gets total / targets seconds instead.
# Exits non-zero if a target finds a crash; the reproducer is left in build/fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
total="${QUAY_FUZZ_TOTAL_SECONDS:-180}"
jobs="${QUAY_FUZZ_BUILD_JOBS:-$(nproc)}"

cmake --preset fuzz -DQUAY_BUILD_GAME=ON >/dev/null
mapfile -t targets < <(grep -v '^$' build/fuzz/fuzz_targets.txt)
cmake --build --preset fuzz -j"$jobs" --target "${targets[@]}"
if ((seconds * ${#targets[@]} > total)); then
  seconds=$((total / ${#targets[@]}))
fi

mkdir -p build/fuzz/crashes
for t in "${targets[@]}"; do
  work="build/fuzz/corpus-run/$t"
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  echo "=== fuzz: $t for ${seconds}s ==="
  "build/fuzz/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=70000 -print_final_stats=1 -artifact_prefix="build/fuzz/crashes/$t-" \
    "$work"
done
echo "=== fuzz: all targets ran ${seconds}s without a finding ==="
