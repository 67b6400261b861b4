// bench_actors: one actor workload on one implementation per process, under a hard time bound.
//
//   bench_actors --impl=caf|caf_stealing|caf_sharing|quay
//                --workload=pingpong|fanout|spawn|ring|skynet|ask|alloc|idle
//                [--threads=2] [--bound=seconds] [--n=<workload size>]
//
// One workload per process keeps the figures independent (a framework stuck past its bound is
// abandoned with _Exit, which would spoil anything after it in the same process).
//
// The CAF anchor is CAF at its best: `--impl=caf_stealing` and `--impl=caf_sharing` run the
// workload under one scheduler policy each; `--impl=caf` runs both, each in a process of its
// own with the full bound, prints both sets of figures (impl=caf_stealing, impl=caf_sharing),
// then the better policy's figures again as impl=caf with `policy=<name>` appended. "Better" is
// decided per workload by its headline figure (the first it prints). A policy that hit its
// bound counts as worse than one that finished; impl=caf is DNF only if both were.

#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "actor_bench.hpp"
#include "alloc_counter.hpp"
#include "bench_util.hpp"

namespace qb = quay::bench;

namespace quay::bench {

std::string workload_unit(const std::string& workload) {
  if (workload == "pingpong" || workload == "fanout") return "msgs/s";
  if (workload == "spawn") return "actors/s";
  if (workload == "ring") return "hops/s";
  if (workload == "skynet") return "ms";
  if (workload == "ask") return "ns/roundtrip";
  if (workload == "alloc") return "allocs/msg";
  if (workload == "idle") return "bytes";
  return "?";
}

}  // namespace quay::bench

namespace {

bool known_workload(const std::string& w) {
  for (const auto& n : qb::workload_names()) {
    if (n == w) return true;
  }
  return false;
}

// `--n` overrides the size of the chosen workload (for quick runs and bound checks).
void apply_size(qb::actor_params& p, const std::string& w, std::uint64_t n) {
  if (n == 0) return;
  if (w == "pingpong") p.pingpong_round_trips = n;
  if (w == "fanout") p.fanout_messages = n;
  if (w == "spawn") p.spawn_actors = n;
  if (w == "ring") p.ring_hops = n;
  if (w == "skynet") p.skynet_leaves = n;
  if (w == "ask") p.ask_round_trips = n;
  if (w == "alloc") p.alloc_measured = n;
  if (w == "idle") p.idle_actors = n;
}

bool lower_is_better(const std::string& unit) {
  return unit == "ms" || unit == "ns/roundtrip" || unit == "allocs/msg" || unit == "bytes";
}

// One BENCH line of a child run: `BENCH name=<n> impl=<i> value=<v> unit=<u>[ extra]`.
struct bench_line {
  std::string name, value, unit, extra;
  bool dnf() const { return value == "DNF"; }
};

std::optional<bench_line> parse_line(const std::string& line) {
  std::istringstream in(line);
  std::string tag, name, impl, value, unit;
  if (!(in >> tag >> name >> impl >> value >> unit) || tag != "BENCH") return std::nullopt;
  auto field = [](const std::string& kv, const char* key) -> std::optional<std::string> {
    const std::string k = std::string(key) + "=";
    if (kv.rfind(k, 0) != 0) return std::nullopt;
    return kv.substr(k.size());
  };
  auto n = field(name, "name");
  auto v = field(value, "value");
  auto u = field(unit, "unit");
  if (!n || !v || !u || !field(impl, "impl")) return std::nullopt;
  std::string extra;
  std::getline(in, extra);
  if (!extra.empty() && extra.front() == ' ') extra.erase(0, 1);
  return bench_line{*n, *v, *u, extra};
}

// Runs this binary again with `--impl=<impl>` and the given workload arguments; passes its
// output through and returns its BENCH lines. `ok` is false if it failed (not a DNF: a wrong
// result or a crash).
std::vector<bench_line> run_child(const std::string& impl, const std::string& args, bool& ok) {
  // popen runs a shell, whose /proc/self/exe is the shell: name this binary by its path.
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec || self.find('\'') != std::string::npos) {
    ok = false;
    return {};
  }
  const std::string cmd = "'" + self + "' --impl=" + impl + " " + args;
  std::vector<bench_line> lines;
  FILE* out = ::popen(cmd.c_str(), "r");
  if (out == nullptr) {
    ok = false;
    return lines;
  }
  char buf[4096];
  while (std::fgets(buf, sizeof buf, out) != nullptr) {
    std::string line(buf);
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    if (auto l = parse_line(line)) lines.push_back(*l);
  }
  const int status = ::pclose(out);
  // A DNF child exits with status 3 (the time bound's _Exit) after printing its DNF line.
  const bool dnf = !lines.empty() && lines.front().dnf();
  ok = dnf || (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !lines.empty());
  return lines;
}

// --impl=caf: both policies, then the better one as impl=caf. Returns the exit status.
int run_caf_best(const std::string& workload, const std::string& args, double bound) {
  struct run {
    const char* policy;
    std::vector<bench_line> lines;
    bool ok = false;
  };
  std::vector<run> runs{{"stealing", {}, false}, {"sharing", {}, false}};
  for (auto& r : runs) r.lines = run_child(std::string("caf_") + r.policy, args, r.ok);
  for (const auto& r : runs) {
    if (!r.ok) {
      std::fprintf(stderr, "bench_actors: caf_%s %s failed\n", r.policy, workload.c_str());
      return 1;
    }
  }
  const run* best = nullptr;
  for (const auto& r : runs) {
    if (r.lines.front().dnf()) continue;
    if (best == nullptr) {
      best = &r;
      continue;
    }
    const double mine = std::stod(r.lines.front().value);
    const double theirs = std::stod(best->lines.front().value);
    const bool better = lower_is_better(r.lines.front().unit) ? mine < theirs : mine > theirs;
    if (better) best = &r;
  }
  if (best == nullptr) {
    qb::print_dnf(workload, "caf", qb::workload_unit(workload), bound,
                  "both_policies_dnf=stealing,sharing");
    return 0;
  }
  for (const auto& l : best->lines) {
    const std::string extra = (l.extra.empty() ? "" : l.extra + " ") + "policy=" + best->policy;
    qb::print_bench(l.name, "caf", std::stod(l.value), l.unit, extra);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  qb::args a(argc, argv);
  std::string impl = a.get("impl", "");
  std::string workload = a.get("workload", "");
  qb::actor_params p;
  p.threads = a.get_u64("threads", p.threads);
  double bound = a.get_double("bound", 120);
  const std::uint64_t n = a.get_u64("n", 0);
  apply_size(p, workload, n);
  const bool known_impl =
      impl == "caf" || impl == "caf_stealing" || impl == "caf_sharing" || impl == "quay";
  if (!a.unknown().empty() || !known_impl || !known_workload(workload) || p.threads == 0 ||
      bound <= 0) {
    std::fprintf(stderr,
                 "usage: bench_actors --impl=caf|caf_stealing|caf_sharing|quay "
                 "--workload=pingpong|fanout|spawn|ring|skynet|ask|alloc|idle [--threads=2] "
                 "[--bound=s] [--n=size]\n");
    return 2;
  }
  p.policy = impl == "caf_sharing" ? qb::caf_policy::sharing : qb::caf_policy::stealing;
#ifndef QUAY_BENCH_HAVE_ACTORS
  if (impl == "quay") {
    std::fprintf(stderr, "bench_actors: built without the Quay actor SDK\n");
    return 2;
  }
#endif
  if (workload == "skynet") {
    std::uint64_t l = p.skynet_leaves;
    while (l > 1 && l % 10 == 0) l /= 10;
    if (l != 1) {
      std::fprintf(stderr, "bench_actors: skynet leaves must be a power of 10\n");
      return 2;
    }
  }
  if (impl == "caf") {
    // Each policy in a process of its own, under its own bound (they run one after the other).
    std::ostringstream args;
    args << "--workload=" << workload << " --threads=" << p.threads << " --bound=" << bound;
    if (n != 0) args << " --n=" << n;
    return run_caf_best(workload, args.str(), bound);
  }
  // Byte tracking changes what new/delete do, so it is chosen before anything is allocated
  // by the workload, and only for the workload that reports bytes.
  qb::alloc::tracking_bytes.store(workload == "idle");

  qb::time_bound guard(bound, [&] {
    qb::print_dnf(workload, impl, qb::workload_unit(workload), bound,
                  "progress=" + std::to_string(qb::progress.load()));
  });
  try {
    std::vector<qb::figure> figs;
    if (impl != "quay") {
      figs = qb::run_caf(workload, p);
    } else {
#ifdef QUAY_BENCH_HAVE_ACTORS
      figs = qb::run_quay(workload, p);
#endif
    }
    guard.disarm();
    for (const auto& f : figs) qb::print_bench(f.name, impl, f.value, f.unit, f.extra);
  } catch (const std::exception& e) {
    guard.disarm();
    std::fprintf(stderr, "bench_actors: %s\n", e.what());
    return 1;
  }
  return 0;
}
