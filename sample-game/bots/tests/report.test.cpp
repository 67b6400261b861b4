#include "quay/bots/report.hpp"

#include <gtest/gtest.h>

namespace quay::bots {
namespace {

run_report sample() {
  run_stats s;
  s.bots_started = 3;
  s.bots_ok = 2;
  s.bots_failed = 1;
  s.connects = 3;
  s.msgs_out = 300;
  s.msgs_in = 900;
  for (int i = 1; i <= 100; ++i) s.rtt.record(std::chrono::microseconds{i * 100});
  s.count_error("server: on_cooldown");
  s.count_error("server: on_cooldown");
  s.count_error("closed by server or network: \"quoted\"");
  auto r = run_report::snapshot(s, 3, 2.0);
  bot_result f;
  f.bot = "bob";
  f.message = "chat.lua:7: expect failed: heard alice";
  f.last_events = {"{event=\"chat\", text=\"hi\"}"};
  r.failures.push_back(f);
  return r;
}

TEST(RunReport, TheTextReportNamesFailuresErrorsAndRates) {
  const auto t = sample().to_text();
  EXPECT_NE(t.find("2 finished ok"), std::string::npos) << t;
  EXPECT_NE(t.find("1 failed"), std::string::npos) << t;
  EXPECT_NE(t.find("150/s"), std::string::npos) << t;
  EXPECT_NE(t.find("450/s"), std::string::npos) << t;
  EXPECT_NE(t.find("2 x server: on_cooldown"), std::string::npos) << t;
  EXPECT_NE(t.find("FAILED bob: chat.lua:7: expect failed: heard alice"), std::string::npos) << t;
  EXPECT_NE(t.find("{event=\"chat\", text=\"hi\"}"), std::string::npos) << t;
  EXPECT_NE(t.find("p50 5.0"), std::string::npos) << t;
}

TEST(RunReport, TheJsonReportEscapesStringsAndCarriesEveryFigure) {
  const auto j = sample().to_json();
  EXPECT_NE(j.find("\"bots\":3"), std::string::npos) << j;
  EXPECT_NE(j.find("\"failed\":1"), std::string::npos) << j;
  EXPECT_NE(j.find("\"msgs_in_per_s\":450.0"), std::string::npos) << j;
  EXPECT_NE(j.find("\"closed by server or network: \\\"quoted\\\"\":1"), std::string::npos) << j;
  EXPECT_NE(j.find("\"rtt\":{\"count\":100"), std::string::npos) << j;
  EXPECT_NE(j.find("\"passed\":false"), std::string::npos) << j;
  EXPECT_EQ(j.front(), '{');
  EXPECT_EQ(j.back(), '}');
}

TEST(RunReport, ARunPassesOnlyWhenEveryBotFinishedOk) {
  run_report r;
  r.bots = 2;
  r.ok = 2;
  EXPECT_TRUE(r.all_passed());
  r.interrupted = true;
  EXPECT_FALSE(r.all_passed());
  r.interrupted = false;
  r.ok = 1;
  r.stopped = 1;
  EXPECT_FALSE(r.all_passed());
}

TEST(RunReport, AProgressLineShowsRatesSinceThePreviousSample) {
  run_report a;
  a.bots = 10;
  a.elapsed_s = 1;
  a.msgs_out = 100;
  run_report b = a;
  b.elapsed_s = 2;
  b.msgs_out = 20100;
  b.started = 10;
  const auto l = progress_line(b, a);
  EXPECT_NE(l.find("bots 10/10"), std::string::npos) << l;
  EXPECT_NE(l.find("out 20.0k"), std::string::npos) << l;
}

}  // namespace
}  // namespace quay::bots
