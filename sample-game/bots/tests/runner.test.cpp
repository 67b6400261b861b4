// The runner end to end over 127.0.0.1: bots as actors on a real port, connected with the
// network's connector to an echo server, with a tiny echo protocol.

#include "quay/bots/runner.hpp"

#include <gtest/gtest.h>
#include <lua.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "quay/net/envelope.hpp"
#include "quay/net/network.hpp"
#include "quay/runtime/io_port.hpp"

namespace quay::bots {
namespace {

using namespace std::chrono_literals;
constexpr std::uint16_t text_type = net::msg_type::first_user;

// echo(text) sends an envelope whose payload is the text; each frame back becomes "echo".
class echo_protocol final : public bot_protocol {
 public:
  explicit echo_protocol(run_stats& s) : stats_(s) {}
  void install(lua_State* L) override {
    lua_register(L, "echo", [](lua_State* T) -> int {
      std::size_t n = 0;
      const char* s = luaL_checklstring(T, 1, &n);
      const auto f = net::encode_envelope(text_type, 0, std::as_bytes(std::span(s, n)));
      const auto p = f.payload();
      const auto ec = bot::from(T).env().send(
          {reinterpret_cast<const std::uint8_t*>(p.data()), p.size()});
      lua_pushboolean(T, ec ? 0 : 1);
      return 1;
    });
  }
  void on_message(bot& b, const net::frame& m) override {
    net::envelope_view env;
    if (net::decode_envelope(m.payload(), env)) {
      stats_.count_error("bad envelope");
      return;
    }
    event ev;
    ev.name = "echo";
    ev.text.assign(reinterpret_cast<const char*>(env.payload.data()), env.payload.size());
    ev.message = m;
    ev.at = b.env().now();
    b.deliver(std::move(ev));
  }
  void on_closed(bot&) override {}

 private:
  run_stats& stats_;
};

class echo_handler final : public net::session_handler {
 public:
  net::network* net = nullptr;
  void on_accepted(net::session_handle, const endpoint&) override {}
  void on_frame(net::session_handle s, const net::frame& data, const net::envelope_view&) override {
    (void)net->send(s, data);
  }
  void on_closed(net::session_handle, std::error_code) override {}
};

struct echo_server {
  echo_server() : port(io_port_options{.workers = 1, .blocking_threads = 1, .name = "echo"}),
                  network(port, nullptr) {
    handler.net = &network;
    net::listen_options lo;
    const auto ec = network.listen(lo, handler, &bound);
    EXPECT_FALSE(ec) << ec.message();
  }
  ~echo_server() {
    network.shutdown();
    port.stop();
  }
  io_port port;
  net::network network;
  echo_handler handler;
  endpoint bound;
};

run_options options_for(const echo_server& server, std::size_t bots) {
  run_options o;
  o.server = server.bound;
  o.bots = bots;
  o.workers = 2;
  o.deadline = 20s;
  o.protocol = [](run_stats& s) { return std::make_unique<echo_protocol>(s); };
  return o;
}

TEST(Runner, BotsConnectExchangeMessagesAndPassTogether) {
  echo_server server;
  script s("echo.lua",
           "expect(connect(2000), 'connect')\n"
           "for i = 1, 5 do\n"
           "  echo(bot.name .. ':' .. i)\n"
           "  local ev = expect_event('echo', 2000)\n"
           "  expect(ev.text == bot.name .. ':' .. i, 'echo %s', ev.text)\n"
           "end\n");
  const auto report = run(s, options_for(server, 8));
  EXPECT_TRUE(report.all_passed()) << report.to_text();
  EXPECT_EQ(report.ok, 8u);
  EXPECT_EQ(report.connects, 8u);
  EXPECT_EQ(report.msgs_out, 40u);
  EXPECT_EQ(report.msgs_in, 40u);
}

TEST(Runner, OneFailingBotFailsTheRunWithItsLineAndLastEvents) {
  echo_server server;
  script s("fail.lua",
           "connect(2000)\n"
           "echo('x' .. bot.index)\n"
           "local ev = expect_event('echo', 2000)\n"
           "expect(bot.index ~= 2, 'bot two always fails, got %s', ev.text)\n");
  const auto report = run(s, options_for(server, 3));
  EXPECT_FALSE(report.all_passed());
  EXPECT_EQ(report.ok, 2u);
  EXPECT_EQ(report.failed, 1u);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].bot, "bot2");
  EXPECT_EQ(report.failures[0].message, "fail.lua:4: expect failed: bot two always fails, got x2");
  const auto text = report.to_text();
  EXPECT_NE(text.find("text=\"x2\""), std::string::npos) << text;
}

TEST(Runner, SignalsReachTheOtherBots) {
  echo_server server;
  script s("signal.lua",
           "if bot.index == 1 then\n"
           "  expect(wait_signal('ready', 5000) == 'from2', 'signal')\n"
           "else\n"
           "  sleep(50)\n"
           "  signal('ready', 'from2')\n"
           "end\n");
  auto o = options_for(server, 2);
  const auto report = run(s, o);
  EXPECT_TRUE(report.all_passed()) << report.to_text();
}

TEST(Runner, TheDeadlineFailsABotStuckWaitingAndNamesItsLine) {
  echo_server server;
  script s("stuck.lua", "connect(2000)\n\nwait_for('never', 60000)\n");
  auto o = options_for(server, 1);
  o.deadline = 300ms;
  const auto report = run(s, o);
  EXPECT_FALSE(report.all_passed());
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].message.rfind("stuck.lua:3: the run's deadline", 0), 0u)
      << report.failures[0].message;
}

TEST(Runner, ALoadRunStopsItsBotsWhenTheDurationEnds) {
  echo_server server;
  script s("load.lua",
           "connect(5000)\n"
           "while true do echo('tick') sleep(20) end\n");
  auto o = options_for(server, 40);
  o.deadline = 0ms;
  o.duration = 600ms;
  o.ramp_per_s = 200;
  std::atomic<int> progress_calls{0};
  o.progress_every = 100ms;
  o.on_progress = [&](const run_report&) { progress_calls.fetch_add(1); };
  const auto report = run(s, o);
  EXPECT_TRUE(report.no_failures()) << report.to_text();
  EXPECT_EQ(report.stopped, 40u);
  EXPECT_EQ(report.connects, 40u);
  EXPECT_GT(report.msgs_in, 100u);
  EXPECT_GE(progress_calls.load(), 3);
  EXPECT_LT(report.elapsed_s, 5.0);
}

TEST(Runner, AWarmUpRestartsTheFiguresSoTheReportCoversOnlyTheWindowAfterIt) {
  echo_server server;
  // 200 messages at once, then one every 50 ms: the burst falls in the warm-up.
  script s("warm.lua",
           "connect(5000)\n"
           "for i = 1, 200 do echo('burst') end\n"
           "while true do echo('tick') sleep(50) end\n");
  auto o = options_for(server, 2);
  o.deadline = 0ms;
  o.warmup = 400ms;
  o.duration = 1000ms;
  const auto report = run(s, o);
  EXPECT_TRUE(report.no_failures()) << report.to_text();
  EXPECT_NEAR(report.warmup_s, 0.4, 0.2);
  EXPECT_GT(report.elapsed_s, 0.3);
  EXPECT_LT(report.elapsed_s, 0.9);
  // About 2 bots x 12 ticks in the window; the 400 burst messages must not be in it.
  EXPECT_GT(report.msgs_out, 0u);
  EXPECT_LT(report.msgs_out, 100u) << report.to_text();
  EXPECT_NE(report.to_json().find("\"warmup_s\":0.4"), std::string::npos) << report.to_json();
}

TEST(Runner, AConnectionNobodyAcceptsIsCountedAsAConnectFailure) {
  // Bind a port, then free it, so nothing listens there.
  endpoint dead;
  {
    echo_server closed;
    dead = closed.bound;
  }
  script s("refused.lua", "local ok, why = connect(2000)\nexpect(not ok, 'must not connect')\n");
  run_options o;
  o.server = dead;
  o.workers = 1;
  o.deadline = 10s;
  const auto report = run(s, o);
  EXPECT_TRUE(report.all_passed()) << report.to_text();
  EXPECT_EQ(report.connect_failures, 1u);
  EXPECT_EQ(report.errors.size(), 1u);
}

TEST(Runner, RawBytesGoOnASecondConnectionThatTheServerClosesWhenTheyAreNoFrame) {
  echo_server server;
  script s("raw.lua",
           "expect(connect(2000))\n"
           "expect(send_raw('\\0\\0\\0\\0'))\n"
           "local ev = expect_event('raw_closed', 5000)\n"
           "expect(ev.reason ~= nil)\n"
           "echo('still here')\n"
           "expect(expect_event('echo', 2000).text == 'still here')\n");
  const auto report = run(s, options_for(server, 1));
  EXPECT_TRUE(report.all_passed()) << report.to_text();
}

TEST(Runner, AnInterruptEndsTheRunEarly) {
  echo_server server;
  script s("forever.lua", "while true do sleep(10) end\n");
  auto o = options_for(server, 5);
  o.deadline = 0ms;
  std::atomic<bool> stop{false};
  o.interrupt = &stop;
  std::thread t([&] {
    std::this_thread::sleep_for(200ms);
    stop.store(true);
  });
  const auto report = run(s, o);
  t.join();
  EXPECT_TRUE(report.interrupted);
  EXPECT_EQ(report.stopped, 5u);
  EXPECT_FALSE(report.all_passed());
}

}  // namespace
}  // namespace quay::bots
