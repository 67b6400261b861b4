// The operator's HTTP answers and the metrics they render (operator_http.hpp,
// server_metrics.hpp): the token rule, readiness, and a full scrape read back by the real
// Prometheus parser (python3-prometheus-client).
#include "operator_http.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>

#include <gtest/gtest.h>

#include "quay/actors/system.hpp"
#include "quay/runtime/manual_port.hpp"
#include "server_metrics.hpp"

namespace {

using namespace quay::game::server;

using header_map = std::map<std::string, std::string, std::less<>>;

struct fixture {
  bool ready = true;
  static_files pages;
  operator_routes routes;
  fixture()
      : routes("s3cret-token",
               operator_routes::sources{[] { return filled_scrape(); }, [this] { return ready; },
                                        &pages},
               nullptr) {
    pages.add("/admin.html", "text/html; charset=utf-8", "<title>admin</title>");
  }
  http_answer get(std::string_view target, const header_map& h = {}) const {
    return routes.handle(
        "GET", target,
        [&](std::string_view name) -> std::optional<std::string_view> {
          const auto it = h.find(name);
          if (it == h.end()) return std::nullopt;
          return std::string_view(it->second);
        },
        "127.0.0.1");
  }

  static metrics_scrape filled_scrape() {
    server_metrics m;
    zone_metrics& z = m.add_zone(1, "Meadow \"north\"");
    z.players = 3;
    z.npcs = 12;
    z.ticks = 2;
    z.tick_seconds.observe(0.0004);
    z.tick_seconds.observe(2.0);  // over the last bound
    z.tick_cpu_seconds.observe(0.0003);
    m.session_closed("kicked: MessageFlood");
    m.session_closed("connection reset by peer");
    m.session_closed("connection reset by peer");
    m.run_queue_delay.observe(0.00002);
    m.persistence_write.observe(0.003);
    metrics_scrape s;
    s.ready = true;
    s.players_online = 3;
    s.sessions_open = 4;
    s.sessions_accepted = 7;
    s.persistence_failures = 1;
    s.actor_types.push_back({"player", 3, 5, 4, 100, 0.00015});
    // collect() without an actor system: the zones, closes and histograms.
    s.zones.clear();
    for (const auto& zone : {m.zone(1)}) {
      metrics_scrape::zone v;
      v.id = zone->id;
      v.name = zone->name;
      v.players = zone->players;
      v.npcs = zone->npcs;
      v.ticks = zone->ticks;
      v.tick = zone->tick_seconds.read();
      v.tick_cpu = zone->tick_cpu_seconds.read();
      s.zones.push_back(v);
    }
    s.close_reasons = {{"connection reset by peer", 2}, {"kicked: MessageFlood", 1}};
    s.run_queue_delay = m.run_queue_delay.read();
    s.persistence_write = m.persistence_write.read();
    return s;
  }
};

std::string parse_with_prometheus_client(const std::string& text, int& status) {
  const std::string in = testing::TempDir() + "quay_operator_metrics_in.txt";
  const std::string out = testing::TempDir() + "quay_operator_metrics_out.txt";
  std::ofstream(in, std::ios::binary) << text;
  const std::string cmd =
      std::string("/usr/bin/python3 ") + QUAY_PROMETHEUS_PARSER + " < " + in + " > " + out;
  status = std::system(cmd.c_str());
  std::ifstream f(out);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(operator_http, figures_need_the_token_in_a_header_or_the_query) {
  fixture f;
  EXPECT_EQ(f.get("/metrics").status, 401);
  EXPECT_EQ(f.get("/metrics?token=wrong").status, 401);
  EXPECT_EQ(f.get("/api/zones", {{"x-quay-token", "s3cret-tokeN"}}).status, 401);
  EXPECT_EQ(f.get("/metrics?token=s3cret-token").status, 200);
  EXPECT_EQ(f.get("/metrics?a=1&token=s3cret-token#x").status, 200);
  EXPECT_EQ(f.get("/metrics", {{"authorization", "Bearer s3cret-token"}}).status, 200);
  EXPECT_EQ(f.get("/api/zones", {{"x-quay-token", "s3cret-token"}}).status, 200);
}

TEST(operator_http, an_empty_token_refuses_everything_that_needs_one) {
  operator_routes r("", {}, nullptr);
  const auto none = [](std::string_view) -> std::optional<std::string_view> { return ""; };
  EXPECT_EQ(r.handle("GET", "/metrics?token=", none, "p").status, 401);
  EXPECT_FALSE(r.authorized(""));
}

TEST(operator_http, probes_and_the_page_need_no_token_and_readiness_follows_the_server) {
  fixture f;
  EXPECT_EQ(f.get("/healthz").status, 200);
  EXPECT_EQ(f.get("/readyz").status, 200);
  f.ready = false;  // draining
  const http_answer r = f.get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("draining"), std::string::npos);
  EXPECT_EQ(f.get("/healthz").status, 200);
  const http_answer page = f.get("/admin");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(f.get("/nothing?token=s3cret-token").status, 404);
  EXPECT_EQ(f.routes.handle("POST", "/metrics", [](auto) { return std::nullopt; }, "p").status,
            405);
}

TEST(operator_http, the_scrape_parses_with_the_prometheus_client_and_names_every_family) {
  fixture f;
  const http_answer a = f.get("/metrics?token=s3cret-token");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type, "text/plain; version=0.0.4; charset=utf-8");
  int status = -1;
  const std::string dump = parse_with_prometheus_client(a.body, status);
  ASSERT_EQ(status, 0) << "prometheus_client refused:\n" << a.body;
  for (const char* family :
       {"family quay_zone_players gauge", "family quay_zone_tick_seconds histogram",
        "family quay_zone_tick_cpu_seconds histogram", "family quay_sessions_closed counter",
        "family quay_actor_mailbox_depth gauge", "family quay_actor_mailbox_wait_mean_seconds gauge",
        "family quay_run_queue_delay_seconds histogram",
        "family quay_persistence_write_seconds histogram", "family quay_persistence_failures counter",
        "family quay_ready gauge"}) {
    EXPECT_NE(dump.find(family), std::string::npos) << family << " missing in:\n" << dump;
  }
  EXPECT_NE(dump.find("sample quay_zone_players zone=1,zone_name=Meadow \"north\" 3.0"),
            std::string::npos)
      << dump;
  EXPECT_NE(dump.find("sample quay_sessions_closed_total reason=connection reset by peer 2.0"),
            std::string::npos)
      << dump;
  // Two ticks: one in the 0.5 ms bucket, one over the last bound (only in +Inf).
  EXPECT_NE(dump.find("sample quay_zone_tick_seconds_bucket le=+Inf,zone=1,zone_name=Meadow "
                      "\"north\" 2.0"),
            std::string::npos)
      << dump;
  EXPECT_NE(dump.find("sample quay_zone_tick_seconds_bucket le=5e-04,zone=1,zone_name=Meadow "
                      "\"north\" 1.0"),
            std::string::npos)
      << dump;
}

TEST(operator_http, the_zones_json_escapes_names_and_gives_each_zone_its_figures) {
  const std::string j = render_zones_json(fixture::filled_scrape());
  EXPECT_NE(j.find("\"ready\":true"), std::string::npos) << j;
  EXPECT_NE(j.find("\"name\":\"Meadow \\\"north\\\"\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"players\":3,\"npcs\":12"), std::string::npos) << j;
}

TEST(operator_http, a_histogram_filled_from_many_threads_counts_every_observation) {
  live_histogram h(tick_bounds());
  constexpr int per_thread = 10'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < per_thread; ++i) h.observe(0.0001 * (t + 1));
    });
  }
  for (auto& t : threads) t.join();
  const auto s = h.read();
  EXPECT_EQ(s.count(), 4u * per_thread);
  EXPECT_NEAR(s.sum, per_thread * 0.0001 * (1 + 2 + 3 + 4), 1e-6);
  EXPECT_DOUBLE_EQ(s.quantile_bound(1.0), 0.0005);
}

TEST(operator_http, tracking_closing_and_scraping_from_several_threads_at_once_lose_nothing) {
  // Guarantee under test (and TSan): track(), session_closed() and collect() may run at once;
  // every close is counted, and refs of actors that do not exist are dropped by a scrape.
  quay::manual_port port;
  quay::actor_system actors(port);
  server_metrics m;
  (void)m.add_zone(1, "one");
  constexpr int per_thread = 2'000;
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&m, t] {
      for (int i = 0; i < per_thread; ++i) {
        m.track("player", quay::actor_ref{static_cast<std::uint32_t>(100'000 + t * per_thread + i), 1, 0});
        m.session_closed(t == 0 ? "logout" : "idle timeout");
        m.zone(1)->tick_seconds.observe(0.001);
      }
    });
  }
  std::thread scraper([&] {
    for (int i = 0; i < 10'000 && !done.load(); ++i) {
      metrics_scrape s;
      m.collect(actors, s);
    }
  });
  for (auto& w : writers) w.join();
  done = true;
  scraper.join();
  metrics_scrape s;
  m.collect(actors, s);
  ASSERT_EQ(s.close_reasons.size(), 2u);
  EXPECT_EQ(s.close_reasons[0], (std::pair<std::string, std::uint64_t>{"idle timeout", per_thread}));
  EXPECT_EQ(s.close_reasons[1], (std::pair<std::string, std::uint64_t>{"logout", per_thread}));
  ASSERT_EQ(s.actor_types.size(), 1u);
  EXPECT_EQ(s.actor_types[0].actors, 0u);  // none of the refs names a live actor
  EXPECT_EQ(s.zones.at(0).tick.count(), 2u * per_thread);
}

TEST(operator_http, query_parameters_and_paths_are_split_without_decoding) {
  EXPECT_EQ(target_path("/metrics?token=a"), "/metrics");
  EXPECT_EQ(target_path("/a#b"), "/a");
  EXPECT_EQ(query_param("/m?x=1&token=abc", "token"), "abc");
  EXPECT_EQ(query_param("/m?tokens=1", "token"), std::nullopt);
  EXPECT_EQ(query_param("/m?token", "token"), "");
  EXPECT_TRUE(token_matches("abc", "abc"));
  EXPECT_FALSE(token_matches("abcd", "abc"));
  EXPECT_FALSE(token_matches("", ""));
}

}  // namespace
