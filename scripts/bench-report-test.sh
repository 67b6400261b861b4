#!/usr/bin/env bash
# Checks scripts/bench-report.py on a small data file whose verdicts are known: ratios paired per
# run, min-max over the pairs, a goal met in some runs only, an anchor that did not finish, an
# absolute goal, the capacity verdict, the README headline, and that the page outside the
# generated section is left as it was. Exits non-zero, naming the check, when one fails.
#
#   scripts/bench-report-test.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/bench-report-test.XXXXXX")"
trap '[[ -n "${KEEP:-}" ]] || rm -rf "$tmp"' EXIT

m=$'\t2026-12-01T10:00:00Z\tabc1234\t0\t2\tTest CPU\t6.1\t0.5\t'
{
  printf 'area\tbenchmark\tcase\timpl\trun\tvalue\tunit\tdate\tcommit\tdirty\tnproc\tcpu\tkernel\tload1\textra\n'
  # post_outside: Quay/Asio per run 3, 1.5, 2.5 -> median 2.5x (1.5x-3x), the >= 2x goal held in 2 of 3.
  for r in "1 300 100" "2 150 100" "3 250 100"; do
    read -r run q a <<<"$r"
    printf 'port\tbench_port\tpost_outside\tquay\t%s\t%s\tcompletions/s%s-\n' "$run" "$q" "$m"
    printf 'port\tbench_port\tpost_outside\tasio\t%s\t%s\tcompletions/s%s-\n' "$run" "$a" "$m"
  done
  # skynet (a time): CAF 900 ms / Quay 100 ms = 9x faster, met.
  printf 'actors\tbench_actors\tskynet\tquay\t1\t100\tms%s-\n' "$m"
  printf 'actors\tbench_actors\tskynet\tcaf\t1\t900\tms%s-\n' "$m"
  # spawn: CAF did not finish -> anchor DNF, met.
  printf 'actors\tbench_actors\tspawn\tquay\t1\t700000\tactors/s%s-\n' "$m"
  printf 'actors\tbench_actors\tspawn\tcaf\t1\tDNF\tactors/s%sbound_s=60 progress=10\n' "$m"
  # idle bytes per actor: 300 > 256, missed.
  printf 'actors\tbench_actors\tidle_bytes_per_actor\tquay\t1\t300\tbytes%s-\n' "$m"
  # capacity: 5,000 at tick p99 30 ms, missed; 1,000 holds.
  for n in 1000 5000; do
    p99=5
    pace=99
    [[ $n == 5000 ]] && p99=30 && pace=40
    printf 'capacity\tzone_ccu\tzone_ccu_%s\tquay\t1\t20\tus_per_player_tick%sccu=%s load_pct=%s\n' "$n" "$m" "$n" "$pace"
    printf 'capacity\tzone_ccu\tzone_ccu_%s_tick_p99\tquay\t1\t%s\tms%s-\n' "$n" "$p99" "$m"
  done
  # WebSocket vs TCP echo (issue 17): 190,000 / 200,000 = 0.95x frames/s, met; CPU 1.2x, missed.
  for r in "quay-session 200000 3.0" "quay-ws 190000 3.6"; do
    read -r impl fps cpu <<<"$r"
    printf 'echo\tbench_echo\techo-100x1x64B\t%s\t1\t%s\tframes/s%s-\n' "$impl" "$fps" "$m"
    printf 'echo\tbench_echo\techo-100x1x64B-server-cpu\t%s\t1\t%s\tus/frame%s-\n' "$impl" "$cpu" "$m"
  done
} >"$tmp/data.tsv"
printf '# Page\n\nbefore\n\n<!-- bench-report:begin -->\nold\n<!-- bench-report:end -->\n\nafter\n' >"$tmp/page.md"
printf 'Tour: <!-- bench-headline:begin -->old<!-- bench-headline:end --> (link)\n' >"$tmp/README.md"

"$here/bench-report.py" "$tmp/data.tsv" --doc "$tmp/page.md" --plots "$tmp/plots" \
  --readme "$tmp/README.md" >/dev/null

fail=0
expect() { # expect <what> <fixed string> <file>
  if ! grep -qF -- "$2" "$3"; then
    echo "bench-report-test: FAILED: $1 (no \"$2\" in $(basename "$3"))" >&2
    fail=1
  fi
}
page="$tmp/page.md"
expect "ratio median and min-max over run pairs, verdict with runs" \
  "| post from an outside thread | 250/s | 100/s | 2.5x (1.5x-3x) | Quay/Asio >= 2x | met (2 of 3 runs) |" "$page"
expect "a time's ratio is anchor/Quay" "| 9x faster | <= 1/3 of CAF's time | met |" "$page"
expect "an anchor DNF counts as met" "| DNF (60 s bound) | anchor DNF | >= 3x CAF | met |" "$page"
expect "an absolute goal missed" "| heap bytes per idle actor | 300 B | - | - | <= 256 B besides its state | **missed** |" "$page"
expect "capacity verdict at 5,000" "**missed** at 5,000 players (tick p99 30 ms at 40 % pace); holds up to 1,000 players" "$page"
expect "table header: date, commit, machine" "2026-12-01 10:00 UTC · commit abc1234 · 2 CPUs (Test CPU), kernel 6.1" "$page"
expect "an area without data says how to measure it" "Not measured yet. \`BENCH_ONLY=zone_tick scripts/bench.sh\`" "$page"
expect "the page outside the markers is kept (before)" "before" "$page"
expect "the page outside the markers is kept (after)" "after" "$page"
if grep -q '^old$' "$page"; then
  echo "bench-report-test: FAILED: the old generated section was not replaced" >&2
  fail=1
fi
expect "WebSocket frames/s against Quay's TCP echo" "| 100 x 1 x 64B, WebSocket vs TCP (session path), frames/s | 190 k/s, 3.6 µs CPU/frame | 200 k/s, 3 µs CPU/frame | 0.95x | >= 0.9x Quay TCP | met |" "$page"
expect "WebSocket CPU per frame against Quay's TCP echo" "WebSocket vs TCP (session path), server CPU/frame | 3.6 us/frame | 3 us/frame | 1.2x | <= 1.1x Quay TCP | **missed** |" "$page"
expect "README headline" "Tour: <!-- bench-headline:begin -->port 2.5x Asio, 1 of 1 goals met; actors 9x CAF, 2 of 3 goals met; WebSocket 1 of 2 goals met vs Quay TCP<!-- bench-headline:end --> (link)" "$tmp/README.md"
for p in port actors capacity; do
  [[ -s "$tmp/plots/$p.png" ]] || { echo "bench-report-test: FAILED: no $p.png" >&2; fail=1; }
done
((fail == 0)) && echo "bench-report-test: all checks passed"
exit "$fail"
