#!/usr/bin/env bash
# Runs one Lua scenario against a fresh zone server, then tears the server down whatever
# happened: the server binds a free port on 127.0.0.1 (--port 0; the port is read from its
# "listening on" line), plays the small zones in tests/scenarios/zones/, and keeps its data
# (SQLite, logs) in a temporary directory that is removed afterwards.
#
#   run_scenario.sh <zone-server> <quay-bots> <scenario.lua> [quay-bots options...]
#
# A scenario whose header says `--! tls=1` runs over TLS: a throwaway self-signed certificate
# (openssl CLI) is made in the temporary directory, the server's port is TLS-only, and the bots
# trust that certificate.
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
# A scenario may add server options on its `--!` line: server=--opt=value,--other=value.
server_extra=()
extra=$(sed -n 's/^--!.*server=\([^ ]*\).*/\1/p' "$scenario" | head -n 1)
if [[ -n $extra ]]; then IFS=, read -r -a server_extra <<<"$extra"; fi
server_tls=()
bots_tls=()
if grep -qE '^--!.*\btls=1\b' "$scenario"; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null
  server_tls=(--tls-cert "$tmp/tls.crt" --tls-key "$tmp/tls.key")
  bots_tls=(--tls-ca "$tmp/tls.crt")
fi
"$server_bin" --port 0 --zones "$here/zones" --data-dir "$tmp" --workers 1 \
  --dev-accounts --hash-ops-limit 1 --hash-mem-limit 8192 \
  --connection-burst 1000000 --connections-per-second 1000000 \
  --stats-interval 5 "${server_tls[@]}" "${server_extra[@]}" >"$tmp/server.out" 2>&1 &
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
"$bots_bin" "$scenario" --server "127.0.0.1:$port" --workers 1 "${bots_tls[@]}" "$@" || status=$?
# Over TLS, the plain-text client a scenario sent must be refused with a logged reason.
if ((status == 0)) && ((${#bots_tls[@]})) && grep -q 'send_raw' "$scenario" &&
   ! grep -q 'plain-text client on a TLS listener' "$tmp/server.out" "$tmp"/*.log 2>/dev/null; then
  echo "run_scenario: the server logged no plain-text refusal"
  status=1
fi
if ((status != 0)); then
  echo "--- zone-server output (last 60 lines) ---"
  tail -n 60 "$tmp/server.out"
fi
exit "$status"
