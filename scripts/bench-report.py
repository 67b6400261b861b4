#!/usr/bin/python3
"""Renders docs/benchmarks.md's current tables and docs/bench/*.png from a bench data file.

    scripts/bench-report.py [docs/bench/results.tsv] [--doc docs/benchmarks.md]
                            [--plots docs/bench] [--readme README.md]

The data file is the TSV scripts/bench.sh writes: one row per run of every figure (area,
benchmark, case, impl, run, value, unit, date, commit, dirty, nproc, cpu, kernel, load1, extra).
For every goal in GOALS below it pairs Quay's run r with the anchor's run r, takes the ratio of
each pair, and prints the median ratio with its min-max; the verdict compares the median with the
goal and says in how many runs the goal held. The tables replace what lies between the
`bench-report:begin` and `bench-report:end` markers of the page; the README's headline line
(between `bench-headline` markers) is replaced too. Plots need Debian's python3-matplotlib
(scripts/setup.sh installs it), hence /usr/bin/python3.
"""
import argparse
import csv
import math
import os
import re
import statistics
import sys

# The goals, all in one place: (area, figure label, case, quay impl, anchor impl, kind, op, bound,
# goal as printed, source). kind: "q/a" ratio Quay/anchor, "a/q" anchor/Quay (for times and
# latencies where the goal is stated as "times faster"), "abs" Quay's own value against the bound.
# `{n}` in a label or case is expanded over every player count found in the data.
GOALS = [
    ("port", "post from an outside thread", "post_outside", "quay", "asio", "q/a", ">=", 2.0,
     "Quay/Asio >= 2x", "issue 3"),
    ("port", "post from the workers", "post_from_workers", "quay", "asio", "q/a", ">=", 2.0,
     "Quay/Asio >= 2x", "issue 3"),
    ("port", "wake-up latency p99", "wake_p99", "quay", "asio", "a/q", ">=", 1.0,
     "no worse than Asio (Asio/Quay >= 1x)", "issue 3"),
    ("actors", "pingpong", "pingpong", "quay", "caf", "q/a", ">=", 5.0, ">= 5x CAF", "issue 4"),
    ("actors", "ring", "ring", "quay", "caf", "q/a", ">=", 5.0, ">= 5x CAF", "issue 4"),
    ("actors", "fanout", "fanout", "quay", "caf", "q/a", ">=", 3.0, ">= 3x CAF", "issue 4"),
    ("actors", "skynet (time)", "skynet", "quay", "caf", "a/q", ">=", 3.0,
     "<= 1/3 of CAF's time", "issue 4"),
    ("actors", "ask round trip (time)", "ask", "quay", "caf", "a/q", ">=", 3.0,
     "<= 1/3 of CAF's time", "issue 4"),
    ("actors", "spawn", "spawn", "quay", "caf", "q/a", ">=", 3.0, ">= 3x CAF", "issue 4"),
    ("actors", "allocations per 8-byte message", "alloc_per_msg_8B", "quay", "caf", "abs", "<",
     0.001, "0 (under 1 per 1,000 messages)", "issue 4"),
    ("actors", "allocations per 64-byte message", "alloc_per_msg_64B", "quay", "caf", "abs", "<",
     0.001, "0 (under 1 per 1,000 messages)", "issue 4"),
    ("actors", "heap bytes per idle actor", "idle_bytes_per_actor", "quay", "caf", "abs", "<=",
     256, "<= 256 B besides its state", "issue 4"),
]
ECHO_CASES = ["echo-100x1x64B", "echo-100x16x64B", "echo-1000x4x256B", "echo-10x8x16KiB"]
for c in ECHO_CASES:
    shape = c[len("echo-"):].replace("x", " x ", 2)
    GOALS += [
        ("echo", f"{shape}, session path, frames/s", c, "quay-session", "epoll", "q/a", ">=",
         0.95, ">= 0.95x epoll", "issue 5 (a)"),
        ("echo", f"{shape}, session path, p99", c + "-p99", "quay-session", "epoll", "q/a", "<=",
         1.1, "<= 1.1x epoll's p99", "issue 5 (a)"),
        ("echo", f"{shape}, actor path, frames/s", c, "quay-actor", "epoll", "q/a", ">=", 0.85,
         ">= 0.85x epoll", "issue 5 (b)"),
    ]
# Issue 17: WebSocket against the TCP echo of the same run (the anchor is Quay's own TCP figure).
for c in ECHO_CASES:
    shape = c[len("echo-"):].replace("x", " x ", 2)
    GOALS += [
        ("echo", f"{shape}, WebSocket vs TCP (session path), frames/s", c, "quay-ws",
         "quay-session", "q/a", ">=", 0.9, ">= 0.9x Quay TCP", "issue 17"),
        ("echo", f"{shape}, WebSocket vs TCP (session path), server CPU/frame", c + "-server-cpu",
         "quay-ws", "quay-session", "q/a", "<=", 1.1, "<= 1.1x Quay TCP", "issue 17"),
        ("echo", f"{shape}, WebSocket vs TCP (actor path), frames/s", c, "quay-ws-actor",
         "quay-actor", "q/a", ">=", 0.9, ">= 0.9x Quay TCP", "issue 17"),
    ]
GOALS += [
    ("echo", "heap per idle connection, with its owner actor", "idle-conns", "quay-actor",
     "epoll", "abs", "<=", 1024, "<= 1 KiB", "issue 5"),
    ("zone_tick", "AOI step, {n} players (time)", "aoi_step_{n}", "quay_shared_cell_batches",
     "naive_per_observer_diff", "a/q", ">", 1.0, "faster than the anchor (no figure stated)",
     "derived"),
    ("zone_tick", "zone tick p99 in process, {n} players", "zone_tick_{n}_p99", "quay_game_core",
     None, "abs", "<=", 20.0, "<= 20 ms (issue 7's tick bound)", "derived from issue 7"),
]
# Scaling (issue 18 item 6): a cost must not depend on how many others there are. kind "scale":
# the anchor is the same Quay figure at today's count (the `anchor impl` field names that case),
# so the ratio is cost at 100x over cost at 1x, per run. The sweep also has the old full scan.
SCALE_BOUND = 1.5
GOALS += [
    ("scaling", "timer start+cancel, 1 thread, 100,000 vs 1,000 timers",
     "timers_start_cancel_1thread_100000", "quay", "timers_start_cancel_1thread_1000", "scale",
     "<=", SCALE_BOUND, f"cost grows <= {SCALE_BOUND}x at 100x", "issue 18 item 6"),
    ("scaling", "timer start+cancel, 2 threads, 100,000 vs 1,000 timers",
     "timers_start_cancel_2threads_100000", "quay", "timers_start_cancel_2threads_1000", "scale",
     "<=", SCALE_BOUND, f"cost grows <= {SCALE_BOUND}x at 100x", "issue 18 item 6"),
    ("scaling", "timer expiry, 100,000 vs 1,000 timers", "timers_expiry_100000", "quay",
     "timers_expiry_1000", "scale", "<=", SCALE_BOUND, f"cost grows <= {SCALE_BOUND}x at 100x",
     "issue 18 item 6"),
    ("scaling", "actor reply, 1,000 vs 10 requests pending", "actor_reply_pending_1000", "quay",
     "actor_reply_pending_10", "scale", "<=", SCALE_BOUND, f"cost grows <= {SCALE_BOUND}x at 100x",
     "issue 18 item 6"),
    ("scaling", "actor timer message, 1,000 vs 10 timers active", "actor_timer_active_1000",
     "quay", "actor_timer_active_10", "scale", "<=", SCALE_BOUND,
     f"cost grows <= {SCALE_BOUND}x at 100x", "issue 18 item 6"),
    ("scaling", "network sweep, 200,000 vs 2,000 idle sessions", "net_sweep_idle_200000", "quay",
     "net_sweep_idle_2000", "scale", "<=", SCALE_BOUND, f"cost grows <= {SCALE_BOUND}x at 100x",
     "issue 18 item 6"),
    ("scaling", "network sweep vs the old full scan, 200,000 idle sessions (time)",
     "net_sweep_idle_200000", "quay", "full_scan", "a/q", ">=", 1.0,
     "faster than the full scan", "issue 18 item 6"),
]
# Capacity (no anchor): per N, the zone's tick p99 must stay within the bound while the bots keep
# their pace; the goal itself is the 5,000 row.
CCU_TICK_P99_MS = 20.0
CCU_FULL_PACE_PCT = 95
CCU_GOAL_N = 5000
# Where the anchors come from, printed under each table.
ANCHORS = {
    "port": "standalone Asio 1.22 `io_context`, 2 threads, in the same process",
    "actors": "CAF 0.17.6 (Debian libcaf-dev), 2 scheduler threads, the better of its two "
              "policies (work stealing, work sharing) per workload",
    "echo": "a hand-written epoll echo (and Asio, shown beside it), same load generator, "
            "server on core 0, load generator on core 1",
    "zone_tick": "AOI: the usual per-observer recompute-and-diff on the same moves",
    "capacity": "none: wander-and-chat bots on the same 2 cores (issue 7)",
    "scaling": "the same Quay figure at today's count (timers: 1,000 per port, actors: 10 "
               "pending per actor, network: 2,000 sessions); the sweep also against the old "
               "scan of every session",
}
AREAS = [
    ("port", "Completion port vs Asio", "BENCH_ONLY=port scripts/bench.sh"),
    ("actors", "Actors vs CAF", "BENCH_ONLY=actors scripts/bench.sh"),
    ("echo", "Network: framed echo vs epoll and Asio", "BENCH_ONLY=echo scripts/bench.sh"),
    ("zone_tick", "Zone tick: AOI vs its anchor", "BENCH_ONLY=zone_tick scripts/bench.sh"),
    ("capacity", "Capacity: players in one zone (zone_ccu)", "BENCH_ONLY=zone_ccu scripts/bench.sh"),
    ("scaling", "Scaling: cost per operation at 100x the count", "BENCH_ONLY=scaling scripts/bench.sh"),
]
# Areas that will come (their rows appear once bench.sh records them and GOALS names them).
LATER = ["cluster", "TLS"]

BEGIN, END = "<!-- bench-report:begin -->", "<!-- bench-report:end -->"
HEAD_BEGIN, HEAD_END = "<!-- bench-headline:begin -->", "<!-- bench-headline:end -->"
COLOR = {"met": "#2e7d32", "missed": "#c62828", "none": "#757575"}


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        r["run"] = int(r["run"])
        r["dnf"] = r["value"] == "DNF"
        r["num"] = None if r["dnf"] else float(r["value"])
        r["kv"] = dict(kv.split("=", 1) for kv in r["extra"].split() if "=" in kv)
    return rows


def runs_of(rows, area, case, impl):
    """{run: row} of one figure."""
    return {r["run"]: r for r in rows if r["area"] == area and r["case"] == case and
            r["impl"] == impl}


def fmt(v, unit=""):
    if v is None:
        return "-"
    if v == math.inf:
        return "inf"
    a = abs(v)
    if unit.endswith("/s") and a >= 1e6:
        return f"{v / 1e6:.3g} M/s"
    if unit.endswith("/s") and a >= 1e4:
        return f"{v / 1e3:.3g} k/s"
    if unit == "us" and a >= 1000:
        return f"{v / 1000:.3g} ms"
    if a >= 1000:
        s = f"{v:,.0f}"
    elif a >= 100:
        s = f"{v:.0f}"
    elif a >= 1 or a == 0:
        s = f"{v:.3g}"
    else:
        s = f"{v:.2g}"
    short = {"completions/s": "/s", "msgs/s": "/s", "hops/s": "/s", "frames/s": "/s",
             "actors/s": "/s", "ns/roundtrip": "ns", "us": "µs", "bytes/conn": "B",
             "bytes": "B", "allocs/msg": "", "us_per_player_tick": "µs"}
    u = short.get(unit, unit)
    return f"{s} {u}".strip() if u and not u.startswith("/") else s + (u if u else "")


def fx(x):
    if x == math.inf:
        return "anchor DNF"
    return f"{x:.3g}x" if x < 100 else f"{x:.0f}x"


def holds(op, x, bound):
    return {">=": x >= bound, ">": x > bound, "<=": x <= bound, "<": x < bound}[op]


def evaluate(rows, g):
    """One goal row: (cells for the table, plot record or None), or None when not measured."""
    area, label, case, qi, ai, kind, op, bound, text, _src = g
    q = runs_of(rows, area, case, qi)
    if not q:
        return None
    if kind == "scale":
        # The anchor is the same impl at the base count: a growth ratio, read as Quay/anchor.
        a, kind = runs_of(rows, area, ai, qi), "q/a"
    else:
        a = runs_of(rows, area, case, ai) if ai else {}
    unit = next(iter(q.values()))["unit"]
    qv = [r["num"] for r in q.values() if not r["dnf"]]
    av = [r["num"] for r in a.values() if not r["dnf"]]
    q_med = statistics.median(qv) if qv else None
    a_med = statistics.median(av) if av else None
    q_cell = fmt(q_med, unit) if qv else "DNF"
    a_cell = "-" if not a else (fmt(a_med, unit) if av else "DNF")
    a_dnf = any(r["dnf"] for r in a.values())
    if a_dnf:
        r0 = next(r for r in a.values() if r["dnf"])
        a_cell = "DNF" + (f" ({r0['kv']['bound_s']} s bound)" if "bound_s" in r0["kv"] else "")
    if area == "echo" and case in ECHO_CASES:
        # Issue 5 asks for the server's CPU per frame beside each throughput (no goal of its own).
        def cpu(impl):
            vs = [r["num"] for r in runs_of(rows, area, case + "-server-cpu", impl).values()
                  if not r["dnf"]]
            return f", {statistics.median(vs):.2g} µs CPU/frame" if vs else ""
        q_cell += cpu(qi)
        a_cell += cpu(ai)
    if area == "echo" and ai == "epoll":
        also = runs_of(rows, area, case, "asio")
        sv = [r["num"] for r in also.values() if not r["dnf"]]
        if sv:
            a_cell += f" (Asio {fmt(statistics.median(sv), unit)})"
    if kind == "abs":
        per = [r["num"] if not r["dnf"] else math.inf for r in q.values()]
        ok = [holds(op, x, bound) for x in per]
        verdict = verdict_of(holds(op, q_med, bound) if q_med is not None else False, ok)
        return [label, q_cell, a_cell, "-", text, verdict], None
    ratios = []
    for run, qr in sorted(q.items()):
        ar = a.get(run)
        if a_dnf and not qr["dnf"]:
            # The anchor did not finish within its bound (and is not re-run): Quay is ahead by an
            # unknown factor, counted as infinite for the verdict.
            ratios.append(math.inf if kind == "q/a" else 0.0)
            continue
        if ar is None or ar["dnf"] or qr["dnf"] or not qr["num"] or not ar["num"]:
            continue
        ratios.append(qr["num"] / ar["num"] if kind == "q/a" else ar["num"] / qr["num"])
    if not ratios:
        return [label, q_cell, a_cell, "-", text, "not measured"], None
    med = statistics.median(ratios)
    lo, hi = min(ratios), max(ratios)
    r_cell = fx(med) if len(ratios) == 1 or lo == hi else f"{fx(med)} ({fx(lo)}-{fx(hi)})"
    if kind == "a/q" and case not in ("wake_p99",):
        r_cell += " faster"
    ok = [holds(op, x, bound) for x in ratios]
    verdict = verdict_of(holds(op, med, bound), ok)
    # Plots show every ratio as "times better than the anchor" (above 1: Quay better).
    better_is_low = op in ("<=", "<")
    inv = (lambda x: 1 / x if x else math.inf) if better_is_low else (lambda x: x)
    pts = sorted(inv(x) for x in ratios)
    plot = {"label": label, "med": inv(med), "lo": pts[0], "hi": pts[-1], "goal": inv(bound),
            "verdict": "met" if verdict.startswith("met") else "missed"}
    return [label, q_cell, a_cell, r_cell, text, verdict], plot


def verdict_of(median_ok, per_run_ok):
    word = "met" if median_ok else "**missed**"
    n, k = len(per_run_ok), sum(per_run_ok)
    if n > 1 and k not in (0, n):
        word += f" ({k} of {n} runs)"
    return word


def expand(goals, rows):
    out = []
    for g in goals:
        if "{n}" not in g[2]:
            out.append(g)
            continue
        pat = re.compile("^" + re.escape(g[2]).replace(r"\{n\}", "([0-9]+)") + "$")
        ns = sorted({int(m.group(1)) for r in rows if r["area"] == g[0]
                     for m in [pat.match(r["case"])] if m})
        for n in ns:
            out.append((g[0], g[1].replace("{n}", f"{n:,}"), g[2].replace("{n}", str(n))) + g[3:])
    return out


def provenance(rows):
    """The table header: date, commit, machine, load and runs of one area's rows."""
    dates = sorted(r["date"] for r in rows)
    commits = sorted({r["commit"] + (" (dirty tree)" if r["dirty"] == "1" else "") for r in rows})
    machines = sorted({f"{r['nproc']} CPUs ({r['cpu']}), kernel {r['kernel']}" for r in rows})
    loads = sorted(float(r["load1"]) for r in rows if re.match(r"^[0-9.]+$", r["load1"]))
    per_figure = {}
    for r in rows:
        per_figure[(r["case"], r["impl"])] = per_figure.get((r["case"], r["impl"]), 0) + 1
    lo, hi = min(per_figure.values()), max(per_figure.values())
    runs = f"{lo}" if lo == hi else f"{lo}-{hi}"
    day = dates[0][:16].replace("T", " ")
    last = dates[-1][:16].replace("T", " ")
    when = day + (f" to {last[11:] if last[:10] == day[:10] else last}" if last != day else "")
    lo_s, hi_s = (f"{loads[0]:.2g}", f"{loads[-1]:.2g}") if loads else ("?", "?")
    load = lo_s if lo_s == hi_s else f"{lo_s}-{hi_s}"
    text = (f"*{when} UTC · commit {', '.join(commits)} · {'; '.join(machines)} · "
            f"load average {load} at the start of the runs · {runs} run{'s' if runs != '1' else ''} per figure*")
    sources = sorted({r["kv"]["source"] for r in rows if "source" in r["kv"]})
    if sources:
        text += (f"\n\n> **Transcribed from {', '.join(sources)}, not measured by "
                 "`scripts/bench.sh`:** the commit is the one that recorded them there; medians "
                 "only, mostly (see Method).")
    return text


def table(cells):
    head = ["figure", "Quay", "anchor", "ratio, median (min-max)", "goal", "verdict"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(c) + " |" for c in cells]
    return "\n".join(out)


def capacity(rows):
    """The capacity rows per N, and the points for its plot."""
    ns = sorted({int(m.group(1)) for r in rows for m in [re.match(r"^zone_ccu_([0-9]+)$",
                                                                   r["case"])] if m})
    cells, pts = [], []

    def med(case, key=None):
        rs = [r for r in rows if r["case"] == case and not r["dnf"]]
        vs = [float(r["kv"][key]) if key else r["num"] for r in rs if not key or key in r["kv"]]
        return (statistics.median(vs), min(vs), max(vs)) if vs else (None, None, None)

    for n in ns:
        base = f"zone_ccu_{n}"
        cpu = med(base)
        pace = med(base, "load_pct")
        ccu = med(base, "ccu")
        p99 = med(base + "_tick_p99")
        cpu99 = med(base + "_tick_cpu_p99")
        rtt = med(base + "_rtt_p99")
        runs = len([r for r in rows if r["case"] == base])
        ok = (p99[0] is not None and p99[0] <= CCU_TICK_P99_MS and pace[0] is not None and
              pace[0] >= CCU_FULL_PACE_PCT)
        spread = "" if runs < 2 or p99[1] == p99[2] else f" ({p99[1]:.3g}-{p99[2]:.3g})"
        verdict = ("met" if ok else "**missed**") + (" (the goal)" if n == CCU_GOAL_N else "")
        cells.append([f"{n:,}", fmt(ccu[0]), fmt(pace[0]) + " %", fmt(cpu[0]) + " µs",
                      f"{fmt(p99[0])} ms{spread}", f"{fmt(cpu99[0])} ms", f"{fmt(rtt[0])} ms",
                      verdict])
        pts.append((n, p99[0], cpu[0], pace[0]))
    head = ["players (bots)", "in the zone", "pace kept", "server CPU / player-tick",
            "tick p99", "tick CPU p99", "ping RTT p99",
            f"tick p99 <= {CCU_TICK_P99_MS:g} ms at >= {CCU_FULL_PACE_PCT} % pace"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(c) + " |" for c in cells]
    return "\n".join(out), pts


def capacity_summary(pts):
    """The capacity verdict in one line: the goal's row, and how far the criterion holds."""
    ok = [n for n, p99, _cpu, pace in pts if p99 is not None and pace is not None and
          p99 <= CCU_TICK_P99_MS and pace >= CCU_FULL_PACE_PCT]
    held = f"holds up to {max(ok):,} players" if ok else "holds at no N measured"
    goal = [p for p in pts if p[0] == CCU_GOAL_N]
    if not goal:
        return f"not measured at {CCU_GOAL_N:,} players; {held}"
    n, p99, _cpu, pace = goal[0]
    word = "met" if n in ok else "**missed**"
    return (f"{word} at {n:,} players (tick p99 {fmt(p99)} ms at {fmt(pace)} % pace); {held}")


def plot_ratios(plt, area, title, pts, path):
    fig, ax = plt.subplots(figsize=(7.5, max(2.4, 0.42 * len(pts) + 1.3)), dpi=110)
    ys = list(range(len(pts)))[::-1]
    finite = [p for p in pts if p["hi"] != math.inf]
    cap = max([p["hi"] for p in finite] + [p["goal"] for p in pts] + [1.0]) * 1.15
    for y, p in zip(ys, pts):
        med = min(p["med"], cap)
        ax.barh(y, med, color=COLOR[p["verdict"]], alpha=0.85, height=0.6)
        lo, hi = min(p["lo"], cap), min(p["hi"], cap)
        ax.errorbar(med, y, xerr=[[med - lo], [hi - med]], fmt="none", ecolor="black",
                    capsize=3, lw=1)
        ax.plot([p["goal"]] * 2, [y - 0.38, y + 0.38], color="black", lw=2)
        tag = "anchor DNF" if p["med"] == math.inf else f"{p['med']:.2f}x"
        ax.text(med + cap * 0.01, y + 0.18, tag, fontsize=7, va="center")
    ax.set_yticks(ys)
    ax.set_yticklabels([p["label"] for p in pts], fontsize=8)
    ax.axvline(1.0, color="#999999", lw=0.8, ls=":")
    ax.set_xlim(0, cap)
    ax.set_xlabel("times better than the anchor (bar: median of the runs, whiskers: min-max, "
                  "black tick: goal)", fontsize=7.5)
    ax.set_title(f"{title} (green: goal met, red: missed)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_capacity(plt, pts, path):
    fig, ax = plt.subplots(figsize=(7.5, 3.9), dpi=110)
    ns = [p[0] for p in pts]
    ax.plot(ns, [p[1] for p in pts], "o-", color="#1565c0", label="zone tick p99 (ms)")
    ax.axhline(CCU_TICK_P99_MS, color="#1565c0", ls="--", lw=0.8,
               label=f"goal: tick p99 <= {CCU_TICK_P99_MS:g} ms")
    for n, p99, _cpu, pace in pts:
        if p99 is not None and pace is not None:
            ax.annotate(f"{pace:.0f} % pace", (n, p99), textcoords="offset points",
                        xytext=(4, 6), fontsize=7)
    ax.set_xlabel("players (bots, on the same 2 cores)")
    ax.set_ylabel("tick p99, ms", color="#1565c0")
    ax2 = ax.twinx()
    ax2.plot(ns, [p[2] for p in pts], "s-", color="#ef6c00",
             label="server CPU per player-tick (µs)")
    ax2.set_ylabel("server CPU per player-tick, µs", color="#ef6c00")
    top = max([p[1] for p in pts if p[1] is not None] + [CCU_TICK_P99_MS])
    ax.set_ylim(0, top * 1.2)
    ax2.set_ylim(0, max([p[2] for p in pts if p[2] is not None] + [1]) * 1.2)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2),
              ncol=3, frameon=False)
    ax.set_title("Capacity: one zone, wander-and-chat bots (zone_ccu)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_cdf(plt, rows, path):
    cases = [c for c in ECHO_CASES if any(r["case"] == c + "-p50" for r in rows)]
    if not cases:
        return False
    # Every quantile bench_echo prints (`<case>-p<q>` in µs) is a point of the curve.
    qs = sorted({(m.group(1), float(m.group(1)) / 100) for r in rows
                 for m in [re.match(r"^echo-[^-]+-p([0-9.]+)$", r["case"])] if m}, key=lambda x: x[1])
    fig, axes = plt.subplots(1, len(cases), figsize=(3.0 * len(cases), 3.2), dpi=110,
                             squeeze=False)
    impls = ["epoll", "asio", "quay-session", "quay-actor"]
    colors = {"epoll": "#424242", "asio": "#8e24aa", "quay-session": "#1565c0",
              "quay-actor": "#2e7d32"}
    for ax, c in zip(axes[0], cases):
        for impl in impls:
            xs, ys = [], []
            for suffix, q in qs:
                vs = [r["num"] for r in rows if r["case"] == f"{c}-p{suffix}" and
                      r["impl"] == impl and not r["dnf"]]
                if vs:
                    xs.append(statistics.median(vs))
                    ys.append(q)
            if xs:
                ax.plot(xs, ys, "o-", color=colors[impl], label=impl, ms=3)
        ax.set_xscale("log")
        ax.set_yscale("logit")
        ax.set_yticks([0.5, 0.9, 0.99, 0.999])
        ax.set_yticklabels(["p50", "p90", "p99", "p99.9"], fontsize=7)
        ax.set_title(c[len("echo-"):], fontsize=8)
        ax.set_xlabel("round trip, µs (log)", fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
    axes[0][0].legend(fontsize=6.5, loc="upper left")
    fig.suptitle("Echo round-trip latency: the quantiles bench_echo prints ("
                 + ", ".join("p" + x for x, _ in qs) + "), median of the runs", fontsize=8.5)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def headline(results):
    """One line of headline ratios for the README: per area, the range of "times better" over its
    ratio goals and how many of all its goals are met."""
    parts = []
    for area, anchor in [("port", "Asio"), ("actors", "CAF"), ("echo", "epoll")]:
        # WebSocket rows compare with Quay's own TCP figures, not the area's anchor: apart.
        rs = [(cells, plot) for a, cells, plot in results
              if a == area and "WebSocket" not in cells[0] and cells[5] != "not measured"]
        if not rs:
            continue
        better = [p["med"] for _, p in rs if p and p["med"] != math.inf]
        met = sum(1 for c, _ in rs if c[5].startswith("met"))
        lo, hi = (f"{min(better):.2g}", f"{max(better):.2g}") if better else ("", "")
        span = "" if not better else f"{lo}x {anchor}, " if lo == hi else f"{lo}-{hi}x {anchor}, "
        parts.append(f"{area} {span}{met} of {len(rs)} goals met")
    ws = [cells for a, cells, _ in results if a == "echo" and "WebSocket" in cells[0]]
    ws = [c for c in ws if c[5] != "not measured"]
    if ws:
        met = sum(1 for c in ws if c[5].startswith("met"))
        parts.append(f"WebSocket {met} of {len(ws)} goals met vs Quay TCP")
    return "; ".join(parts)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", nargs="?", default=os.path.join(root, "docs/bench/results.tsv"))
    ap.add_argument("--doc", default=os.path.join(root, "docs/benchmarks.md"))
    ap.add_argument("--plots", default=os.path.join(root, "docs/bench"))
    ap.add_argument("--readme", default=os.path.join(root, "README.md"))
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    rows = load(args.data)
    plt = None
    if not args.no_plots:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt  # noqa: F811
        except ImportError:
            sys.exit("bench-report: matplotlib is missing: run scripts/setup.sh "
                     "(python3-matplotlib) or pass --no-plots")
        os.makedirs(args.plots, exist_ok=True)
    rel = os.path.relpath(args.plots, os.path.dirname(os.path.abspath(args.doc)))
    goals = expand(GOALS, rows)
    out, results = [], []
    summary = []
    for area, title, cmd in AREAS:
        arows = [r for r in rows if r["area"] == area]
        out.append(f"### {title}\n")
        if not arows:
            out.append(f"Not measured yet. `{cmd}`\n")
            continue
        out.append(provenance(arows) + "\n")
        if area == "capacity":
            text, pts = capacity(arows)
            out.append(text + "\n")
            if plt and pts:
                plot_capacity(plt, pts, os.path.join(args.plots, "capacity.png"))
                out.append(f"![capacity curve]({rel}/capacity.png)\n")
            summary.append((title, capacity_summary(pts)))
        else:
            cells, pts = [], []
            for g in goals:
                if g[0] != area:
                    continue
                e = evaluate(rows, g)
                if e is None:
                    continue
                cells.append(e[0])
                results.append((area, e[0], e[1]))
                if e[1]:
                    pts.append(e[1])
            out.append(table(cells) + "\n")
            if plt and pts:
                plot_ratios(plt, area, title, pts, os.path.join(args.plots, f"{area}.png"))
                out.append(f"![{title}: ratios]({rel}/{area}.png)\n")
            if area == "echo" and plt and plot_cdf(plt, arows, os.path.join(args.plots,
                                                                            "echo-latency.png")):
                out.append(f"![echo latency quantiles]({rel}/echo-latency.png)\n")
            missed = [c[0] for c in cells if "missed" in c[5]]
            summary.append((title, f"{len(cells) - len(missed)} of {len(cells)} goals met" +
                            (f". **Missed**: {'; '.join(missed)}" if missed else "")))
        out.append(f"Anchor: {ANCHORS[area]}. Reproduce: `{cmd}`\n")
    out.append("*Later areas (" + ", ".join(LATER) + ") get their table here once "
               "`scripts/bench.sh` records them and GOALS in `scripts/bench-report.py` "
               "names their goals.*\n")
    lead = ["*Generated by `scripts/bench-report.py` from "
            f"[`{os.path.relpath(args.data, os.path.dirname(os.path.abspath(args.doc)))}`]"
            f"({os.path.relpath(args.data, os.path.dirname(os.path.abspath(args.doc)))}); "
            "do not edit by hand.*\n",
            "| area | verdict |", "|---|---|"]
    lead += [f"| {t} | {v} |" for t, v in summary]
    body = BEGIN + "\n" + "\n".join(lead) + "\n\n" + "\n".join(out) + END
    with open(args.doc) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        sys.exit(f"bench-report: {args.doc} has no {BEGIN} ... {END} section")
    doc = doc[:doc.index(BEGIN)] + body + doc[doc.index(END) + len(END):]
    with open(args.doc, "w") as f:
        f.write(doc)
    line = headline(results)
    print(f"bench-report: wrote {args.doc}" + ("" if args.no_plots else f" and {args.plots}/*.png"))
    print(f"bench-report: headline: {line}")
    if os.path.exists(args.readme):
        with open(args.readme) as f:
            readme = f.read()
        if HEAD_BEGIN in readme and HEAD_END in readme:
            readme = (readme[:readme.index(HEAD_BEGIN) + len(HEAD_BEGIN)] + line +
                      readme[readme.index(HEAD_END):])
            with open(args.readme, "w") as f:
                f.write(readme)


if __name__ == "__main__":
    main()
