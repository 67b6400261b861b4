#!/usr/bin/env bash
# Builds the benchmarks in Release (build/bench-release) and runs every one of them, printing
# one `BENCH name=... impl=... value=... unit=...` line per figure (medians over the runs),
# plus `..._ratio` lines: how many times better Quay is than the anchor measured in this run
# (Asio for the port, CAF 0.17 for the actors).
#
#   scripts/bench.sh                 # everything, 3 runs each
#   BENCH_REPEAT=5 scripts/bench.sh  # more runs
#   BENCH_ONLY=ring scripts/bench.sh # one actor workload, or actors (all of them), port, scaling, echo,
#                                    # zone_tick, zone_ccu
#
# Besides bench_port and bench_actors it runs, when they are built, the other modules'
# benchmarks (each prints its own BENCH lines and anchors): bench_echo (net) and
# bench_zone_tick (sample game), each BENCH_REPEAT passes, and bench/zone_ccu.sh (the capacity
# test, the longest: BENCH_CCU_REPEAT passes, 1 by default; BENCH_SKIP_CCU=1 leaves it out).
#
# Every run of every figure is also written as one row of a TSV data file (BENCH_DATA,
# docs/bench/results.tsv): area, benchmark, case, impl, run, value, unit, and the run's date,
# commit, dirty flag, nproc, CPU model, kernel and load average. A run of everything replaces
# the file; a BENCH_ONLY run replaces only the rows of the cases it measured. Then
# scripts/bench-report.py renders the tables and plots of docs/benchmarks.md from the file
# (BENCH_NO_REPORT=1 skips that).
#
# Environment: BENCH_REPEAT (3), BENCH_BOUND seconds per run (120), BENCH_SPAWN_BOUND (60: CAF's
# work-stealing scheduler does not finish the 1M spawn burst; it is reported as DNF with the
# bound, and CAF's anchor is then its work-sharing run),
# BENCH_THREADS (2), BENCH_LOG (build/bench-release/bench.log: every raw line of every run),
# BENCH_ECHO_ARGS / BENCH_ZONE_TICK_ARGS / BENCH_CCU_ARGS (extra arguments for those benchmarks,
# split on spaces, e.g. BENCH_ECHO_ARGS="--seconds=0.5 --idle=1000" BENCH_CCU_ARGS="--warmup 5"),
# BENCH_CCU_NS (the player counts of the capacity test, e.g. "500 1000 2000 5000").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build/bench-release"
repeat="${BENCH_REPEAT:-3}"
ccu_repeat="${BENCH_CCU_REPEAT:-1}"
bound="${BENCH_BOUND:-120}"
spawn_bound="${BENCH_SPAWN_BOUND:-60}"
threads="${BENCH_THREADS:-2}"
only="${BENCH_ONLY:-}"
log="${BENCH_LOG:-$build/bench.log}"
data="${BENCH_DATA:-$root/docs/bench/results.tsv}"
read -r -a echo_args <<<"${BENCH_ECHO_ARGS:-}"
read -r -a zone_tick_args <<<"${BENCH_ZONE_TICK_ARGS:-}"
read -r -a ccu_args <<<"${BENCH_CCU_ARGS:-}"
# zone_ccu.sh's --ns takes one argument with spaces, which the word split above cannot carry.
[[ -n "${BENCH_CCU_NS:-}" ]] && ccu_args+=(--ns "$BENCH_CCU_NS")

say() { echo "bench.sh: $*" >&2; }

# The run's identity, written into every data row. `dirty` looks at tracked files outside docs/
# and README.md: the data file, plots and page this script regenerates are not what is measured.
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty=0
if [[ -n "$(git -C "$root" status --porcelain --untracked-files=no -- . ':!docs' ':!README.md' 2>/dev/null)" ]]; then
  dirty=1
fi
ncpu="$(nproc)"
cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' | tr '\t' ' ')"
kernel="$(uname -r)"
now() { date -u '+%Y-%m-%dT%H:%M:%SZ'; }
load1() { cut -d' ' -f1 /proc/loadavg; }

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
for t in bench_echo bench_tls_echo bench_zone_tick zone-server quay-bots bench_timers bench_actors_scale bench_net_sweep; do
  grep -q "^$t:" <<<"$known" || continue
  say "building $t"
  cmake --build "$build" -j2 --target "$t" >/dev/null || say "building $t failed; skipped"
done

mkdir -p "$(dirname "$log")"
: >"$log"
rows="$build/bench.tsv" # this session's data rows, merged into $data at the end
: >"$rows"
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC') nproc=$ncpu cpu=\"$cpu_model\"" \
    "kernel=$kernel repeat=$repeat threads=$threads commit=$commit dirty=$dirty load1=$(load1)"
} | tee -a "$log" >&2

# record <area> <benchmark> <run> <date> <load1>: appends the BENCH lines on stdin to the
# session's rows, one row per run. A line with `runs=a,b,c` (bench_port: medians with every run
# listed, Quay's and Asio's runs paired by position) gives one row per listed run. The `_ratio`
# lines are left out: the renderer computes a ratio per run pair from the rows.
record() {
  awk -v OFS='\t' -v area="$1" -v bench="$2" -v run="$3" -v date="$4" -v load="$5" \
    -v commit="$commit" -v dirty="$dirty" -v ncpu="$ncpu" -v cpu="$cpu_model" -v kernel="$kernel" '
    $1 != "BENCH" { next }
    { name = ""; impl = ""; value = ""; unit = ""; runs = ""; extra = ""
      for (f = 2; f <= NF; f++) {
        if ($f ~ /^name=/) name = substr($f, 6)
        else if ($f ~ /^impl=/) impl = substr($f, 6)
        else if ($f ~ /^value=/) value = substr($f, 7)
        else if ($f ~ /^unit=/) unit = substr($f, 6)
        else if ($f ~ /^runs=[-+0-9.eE]+(,[-+0-9.eE]+)*$/) runs = substr($f, 6)
        else extra = extra (extra == "" ? "" : " ") $f
      }
      if (name == "" || name ~ /_ratio$/) next
      if (extra == "") extra = "-"
      if (runs != "" && value != "DNF") {
        k = split(runs, v, ",")
        for (i = 1; i <= k; i++)
          print area, bench, name, impl, i, v[i], unit, date, commit, dirty, ncpu, cpu, kernel, load, extra
      } else {
        print area, bench, name, impl, run, value, unit, date, commit, dirty, ncpu, cpu, kernel, load, extra
      }
    }' >>"$rows"
}

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
  d="$(now)" l="$(load1)"
  out="$("$bin/bench_port" --threads="$threads" --repeat="$repeat")" || say "bench_port failed"
  echo "$out" | tee -a "$log" >&2
  # bench_port prints medians with every run listed (runs=...): one row per run.
  echo "$out" | record port bench_port 1 "$d" "$l"
fi

extra="$build/bench.extra"
: >"$extra"
# run_extra <label> <area> <benchmark> <passes> <command...>: another module's benchmark, run
# <passes> times; its BENCH lines are kept as is, and recorded with the pass as the run index.
run_extra() {
  local label="$1" area="$2" benchmark="$3" passes="$4"
  shift 4
  [[ -n "$only" && "$only" != "$label" ]] && return 0
  local p out d l
  for ((p = 1; p <= passes; p++)); do
    say "$label (pass $p/$passes): $*"
    d="$(now)" l="$(load1)"
    out="$("$@" 2>>"$log.stderr")" || say "$label failed"
    echo "$out" | tee -a "$log" | grep '^BENCH ' >>"$extra" || true
    echo "$out" | grep '^BENCH ' >&2 || true
    echo "$out" | record "$area" "$benchmark" "$p" "$d" "$l"
  done
}
[[ -x "$bin/bench_echo" ]] && run_extra echo echo bench_echo "$repeat" "$bin/bench_echo" "${echo_args[@]}"
[[ -x "$bin/bench_tls_echo" ]] && run_extra tls_echo tls bench_tls_echo "$repeat" "$bin/bench_tls_echo"
[[ -x "$bin/bench_zone_tick" ]] &&
  run_extra zone_tick zone_tick bench_zone_tick "$repeat" "$bin/bench_zone_tick" "${zone_tick_args[@]}"
if [[ -z "${BENCH_SKIP_CCU:-}" && -x "$build/sample-game/zone-server" && -x "$build/sample-game/bots/quay-bots" ]]; then
  run_extra zone_ccu capacity zone_ccu "$ccu_repeat" bash "$root/bench/zone_ccu.sh" \
    "$build/sample-game/zone-server" "$build/sample-game/bots/quay-bots" "${ccu_args[@]}"
fi

# Scaling (issue 18 item 6): each prints its own median, min and max over internal samples.
for t in bench_timers bench_actors_scale bench_net_sweep; do
  if [[ -x "$bin/$t" ]]; then run_extra scaling scaling "$t" 1 "$bin/$t"; fi
done

actor_only=1
case "$only" in port | echo | zone_tick | zone_ccu | scaling) actor_only=0 ;; esac
workloads=(pingpong fanout ring skynet ask alloc idle spawn)
[[ -n "$only" && "$only" != actors && "$actor_only" == 1 ]] && workloads=("$only")
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
        d="$(now)" l="$(load1)"
        out="$("$bin/bench_actors" --impl="$impl" --workload="$w" --threads="$threads" \
          --bound="$b" 2>>"$log.stderr" || true)"
        echo "$out" | tee -a "$log" >&2
        echo "$out" | record actors bench_actors "$((r + 1))" "$d" "$l"
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
# The other modules' figures: the median over the passes of each (name, impl), in the order
# first printed ("DNF" if any pass was).
awk '$1 == "BENCH" {
    key = $2 " " $3
    if (!(key in cnt)) { order[k++] = key; cnt[key] = 0 }
    v = substr($4, 7)
    if (v == "DNF") dnf[key] = $0; else vals[key, cnt[key]++] = v + 0
    if (!(key in unit)) unit[key] = $5
  }
  END {
    for (i = 0; i < k; i++) {
      key = order[i]
      if (key in dnf) { print dnf[key]; continue }
      c = cnt[key]
      for (a = 0; a < c; a++) a_[a] = vals[key, a]
      for (a = 1; a < c; a++) { x = a_[a]; for (b = a - 1; b >= 0 && a_[b] > x; b--) a_[b + 1] = a_[b]; a_[b + 1] = x }
      printf "BENCH %s value=%.6g %s runs=%d\n", key, a_[int((c - 1) / 2)], unit[key], c
    }
  }' "$extra"

# Merge this session's rows into the data file. A run of a whole area (no BENCH_ONLY, or port,
# echo, zone_tick, zone_ccu) replaces every row of that area; a run of one actor workload
# replaces the rows of the cases it printed.
if [[ ! -s "$rows" ]]; then
  say "no figures recorded; $data left as it was"
  exit 0
fi
mkdir -p "$(dirname "$data")"
whole=1
[[ -n "$only" && "$only" != actors && "$actor_only" == 1 ]] && whole=0
{
  printf 'area\tbenchmark\tcase\timpl\trun\tvalue\tunit\tdate\tcommit\tdirty\tnproc\tcpu\tkernel\tload1\textra\n'
  if [[ -s "$data" ]]; then
    awk -F'\t' -v whole="$whole" '
      NR == FNR { area[$1] = 1; kase[$1 FS $3] = 1; next }
      FNR == 1 { next }
      whole == 1 && ($1 in area) { next }
      whole == 0 && (($1 FS $3) in kase) { next }
      { print }' "$rows" "$data"
  fi
  cat "$rows"
} >"$data.tmp"
mv "$data.tmp" "$data"
say "data: $data ($(wc -l <"$rows") rows from this session)"
if [[ -z "${BENCH_NO_REPORT:-}" ]]; then
  "$root/scripts/bench-report.py" "$data"
fi
