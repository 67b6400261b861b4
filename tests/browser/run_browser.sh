#!/usr/bin/env bash
# Runs one browser test (puppeteer-core driving Debian's headless chromium) against a fresh
# zone server, then tears everything down by pid whatever happened. The server binds free
# ports on 127.0.0.1 (game and operator), plays tests/scenarios/zones, and keeps its data in a
# temporary directory. A Lua bot (peer_bot.lua via quay-bots) joins first when asked.
#
#   run_browser.sh <zone-server> <quay-bots> <test.js> <screenshot-dir> [--bot]
#
# The test gets QUAY_GAME_URL, QUAY_OPERATOR_URL, QUAY_TOKEN and QUAY_SHOTS in its environment.
set -euo pipefail
server_bin=$1
bots_bin=$2
test_js=$3
shots=$4
with_bot=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
zones=$(cd "$here/../scenarios/zones" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/quay-browser.XXXXXX")
server_pid=
bot_pid=
mkdir -p "$shots"

stop_pid() {  # stop_pid PID: TERM, a bounded wait, then KILL
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$bot_pid"
  stop_pid "$server_pid"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

token=browser-test-token
: >"$tmp/server.out"
"$server_bin" --port 0 --web --operator-port 0 --operator-token "$token" --zones "$zones" \
  --data-dir "$tmp" --workers 1 --dev-accounts --hash-ops-limit 1 --hash-mem-limit 8192 \
  --connection-burst 1000000 --connections-per-second 1000000 >"$tmp/server.out" 2>&1 &
server_pid=$!

port=
operator=
for _ in $(seq 200); do
  port=$(sed -n 's/.*zone-server listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/server.out" | head -n 1)
  operator=$(sed -n 's/.*operator listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/server.out" | head -n 1)
  [[ -n $port && -n $operator ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run_browser: zone-server exited before listening:" >&2
    cat "$tmp/server.out" >&2
    exit 1
  fi
  sleep 0.05
done
if [[ -z $port || -z $operator ]]; then
  echo "run_browser: zone-server did not listen within 10 s:" >&2
  cat "$tmp/server.out" >&2
  exit 1
fi

if [[ $with_bot == --bot ]]; then
  "$bots_bin" "$here/peer_bot.lua" --server "127.0.0.1:$port" --workers 1 >"$tmp/bot.out" 2>&1 &
  bot_pid=$!
fi

status=0
QUAY_GAME_URL="http://127.0.0.1:$port/" QUAY_OPERATOR_URL="http://127.0.0.1:$operator" \
  QUAY_TOKEN=$token QUAY_SHOTS=$shots NODE_PATH="$here/../../web/node_modules" \
  node "$test_js" || status=$?
if [[ -n $bot_pid ]]; then
  # The bot's own expectations (it heard the web client) count too; it ends by itself.
  bot_status=0
  for _ in $(seq 100); do
    kill -0 "$bot_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$bot_pid" 2>/dev/null; then
    echo "run_browser: the Lua bot did not finish" >&2
    bot_status=1
  else
    wait "$bot_pid" || bot_status=$?
  fi
  bot_pid=
  if ((status == 0 && bot_status != 0)); then
    echo "run_browser: the Lua bot failed (exit $bot_status):" >&2
    cat "$tmp/bot.out" >&2
    status=$bot_status
  fi
fi
if ((status != 0)); then
  echo "--- zone-server output (last 40 lines) ---"
  tail -n 40 "$tmp/server.out"
fi
exit "$status"
