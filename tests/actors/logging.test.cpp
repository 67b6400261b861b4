// The actors module looks its logger up once: the registry look-up (quay::log::get) takes a
// process-wide mutex, so a hot path that logs (an unhandled message, an overload warning) must
// not call it per message.
//
// This file stands in for quay::log::get (the linker takes this definition instead of the
// runtime library's log.cpp), counting the look-ups and recording what is logged.

#include <gtest/gtest.h>

#include <spdlog/sinks/ringbuffer_sink.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"
#include "quay/runtime/log.hpp"

namespace {
std::atomic<int> lookups{0};

std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> the_sink() {
  static auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096);
  return sink;
}
}  // namespace

namespace quay::log {
std::shared_ptr<spdlog::logger> get(std::string_view module) {
  lookups.fetch_add(1, std::memory_order_relaxed);
  static auto logger = [] {
    auto l = std::make_shared<spdlog::logger>("test", the_sink());
    l->set_level(spdlog::level::debug);
    return l;
  }();
  (void)module;
  return logger;
}
}  // namespace quay::log

namespace {

struct unknown {
  int v;
};
struct known {};

class picky final : public quay::actor {
 public:
  static void define(quay::handlers<picky>& h) { h.on<&picky::on_known>(); }

 private:
  void on_known(known&) {}
};

std::size_t lines_containing(std::string_view text) {
  std::size_t n = 0;
  for (const std::string& line : the_sink()->last_formatted()) {
    n += line.find(text) != std::string::npos ? 1 : 0;
  }
  return n;
}

TEST(logging, unhandled_messages_are_logged_without_a_logger_lookup_per_message) {
  quay::testing::actor_fixture f;
  const quay::actor_ref a = f.spawn<picky>();
  f.run();
  const int before = lookups.load();
  for (int i = 0; i < 500; ++i) {
    f.send(a, unknown{i});
  }
  f.run();
  EXPECT_EQ(f.sys.unhandled(), 500u);
  EXPECT_EQ(lines_containing("has no handler"), 500u);  // still logged, every time
  EXPECT_LE(lookups.load() - before, 1);                // but looked up once at most
}

TEST(logging, overload_warnings_do_not_look_the_logger_up_per_turn) {
  quay::actor_system_options o = quay::testing::deterministic_options();
  o.mailbox_warn_threshold = 1;
  quay::testing::actor_fixture f(o);
  const quay::actor_ref a = f.spawn<picky>();
  f.run();
  const int before = lookups.load();
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 4; ++i) {
      f.send(a, known{});
    }
    f.run();  // drains: the next round warns again from the base threshold
  }
  EXPECT_GE(lines_containing("mailbox holds"), 50u);
  EXPECT_LE(lookups.load() - before, 1);
}

}  // namespace
