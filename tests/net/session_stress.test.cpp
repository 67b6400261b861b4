// Stress (run under TSan): many threads send to, close and abort sessions concurrently, with
// handles going stale underneath them. Each session's owner must see exactly one close, and the
// network must end with no session open and every queued frame released.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "net_test_support.hpp"

namespace quay::net::test {
namespace {

// Counts events per handle; flags a second close or a frame after the close.
class counting_handler final : public session_handler {
 public:
  void on_accepted(session_handle h, const endpoint&) override {
    std::lock_guard lk(mu_);
    open_.insert(key(h));
  }
  void on_frame(session_handle h, const frame&, const envelope_view&) override {
    std::lock_guard lk(mu_);
    if (closed_.count(key(h)) != 0) ++violations_;
    ++frames_;
  }
  void on_closed(session_handle h, std::error_code) override {
    std::lock_guard lk(mu_);
    if (!closed_.insert(key(h)).second) ++violations_;
    cv_.notify_all();
  }
  bool wait_closed(std::size_t n) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, deadline_default, [&] { return closed_.size() >= n; });
  }
  int violations() {
    std::lock_guard lk(mu_);
    return violations_;
  }
  std::size_t frames() {
    std::lock_guard lk(mu_);
    return frames_;
  }

 private:
  static std::uint64_t key(session_handle h) { return (std::uint64_t{h.slot} << 32) | h.generation; }
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::uint64_t> open_, closed_;
  std::size_t frames_ = 0;
  int violations_ = 0;
};

using session_stress = net_fixture;

TEST_F(session_stress, concurrent_sends_and_closes_from_many_threads_end_each_session_once) {
  const auto at = listen_echo();
  counting_handler client;
  constexpr int sessions = 32;
  std::vector<session_handle> handles;
  for (int i = 0; i < sessions; ++i) {
    handles.push_back(net_.connect(at, client));
    ASSERT_TRUE(handles.back());
  }
  const auto shared = text_frame(100, 1, std::string(200, 's'));
  std::atomic<bool> go{false};
  std::atomic<std::uint64_t> sent{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 5000; ++i) {
        const auto h = handles[rng() % handles.size()];
        if (!net_.send(h, shared)) sent.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] {
    std::mt19937 rng(99);
    while (!go.load()) std::this_thread::yield();
    // Close half the sessions while the senders run: gracefully, hard, and twice.
    for (int i = 0; i < sessions / 2; ++i) {
      const auto h = handles[static_cast<std::size_t>(i) * 2];
      if (rng() % 2 == 0) {
        net_.close(h);
      } else {
        net_.abort(h, errc::closed_by_owner);
      }
      net_.close(h);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  go.store(true);
  for (auto& t : threads) t.join();
  EXPECT_GT(sent.load(), 0u);
  net_.shutdown();
  // Every connector session and every server session ends exactly once.
  ASSERT_TRUE(client.wait_closed(sessions));
  EXPECT_TRUE(poll_until([&] { return net_.stats().open_sessions == 0; }));
  // Server side: every session the listener took in before the shutdown (some connections may
  // still have been in the backlog when it closed) ends with exactly one session_closed to its
  // owner. A session the shutdown closed while its owner was being created never opened: like a
  // connector that fails, its owner hears only session_closed (under load this can be every one
  // of them), so closes are counted against the listener's accept count, not the owners' accepts.
  const auto key = [](session_handle h) { return (std::uint64_t{h.slot} << 32) | h.generation; };
  const std::size_t taken_in = net_.stats().accepted;
  EXPECT_GT(taken_in, 0u);
  EXPECT_TRUE(eventually(rec_.mu, rec_.cv, [&] { return rec_.closed_order.size() >= taken_in; }))
      << "server sessions closed";
  {
    std::lock_guard lk(rec_.mu);
    std::set<std::uint64_t> closed;
    for (const auto& h : rec_.closed_order) closed.insert(key(h));
    EXPECT_EQ(rec_.closed_order.size(), taken_in) << "one close per server session";
    EXPECT_EQ(closed.size(), rec_.closed_order.size()) << "a server session closed twice";
    for (const auto& h : rec_.accepted) {
      EXPECT_EQ(closed.count(key(h)), 1u) << "accepted but not closed";
    }
  }
  EXPECT_EQ(client.violations(), 0);
  EXPECT_EQ(shared.use_count(), 1u) << "every queued reference was released";
  for (const auto& h : handles) EXPECT_EQ(net_.send(h, shared), errc::session_gone);
}

TEST_F(session_stress, slots_are_reused_with_new_generations_and_stale_handles_fail) {
  const auto at = listen_echo();
  counting_handler client;
  std::vector<session_handle> old;
  for (int round = 0; round < 20; ++round) {
    std::vector<session_handle> hs;
    for (int i = 0; i < 10; ++i) hs.push_back(net_.connect(at, client));
    for (auto h : hs) ASSERT_FALSE(net_.send(h, text_frame(100, 1, "x")));
    for (auto h : hs) net_.close(h);
    old.insert(old.end(), hs.begin(), hs.end());
  }
  ASSERT_TRUE(client.wait_closed(old.size()));
  EXPECT_EQ(client.violations(), 0);
  std::set<std::uint64_t> unique;
  for (auto h : old) unique.insert((std::uint64_t{h.slot} << 32) | h.generation);
  EXPECT_EQ(unique.size(), old.size()) << "no handle was handed out twice";
  for (auto h : old) EXPECT_EQ(net_.send(h, text_frame(100, 1, "late")), errc::session_gone);
}

}  // namespace
}  // namespace quay::net::test
