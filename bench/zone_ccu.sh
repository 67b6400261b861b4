#!/usr/bin/env bash
# zone_ccu: the capacity load test. N wander-and-chat bots (sample-game/bots/scripts/wander.lua:
# 10 Hz movement, a chat line about every 15 s, a ping a second) in one zone of a fresh zone
# server, for each N. Per N it prints, after a warm-up, over a measured window:
#   BENCH name=zone_ccu_<N> impl=quay value=<server CPU us per player-tick> unit=us_per_player_tick
#   ... tick_p50_ms, tick_p99_ms (the zone actor's own figures), rtt_p99_ms (bots' ping),
#   msgs_in_per_s / msgs_out_per_s (the bots' side), rss_mb (the server's resident memory)
# The bots' figures cover the same window (quay-bots --warmup: the ramp and warm-up are left out).
# Bots and server share this machine: the bots' CPU is part of the load, as the issue asks.
#
#   bench/zone_ccu.sh <zone-server> <quay-bots> [--ns "500 1000 2000 5000"] [--ramp 250]
#                     [--warmup 40] [--measure 20] [--server-workers 1] [--bot-workers 1]
#                     [--zones DIR]   (default bench/zones: one zone, arrivals spread over it)
#                     [--pin]         (server on CPU 0, bots on CPU 1, as bench_echo does)
# load_pct is the bots' messages out as a share of what N players send (10 moves, 1 ping and
# a 15th of a chat line per second): under 100, the bots could not keep their pace and the
# server carried less than N players' load.
set -euo pipefail
server_bin=$1
bots_bin=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
script="$here/../sample-game/bots/scripts/wander.lua"
zones="$here/zones"   # plains.toml: newcomers appear anywhere within 500 m of the centre
ns="500 1000 2000 5000"
ramp=250
warmup=40
measure=20
server_workers=1
bot_workers=1
pin=0
while (($#)); do
  case "$1" in
    --ns) ns=$2; shift 2 ;;
    --ramp) ramp=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --measure) measure=$2; shift 2 ;;
    --server-workers) server_workers=$2; shift 2 ;;
    --bot-workers) bot_workers=$2; shift 2 ;;
    --zones) zones=$2; shift 2 ;;
    --pin) pin=1; shift ;;
    *) echo "zone_ccu: unknown option $1" >&2; exit 2 ;;
  esac
done
tick_rate=10
clk=$(getconf CLK_TCK)

spid=
bpid=
# An early exit (a failed step under set -e) must not leave a server or bots running.
cleanup() {
  [[ -n $bpid ]] && kill -KILL "$bpid" 2>/dev/null
  [[ -n $spid ]] && kill -KILL "$spid" 2>/dev/null
  return 0
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

for n in $ns; do
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/quay-ccu.XXXXXX")
  server_cpu=()
  bots_cpu=()
  if ((pin)); then
    server_cpu=(taskset -c 0)
    bots_cpu=(taskset -c 1)
  fi
  # Bots make their names up: development accounts on; the cheapest argon2id (CCU, not login
  # cost, is measured here) and no per-address connection rate (every bot is on 127.0.0.1).
  "${server_cpu[@]}" "$server_bin" --port 0 --operator-port 0 --data-dir "$tmp" --zones "$zones" --workers "$server_workers" --stats-interval 10 \
    --dev-accounts --hash-ops-limit 1 --hash-mem-limit 8192 \
    --connection-burst 1000000 --connections-per-second 1000000 \
    --max-players $((n + 100)) >"$tmp/server.out" 2>&1 &
  spid=$!
  port=
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/server.out" | head -n 1)
    [[ -n $port ]] && break
    sleep 0.05
  done
  if [[ -z $port ]]; then
    echo "zone_ccu: the server did not start" >&2
    cat "$tmp/server.out" >&2
    kill -KILL "$spid" 2>/dev/null || true
    exit 1
  fi
  ramp_s=$(( (n + ramp - 1) / ramp ))
  duration=$((ramp_s + warmup + measure + 3))  # outlives the window: its CPU is read at the end
  "${bots_cpu[@]}" "$bots_bin" "$script" --server "127.0.0.1:$port" --bots "$n" --ramp "$ramp" \
    --duration "$duration" --warmup $((ramp_s + warmup)) --workers "$bot_workers" --json \
    >"$tmp/bots.json" 2>"$tmp/bots.err" &
  bpid=$!
  sleep $((ramp_s + warmup))
  c0=$(cpu_ticks "$spid")
  b0=$(cpu_ticks "$bpid")
  t0=$(date +%s.%N)
  line0=$(wc -l <"$tmp/server.out")
  sleep "$measure"
  c1=$(cpu_ticks "$spid")
  b1=$(cpu_ticks "$bpid")
  t1=$(date +%s.%N)
  rss=$(rss_kb "$spid")
  wait "$bpid" || true
  kill -TERM "$spid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true

  # Zone stats lines written during the window, of the zone the bots play in (the one with
  # the most players; the server's other zones are empty and tick in microseconds): the
  # median of its p50s, the worst of its p99s (each over one 10 s stats interval: 100 ticks),
  # the worst p99 of the ticks' CPU time (far below the wall p99: the ticks were preempted),
  # its largest ccu.
  stats=$(tail -n +"$((line0 + 1))" "$tmp/server.out" |
    grep -o "zone [0-9]* '[^']*': ccu=[0-9]*.*tick_cpu_p99=[0-9.]*ms" || true)
  read -r ccu p50 p99 cpu99 < <(echo "$stats" | awk '
    { z = $2; c = 0; p = 0; q = 0; u = 0
      if (match($0, /ccu=[0-9]+/)) c = substr($0, RSTART + 4, RLENGTH - 4) + 0
      if (match($0, /tick_p50=[0-9.]+/)) p = substr($0, RSTART + 9, RLENGTH - 9) + 0
      if (match($0, /tick_p99=[0-9.]+/)) q = substr($0, RSTART + 9, RLENGTH - 9) + 0
      if (match($0, /tick_cpu_p99=[0-9.]+/)) u = substr($0, RSTART + 13, RLENGTH - 13) + 0
      zone[NR] = z; p50[NR] = p; p99[NR] = q; cpu99[NR] = u
      if (c > top[z]) top[z] = c
      if (c > best) { best = c; busy = z } }
    END { n = 0; w = 0
      for (i = 1; i <= NR; i++) if (zone[i] == busy) {
        a[n++] = p50[i]; if (p99[i] > w) w = p99[i]; if (cpu99[i] > cw) cw = cpu99[i] }
      for (i = 1; i < n; i++) { x = a[i]; for (j = i - 1; j >= 0 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }  # mawk has no asort
      printf "%d %.2f %.2f %.2f\n", best, (n ? a[int((n - 1) / 2)] : 0), w, cw }')
  read -r rtt99 out_s in_s ok failed < <(python3 - "$tmp/bots.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    print(r["rtt"]["p99_ms"], r["msgs_out_per_s"], r["msgs_in_per_s"], r["stopped"], r["failed"])
except Exception:
    print("0 0 0 0 -1")
PY
)
  if [[ "$failed" == "-1" ]]; then
    echo "zone_ccu: N=$n: the bots' report is missing or unreadable (stderr: $tmp/bots.err)" >&2
    exit 1
  fi
  cpu_us_per_player_tick=$(awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$clk" \
    -v n="$n" -v tr="$tick_rate" 'BEGIN { s = (c1 - c0) / hz; w = t1 - t0;
      printf "%.2f", s * 1e6 / (n * tr * w) }')
  server_cpu_pct=$(awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$clk" \
    'BEGIN { printf "%.0f", 100 * (c1 - c0) / hz / (t1 - t0) }')
  bots_cpu_pct=$(awk -v c0="$b0" -v c1="$b1" -v t0="$t0" -v t1="$t1" -v hz="$clk" \
    'BEGIN { printf "%.0f", 100 * (c1 - c0) / hz / (t1 - t0) }')
  extra="ccu=$ccu bots_ok=$ok bots_failed=$failed server_cpu_pct=$server_cpu_pct"
  load_pct=$(awk -v o="$out_s" -v n="$n" 'BEGIN { printf "%.0f", 100 * o / (n * (10 + 1 + 1 / 15)) }')
  extra+=" bots_cpu_pct=$bots_cpu_pct load_pct=$load_pct pinned=$pin window_s=$measure"
  echo "BENCH name=zone_ccu_$n impl=quay value=$cpu_us_per_player_tick unit=us_per_player_tick $extra"
  echo "BENCH name=zone_ccu_${n}_tick_p50 impl=quay value=$p50 unit=ms"
  echo "BENCH name=zone_ccu_${n}_tick_p99 impl=quay value=$p99 unit=ms"
  echo "BENCH name=zone_ccu_${n}_tick_cpu_p99 impl=quay value=$cpu99 unit=ms"
  echo "BENCH name=zone_ccu_${n}_rtt_p99 impl=quay value=$rtt99 unit=ms"
  echo "BENCH name=zone_ccu_${n}_msgs_in impl=quay value=$in_s unit=msgs_per_s"
  echo "BENCH name=zone_ccu_${n}_msgs_out impl=quay value=$out_s unit=msgs_per_s"
  echo "BENCH name=zone_ccu_${n}_rss impl=quay value=$((rss / 1024)) unit=MiB"
  rm -rf "$tmp"
  spid=
  bpid=
done
