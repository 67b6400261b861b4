#pragma once

// Shared pieces of the benchmark binaries: the BENCH line format, a monotonic stopwatch, a tiny
// `--key=value` argument parser, percentiles, and the hard time bound every workload runs under.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/resource.h>

namespace quay::bench {

using bench_clock = std::chrono::steady_clock;

/// Seconds elapsed since `start`. Thread-safe.
inline double seconds_since(bench_clock::time_point start) {
  return std::chrono::duration<double>(bench_clock::now() - start).count();
}

/// CPU time (user + system) used so far by all threads of this process, in seconds.
inline double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

/// Wall-clock and process CPU time since construction. On a loaded machine the CPU time shows
/// how much work a run did, whatever share of the cores it was given. Thread-safe to read.
class stopwatch {
 public:
  stopwatch() : wall0_(bench_clock::now()), cpu0_(process_cpu_seconds()) {}
  double wall() const { return seconds_since(wall0_); }
  double cpu() const { return process_cpu_seconds() - cpu0_; }
  /// `seconds=<wall> cpu_s=<cpu>` for a figure's extra text, read now.
  std::string times() const {
    char buf[64];
    std::snprintf(buf, sizeof buf, "seconds=%.4f cpu_s=%.4f", wall(), cpu());
    return buf;
  }

 private:
  bench_clock::time_point wall0_;
  double cpu0_;
};

/// Prints one machine-readable figure: `BENCH name=<n> impl=<i> value=<v> unit=<u>[ extra]`.
/// Flushes at once so a later hard exit (time bound) cannot lose it. Thread-safe (stdio locks).
inline void print_bench(std::string_view name, std::string_view impl, double value,
                        std::string_view unit, std::string_view extra = {}) {
  // An empty view's data() may be null, which %.*s must not get even with a length of 0 (and
  // g++ -O3 says so: -Wformat-overflow).
  const char* extra_text = extra.empty() ? "" : extra.data();
  std::printf("BENCH name=%.*s impl=%.*s value=%.6g unit=%.*s%s%.*s\n",
              static_cast<int>(name.size()), name.data(), static_cast<int>(impl.size()),
              impl.data(), value, static_cast<int>(unit.size()), unit.data(),
              extra.empty() ? "" : " ", static_cast<int>(extra.size()), extra_text);
  std::fflush(stdout);
}

/// Prints a figure that did not finish within its bound: `value=DNF`, with the bound and how far
/// it got, so a missing result is never mistaken for a measured one. Thread-safe.
inline void print_dnf(std::string_view name, std::string_view impl, std::string_view unit,
                      double bound_s, std::string_view progress) {
  std::printf("BENCH name=%.*s impl=%.*s value=DNF unit=%.*s bound_s=%g %.*s\n",
              static_cast<int>(name.size()), name.data(), static_cast<int>(impl.size()),
              impl.data(), static_cast<int>(unit.size()), unit.data(), bound_s,
              static_cast<int>(progress.size()), progress.empty() ? "" : progress.data());
  std::fflush(stdout);
}

/// `--key=value` and `--flag` arguments. Unknown keys are an error the caller reports.
class args {
 public:
  args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a.substr(0, 2) != "--") {
        bad_.emplace_back(a);
        continue;
      }
      a.remove_prefix(2);
      // A bare `--flag` means `--flag=1`. Built from views (not string literals assigned into
      // the map) because g++ 12 -O3 reports a false -Wrestrict on the latter.
      auto eq = a.find('=');
      std::string_view key = eq == std::string_view::npos ? a : a.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? std::string_view("1")
                                                            : a.substr(eq + 1);
      kv_.insert_or_assign(std::string(key), std::string(value));
    }
  }
  std::string get(const std::string& key, const std::string& def) {
    seen_.push_back(key);
    auto it = kv_.find(key);
    return it == kv_.end() ? def : it->second;
  }
  std::uint64_t get_u64(const std::string& key, std::uint64_t def) {
    auto s = get(key, "");
    return s.empty() ? def : std::strtoull(s.c_str(), nullptr, 10);
  }
  double get_double(const std::string& key, double def) {
    auto s = get(key, "");
    return s.empty() ? def : std::strtod(s.c_str(), nullptr);
  }
  /// Keys given on the command line that no get() asked for, plus non-option words.
  std::vector<std::string> unknown() const {
    std::vector<std::string> out = bad_;
    for (const auto& [k, v] : kv_) {
      if (std::find(seen_.begin(), seen_.end(), k) == seen_.end()) {
        std::string flag("--");
        flag.append(k);
        out.push_back(std::move(flag));
      }
    }
    return out;
  }

 private:
  std::map<std::string, std::string> kv_;
  std::vector<std::string> seen_;
  std::vector<std::string> bad_;
};

/// Value at quantile q (0..1) of `v` (sorted in place). Returns 0 for an empty sample.
inline double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto idx = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

/// A hard time bound for one workload. If `disarm()` is not called within `bound_s` seconds,
/// `on_expiry` runs (it prints the DNF line) and the process exits with status 3 at once,
/// without running destructors: a framework stuck in its scheduler cannot be shut down cleanly.
class time_bound {
 public:
  time_bound(double bound_s, std::function<void()> on_expiry)
      : on_expiry_(std::move(on_expiry)), thread_([this, bound_s] {
          std::unique_lock lk(m_);
          auto deadline = bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(
                                                   std::chrono::duration<double>(bound_s));
          if (!cv_.wait_until(lk, deadline, [this] { return disarmed_; })) {
            on_expiry_();
            std::fflush(stdout);
            std::_Exit(3);
          }
        }) {}
  ~time_bound() { disarm(); }
  time_bound(const time_bound&) = delete;
  time_bound& operator=(const time_bound&) = delete;

  /// Stops the bound; joins its thread. Call from the thread that created it.
  void disarm() {
    {
      std::lock_guard lk(m_);
      disarmed_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool disarmed_ = false;
  std::function<void()> on_expiry_;
  std::thread thread_;
};

/// Per-thread event counters padded to a cache line each, so that counting completions on
/// several workers does not turn into one contended atomic that would hide the difference
/// between the implementations under test. Thread-safe.
class sharded_counter {
 public:
  static constexpr std::size_t max_threads = 64;

  /// Adds 1 on the calling thread's shard.
  void add() noexcept {
    // An uncontended RMW: threads map to distinct shards unless more than max_threads count.
    shards_[shard_index()].v.fetch_add(1, std::memory_order_release);
  }
  /// Sum over all shards (a lower bound while adds are in flight).
  std::uint64_t sum() const noexcept {
    std::uint64_t t = 0;
    for (const auto& s : shards_) t += s.v.load(std::memory_order_acquire);
    return t;
  }

 private:
  static std::size_t shard_index() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local std::size_t idx = next.fetch_add(1, std::memory_order_relaxed) % max_threads;
    return idx;
  }
  struct alignas(64) shard {
    std::atomic<std::uint64_t> v{0};
  };
  shard shards_[max_threads];
};

}  // namespace quay::bench
