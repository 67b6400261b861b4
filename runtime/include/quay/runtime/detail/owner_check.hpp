#pragma once
// Debug-build check of an "owner only" thread contract, in the spirit of muduo's
// assertInLoopThread: an owner-only object may move between threads (an actor between
// workers), but its owner serialises every call, so two such calls never overlap in time.
// Each owner-only member holds an owner_scope while it touches the object; a second call that
// begins before the first ended aborts the process with a message naming the call. Release
// builds (NDEBUG) keep an empty class and no code. Header-only (it writes to stderr, not to a
// logger), so libraries that link only the runtime's headers (net's core, the fuzzers) use it too.

#ifndef NDEBUG
#include <atomic>
#include <cstdio>
#include <cstdlib>
#endif

namespace quay::detail {

class owner_check {
 public:
#ifdef NDEBUG
  void enter(const char*) const noexcept {}
  void leave() const noexcept {}
#else
  owner_check() noexcept = default;
  // Each object keeps its own check: moving the object does not move the check's state.
  owner_check(const owner_check&) noexcept {}
  owner_check& operator=(const owner_check&) noexcept { return *this; }

  void enter(const char* what) const noexcept {
    if (busy_.exchange(true, std::memory_order_acquire)) violated(what);
  }
  void leave() const noexcept { busy_.store(false, std::memory_order_release); }

 private:
  /// Says which call overlapped on stderr and aborts.
  [[noreturn]] static void violated(const char* what) noexcept {
    std::fprintf(stderr,
                 "owner-only contract broken: '%s' began while another call on the same object "
                 "was in progress (its owner must serialise its calls)\n",
                 what);
    std::abort();
  }
  mutable std::atomic<bool> busy_{false};
#endif
};

/// Holds an owner_check for the scope of one owner-only call.
class owner_scope {
 public:
  owner_scope(const owner_check& c, const char* what) noexcept : c_(c) { c_.enter(what); }
  ~owner_scope() { c_.leave(); }
  owner_scope(const owner_scope&) = delete;
  owner_scope& operator=(const owner_scope&) = delete;

 private:
  const owner_check& c_;
};

}  // namespace quay::detail
