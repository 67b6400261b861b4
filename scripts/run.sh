#!/usr/bin/env bash
# The main command: installs packages, builds (Release), starts the zone server on the embedded
# default (SQLite in a data directory) and puts bots in it, printing live figures: the server's
# per-zone lines (CCU, tick p50/p99, messages) and the bots' progress line (online, msgs/s,
# round trip, AOI staleness). Ctrl-C stops both cleanly: the bots log out, the server saves
# every player and exits, then the bots' final report is printed.
#
#   scripts/run.sh                          200 bots until Ctrl-C
#   scripts/run.sh --duration 60            a bounded run of 60 s
#   scripts/run.sh --bots 1000 --ramp 100   more bots, started 100 per second
#   options: --bots N (200)  --ramp R (50/s)  --duration S (until Ctrl-C)  --port P (7777)
#            --operator-port P (7780: /metrics, /healthz, /readyz, /admin; docs/operations.md)
#            --data-dir DIR (build/release/run-data)  --script FILE (the wander-and-chat script)
#            --server-workers N (1)  --bot-workers N (1)  --no-build
set -euo pipefail
cd "$(dirname "$0")/.."

bots=200
ramp=50
duration=
port=7777
operator_port=7780
data_dir=build/release/run-data
script=sample-game/bots/scripts/wander.lua
server_workers=1
bot_workers=1
build=1
while (($#)); do
  case "$1" in
    --bots) bots=$2; shift 2 ;;
    --ramp) ramp=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --operator-port) operator_port=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --script) script=$2; shift 2 ;;
    --server-workers) server_workers=$2; shift 2 ;;
    --bot-workers) bot_workers=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

if ((build)); then
  scripts/setup.sh
  cmake --preset release >/dev/null
  cmake --build --preset release -j"$(nproc)" --target zone-server quay-bots
  # The web client and admin page (needs node and web/node_modules, which setup.sh installs).
  cmake --build --preset release --target quay_web_site >/dev/null 2>&1 ||
    echo "run.sh: the web client was not built (node or web/node_modules missing)" >&2
fi
server_bin=build/release/sample-game/zone-server
bots_bin=build/release/sample-game/bots/quay-bots
mkdir -p "$data_dir"
console="$data_dir/console.log"
: >"$console"

server_pid=
tail_pid=
stop_server() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # The server saves every player before it exits; give it time, then insist.
    for _ in $(seq 150); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  [[ -n $server_pid ]] && wait "$server_pid" 2>/dev/null || true
  server_pid=
}
cleanup() {
  stop_server
  # The tail follows the server (--pid): once the server is gone it prints the last lines and
  # ends, and the sed after it sees the end of its input. Bounded, then stopped.
  if [[ -n $tail_pid ]]; then
    for _ in $(seq 30); do
      kill -0 "$tail_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$tail_pid" 2>/dev/null || true
    wait "$tail_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
# Ctrl-C reaches every process of the terminal's foreground group: quay-bots stops its bots
# and reports, the server saves and exits. The script itself just waits for both.
trap ':' INT

# The server in its own process group would miss the terminal's Ctrl-C; keep it in ours, with
# its console going to a file that a tail shows with a prefix.
# The demo's bots make their names up: development accounts on (off by default); the cheapest
# argon2id cost, so a ramp of bots is not refused LoginBusy, and no per-address connection rate
# (every bot connects from 127.0.0.1). See docs/protocol.md, "Accounts and secrets".
"$server_bin" --port "$port" --web --operator-port "$operator_port" --data-dir "$data_dir" \
  --workers "$server_workers" --dev-accounts --hash-ops-limit 1 --hash-mem-limit 8192 \
  --connection-burst 1000000 --connections-per-second 1000000 \
  --stats-interval 5 >"$console" 2>&1 &
server_pid=$!
# Process substitution, not a pipeline: $! is then the tail itself (a pipeline's $! would be
# the sed, and killing it left the tail following the file for ever). Both ignore Ctrl-C so the
# server's shutdown lines still get printed (the tail as a background job, the sed by its trap).
tail -n +1 -f --pid="$server_pid" "$console" 2>/dev/null \
  > >(trap '' INT; exec sed -u 's/^/[server] /') &
tail_pid=$!

for _ in $(seq 200); do
  grep -q "listening on" "$console" && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: the zone server exited at start (see $console)" >&2
    exit 1
  fi
  sleep 0.05
done
grep -q "listening on" "$console" || { echo "run.sh: the zone server did not start" >&2; exit 1; }
for _ in $(seq 40); do
  grep -q "operator listening on" "$console" && break
  sleep 0.05
done
admin_url=$(sed -n 's/.*operator listening on .* (admin: \(http[^)]*\)).*/\1/p' "$console" | head -n 1)
echo "run.sh: play in your browser: http://127.0.0.1:$port/ (log in with any new name; development accounts)"
[[ -n $admin_url ]] && echo "run.sh: the operator's admin page: $admin_url (metrics: ${admin_url%%/admin*}/metrics)"

args=("$script" --server "127.0.0.1:$port" --bots "$bots" --ramp "$ramp" --workers "$bot_workers"
      --progress 2)
if [[ -n $duration ]]; then args+=(--duration "$duration"); else args+=(--load); fi
echo "run.sh: $bots bots (ramp $ramp/s) on 127.0.0.1:$port, data in $data_dir;" \
     "${duration:+for $duration s, }Ctrl-C to stop"
status=0
"$bots_bin" "${args[@]}" || status=$?
stop_server
exit "$status"
