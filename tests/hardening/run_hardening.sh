#!/usr/bin/env bash
# Runs one hardening scenario (a Lua script for quay-bots) against a fresh zone server, then
# checks the server itself: it is still alive, its peak RSS grew by at most a bound, the lines
# the case expects are in its log, and SIGTERM still stops it with exit status 0.
#
#   run_hardening.sh <zone-server> <quay-bots> <scenario.lua> [options] [-- quay-bots args...]
#     --server-arg ARG       extra zone-server argument (repeatable)
#     --max-rss-growth-mb N  peak RSS (VmHWM) minus RSS after start may be at most N MiB
#     --expect-log REGEX     the server's output must match REGEX (grep -E; repeatable)
#
# The server binds a free port on 127.0.0.1 (--port 0), plays tests/scenarios/zones/ and keeps
# its data in a temporary directory that is removed afterwards. Exit status 0 only if every
# check held.
set -euo pipefail
server_bin=$1
bots_bin=$2
scenario=$3
shift 3
server_args=()
expect_logs=()
max_rss_growth_mb=
while (($#)); do
  case "$1" in
    --server-arg) server_args+=("$2"); shift 2 ;;
    --max-rss-growth-mb) max_rss_growth_mb=$2; shift 2 ;;
    --expect-log) expect_logs+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) echo "run_hardening: unknown option $1" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
zones="$here/../scenarios/zones"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/quay-hardening.XXXXXX")
server_pid=

cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  # QUAY_HARDENING_KEEP=<file>: keep the server's output there (for figures and debugging).
  [[ -n ${QUAY_HARDENING_KEEP:-} ]] && cp "$tmp/server.out" "$QUAY_HARDENING_KEEP" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "run_hardening: FAILED: $*" >&2
  echo "--- zone-server output (last 40 lines) ---" >&2
  tail -n 40 "$tmp/server.out" >&2 || true
  exit 1
}

rss_kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$server_pid/status"; }

: >"$tmp/server.out"  # exists before the poll below reads it (the server opens it in the background)
# Bots make their names up: development accounts on; cheapest argon2id and
# no per-address connection rate (every bot connects from 127.0.0.1) (fast tests). A session cut
# for hostile input leaves the world at once; one that ends with a FIN or a reset (truncated,
# reset_mid_frame) looks like a dropped connection and is kept for a resume: a 2 s grace period,
# so the witnesses' 10 s wait still sees the intruder leave.
"$server_bin" --port 0 --zones "$zones" --data-dir "$tmp" --workers 2 --stats-interval 5 \
  --dev-accounts --hash-ops-limit 1 --hash-mem-limit 8192 --resume-grace 2 \
  --connection-burst 1000000 --connections-per-second 1000000 \
  "${server_args[@]}" >"$tmp/server.out" 2>&1 &
server_pid=$!

port=
for _ in $(seq 200); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/server.out" | head -n 1)
  [[ -n $port ]] && break
  kill -0 "$server_pid" 2>/dev/null || fail "zone-server exited before listening"
  sleep 0.05
done
[[ -n $port ]] || fail "zone-server did not listen within 10 s"
rss_start=$(rss_kb VmRSS)

status=0
"$bots_bin" "$scenario" --server "127.0.0.1:$port" --workers 1 "$@" || status=$?

kill -0 "$server_pid" 2>/dev/null || fail "the zone server died during the scenario"
rss_peak=$(rss_kb VmHWM)
growth_mb=$(( (rss_peak - rss_start) / 1024 ))
echo "HARDENING server_rss_start_mb=$((rss_start / 1024)) server_rss_peak_mb=$((rss_peak / 1024)) growth_mb=$growth_mb"
((status == 0)) || fail "quay-bots exited with $status"
if [[ -n $max_rss_growth_mb ]] && ((growth_mb > max_rss_growth_mb)); then
  fail "server peak RSS grew by $growth_mb MiB (bound $max_rss_growth_mb MiB)"
fi
for re in "${expect_logs[@]}"; do
  grep -Eq -- "$re" "$tmp/server.out" || fail "the server never logged /$re/"
done

# The server must still stop cleanly: SIGTERM, exit 0 within 15 s.
kill -TERM "$server_pid"
for _ in $(seq 150); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$server_pid" 2>/dev/null && fail "the zone server did not stop within 15 s of SIGTERM"
exit_status=0
wait "$server_pid" || exit_status=$?
server_pid=
((exit_status == 0)) || fail "the zone server exited with $exit_status after SIGTERM"
echo "run_hardening: passed"
