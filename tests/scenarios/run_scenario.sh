#!/usr/bin/env bash
# Runs one Lua scenario against a fresh zone server, then tears the server down whatever
# happened: the server binds a free port on 127.0.0.1 (--port 0; the port is read from its
# "listening on" line), plays the small zones in tests/scenarios/zones/, and keeps its data
# (SQLite, logs) in a temporary directory that is removed afterwards.
#
#   run_scenario.sh <zone-server> <quay-bots> <scenario.lua> [quay-bots options...]
#
# Exit status: quay-bots' (0 only if every expectation held); 1 if the server never listened.
set -euo pipefail
server_bin=$1
bots_bin=$2
scenario=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/quay-scenario.XXXXXX")
server_pid=

cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    # SIGTERM: the server saves every player and closes sessions; bounded, then SIGKILL.
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

: >"$tmp/server.out"  # exists before the poll below reads it (the server opens it in the background)
# Scenario bots make their names up: development accounts on; cheapest argon2id and
# no per-address connection rate (every bot connects from 127.0.0.1) (fast tests).
"$server_bin" --port 0 --operator-port 0 --zones "$here/zones" --data-dir "$tmp" --workers 1 \
  --dev-accounts --hash-ops-limit 1 --hash-mem-limit 8192 \
  --connection-burst 1000000 --connections-per-second 1000000 \
  --stats-interval 5 >"$tmp/server.out" 2>&1 &
server_pid=$!

port=
for _ in $(seq 200); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/server.out" | head -n 1)
  [[ -n $port ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run_scenario: zone-server exited before listening:" >&2
    cat "$tmp/server.out" >&2
    exit 1
  fi
  sleep 0.05
done
if [[ -z $port ]]; then
  echo "run_scenario: zone-server did not listen within 10 s:" >&2
  cat "$tmp/server.out" >&2
  exit 1
fi

status=0
"$bots_bin" "$scenario" --server "127.0.0.1:$port" --workers 1 "$@" || status=$?
if ((status != 0)); then
  echo "--- zone-server output (last 60 lines) ---"
  tail -n 60 "$tmp/server.out"
fi
exit "$status"
