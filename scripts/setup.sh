#!/usr/bin/env bash
# Installs every Debian 12 package Quay's build, tests, benchmarks and tools need.
# Non-interactive and idempotent: packages already present are skipped.
#   scripts/setup.sh            the Linux build, tests, benchmarks, sample game and bots
#   scripts/setup.sh --windows  also the mingw-w64 cross toolchain and Wine (Windows tests)
set -euo pipefail

packages=(
  # toolchain
  cmake ninja-build ccache g++ clang libclang-rt-14-dev pkg-config git
  # runtime, actors, net
  libconcurrentqueue-dev libflatbuffers-dev flatbuffers-compiler libspdlog-dev libfmt-dev
  # tests and benchmarks (Asio and CAF are benchmark anchors only)
  libgtest-dev libgmock-dev libbenchmark-dev libasio-dev libcaf-dev
  # benchmark plots (scripts/bench-report.py, with Debian's /usr/bin/python3)
  python3-matplotlib
  # sample game and bots
  libcli11-dev libtomlplusplus-dev libsqlite3-dev sqlite3 liblua5.4-dev
  # accounts and sessions (issue 20): argon2id secrets, signed tokens
  libsodium-dev
  # io_uring candidate backend
  liburing-dev
  # browser reach (issue 17): WebSocket framing and upgrade parsing, SHA-1 for the accept key,
  # the Prometheus parser the exposition test reads back with, and the headless browser the
  # web tests drive (node 20 comes with the machine: never apt-get install npm, it conflicts)
  libwslay-dev libhttp-parser-dev libssl-dev python3-prometheus-client chromium
  # TLS (issue 20): the openssl CLI makes the throwaway certificates of run_scenario.sh and
  # soak.sh --tls (libssl-dev above is the library)
  openssl
  # cluster (issue 15): the NATS server tests start themselves, and the official C client
  nats-server libnats-dev
)
if [[ "${1:-}" == "--windows" ]]; then
  packages+=(g++-mingw-w64-x86-64-posix wine64 wine)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The web SDK's npm packages, pinned by web/package-lock.json (only where node is).
install_web_packages() {
  if command -v node >/dev/null && command -v npm >/dev/null; then
    echo "setup: npm ci in web/"
    (cd "$(dirname "$0")/../web" && npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "setup: node or npm not found: the web SDK is skipped"
  fi
}

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages already installed"
  install_web_packages
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_web_packages
echo "setup: done"
