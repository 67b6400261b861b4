// Timer cost against the number of pending timers (issue 18 item 6): start+cancel from several
// threads at once, and expiry, on a quay::io_port that already holds N pending timers, for N at
// today's count (1,000: one timer per player at the 1,000-connection goal), 10x and 100x.
// If each operation's cost is independent of the other timers and of contention, the figures
// stay flat across N. Each figure is the median of a few samples and carries min and max.
//
// Prints `BENCH name=timers_<op>_<N> impl=quay value=<ns per op> unit=ns_per_op min=.. max=..`.
// Options: --samples=3 --ops=200000 --threads=<workers> --expiries=100000

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "quay/runtime/io_port.hpp"

namespace {

using quay::millis;
using quay::bench::bench_clock;

struct figures {
  std::vector<double> samples;
  void print(const std::string& name) {
    std::sort(samples.begin(), samples.end());
    char extra[96];
    std::snprintf(extra, sizeof extra, "min=%.1f max=%.1f samples=%zu", samples.front(),
                  samples.back(), samples.size());
    quay::bench::print_bench(name, "quay", samples[samples.size() / 2], "ns_per_op", extra);
  }
};

// Fills the port with `n` timers an hour away (pending for the whole run), started from as
// many threads as workers so every shard holds its share.
std::vector<quay::timer_id> fill(quay::io_port& p, std::size_t n, std::size_t threads) {
  std::vector<quay::timer_id> ids(n);
  std::vector<std::thread> ts;
  for (std::size_t t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (std::size_t i = t; i < n; i += threads) {
        ids[i] = p.start_timer(millis{3'600'000}, [](std::error_code) {});
      }
    });
  }
  for (auto& t : ts) t.join();
  return ids;
}

// ns per start+cancel pair, `threads` threads at once, each `ops` pairs.
double start_cancel(quay::io_port& p, std::size_t threads, std::size_t ops) {
  std::atomic<std::size_t> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> ts;
  std::atomic<long> aborted_callbacks{0};
  for (std::size_t t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (std::size_t i = 0; i < ops; ++i) {
        const auto id = p.start_timer(millis{60'000}, [&](std::error_code ec) {
          if (ec) aborted_callbacks.fetch_add(1, std::memory_order_relaxed);
        });
        if (!p.cancel_timer(id)) std::abort();  // an hour-long timer is always still pending
      }
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const auto t0 = bench_clock::now();
  go.store(true, std::memory_order_release);
  for (auto& t : ts) t.join();
  const double s = quay::bench::seconds_since(t0);
  // Verification: every cancelled timer's abort callback ran (they run on the workers).
  const long want = static_cast<long>(threads * ops);
  while (aborted_callbacks.load() < want) std::this_thread::yield();
  return s * 1e9 / static_cast<double>(threads * ops);
}

// ns per expiry: `k` one-shot timers due in 1 ms, started from `threads` threads, from the
// first start until the last callback ran (covers start, expiry pass and callback).
double expiry(quay::io_port& p, std::size_t threads, std::size_t k) {
  std::atomic<std::size_t> fired{0};
  const auto t0 = bench_clock::now();
  std::vector<std::thread> ts;
  for (std::size_t t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (std::size_t i = t; i < k; i += threads) {
        p.start_timer(millis{1}, [&](std::error_code ec) {
          if (!ec) fired.fetch_add(1, std::memory_order_relaxed);
        });
      }
    });
  }
  for (auto& t : ts) t.join();
  while (fired.load(std::memory_order_relaxed) < k) std::this_thread::yield();
  return quay::bench::seconds_since(t0) * 1e9 / static_cast<double>(k);
}

}  // namespace

int main(int argc, char** argv) {
  quay::bench::args a(argc, argv);
  const auto samples =
      static_cast<std::size_t>(std::max<std::uint64_t>(1, a.get_u64("samples", 3)));
  const auto ops = static_cast<std::size_t>(a.get_u64("ops", 200'000));
  const auto expiries = static_cast<std::size_t>(a.get_u64("expiries", 100'000));
  const std::size_t workers = std::max<std::size_t>(2, std::thread::hardware_concurrency());
  const auto threads =
      static_cast<std::size_t>(std::max<std::uint64_t>(1, a.get_u64("threads", workers)));
  if (const auto bad = a.unknown(); !bad.empty()) {
    std::fprintf(stderr, "bench_timers: unknown option %s\n", bad.front().c_str());
    return 2;
  }

  for (const std::size_t n : {std::size_t{1'000}, std::size_t{10'000}, std::size_t{100'000}}) {
    quay::io_port p([&] {
      quay::io_port_options o;
      o.workers = workers;
      return o;
    }());
    const auto background = fill(p, n, workers);
    figures one, many, exp;
    // Warm-up at this N (record chunks, wheel slots), not counted.
    start_cancel(p, threads, ops / 10);
    for (std::size_t s = 0; s < samples; ++s) {
      one.samples.push_back(start_cancel(p, 1, ops));
      many.samples.push_back(start_cancel(p, threads, ops / threads));
      exp.samples.push_back(expiry(p, threads, expiries));
    }
    // snprintf, not operator+ chains: GCC 12 at -O3 reports a false -Wrestrict on those.
    char name[96];
    std::snprintf(name, sizeof name, "timers_start_cancel_1thread_%zu", n);
    one.print(name);
    std::snprintf(name, sizeof name, "timers_start_cancel_%zuthreads_%zu", threads, n);
    many.print(name);
    std::snprintf(name, sizeof name, "timers_expiry_%zu", n);
    exp.print(name);
    for (const auto id : background) p.cancel_timer(id);
    p.stop();
  }
  return 0;
}
