// The network sweep's cost against the number of idle sessions (issue 18 item 6).
//
// Sessions are opened in the network's slot table without sockets (the sweep reads only their
// state and deadlines), idle with the default options: nothing is due within the run. Two
// sweeps are timed over the same sessions:
//   impl=quay       network_impl::sweep(): takes the entries due at this tick from the wheel.
//   impl=full_scan  the sweep before the wheel, reproduced: lock every slot in use and look at
//                   its deadlines (sweep_locked), as network.cpp did every 50 ms.
// Counts: today's (2,000 sessions, docs/benchmarks.md's capacity figure), 10x and 100x.
// Prints per-sweep times (median, min, max over --samples rounds of --sweeps sweeps each).
//
//   bench_net_sweep [--base=2000] [--samples=5] [--sweeps=200]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "network_impl.hpp"
#include "quay/net/error.hpp"
#include "quay/runtime/io_port.hpp"

namespace {

using namespace quay;
namespace detail = quay::net::detail;
using quay::net::errc;
using quay::net::session_options;
using bench::bench_clock;

// The sweep as it was: every slot in use, each under its mutex.
void full_scan(detail::network_impl& net) {
  const port_time now = net.port.now();
  const std::uint32_t n = net.slots_in_use_high();
  for (std::uint32_t i = 0; i < n; ++i) {
    detail::session* s = net.lookup(i);
    if (s == nullptr) continue;
    detail::session_lock lk(*s);
    if (s->state == detail::session_state::free) continue;
    detail::sweep_locked(*s, now);
    detail::finish(*s, lk);
  }
}

template <class F>
std::vector<double> time_sweeps(F sweep, std::uint64_t samples, std::uint64_t sweeps) {
  std::vector<double> ns_per_sweep;
  for (std::uint64_t r = 0; r < samples; ++r) {
    const auto start = bench_clock::now();
    for (std::uint64_t i = 0; i < sweeps; ++i) sweep();
    const double ns = std::chrono::duration<double, std::nano>(bench_clock::now() - start).count();
    ns_per_sweep.push_back(ns / static_cast<double>(sweeps));
  }
  std::sort(ns_per_sweep.begin(), ns_per_sweep.end());
  return ns_per_sweep;
}

void report(const std::string& name, const char* impl, const std::vector<double>& v,
            std::size_t sessions) {
  char extra[160];
  std::snprintf(extra, sizeof extra, "sessions=%zu min=%.6g max=%.6g samples=%zu", sessions,
                v.front(), v.back(), v.size());
  bench::print_bench(name, impl, v[v.size() / 2], "ns_per_sweep", extra);
}

void run(std::size_t sessions, std::uint64_t samples, std::uint64_t sweeps) {
  io_port port(io_port_options{.workers = 1, .blocking_threads = 1, .name = "sweepbench"});
  auto net = std::make_unique<detail::network_impl>(port, nullptr);
  // The bench drives the sweep itself; the periodic one would run it concurrently.
  port.cancel_timer(net->sweep_timer);
  std::vector<detail::session*> open;
  open.reserve(sessions);
  const session_options opts;  // idle timeout 30 s, heartbeat 10 s: nothing due in the run
  for (std::size_t i = 0; i < sessions; ++i) {
    detail::session* s = net->allocate();
    if (s == nullptr) break;
    detail::session_lock lk(*s);
    detail::configure(*s, opts);
    s->state = detail::session_state::open;
    detail::schedule_sweep_locked(*s, port.now());
    open.push_back(s);
  }
  const std::string name = "net_sweep_idle_" + std::to_string(open.size());
  report(name, "quay", time_sweeps([&] { net->sweep(); }, samples, sweeps), open.size());
  report(name, "full_scan", time_sweeps([&] { full_scan(*net); }, samples, sweeps),
         open.size());
  const std::string count = "sessions=" + std::to_string(open.size());
  bench::print_bench("net_sweep_wheel_entries_" + std::to_string(open.size()), "quay",
                     static_cast<double>(net->wheel.size()), "entries", count);
  for (detail::session* s : open) {
    detail::session_lock lk(*s);
    detail::hard_close_locked(*s, errc::shutting_down, false);
    detail::finish(*s, lk);
  }
  net.reset();
  port.stop();
}

}  // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  const std::uint64_t base = a.get_u64("base", 2000);
  const std::uint64_t samples = std::max<std::uint64_t>(1, a.get_u64("samples", 5));
  const std::uint64_t sweeps = std::max<std::uint64_t>(1, a.get_u64("sweeps", 200));
  for (const auto& u : a.unknown()) {
    std::fprintf(stderr, "unknown argument %s\n", u.c_str());
    return 2;
  }
  for (const std::uint64_t factor : {1u, 10u, 100u}) {
    run(static_cast<std::size_t>(base * factor), samples, sweeps);
  }
  return 0;
}
