// Per-sender FIFO under stress: several sender actors (and plain threads) send sequenced
// messages to several receivers on a multi-worker io_port; senders and receivers yield after
// tiny batches so they keep moving between workers. Any reordering fails the test.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/runtime/io_port.hpp"
#include "stress_scale.hpp"

namespace {

using quay::actor_ref;

constexpr std::uint32_t senders = 6;
constexpr std::uint32_t thread_senders = 2;
constexpr std::uint32_t receivers = 4;

struct numbered {
  std::uint32_t from;
  std::uint64_t seq;
};
struct go {};

struct shared_state {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> violations{0};
  std::atomic<std::uint64_t> hops{0};  // turns that ran on a different thread than the last one
};

class receiver final : public quay::actor {
 public:
  explicit receiver(shared_state* s) : s_(s), next_(senders + thread_senders, 0) {
    set_batch(3);
  }
  static void define(quay::handlers<receiver>& h) { h.on<&receiver::on_numbered>(); }

 private:
  void on_numbered(numbered& m) {
    note_thread();
    if (m.seq != next_[m.from]) {
      s_->violations.fetch_add(1, std::memory_order_relaxed);
    }
    next_[m.from] = m.seq + 1;
    s_->received.fetch_add(1, std::memory_order_relaxed);
  }
  void note_thread() {
    const auto me = std::this_thread::get_id();
    if (me != last_) {
      s_->hops.fetch_add(1, std::memory_order_relaxed);
      last_ = me;
    }
  }
  shared_state* s_;
  std::vector<std::uint64_t> next_;
  std::thread::id last_{};
};

class sender final : public quay::actor {
 public:
  sender(shared_state* s, std::uint32_t id, std::vector<actor_ref> to, std::uint64_t per_receiver)
      : s_(s), id_(id), to_(std::move(to)), total_(per_receiver), seq_(to_.size(), 0) {
    set_batch(2);
  }
  static void define(quay::handlers<sender>& h) { h.on<&sender::on_go>(); }

 private:
  void on_go(go&) {
    const auto me = std::this_thread::get_id();
    if (me != last_) {
      s_->hops.fetch_add(1, std::memory_order_relaxed);
      last_ = me;
    }
    // A short burst to every receiver, then yield by messaging ourselves.
    bool more = false;
    for (std::size_t r = 0; r < to_.size(); ++r) {
      for (int k = 0; k < 7 && seq_[r] < total_; ++k) {
        send(to_[r], numbered{id_, seq_[r]++});
      }
      more = more || seq_[r] < total_;
    }
    if (more) {
      send(self(), go{});
    }
  }
  shared_state* s_;
  std::uint32_t id_;
  std::vector<actor_ref> to_;
  std::uint64_t total_;
  std::vector<std::uint64_t> seq_;
  std::thread::id last_{};
};

void run_ordering(bool handoff) {
  const std::uint64_t per_pair = quay::test::scaled(20'000);
  quay::io_port port(quay::io_port_options{.workers = 4});
  shared_state s;
  {
    quay::actor_system_options o;
    o.batch = 4;
    o.local_handoff = handoff;
    quay::actor_system sys(port, o);
    std::vector<actor_ref> rs;
    for (std::uint32_t i = 0; i < receivers; ++i) {
      rs.push_back(sys.spawn<receiver>(&s));
    }
    for (std::uint32_t i = 0; i < senders; ++i) {
      sys.send(sys.spawn<sender>(&s, i, rs, per_pair), go{});
    }
    std::vector<std::thread> threads;
    for (std::uint32_t t = 0; t < thread_senders; ++t) {
      threads.emplace_back([&, t] {
        std::vector<std::uint64_t> seq(receivers, 0);
        for (std::uint64_t i = 0; i < per_pair; ++i) {
          for (std::uint32_t r = 0; r < receivers; ++r) {
            sys.send(rs[r], numbered{senders + t, seq[r]++});
          }
        }
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    const std::uint64_t expected = per_pair * receivers * (senders + thread_senders);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
    while (s.received.load() < expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(s.received.load(), expected);
    port.stop();
  }
  EXPECT_EQ(s.violations.load(), 0u);
  // The test only means something if actors really moved between workers.
  EXPECT_GT(s.hops.load(), std::uint64_t{senders + receivers});
}

TEST(ordering, messages_from_one_sender_arrive_in_order_while_both_sides_move_between_workers) {
  run_ordering(false);
}

TEST(ordering, messages_from_one_sender_arrive_in_order_with_local_hand_off) {
  run_ordering(true);
}

}  // namespace
