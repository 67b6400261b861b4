// A turn's hand-off is its last touch of the actor: after the `pending` fetch_sub that lets
// another worker start the next turn, the finishing turn writes nothing of the cell. Run under
// TSan: a write after the hand-off (the overload warning's reset once was one) races with the
// next turn on another worker, and TSan fails the test.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "quay/actors/actors.hpp"
#include "quay/runtime/io_port.hpp"
#include "quay/runtime/log.hpp"
#include "stress_scale.hpp"

namespace {

struct tick {};

class sink final : public quay::actor {
 public:
  explicit sink(std::atomic<std::uint64_t>* handled) : handled_(handled) {}
  static void define(quay::handlers<sink>& h) { h.on<&sink::on_tick>(); }

 private:
  void on_tick(tick&) {
    ++state_;  // actor state: TSan also checks that turns on different workers are ordered
    handled_->fetch_add(1, std::memory_order_release);
  }
  std::atomic<std::uint64_t>* handled_;
  std::uint64_t state_ = 0;
};

TEST(turn_handoff, a_turn_that_drains_an_overloaded_mailbox_writes_nothing_after_giving_it_up) {
  // Bursts above the warning threshold, each drained to empty by one-message turns: every
  // burst's last turn resets the warning (the mailbox drained) and hands the cell off, and the
  // next burst starts a turn on whichever worker the port picks.
  const std::uint64_t bursts = quay::test::scaled(3'000);
  constexpr std::uint64_t burst = 8;
  quay::log::get("actors")->set_level(spdlog::level::err);  // one warning per burst otherwise
  quay::io_port port(quay::io_port_options{.workers = 4});
  std::atomic<std::uint64_t> handled{0};
  {
    quay::actor_system_options o;
    o.batch = 1;
    o.mailbox_warn_threshold = 2;
    quay::actor_system sys(port, o);
    const quay::actor_ref a = sys.spawn<sink>(&handled);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
    for (std::uint64_t b = 0; b < bursts; ++b) {
      for (std::uint64_t k = 0; k < burst; ++k) {
        sys.send(a, tick{});
      }
      // Wait for the drain, so the next burst makes the idle cell runnable anew.
      while (handled.load(std::memory_order_acquire) < (b + 1) * burst &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      while (sys.mailbox_depth(a).value_or(0) != 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
    }
    EXPECT_EQ(handled.load(), bursts * burst);
    port.stop();
  }
}

}  // namespace
