#pragma once
// Helpers shared by the actor tests that run on the native io_port.

#include <chrono>
#include <thread>

namespace quay::actor_test {

/// Polls `cond` until it holds or `patience` passes; true if it held. Never a fixed sleep:
/// the test proceeds as soon as the condition is true.
template <class Cond>
bool wait_until(Cond cond, std::chrono::milliseconds patience = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace quay::actor_test
