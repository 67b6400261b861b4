#!/usr/bin/env bash
# Sets up, builds and runs Quay's whole test suite.
#   scripts/test.sh                 Debug build, every ctest (the README's test command)
#   scripts/test.sh asan tsan ...   the same suite under other presets, in order:
#       debug | release (-O3, -Werror, benchmarks built too) | asan (AddressSanitizer+UBSan)
#       | tsan (ThreadSanitizer)
#       windows (mingw-w64 cross build, tests under Wine) | fuzz (bounded libFuzzer runs)
# Exits non-zero as soon as one mode fails.
set -euo pipefail
cd "$(dirname "$0")/.."

modes=("$@")
((${#modes[@]})) || modes=(debug)

if printf '%s\n' "${modes[@]}" | grep -qx windows; then
  scripts/setup.sh --windows
else
  scripts/setup.sh
fi

jobs=$(nproc)
for mode in "${modes[@]}"; do
  echo "=== test: ${mode} ==="
  case "$mode" in
    debug|release|asan|tsan)
      cmake --preset "$mode" >/dev/null
      cmake --build --preset "$mode" -j"$jobs"
      ctest --preset "$mode" -j"$jobs"
      ;;
    windows)
      scripts/windows-test.sh
      ;;
    fuzz)
      scripts/fuzz.sh "${QUAY_FUZZ_SECONDS:-60}"
      ;;
    *)
      echo "test: unknown mode '$mode'" >&2
      exit 2
      ;;
  esac
done
echo "=== test: all passed (${modes[*]}) ==="
