#!/usr/bin/env bash
# Builds the benchmarks in Release (build/bench-release) and runs every one of them, printing
# one `BENCH name=... impl=... value=... unit=...` line per figure (medians over the runs),
# plus `..._ratio` lines: how many times better Quay is than the anchor measured in this run
# (Asio for the port, CAF 0.17 for the actors).
#
#   scripts/bench.sh                 # everything, 3 runs each
#   BENCH_REPEAT=5 scripts/bench.sh  # more runs
#   BENCH_ONLY=ring scripts/bench.sh # one actor workload, or port, echo, zone_tick, zone_ccu
#
# Besides bench_port and bench_actors it runs, when they are built, the other modules'
# benchmarks (each prints its own BENCH lines and anchors): bench_echo (net), bench_zone_tick
# and bench/zone_ccu.sh (sample game; the longest, set BENCH_SKIP_CCU=1 to leave it out).
#
# Environment: BENCH_REPEAT (3), BENCH_BOUND seconds per run (120), BENCH_SPAWN_BOUND (60: CAF's
# default scheduler does not finish the 1M spawn burst; it is reported as DNF with the bound),
# BENCH_THREADS (2), BENCH_LOG (build/bench-release/bench.log: every raw line of every run).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build/bench-release"
repeat="${BENCH_REPEAT:-3}"
bound="${BENCH_BOUND:-120}"
spawn_bound="${BENCH_SPAWN_BOUND:-60}"
threads="${BENCH_THREADS:-2}"
only="${BENCH_ONLY:-}"
log="${BENCH_LOG:-$build/bench.log}"

say() { echo "bench.sh: $*" >&2; }

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
say "configuring Release in $build"
# Warnings are not errors here: the Debug CI build is the warnings gate, and g++ 12 at -O3
# reports false -Wrestrict positives inside libstdc++ that -O0 does not.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUAY_WERROR=OFF \
  -DQUAY_BUILD_TESTS=OFF -DQUAY_BUILD_GAME=ON "${launcher[@]}" >/dev/null
# Build only the targets this configuration defines (each appears once its module exists).
say "building bench_port bench_actors"
cmake --build "$build" -j2 --target bench_port bench_actors >/dev/null
# The other modules' benchmarks: a failure to build one is reported, not fatal.
known="$(cmake --build "$build" --target help 2>/dev/null || true)"
for t in bench_echo bench_zone_tick zone-server quay-bots; do
  grep -q "^$t:" <<<"$known" || continue
  say "building $t"
  cmake --build "$build" -j2 --target "$t" >/dev/null || say "building $t failed; skipped"
done

mkdir -p "$(dirname "$log")"
: >"$log"
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC') nproc=$(nproc)" \
    "cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')\"" \
    "kernel=$(uname -r) repeat=$repeat threads=$threads"
} | tee -a "$log" >&2

# median <name> <impl>: median value of the matching lines in the log ("DNF" if any run was).
median() {
  awk -v n="$1" -v i="$2" '
    $1 == "BENCH" && $2 == "name=" n && $3 == "impl=" i {
      v = substr($4, 7); if (v == "DNF") dnf = 1; else vals[c++] = v + 0
    }
    END {
      if (dnf) { print "DNF"; exit }
      if (c == 0) { print ""; exit }
      for (a = 0; a < c; a++) for (b = a + 1; b < c; b++) if (vals[b] < vals[a]) { t = vals[a]; vals[a] = vals[b]; vals[b] = t }
      printf "%.6g\n", vals[int((c - 1) / 2)]
    }' "$log"
}
# median_cpu <name> <impl>: median process CPU seconds of the runs (empty if not reported).
median_cpu() {
  awk -v n="$1" -v i="$2" '
    $1 == "BENCH" && $2 == "name=" n && $3 == "impl=" i {
      for (f = 5; f <= NF; f++) if ($f ~ /^cpu_s=/) vals[c++] = substr($f, 7) + 0
    }
    END {
      if (c == 0) exit
      for (a = 0; a < c; a++) for (b = a + 1; b < c; b++) if (vals[b] < vals[a]) { t = vals[a]; vals[a] = vals[b]; vals[b] = t }
      printf "%.4g\n", vals[int((c - 1) / 2)]
    }' "$log"
}
unit_of() {
  awk -v n="$1" '$1 == "BENCH" && $2 == "name=" n { for (f = 5; f <= NF; f++) if ($f ~ /^unit=/) { print substr($f, 6); exit } }' "$log"
}
dnf_detail() {
  awk -v n="$1" -v i="$2" '$2 == "name=" n && $3 == "impl=" i && $4 == "value=DNF" { $1=$2=$3=$4=$5=""; sub(/^ +/, ""); print; exit }' "$log"
}
# emit <name> <impl>: the median BENCH line of one figure.
emit() {
  local v u
  v="$(median "$1" "$2")"
  [[ -z "$v" ]] && return 0
  u="$(unit_of "$1")"
  if [[ "$v" == "DNF" ]]; then
    echo "BENCH name=$1 impl=$2 value=DNF unit=$u $(dnf_detail "$1" "$2")"
  else
    local cpu
    cpu="$(median_cpu "$1" "$2")"
    echo "BENCH name=$1 impl=$2 value=$v unit=$u runs=$repeat${cpu:+ cpu_s=$cpu}"
  fi
}
# ratio <name> <quay-impl> <anchor-impl> higher|lower: times better Quay is than the anchor.
ratio() {
  local q a
  q="$(median "$1" "$2")"
  a="$(median "$1" "$3")"
  [[ -z "$q" || -z "$a" || "$q" == "DNF" ]] && return 0
  if [[ "$a" == "DNF" ]]; then
    echo "BENCH name=$1_ratio impl=$2/$3 value=DNF unit=x anchor_did_not_finish=1"
    return 0
  fi
  awk -v n="$1" -v q="$q" -v a="$a" -v d="$4" -v qi="$2" -v ai="$3" 'BEGIN {
    r = (d == "higher") ? q / a : a / q
    printf "BENCH name=%s_ratio impl=%s/%s value=%.3g unit=x\n", n, qi, ai, r }'
}

bin="$build/bench"
if [[ -z "$only" || "$only" == "port" ]]; then
  say "bench_port (Asio io_context vs quay::io_port, $repeat runs each, alternating)"
  "$bin/bench_port" --threads="$threads" --repeat="$repeat" | tee -a "$log" >&2
fi

extra="$build/bench.extra"
: >"$extra"
# run_extra <label> <command...>: another module's benchmark; its BENCH lines are kept as is.
run_extra() {
  local label="$1"
  shift
  [[ -n "$only" && "$only" != "$label" ]] && return 0
  say "$label: $*"
  "$@" 2>>"$log.stderr" | tee -a "$log" | grep '^BENCH ' >>"$extra" || say "$label failed"
}
[[ -x "$bin/bench_echo" ]] && run_extra echo "$bin/bench_echo"
[[ -x "$bin/bench_zone_tick" ]] && run_extra zone_tick "$bin/bench_zone_tick"
if [[ -z "${BENCH_SKIP_CCU:-}" && -x "$build/sample-game/zone-server" && -x "$build/sample-game/bots/quay-bots" ]]; then
  run_extra zone_ccu bash "$root/bench/zone_ccu.sh" "$build/sample-game/zone-server" \
    "$build/sample-game/bots/quay-bots"
fi

actor_only=1
case "$only" in port | echo | zone_tick | zone_ccu) actor_only=0 ;; esac
workloads=(pingpong fanout ring skynet ask alloc idle spawn)
[[ -n "$only" && "$actor_only" == 1 ]] && workloads=("$only")
if [[ "$actor_only" == 1 ]]; then
  for w in "${workloads[@]}"; do
    b="$bound"
    [[ "$w" == spawn ]] && b="$spawn_bound"
    for impl in caf quay; do declare "dnf_$impl=0"; done
    for ((r = 0; r < repeat; r++)); do
      order=(caf quay)
      ((r % 2 == 1)) && order=(quay caf)
      for impl in "${order[@]}"; do
        dn="dnf_$impl"
        # A run that hit its bound is not repeated: another DNF would only cost time.
        [[ "${!dn}" == 1 ]] && continue
        say "$w $impl (run $((r + 1))/$repeat, bound ${b}s)"
        out="$("$bin/bench_actors" --impl="$impl" --workload="$w" --threads="$threads" \
          --bound="$b" 2>>"$log.stderr" || true)"
        echo "$out" | tee -a "$log" >&2
        grep -q "value=DNF" <<<"$out" && declare "$dn=1"
      done
    done
  done
fi

echo "# medians over $repeat runs; ratios = times better than the anchor in this run"
if [[ -z "$only" || "$only" == "port" ]]; then
  grep -E '^BENCH name=(post_outside|post_from_workers|wake_p50|wake_p99|[a-z0-9_]+_ratio) ' "$log" |
    grep -E 'impl=(asio|quay|quay/asio|asio/quay) ' || true
fi
if [[ "$actor_only" == 1 ]]; then
  for w in "${workloads[@]}"; do
    case "$w" in
      alloc) for n in alloc_per_msg_8B alloc_per_msg_64B; do emit "$n" caf; emit "$n" quay; done ;;
      idle) for n in idle_bytes_per_actor idle_rss_per_actor; do emit "$n" caf; emit "$n" quay; done ;;
      skynet | ask) emit "$w" caf; emit "$w" quay; ratio "$w" quay caf lower ;;
      *) emit "$w" caf; emit "$w" quay; ratio "$w" quay caf higher ;;
    esac
  done
fi
cat "$extra"
