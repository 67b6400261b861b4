#pragma once

// A bot_env for unit tests: a hand-driven clock, timers fired by advance(), and a connection
// that records what the bot sends. Single-threaded, like the owner of a bot.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "quay/bots/bot.hpp"

namespace quay::bots::testing {

class fake_env final : public bot_env {
 public:
  bot* b = nullptr;
  port_time clock{};
  std::map<std::uint64_t, port_time> timers;  // token -> deadline
  int connects = 0;
  int disconnects = 0;
  int expected_closes = 0;
  std::vector<std::string> sent;
  std::vector<std::string> raw;
  std::vector<std::string> logs;
  std::vector<std::pair<std::string, std::string>> signals;
  std::optional<bot_result> result;
  int finished_calls = 0;

  port_time now() const noexcept override { return clock; }
  void start_timer(millis delay, std::uint64_t token) override { timers[token] = clock + delay; }
  void cancel_timer(std::uint64_t token) override { timers.erase(token); }
  void connect() override { ++connects; }
  std::error_code send(std::span<const std::uint8_t> envelope) override {
    sent.emplace_back(envelope.begin(), envelope.end());
    return {};
  }
  std::error_code send_raw(std::span<const std::uint8_t> bytes) override {
    raw.emplace_back(bytes.begin(), bytes.end());
    return {};
  }
  void disconnect() override { ++disconnects; }
  void expect_close() override { ++expected_closes; }
  void log(std::string_view line) override { logs.emplace_back(line); }
  void signal(std::string_view key, std::string_view value) override {
    signals.emplace_back(key, value);
  }
  void finished(const bot_result& r) override {
    result = r;
    ++finished_calls;
  }

  /// Moves the clock by `d`, firing due timers in deadline order (ties by token).
  void advance(millis d) {
    const port_time until = clock + d;
    for (;;) {
      auto due = timers.end();
      for (auto it = timers.begin(); it != timers.end(); ++it) {
        if (it->second <= until && (due == timers.end() || it->second < due->second)) due = it;
      }
      if (due == timers.end()) break;
      clock = due->second;
      const auto token = due->first;
      timers.erase(due);
      b->on_timer(token);
    }
    clock = until;
  }
};

}  // namespace quay::bots::testing
