#pragma once

// A counting global allocator for the actor benchmark binary. It replaces the global operator
// new/delete (alloc_counter.cpp), so every heap allocation in the process is seen — the SDK's,
// CAF's and the standard library's alike.

#include <atomic>
#include <cstdint>

namespace quay::bench::alloc {

/// While true, every operator new call adds 1 to `calls`. Thread-safe to toggle.
inline std::atomic<bool> counting{false};
/// Allocation calls made while `counting` was true.
inline std::atomic<std::uint64_t> calls{0};
/// While true, operator new/delete keep `live_bytes` (usable size of every block). Set once at
/// start, before the measured work, so that blocks are added and removed under the same rule.
inline std::atomic<bool> tracking_bytes{false};
/// Bytes currently allocated (only meaningful while `tracking_bytes`).
inline std::atomic<std::int64_t> live_bytes{0};

/// Starts counting calls from zero. Thread-safe.
inline void start_counting() {
  calls.store(0, std::memory_order_relaxed);
  counting.store(true, std::memory_order_release);
}
/// Stops counting; returns the calls counted since start_counting(). Thread-safe.
inline std::uint64_t stop_counting() {
  counting.store(false, std::memory_order_release);
  return calls.load(std::memory_order_acquire);
}

/// Resident set size of this process in bytes, from /proc/self/statm (0 if unreadable).
std::uint64_t resident_bytes();

}  // namespace quay::bench::alloc
