#!/usr/bin/env bash
# Faults under load against a real zone server (issue 8):
#
#   run_faults.sh <zone-server> <quay-bots> sigterm|kill [--bots N] [--save-interval S]
#                 [--walk S]
#
# Both: N bots walk (fault_walkers.lua) for --walk seconds (default: three save intervals),
# each keeping a trail of the positions it sent and the server acknowledged; then the server
# is stopped and the database it leaves is compared with every bot's trail.
#
#   sigterm  SIGTERM: the server must exit 0 within 20 s, and every bot's saved position must
#            be its last acknowledged one, or one it sent after that (a step the server applied
#            but had no tick left to acknowledge). Nothing older, nothing it never sent.
#   kill     kill -9: `PRAGMA integrity_check` must say ok; every bot's saved position must be
#            one it held at most one save interval (+ slack for the write) before the crash;
#            the server must start again on the same database, put every bot back exactly at
#            its saved position (fault_relogin.lua), and still stop with exit 0.
#
# The zones save everyone every --save-interval seconds (the server's own option of the same
# name). Prints HARDENING lines with the figures; exit status 0 only if every check held.
set -euo pipefail
server_bin=$1
bots_bin=$2
mode=$3
shift 3
bots=20
save_s=2
walk_s=
slack_ms=${QUAY_FAULT_SLACK_MS:-1500}
while (($#)); do
  case "$1" in
    --bots) bots=$2; shift 2 ;;
    --save-interval) save_s=$2; shift 2 ;;
    --walk) walk_s=$2; shift 2 ;;
    *) echo "run_faults: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $mode == sigterm || $mode == kill ]] || { echo "run_faults: mode is sigterm or kill" >&2; exit 2; }
walk_s=${walk_s:-$((3 * save_s))}
here=$(cd "$(dirname "$0")" && pwd)
zones="$here/../scenarios/zones"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/quay-faults.XXXXXX")
db="$tmp/characters.sqlite3"
server_pid=
bots_pid=

cleanup() {
  for pid in $bots_pid $server_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  [[ -n ${QUAY_HARDENING_KEEP:-} ]] && cp -r "$tmp" "$QUAY_HARDENING_KEEP" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "run_faults: FAILED: $*" >&2
  for f in server.out bots.out; do
    [[ -f $tmp/$f ]] || continue
    echo "--- $f (last 30 lines) ---" >&2
    tail -n 30 "$tmp/$f" | cut -c1-300 >&2
  done
  exit 1
}

# start_server <output file>: starts the zone server on the data directory; sets server_pid and
# port once it listens.
start_server() {
  : >"$1"  # exists before the poll below reads it (the server opens it in the background)
  # Bots make their names up: development accounts on; cheapest argon2id and
  # no per-address connection rate (every bot connects from 127.0.0.1) (fast tests).
  "$server_bin" --port 0 --operator-port 0 --zones "$zones" --data-dir "$tmp" --workers 2 \
    --dev-accounts --hash-ops-limit 1 --hash-mem-limit 8192 \
    --connection-burst 1000000 --connections-per-second 1000000 \
    --save-interval "$save_s" >"$1" 2>&1 &
  server_pid=$!
  port=
  for _ in $(seq 300); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
    [[ -n $port ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "zone-server exited before listening"
    sleep 0.05
  done
  fail "zone-server did not listen within 15 s"
}

# stop_server: SIGTERM, then exit status 0 within 20 s.
stop_server() {
  kill -TERM "$server_pid"
  for _ in $(seq 200); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$server_pid" 2>/dev/null && fail "the zone server did not exit within 20 s of SIGTERM"
  local status=0
  wait "$server_pid" || status=$?
  server_pid=
  ((status == 0)) || fail "the zone server exited with status $status after SIGTERM"
}

start_server "$tmp/server.out"
"$bots_bin" "$here/fault_walkers.lua" --server "127.0.0.1:$port" --bots "$bots" --workers 1 \
  >"$tmp/bots.out" 2>&1 &
bots_pid=$!

# Every bot walking, then the load runs for --walk seconds (several periodic saves).
walking=0
for _ in $(seq 600); do
  walking=$(grep -c '^\[[^]]*\] WALKING ' "$tmp/bots.out" || true)
  ((walking >= bots)) && break
  kill -0 "$bots_pid" 2>/dev/null || fail "quay-bots ended before every bot walked"
  sleep 0.1
done
((walking >= bots)) || fail "only $walking of $bots bots walking after 60 s"
sleep "$walk_s"

if [[ $mode == sigterm ]]; then
  stop_server
else
  kill -KILL "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
fi

# The bots end once the server is gone (bounded by their own timeout).
for _ in $(seq 300); do
  kill -0 "$bots_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$bots_pid" 2>/dev/null && fail "quay-bots still running 30 s after the server went away"
bots_status=0
wait "$bots_pid" || bots_status=$?
bots_pid=
faults=$(grep -c '^\[[^]]*\] FAULT ' "$tmp/bots.out" || true)
((bots_status == 0)) || fail "quay-bots exited with $bots_status"
((faults == bots)) || fail "only $faults of $bots bots reported their trail"

integrity=$(sqlite3 "$db" 'PRAGMA integrity_check;')
[[ $integrity == ok ]] || fail "integrity_check after $mode: $integrity"
sqlite3 -separator ' ' "$db" 'SELECT name, x, y FROM characters ORDER BY name;' >"$tmp/saved.txt"

# Compare every bot's trail with its saved row (awk: one FAULT line per bot).
sed -n 's/^\[[^]]*\] FAULT //p' "$tmp/bots.out" >"$tmp/trails.txt"
awk -v mode="$mode" -v limit_ms=$((save_s * 1000 + slack_ms)) -v bots="$bots" '
  function near(ax, ay, bx, by) { return (ax - bx) ^ 2 + (ay - by) ^ 2 < 0.0004 }
  FNR == NR { sx[$1] = $2; sy[$1] = $3; next }
  {
    for (i = 1; i <= NF; ++i) { split($i, kv, "="); f[kv[1]] = substr($i, length(kv[1]) + 2) }
    name = f["name"]; cut = f["cut"]
    if (!(name in sx)) { print "no saved row for " name; bad++; next }
    split(f["acked"], a, "[,@]"); ax = a[1]; ay = a[2]
    n = split(f["trail"], tr, ";")
    if (mode == "sigterm") {
      # The saved position is the last acknowledged one, or a step sent after the step the
      # last acknowledgement confirmed.
      if (near(sx[name], sy[name], ax, ay)) { equal++; checked++; next }
      from = 0
      for (i = 1; i <= n; ++i) {
        split(tr[i], e, ":"); split(e[3], p, ",")
        if (e[1] == "S" && near(p[1], p[2], ax, ay)) from = i
      }
      ok = 0
      for (i = from + 1; i <= n; ++i) {
        split(tr[i], e, ":"); split(e[3], p, ",")
        if (e[1] == "S" && near(p[1], p[2], sx[name], sy[name])) ok = 1
      }
      if (ok) { later++; checked++ }
      else { printf "%s: saved (%s, %s) is neither its last acknowledged position (%s, %s) nor a later step\n", name, sx[name], sy[name], ax, ay; bad++ }
    } else {
      # The saved position was held (sent or acknowledged) at most one save interval before
      # the crash.
      t = -1
      for (i = 1; i <= n; ++i) {
        split(tr[i], e, ":"); split(e[3], p, ",")
        if (near(p[1], p[2], sx[name], sy[name]) && e[2] + 0 > t) t = e[2] + 0
      }
      if (t < 0) { printf "%s: saved (%s, %s) is no position it held in its trail\n", name, sx[name], sy[name]; bad++; next }
      loss = cut - t
      if (loss > max_loss) max_loss = loss
      total_loss += loss; checked++
      if (loss > limit_ms) { printf "%s: lost %d ms of walking (limit %d ms)\n", name, loss, limit_ms; bad++ }
    }
  }
  END {
    if (checked + bad != bots) { printf "%d bots checked, %d expected\n", checked + bad, bots; bad++ }
    if (mode == "sigterm")
      printf "HARDENING fault=sigterm bots=%d saved_equal_last_ack=%d saved_later_step=%d mismatches=%d\n", bots, equal, later, bad
    else
      printf "HARDENING fault=kill9 bots=%d save_interval_ms=%d max_loss_ms=%d mean_loss_ms=%d limit_ms=%d failures=%d\n", bots, limit_ms - '"$slack_ms"', max_loss, checked ? total_loss / checked : 0, limit_ms, bad
    exit bad ? 1 : 0
  }' "$tmp/saved.txt" "$tmp/trails.txt" || fail "the database does not match the bots' trails"

if [[ $mode == kill ]]; then
  # Restart on the crashed database: every bot is back exactly where it was saved.
  start_server "$tmp/server2.out"
  "$bots_bin" "$here/fault_relogin.lua" --server "127.0.0.1:$port" --bots "$bots" --workers 1 \
    >"$tmp/relogin.out" 2>&1 || fail "logging in again after the restart failed: $(tail -n 5 "$tmp/relogin.out")"
  sed -n 's/^\[[^]]*\] RELOGIN //p' "$tmp/relogin.out" | sort >"$tmp/relogin.txt"
  awk 'FNR == NR { sx[$1] = $2; sy[$1] = $3; next }
       { if (!(($1 in sx) && ($2 - sx[$1]) ^ 2 + ($3 - sy[$1]) ^ 2 < 0.0004)) {
           printf "%s: back at (%s, %s) after the restart, saved (%s, %s)\n", $1, $2, $3, sx[$1], sy[$1]; bad++ }
         n++ }
       END { if (n != '"$bots"') { print n " bots logged in again"; bad++ } exit bad ? 1 : 0 }' \
    "$tmp/saved.txt" "$tmp/relogin.txt" || fail "positions after the restart differ from the database"
  echo "HARDENING fault=kill9 restart: integrity_check ok, $bots bots back at their saved positions"
  stop_server
fi
echo "run_faults: $mode passed"
