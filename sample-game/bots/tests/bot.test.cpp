#include "quay/bots/bot.hpp"

#include <gtest/gtest.h>
#include <lua.hpp>

#include <memory>
#include <string>

#include "fake_env.hpp"
#include "quay/runtime/error.hpp"

namespace quay::bots {
namespace {

using testing::fake_env;
using namespace std::chrono_literals;

// A protocol for tests: a message "name|text" becomes the event `name` with field `text`;
// the script function `send(text)` sends text as a message.
class text_protocol final : public bot_protocol {
 public:
  void install(lua_State* L) override {
    lua_register(L, "send", [](lua_State* T) -> int {
      std::size_t n = 0;
      const char* s = luaL_checklstring(T, 1, &n);
      (void)bot::from(T).env().send({reinterpret_cast<const std::uint8_t*>(s), n});
      return 0;
    });
  }
  void on_message(bot& b, const net::frame& m) override {
    const auto bytes = m.payload();
    std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    auto bar = text.find('|');
    event ev;
    ev.name = intern(text.substr(0, bar));
    ev.text = bar == std::string::npos ? "" : text.substr(bar + 1);
    ev.message = m;
    ev.at = b.env().now();
    b.deliver(std::move(ev));
  }
  void on_closed(bot&) override {}

 private:
  static std::string_view intern(const std::string& n) {
    for (std::string_view known : {"chat", "pong", "enter", "leave", "noise"}) {
      if (n == known) return known;
    }
    return "unknown";
  }
};

struct harness {
  explicit harness(std::string source, bot_options opts = {})
      : src("test.lua", std::move(source)) {
    b = std::make_unique<bot>(src, std::move(opts), env, std::make_unique<text_protocol>());
    env.b = b.get();
  }
  void message(const std::string& text) {
    b->on_message(net::frame::copy_of(std::as_bytes(std::span(text.data(), text.size()))));
  }
  script src;
  fake_env env;
  std::unique_ptr<bot> b;
};

TEST(Bot, AScriptThatEndsWithoutWaitingFinishesOk) {
  harness h("local x = 1 + 1\nexpect(x == 2, 'arithmetic')\n");
  h.b->start();
  ASSERT_TRUE(h.env.result.has_value());
  EXPECT_TRUE(h.env.result->ok);
  EXPECT_TRUE(h.b->done());
  EXPECT_EQ(h.env.finished_calls, 1);
}

TEST(Bot, SleepSuspendsTheScriptUntilItsTimerFires) {
  harness h("log('before')\nsleep(100)\nlog('after', now())\n");
  h.b->start();
  EXPECT_FALSE(h.b->done());
  EXPECT_EQ(h.env.logs.size(), 1u);
  h.env.advance(99ms);
  EXPECT_FALSE(h.b->done());
  h.env.advance(1ms);
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok);
  ASSERT_EQ(h.env.logs.size(), 2u);
  EXPECT_EQ(h.env.logs[1], "after 100");
}

TEST(Bot, WaitForReturnsTheEventThatArrivesWhileItWaits) {
  harness h("local ev = wait_for('chat', 1000)\nexpect(ev.text == 'hello', ev.text)\n");
  h.b->start();
  h.message("noise|x");
  EXPECT_FALSE(h.b->done());
  h.message("chat|hello");
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
  EXPECT_TRUE(h.env.timers.empty()) << "a satisfied wait cancels its timer";
}

TEST(Bot, WaitForReturnsAnEventThatArrivedBeforeTheCall) {
  harness h("sleep(10)\nlocal ev = wait_for({'pong', 'chat'}, 0)\nexpect(ev and ev.text == 'early')\n");
  h.b->start();
  h.message("chat|early");
  h.env.advance(10ms);
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(Bot, WaitForTimesOutWithNilAndTheWordTimeout) {
  harness h("local ev, why = wait_for('chat', 50)\nexpect(ev == nil and why == 'timeout')\n"
            "log(now())\n");
  h.b->start();
  h.env.advance(49ms);
  EXPECT_FALSE(h.b->done());
  h.env.advance(1ms);
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
  EXPECT_EQ(h.env.logs.back(), "50");
}

TEST(Bot, ATableFilterMatchesOnlyEventsWhoseFieldsAreEqual) {
  harness h("local ev = wait_for('chat', 1000, {text = 'mine'})\nexpect(ev.text == 'mine')\n"
            "local other = wait_for('chat', 0)\nexpect(other and other.text == 'theirs')\n");
  h.b->start();
  h.message("chat|theirs");
  EXPECT_FALSE(h.b->done());
  h.message("chat|mine");
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(Bot, AFunctionFilterSelectsEvents) {
  harness h("local ev = wait_for(nil, 1000, function(e) return e.text:find('^x') ~= nil end)\n"
            "expect(ev.event == 'enter' and ev.text == 'xy')\n");
  h.b->start();
  h.message("chat|ab");
  h.message("enter|xy");
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(Bot, AFilterThatRaisesFailsTheBot) {
  harness h("wait_for('chat', 1000, function(e) error('boom') end)\n");
  h.b->start();
  h.message("chat|a");
  ASSERT_TRUE(h.b->done());
  EXPECT_FALSE(h.env.result->ok);
  EXPECT_NE(h.env.result->message.find("boom"), std::string::npos) << h.env.result->message;
}

TEST(Bot, WaitingInsideAFilterIsRefused) {
  harness h("sleep(1)\nwait_for('chat', 0, function(e) sleep(5) return true end)\n");
  h.b->start();
  h.message("chat|a");
  h.env.advance(1ms);
  ASSERT_TRUE(h.b->done());
  EXPECT_FALSE(h.env.result->ok);
  EXPECT_NE(h.env.result->message.find("only be called from the bot's script"), std::string::npos)
      << h.env.result->message;
}

TEST(Bot, AFailedExpectReportsTheLineTheBotAndTheLastEvents) {
  bot_options o;
  o.name = "alice";
  harness h("local ev = wait_for('chat', 1000)\n\nexpect(ev.text == 'yes', 'got %s', ev.text)\n",
            o);
  h.b->start();
  h.message("noise|1");
  h.message("chat|no");
  ASSERT_TRUE(h.b->done());
  const auto& r = *h.env.result;
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bot, "alice");
  EXPECT_EQ(r.message, "test.lua:3: expect failed: got no");
  ASSERT_EQ(r.last_events.size(), 2u);
  EXPECT_NE(r.last_events[0].find("event=\"noise\""), std::string::npos) << r.last_events[0];
  EXPECT_NE(r.last_events[1].find("text=\"no\""), std::string::npos) << r.last_events[1];
  EXPECT_NE(r.traceback.find("test.lua:3"), std::string::npos) << r.traceback;
}

TEST(Bot, ARuntimeErrorReportsItsLineAndATraceback) {
  harness h("local function f()\n  local t = nil\n  return t.x\nend\nsleep(1)\nf()\n");
  h.b->start();
  h.env.advance(1ms);
  ASSERT_TRUE(h.b->done());
  const auto& r = *h.env.result;
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message.rfind("test.lua:3:", 0), 0u) << r.message;
  EXPECT_NE(r.traceback.find("test.lua:6"), std::string::npos) << r.traceback;
}

TEST(Bot, ASyntaxErrorFailsTheBotAtStart) {
  harness h("local = 3\n");
  h.b->start();
  ASSERT_TRUE(h.b->done());
  EXPECT_FALSE(h.env.result->ok);
  EXPECT_NE(h.env.result->message.find("test.lua:1:"), std::string::npos) << h.env.result->message;
}

TEST(Bot, FailFromTheOwnerNamesTheLineTheScriptWaitsAt) {
  harness h("sleep(1)\n\nexpect_event('chat', 10000)\n");
  h.b->start();
  h.env.advance(1ms);
  h.b->fail("scenario timed out");
  ASSERT_TRUE(h.b->done());
  const auto& r = *h.env.result;
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message.rfind("test.lua:3: scenario timed out", 0), 0u) << r.message;
  EXPECT_NE(r.message.find("waiting for chat"), std::string::npos) << r.message;
  EXPECT_TRUE(h.env.timers.empty());
}

TEST(Bot, ExpectEventFailsAtTheScriptLineWhenItTimesOut) {
  harness h("\nexpect_event('chat', 20)\n");
  h.b->start();
  h.env.advance(20ms);
  ASSERT_TRUE(h.b->done());
  EXPECT_EQ(h.env.result->message, "test.lua:2: failed: timed out waiting for chat");
}

TEST(Bot, ALoopThatNeverWaitsIsStoppedByTheInstructionLimit) {
  bot_options o;
  o.instruction_limit = 200'000;
  harness h("local n = 0\nwhile true do n = n + 1 end\n", o);
  h.b->start();
  ASSERT_TRUE(h.b->done());
  EXPECT_FALSE(h.env.result->ok);
  EXPECT_NE(h.env.result->message.find("without waiting"), std::string::npos)
      << h.env.result->message;
}

TEST(Bot, TheInstructionLimitCountsEachResumeSeparately) {
  bot_options o;
  o.instruction_limit = 200'000;
  // Each pass runs well under the limit; together they run far over it.
  harness h("for i = 1, 20 do\n  for j = 1, 20000 do local _ = j * 2 end\n  sleep(1)\nend\n", o);
  h.b->start();
  for (int i = 0; i < 20 && !h.b->done(); ++i) h.env.advance(1ms);
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(Bot, AScriptOverItsMemoryLimitFailsInsteadOfGrowing) {
  bot_options o;
  o.memory_limit = 256 * 1024;
  harness h("local t = {}\nfor i = 1, 1e7 do t[i] = tostring(i) .. 'padding' end\n", o);
  h.b->start();
  ASSERT_TRUE(h.b->done());
  EXPECT_FALSE(h.env.result->ok);
  EXPECT_NE(h.env.result->message.find("memory"), std::string::npos) << h.env.result->message;
}

TEST(Bot, ALateTimerFromAnEarlierWaitIsIgnored) {
  harness h("wait_for('chat', 100)\nsleep(500)\nlog('woke', now())\n");
  h.b->start();
  ASSERT_EQ(h.env.timers.size(), 1u);
  const auto first_token = h.env.timers.begin()->first;
  h.message("chat|x");
  // The first wait is over; its timer firing now must not end the sleep.
  h.b->on_timer(first_token);
  EXPECT_FALSE(h.b->done());
  h.env.advance(500ms);
  ASSERT_TRUE(h.b->done());
  EXPECT_EQ(h.env.logs.back(), "woke 500");
}

TEST(Bot, StopEndsAWaitingScriptWithoutFailingIt) {
  harness h("while true do sleep(100) end\n");
  h.b->start();
  h.env.advance(1s);
  EXPECT_FALSE(h.b->done());
  h.b->stop();
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok);
  EXPECT_TRUE(h.env.result->stopped);
  EXPECT_TRUE(h.env.timers.empty());
  h.b->stop();
  EXPECT_EQ(h.env.finished_calls, 1);
}

TEST(Bot, ConnectWaitsForTheConnectionAndReportsARefusedOne) {
  harness h("local ok, why = connect(1000)\nexpect(not ok and why ~= nil, 'refused')\n"
            "ok = connect(1000)\nexpect(ok and connected())\nsend('hi')\n"
            "expect(disconnect(1000))\nexpect(not connected())\n");
  h.b->start();
  EXPECT_EQ(h.env.connects, 1);
  h.b->on_closed(make_error_code(quay::errc::connection_refused));
  EXPECT_EQ(h.env.connects, 2);
  h.b->on_connected();
  EXPECT_EQ(h.env.sent, std::vector<std::string>{"hi"});
  EXPECT_EQ(h.env.disconnects, 1);
  h.b->on_closed({});
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(Bot, AStaleDisconnectDoesNotAnswerANewConnect) {
  harness h("sleep(5)\nlocal ok = connect(1000)\nexpect(ok, 'connected')\n");
  h.b->start();
  h.b->on_closed(make_error_code(quay::errc::connection_reset));  // from some earlier connection
  h.env.advance(5ms);
  EXPECT_FALSE(h.b->done());
  h.b->on_connected();
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(Bot, ABareCoroutineYieldFailsTheBot) {
  harness h("coroutine.yield()\n");
  h.b->start();
  ASSERT_TRUE(h.b->done());
  EXPECT_FALSE(h.env.result->ok);
  EXPECT_NE(h.env.result->message.find("outside wait_for/sleep"), std::string::npos);
}

TEST(Bot, WaitsInsideANestedCoroutineAreRefused) {
  harness h("local c = coroutine.wrap(function() sleep(1) end)\nc()\n");
  h.b->start();
  ASSERT_TRUE(h.b->done());
  EXPECT_FALSE(h.env.result->ok);
  EXPECT_NE(h.env.result->message.find("nested coroutine"), std::string::npos);
}

TEST(Bot, SignalsGoToTheEnvAndWaitSignalReturnsTheValue) {
  harness h("signal('ready', 42)\nlocal v = wait_signal('go', 1000)\nexpect(v == 'now', v)\n");
  h.b->start();
  ASSERT_EQ(h.env.signals.size(), 1u);
  EXPECT_EQ(h.env.signals[0], (std::pair<std::string, std::string>{"ready", "42"}));
  event ev;
  ev.name = "signal";
  ev.fill = [](lua_State* L, const event& e) {
    lua_pushstring(L, e.text.c_str());
    lua_setfield(L, -2, "key");
    lua_pushstring(L, e.text2.c_str());
    lua_setfield(L, -2, "value");
  };
  ev.text = "other";
  ev.text2 = "x";
  h.b->deliver(ev);
  EXPECT_FALSE(h.b->done());
  ev.text = "go";
  ev.text2 = "now";
  h.b->deliver(ev);
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(Bot, TheInboxKeepsAtMostItsCapacityAndCountsDrops) {
  bot_options o;
  o.inbox_capacity = 4;
  harness h("sleep(10)\nlocal first = wait_for('chat', 0)\nexpect(first.text == '6', first.text)\n",
            o);
  h.b->start();
  for (int i = 0; i < 10; ++i) h.message("chat|" + std::to_string(i));
  EXPECT_EQ(h.b->events_dropped(), 6u);
  h.env.advance(10ms);
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(Bot, IgnoredEventsAreNotKeptAndDrainEmptiesTheInbox) {
  harness h("ignore('noise')\nsleep(10)\nexpect(wait_for('noise', 0) == nil)\n"
            "expect(drain('chat') == 2)\nexpect(wait_for('chat', 0) == nil)\n"
            "expect(wait_for('enter', 0) ~= nil)\n");
  h.b->start();
  h.message("noise|a");
  h.message("chat|a");
  h.message("chat|b");
  h.message("enter|c");
  h.env.advance(10ms);
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(Bot, WaitUntilPollsAConditionOnEachEventWithoutTakingTheEvents) {
  harness h("local n = 0\n"
            "local ok = wait_until(function() n = n + 1 return n >= 3 end, 1000)\n"
            "expect(ok, 'condition')\n"
            "expect(wait_for('chat', 0) ~= nil and wait_for('chat', 0) ~= nil, 'events kept')\n"
            "expect(wait_until(function() return false end, 50) == nil, 'times out')\n");
  h.b->start();
  h.message("chat|1");
  EXPECT_FALSE(h.b->done());
  h.message("chat|2");
  EXPECT_FALSE(h.b->done());
  h.env.advance(50ms);
  ASSERT_TRUE(h.b->done());
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(Bot, TheBotTableCarriesNameIndexCountAndArgs) {
  bot_options o;
  o.name = "carol";
  o.index = 3;
  o.count = 5;
  o.args["zone"] = "meadow";
  harness h("log(bot.name, bot.index, bot.count, bot.args.zone)\n", o);
  h.b->start();
  ASSERT_EQ(h.env.logs.size(), 1u);
  EXPECT_EQ(h.env.logs[0], "carol 3 5 meadow");
}

TEST(Bot, TheSameSeedAndIndexGiveTheSameRandomNumbers) {
  auto run = [](std::uint64_t seed, int index) {
    bot_options o;
    o.seed = seed;
    o.index = index;
    harness h("log(math.random(1, 1000000), math.random(1, 1000000))\n", o);
    h.b->start();
    return h.env.logs.at(0);
  };
  EXPECT_EQ(run(7, 1), run(7, 1));
  EXPECT_NE(run(7, 1), run(7, 2));
}

TEST(Bot, SendRawPassesBytesThroughUnframed) {
  harness h("expect(send_raw('\\xff\\x00\\x01'))\n");
  h.b->start();
  ASSERT_EQ(h.env.raw.size(), 1u);
  EXPECT_EQ(h.env.raw[0], std::string("\xff\x00\x01", 3));
}

TEST(Bot, TheLuaStateIsReleasedWhenTheBotEnds) {
  harness h("local t = {}\nfor i = 1, 1000 do t[i] = i end\nsleep(1)\n");
  h.b->start();
  EXPECT_GT(h.b->lua_memory(), 10'000u);
  h.env.advance(1ms);
  ASSERT_TRUE(h.b->done());
  EXPECT_EQ(h.b->lua_memory(), 0u);
}

}  // namespace
}  // namespace quay::bots
