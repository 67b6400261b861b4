#pragma once

// One bot as an actor: it owns its session (connected with the network's connector) and its
// script host, and serialises everything that reaches the bot — session events, timers,
// signals, stop and fail — as messages, so the script is only ever resumed by one worker at a
// time while thousands of bots share the port's few workers.

#include <map>

#include "quay/actors/actor.hpp"
#include "quay/bots/bot.hpp"
#include "quay/net/network.hpp"
#include "raw_connection.hpp"
#include "run_context.hpp"

namespace quay::bots::detail {

class bot_actor final : public actor {
 public:
  bot_actor(run_context& run, actor_ref director, std::size_t index);

  static void define(handlers<bot_actor>& h);

 private:
  // The bot's view of the world, answered by this actor (its members run inside the actor's
  // handlers, since only the bot calls them).
  class env final : public bot_env {
   public:
    explicit env(bot_actor& a) : a_(a) {}
    port_time now() const noexcept override;
    std::chrono::microseconds precise_now() const noexcept override;
    void start_timer(millis delay, std::uint64_t token) override;
    void cancel_timer(std::uint64_t token) override;
    void connect() override;
    std::error_code send(std::span<const std::uint8_t> envelope) override;
    std::error_code send_raw(std::span<const std::uint8_t> bytes) override;
    std::uint32_t raw_open(bool read) override;
    std::error_code raw_send(std::uint32_t id, std::span<const std::uint8_t> bytes) override;
    std::size_t raw_pending(std::uint32_t id) const override;
    void raw_end(std::uint32_t id, bool reset) override;
    void disconnect() override;
    void drop() override;
    void expect_close() override;
    void log(std::string_view line) override;
    void signal(std::string_view key, std::string_view value) override;
    void finished(const bot_result& result) override;

   private:
    bot_actor& a_;
  };

  void on_start() override;
  void on_stop(exit_reason reason) override;

  void on_accepted(const net::session_accepted& m);
  void on_frame(const net::session_frame& m);
  void on_closed(const net::session_closed& m);
  void on_timer(const bot_timer_msg& m);
  void on_signal(const bot_signal_msg& m);
  void on_stop_msg(const bot_stop_msg& m);
  void on_fail_msg(const bot_fail_msg& m);
  void on_raw_closed(const raw_closed_msg& m);

  run_context& run_;
  actor_ref director_;
  std::size_t index_;
  env env_;
  bot bot_;
  net::session_handle session_{};
  net::session link_;  // session_ as a value to send and close through
  bool session_open_ = false;
  bool close_requested_ = false;
  timer_handle timer_{};
  std::uint64_t timer_token_ = 0;
  bool ended_ = false;
  raw_connection* raw_ = nullptr;  // the script's unframed connection, once it used send_raw
  std::map<std::uint32_t, raw_connection*> raws_;  // those opened with raw_open, by id
  std::uint32_t next_raw_id_ = 1;
};

}  // namespace quay::bots::detail
