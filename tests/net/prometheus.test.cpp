// The Prometheus text-exposition writer: exact output for each metric type, escaping, refusal
// of anything that would not parse, and the real parser (python3-prometheus-client) reading
// back every figure written.
#include "quay/net/prometheus.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>

namespace {

namespace prom = quay::net::prometheus;
using prom::metric_type;

TEST(prometheus, a_gauge_family_is_written_with_help_type_and_labelled_samples) {
  prom::writer w;
  ASSERT_TRUE(w.family("quay_players", metric_type::gauge, "Players in each zone."));
  ASSERT_TRUE(w.sample("quay_players", {{"zone", "1"}}, 12));
  ASSERT_TRUE(w.sample("quay_players", {{"zone", "2"}}, 0.5));
  EXPECT_EQ(w.text(),
            "# HELP quay_players Players in each zone.\n"
            "# TYPE quay_players gauge\n"
            "quay_players{zone=\"1\"} 12\n"
            "quay_players{zone=\"2\"} 0.5\n");
}

TEST(prometheus, a_histogram_is_written_with_cumulative_buckets_sum_and_count) {
  prom::writer w;
  ASSERT_TRUE(w.family("quay_tick_seconds", metric_type::histogram, "Tick duration."));
  const double bounds[] = {0.001, 0.005, 0.025};
  const std::uint64_t counts[] = {3, 0, 2};
  ASSERT_TRUE(w.histogram("quay_tick_seconds", {{"zone", "1"}}, bounds, counts, 1, 0.0625));
  EXPECT_EQ(w.text(),
            "# HELP quay_tick_seconds Tick duration.\n"
            "# TYPE quay_tick_seconds histogram\n"
            "quay_tick_seconds_bucket{zone=\"1\",le=\"0.001\"} 3\n"
            "quay_tick_seconds_bucket{zone=\"1\",le=\"0.005\"} 3\n"
            "quay_tick_seconds_bucket{zone=\"1\",le=\"0.025\"} 5\n"
            "quay_tick_seconds_bucket{zone=\"1\",le=\"+Inf\"} 6\n"
            "quay_tick_seconds_sum{zone=\"1\"} 0.0625\n"
            "quay_tick_seconds_count{zone=\"1\"} 6\n");
}

TEST(prometheus, label_values_and_help_are_escaped_per_the_format) {
  prom::writer w;
  ASSERT_TRUE(w.family("quay_closes_total", metric_type::counter, "Closes \\ by reason\nper kind."));
  ASSERT_TRUE(w.sample("quay_closes_total", {{"reason", "say \"bye\"\\\nnow"}}, 3));
  EXPECT_EQ(w.text(),
            "# HELP quay_closes_total Closes \\\\ by reason\\nper kind.\n"
            "# TYPE quay_closes_total counter\n"
            "quay_closes_total{reason=\"say \\\"bye\\\"\\\\\\nnow\"} 3\n");
}

TEST(prometheus, special_values_are_written_as_inf_and_nan) {
  std::string s;
  prom::append_value(s, std::numeric_limits<double>::infinity());
  s += ' ';
  prom::append_value(s, -std::numeric_limits<double>::infinity());
  s += ' ';
  prom::append_value(s, std::nan(""));
  s += ' ';
  prom::append_value(s, 1e300);
  s += ' ';
  prom::append_value(s, 9007199254740992.0);
  EXPECT_EQ(s, "+Inf -Inf NaN 1e+300 9007199254740992");
}

TEST(prometheus, anything_that_would_not_parse_is_refused_and_not_written) {
  prom::writer w;
  EXPECT_FALSE(w.family("9lives", metric_type::gauge, ""));
  EXPECT_FALSE(w.family("bad-name", metric_type::gauge, ""));
  EXPECT_FALSE(w.family("sessions", metric_type::counter, ""));  // counters end in _total
  EXPECT_FALSE(w.sample("undeclared", {}, 1));
  ASSERT_TRUE(w.family("g", metric_type::gauge, ""));
  EXPECT_FALSE(w.family("g", metric_type::gauge, ""));
  EXPECT_FALSE(w.sample("g", {{"__reserved", "x"}}, 1));
  EXPECT_FALSE(w.sample("g", {{"a-b", "x"}}, 1));
  EXPECT_FALSE(w.sample("g", {{"a", "x"}, {"a", "y"}}, 1));
  ASSERT_TRUE(w.family("c_total", metric_type::counter, ""));
  EXPECT_FALSE(w.sample("g", {}, 1));  // not the family declared last
  EXPECT_FALSE(w.sample("c_total", {}, -1));
  ASSERT_TRUE(w.family("h", metric_type::histogram, ""));
  const double up[] = {1, 1};
  const double good[] = {1, 2};
  const std::uint64_t two[] = {1, 1};
  EXPECT_FALSE(w.histogram("h", {}, up, two, 0, 2));
  EXPECT_FALSE(w.histogram("h", {{"le", "1"}}, good, two, 0, 2));
  EXPECT_FALSE(w.sample("h", {}, 1));
  EXPECT_EQ(w.text(),
            "# HELP g \n# TYPE g gauge\n# HELP c_total \n# TYPE c_total counter\n"
            "# HELP h \n# TYPE h histogram\n");
}

// Runs the real parser over `text`; returns its dump (see prometheus_parse.py).
std::string parse_with_prometheus_client(const std::string& text, int& status) {
  const std::string in = testing::TempDir() + "quay_prometheus_in.txt";
  const std::string out = testing::TempDir() + "quay_prometheus_out.txt";
  std::ofstream(in, std::ios::binary) << text;
  const std::string cmd = std::string("/usr/bin/python3 ") + QUAY_PROMETHEUS_PARSER + " < " + in + " > " + out;
  status = std::system(cmd.c_str());
  std::ifstream f(out);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(prometheus, the_prometheus_client_parser_reads_back_every_family_and_figure) {
  prom::writer w;
  ASSERT_TRUE(w.family("quay_sessions_total", metric_type::counter, "Sessions opened, by transport."));
  ASSERT_TRUE(w.sample("quay_sessions_total", {{"transport", "tcp"}}, 120));
  ASSERT_TRUE(w.sample("quay_sessions_total", {{"transport", "websocket"}}, 7));
  ASSERT_TRUE(w.family("quay_mailbox_depth", metric_type::gauge, "Mailbox depth \"now\" \\ per type\nof actor."));
  ASSERT_TRUE(w.sample("quay_mailbox_depth", {{"actor", "zone \"north\"\\1\nx"}, {"node", "a"}}, 3.25));
  ASSERT_TRUE(w.sample("quay_mailbox_depth", {}, std::numeric_limits<double>::infinity()));
  ASSERT_TRUE(w.family("quay_tick_seconds", metric_type::histogram, "Tick duration."));
  const double bounds[] = {0.001, 0.0025, 0.1};
  const std::uint64_t counts[] = {10, 5, 1};
  ASSERT_TRUE(w.histogram("quay_tick_seconds", {{"zone", "7"}}, bounds, counts, 2, 0.375));

  int status = -1;
  const std::string dump = parse_with_prometheus_client(w.text(), status);
  ASSERT_EQ(status, 0) << "prometheus_client refused:\n" << w.text();
  EXPECT_EQ(dump,
            "family quay_mailbox_depth gauge Mailbox depth \"now\" \\ per type\nof actor.\n"
            "family quay_sessions counter Sessions opened, by transport.\n"
            "family quay_tick_seconds histogram Tick duration.\n"
            "sample quay_mailbox_depth  inf\n"
            "sample quay_mailbox_depth actor=zone \"north\"\\1\nx,node=a 3.25\n"
            "sample quay_sessions_total transport=tcp 120.0\n"
            "sample quay_sessions_total transport=websocket 7.0\n"
            "sample quay_tick_seconds_bucket le=+Inf,zone=7 18.0\n"
            "sample quay_tick_seconds_bucket le=0.001,zone=7 10.0\n"
            "sample quay_tick_seconds_bucket le=0.0025,zone=7 15.0\n"
            "sample quay_tick_seconds_bucket le=0.1,zone=7 16.0\n"
            "sample quay_tick_seconds_count zone=7 18.0\n"
            "sample quay_tick_seconds_sum zone=7 0.375\n");
}

TEST(prometheus, the_parser_check_can_fail_on_a_broken_exposition) {
  int status = -1;
  parse_with_prometheus_client("quay_x{a=\"unterminated} 1\n", status);
  EXPECT_NE(status, 0);
}

}  // namespace
