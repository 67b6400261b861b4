#!/usr/bin/env bash
# Cross-builds Quay for Windows with mingw-w64 and runs the test suite under Wine.
#   scripts/windows-test.sh [ctest args...]     e.g. scripts/windows-test.sh -R sockets
# Installs the toolchain and Wine if missing (scripts/setup.sh --windows), builds in
# build/windows with cmake/toolchain-mingw-w64.cmake, starts a throw-away Wine prefix, runs
# ctest with a timeout per test, and removes the prefix. Exits with ctest's result.
# The facts behind each step: docs/architecture.md, "Windows backend".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build="$root/build/windows"
jobs=${QUAY_JOBS:-$(nproc)}

echo "windows-test: toolchain and Wine"
scripts/setup.sh --windows

echo "windows-test: configure and build in $build (-j$jobs)"
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-mingw-w64.cmake" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g0 \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DQUAY_WERROR=ON -DQUAY_BUILD_TESTS=ON -DQUAY_BUILD_BENCH=OFF -DQUAY_BUILD_GAME=OFF \
  >/dev/null
cmake --build "$build" -j"$jobs"

# A private, headless, 64-bit Wine prefix for this run only (about 700 MB in /tmp).
export WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
WINEPREFIX=$(mktemp -d /tmp/quay-wineprefix.XXXXXX)
export WINEPREFIX
unset DISPLAY WAYLAND_DISPLAY
cleanup() {
  wineserver -k >/dev/null 2>&1 || true
  rm -rf "$WINEPREFIX"
}
trap cleanup EXIT

# Start the Wine server and the prefix before ctest: Wine's service processes inherit the
# stdout pipe of the first wine process, and ctest would wait for that pipe to close (a hang
# with a persistent server, +2.5 s per test otherwise). `wineserver -p` exits 2 if one already
# runs, so it goes first and its status is ignored.
echo "windows-test: Wine prefix $WINEPREFIX"
wineserver -p </dev/null >/dev/null 2>&1 || true
wineboot -i </dev/null >/dev/null 2>&1
# Windows 10 rather than Wine's default Windows 7.
wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f </dev/null >/dev/null 2>&1

# Every completion-port call under Wine is a round trip to wineserver (~15 us): stress tests
# scale their iteration counts by this factor (tests/support/stress_scale.hpp). No timing
# measured under Wine is a performance figure.
export QUAY_STRESS_SCALE=${QUAY_STRESS_SCALE:-0.01}
export QUAY_LOG=${QUAY_LOG:-warn}

echo "windows-test: ctest under Wine (QUAY_STRESS_SCALE=$QUAY_STRESS_SCALE)"
status=0
ctest --test-dir "$build" --output-on-failure --timeout 300 "$@" || status=$?
if ((status == 0)); then
  echo "windows-test: passed"
else
  echo "windows-test: FAILED (ctest exit $status)" >&2
fi
exit "$status"
