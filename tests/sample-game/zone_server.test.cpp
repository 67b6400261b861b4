// The zone server end to end over TCP on 127.0.0.1: real port, actors and network, clients on
// the SDK's connector (tcp_clients.hpp). Every wait has a deadline.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "quay/runtime/error.hpp"
#include "quay/runtime/io_port.hpp"
#include "tcp_clients.hpp"

namespace quay::game::server {
namespace {

using namespace tcp_test;

TEST(zone_server, players_log_in_over_tcp_see_each_other_and_are_kicked_cleanly_at_shutdown) {
  temp_dir dir("see");
  const server_config config = test_config(dir);
  zone_server server;
  const auto problems = server.start(config, nullptr);
  ASSERT_TRUE(problems.empty()) << problems.front();

  io_port_options po;
  po.workers = 1;
  io_port client_port(po);
  clients sink;
  net::network client_net(client_port, nullptr);
  const auto ann = client_net.connect(server.bound(), sink);
  const auto bob = client_net.connect(server.bound(), sink);
  ASSERT_FALSE(client_net.send(ann, login_frame("ann")));
  ASSERT_FALSE(client_net.send(bob, login_frame("bob")));

  ASSERT_TRUE(sink.wait(ann, [](const auto& v) { return has_type(v, MT::EnterZone); }));
  ASSERT_TRUE(sink.wait(bob, [](const auto& v) { return has_type(v, MT::EnterZone); }));
  EXPECT_TRUE(sink.wait(ann, [](const auto& v) {
    for (const auto& [type, f] : v) {
      if (type == type_id(MT::WorldUpdate)) {
        for (const auto* e : *payload<wire::WorldUpdate>(f)->enters()) {
          if (e->name() != nullptr && e->name()->str() == "bob") {
            return true;
          }
        }
      }
    }
    return false;
  })) << "ann never saw bob enter";
  EXPECT_EQ(server.online(), 2u);

  server.begin_shutdown();
  EXPECT_TRUE(sink.wait(ann, [](const auto& v) {
    for (const auto& [type, f] : v) {
      if (type == type_id(MT::Kicked) &&
          payload<wire::Kicked>(f)->reason() == wire::ErrorCode::ServerShuttingDown) {
        return true;
      }
    }
    return false;
  }));
  EXPECT_TRUE(sink.wait_closed(ann));
  EXPECT_TRUE(sink.wait_closed(bob));
  EXPECT_EQ(server.stop(5s), 0u) << "every player was saved and released before the deadline";
  client_net.shutdown();
  client_port.stop();
}

}  // namespace
}  // namespace quay::game::server

namespace quay::game::server {
namespace {

using namespace tcp_test;

TEST(zone_server, a_character_logs_out_and_back_in_after_a_restart_at_its_saved_position) {
  temp_dir dir("restart");
  const server_config config = test_config(dir);
  io_port_options po;
  po.workers = 1;
  io_port client_port(po);
  clients sink;
  net::network client_net(client_port, nullptr);
  vec2 spawn;
  {
    zone_server server;
    const auto problems = server.start(config, nullptr);
    ASSERT_TRUE(problems.empty()) << problems.front();
    const auto ann = client_net.connect(server.bound(), sink);
    ASSERT_FALSE(client_net.send(ann, login_frame("ann")));
    ASSERT_TRUE(sink.wait(ann, [](const auto& v) { return has_type(v, MT::EnterZone); }));
    ASSERT_TRUE(sink.wait(ann, [&](const auto& v) {
      for (const auto& [type, f] : v) {
        if (type == type_id(MT::EnterZone)) {
          spawn = {payload<wire::EnterZone>(f)->position()->x(), payload<wire::EnterZone>(f)->position()->y()};
          return true;
        }
      }
      return false;
    }));
    ASSERT_FALSE(client_net.send(ann, move_frame(spawn.x + 1.0f, spawn.y, 2)));
    ASSERT_FALSE(client_net.send(ann, logout_frame()));
    ASSERT_TRUE(sink.wait_closed(ann));
    EXPECT_EQ(server.stop(5s), 0u);
  }
  zone_server again;
  const auto problems = again.start(config, nullptr);
  ASSERT_TRUE(problems.empty()) << problems.front();
  const auto back = client_net.connect(again.bound(), sink);
  ASSERT_FALSE(client_net.send(back, login_frame("ann")));
  ASSERT_TRUE(sink.wait(back, [](const auto& v) { return has_type(v, MT::EnterZone); }));
  EXPECT_TRUE(sink.wait(back, [&](const auto& v) {
    for (const auto& [type, f] : v) {
      if (type == type_id(MT::EnterZone)) {
        return payload<wire::EnterZone>(f)->position()->x() == spawn.x + 1.0f;
      }
    }
    return false;
  })) << "entered at the saved position";
  again.begin_shutdown();
  EXPECT_EQ(again.stop(5s), 0u);
  client_net.shutdown();
  client_port.stop();
}

}  // namespace
}  // namespace quay::game::server

namespace quay::game::server {
namespace {

using namespace tcp_test;

TEST(zone_server, stops_accepting_connections_as_soon_as_shutdown_begins) {
  temp_dir dir("accept");
  const server_config config = test_config(dir);
  zone_server server;
  const auto problems = server.start(config, nullptr);
  ASSERT_TRUE(problems.empty()) << problems.front();
  io_port_options po;
  po.workers = 1;
  io_port client_port(po);
  clients sink;
  net::network client_net(client_port, nullptr);
  const auto ann = client_net.connect(server.bound(), sink);
  ASSERT_FALSE(client_net.send(ann, login_frame("ann")));
  ASSERT_TRUE(sink.wait(ann, [](const auto& v) { return has_type(v, MT::EnterZone); }));

  server.begin_shutdown();
  // The listening socket is closed before anyone is saved or kicked: a new connection is
  // refused by the operating system, not accepted and then turned away at login.
  const auto late = client_net.connect(server.bound(), sink);
  (void)client_net.send(late, login_frame("late"));
  ASSERT_TRUE(sink.wait_closed(late));
  EXPECT_EQ(sink.close_reason(late), quay::errc::connection_refused)
      << sink.close_reason(late).message();
  EXPECT_EQ(sink.frames(late), 0u) << "no LoginResult: the server never saw this client";

  EXPECT_TRUE(sink.wait(ann, [](const auto& v) {
    return kicked_with(v, wire::ErrorCode::ServerShuttingDown);
  }));
  EXPECT_TRUE(sink.wait_closed(ann));
  EXPECT_EQ(server.stop(5s), 0u);
  client_net.shutdown();
  client_port.stop();
}

TEST(zone_server, a_flooding_client_is_kicked_and_the_other_players_keep_playing) {
  temp_dir dir("flood");
  const server_config config = test_config(dir);
  zone_server server;
  const auto problems = server.start(config, nullptr);
  ASSERT_TRUE(problems.empty()) << problems.front();
  io_port_options po;
  po.workers = 1;
  io_port client_port(po);
  clients sink;
  net::network client_net(client_port, nullptr);
  const auto ann = client_net.connect(server.bound(), sink);
  const auto eve = client_net.connect(server.bound(), sink);
  ASSERT_FALSE(client_net.send(ann, login_frame("ann")));
  ASSERT_FALSE(client_net.send(eve, login_frame("eve")));
  ASSERT_TRUE(sink.wait(ann, [](const auto& v) { return has_type(v, MT::EnterZone); }));
  ASSERT_TRUE(sink.wait(eve, [](const auto& v) { return has_type(v, MT::EnterZone); }));

  // eve sends 2,000 moves at once: far over 100 back to back and 50 per second.
  for (std::uint32_t i = 0; i < 2000; ++i) {
    if (client_net.send(eve, move_frame(1.0f, 1.0f, 100 + i))) {
      break;  // the server already closed the session
    }
  }
  EXPECT_TRUE(sink.wait(eve, [](const auto& v) {
    return kicked_with(v, wire::ErrorCode::MessageFlood);
  })) << "eve's session closed with: " << sink.close_reason(eve).message();
  EXPECT_TRUE(sink.wait_closed(eve));

  // ann was never limited: her world keeps ticking and her moves are accepted.
  const std::size_t updates = sink.count(ann, type_id(MT::WorldUpdate));
  ASSERT_FALSE(client_net.send(ann, move_frame(0.0f, 0.0f, 7)));  // refused move: a correction
  EXPECT_TRUE(sink.wait(ann, [](const auto& v) { return has_type(v, MT::MoveCorrection); }));
  ASSERT_FALSE(client_net.send(ann, login_frame("ann")));  // wrong state: an Error, still open
  EXPECT_TRUE(sink.wait(ann, [](const auto& v) { return has_type(v, MT::Error); }));
  EXPECT_TRUE(sink.wait(ann, [&](const auto& v) {
    std::size_t n = 0;
    for (const auto& [type, f] : v) {
      n += type == type_id(MT::WorldUpdate) ? 1 : 0;
    }
    return n > updates;
  })) << "ann's zone still sends her updates";
  EXPECT_EQ(server.online(), 1u);
  server.begin_shutdown();
  EXPECT_EQ(server.stop(5s), 0u);
  client_net.shutdown();
  client_port.stop();
}

}  // namespace
}  // namespace quay::game::server

namespace quay::game::server {
namespace {

using namespace tcp_test;

// One round trip of a playing client: a move far away, answered by a MoveCorrection with its
// seq. Returns the time it took, or nullopt after the deadline.
std::optional<std::chrono::microseconds> correction_round_trip(clients& sink, net::network& net,
                                                               net::session_handle s,
                                                               std::uint32_t seq) {
  const auto start = std::chrono::steady_clock::now();
  if (net.send(s, move_frame(0.0f, 0.0f, seq))) {
    return std::nullopt;
  }
  const bool ok = sink.wait(s, [&](const auto& v) {
    for (auto it = v.rbegin(); it != v.rend(); ++it) {
      if (it->first == type_id(MT::MoveCorrection)) {
        net::envelope_view env;
        if (!net::decode_envelope(it->second.payload(), env) && env.seq == seq) {
          return true;
        }
      }
    }
    return false;
  });
  if (!ok) {
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

double p99_ms(std::vector<std::chrono::microseconds> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : static_cast<double>(v[(v.size() * 99) / 100].count()) / 1000.0;
}

TEST(zone_server, a_player_keeps_its_round_trip_while_flooders_are_cut_off_one_after_another) {
  temp_dir dir("flood-rtt");
  const server_config config = test_config(dir);
  zone_server server;
  const auto problems = server.start(config, nullptr);
  ASSERT_TRUE(problems.empty()) << problems.front();
  io_port_options po;
  po.workers = 1;
  io_port client_port(po);
  clients sink;
  net::network client_net(client_port, nullptr);
  const auto ann = client_net.connect(server.bound(), sink);
  ASSERT_FALSE(client_net.send(ann, login_frame("ann")));
  ASSERT_TRUE(sink.wait(ann, [](const auto& v) { return has_type(v, MT::EnterZone); }));

  constexpr std::uint32_t samples = 30;
  std::vector<std::chrono::microseconds> quiet;
  for (std::uint32_t i = 0; i < samples; ++i) {
    const auto rtt = correction_round_trip(sink, client_net, ann, 1000 + i);
    ASSERT_TRUE(rtt.has_value()) << "round trip " << i << " before the attack";
    quiet.push_back(*rtt);
  }

  // The attack: connection after connection logs in and sends 1,000 moves at once, the next
  // one as soon as the previous one is cut off, for up to 2 s (at most 100 connections). The
  // player measures its round trips meanwhile, one after each new flooder.
  std::atomic<bool> done{false};
  std::atomic<bool> attack_over{false};
  std::atomic<std::size_t> started{0};
  std::vector<net::session_handle> flooders;
  std::thread attacker([&] {
    const auto until = std::chrono::steady_clock::now() + 2s;
    for (int n = 0; n < 100 && !done.load() && std::chrono::steady_clock::now() < until; ++n) {
      const auto s = client_net.connect(server.bound(), sink);
      (void)client_net.send(s, login_frame(("flood" + std::to_string(n)).c_str()));
      // In the world first (a flood before login is cut off sooner, as wrong-state messages).
      if (!sink.wait(s, [](const auto& v) { return has_type(v, MT::EnterZone); }, 2s)) {
        continue;
      }
      flooders.push_back(s);
      for (std::uint32_t i = 0; i < 1000; ++i) {
        if (client_net.send(s, move_frame(1.0f, 1.0f, i))) {
          break;
        }
      }
      started.fetch_add(1);
      (void)sink.wait_closed(s, 2s);  // cut off: the next one
    }
    attack_over = true;
  });
  std::vector<std::chrono::microseconds> attacked;
  for (std::uint32_t i = 0; i < samples; ++i) {
    const auto rtt = correction_round_trip(sink, client_net, ann, 2000 + i);
    ASSERT_TRUE(rtt.has_value()) << "round trip " << i << " during the attack";
    attacked.push_back(*rtt);
    // Spread the samples over the attack: the next one after the next flooder (bounded).
    const auto until = std::chrono::steady_clock::now() + 500ms;
    while (started.load() <= i && !attack_over.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(1ms);  // polling a condition, with a deadline
    }
  }
  done = true;
  attacker.join();

  // Every flooder is cut off. Most read their Kicked{MessageFlood}; one still writing when
  // the server closes may see the connection reset before it reads it (TCP drops unread data
  // on a reset), so the count of Kicked frames seen is reported, not required.
  std::size_t closed = 0;
  std::size_t kicked = 0;
  for (const auto s : flooders) {
    closed += sink.wait_closed(s) ? 1 : 0;
    kicked += sink.wait(s, [](const auto& v) {
                for (const auto& [type, f] : v) {
                  if (type == type_id(MT::Kicked) &&
                      payload<wire::Kicked>(f)->reason() == wire::ErrorCode::MessageFlood) {
                    return true;
                  }
                }
                return false;
              }, 0ms) ? 1 : 0;
  }
  EXPECT_EQ(closed, flooders.size()) << "every flooder was disconnected";
  EXPECT_GE(kicked, 1u);
  EXPECT_GE(flooders.size(), 10u);
  EXPECT_TRUE(sink.wait(ann, [](const auto& v) { return !has_type(v, MT::Kicked); }));
  // The name's claim: the attack costs the player little latency. The bound is relative to the
  // quiet baseline measured in this same run (so a loaded host or TSan moves both), with an
  // absolute allowance for a 2-core machine whose cores the flooders' own client shares: the
  // attack's p99 stays within 5x the quiet p99 plus 50 ms. A server that let the flood through
  // to the zones (1,000 moves per flooder ahead of the player's) misses it by far.
  const double quiet_p99 = p99_ms(quiet);
  const double attack_p99 = p99_ms(attacked);
  EXPECT_LE(attack_p99, 5.0 * quiet_p99 + 50.0)
      << "round trip p99 " << attack_p99 << " ms under attack vs " << quiet_p99 << " ms quiet";
  std::printf("FIGURE flood_rtt quiet_p99_ms=%.2f attack_p99_ms=%.2f flooders=%zu closed=%zu "
              "saw_kicked=%zu\n",
              p99_ms(quiet), p99_ms(attacked), flooders.size(), closed, kicked);
  ::testing::Test::RecordProperty("quiet_p99_us", static_cast<int>(p99_ms(quiet) * 1000));
  ::testing::Test::RecordProperty("attack_p99_us", static_cast<int>(p99_ms(attacked) * 1000));
  server.begin_shutdown();
  EXPECT_EQ(server.stop(5s), 0u);
  client_net.shutdown();
  client_port.stop();
}

}  // namespace
}  // namespace quay::game::server

namespace quay::game::server {
namespace {

using namespace tcp_test;

TEST(zone_server, a_zone_that_fails_under_real_threads_is_restarted_and_its_player_re_enters) {
  temp_dir dir("zone-fault");
  const server_config config = test_config(dir);
  zone_server server;
  const auto problems = server.start(config, nullptr);
  ASSERT_TRUE(problems.empty()) << problems.front();
  io_port_options po;
  po.workers = 1;
  io_port client_port(po);
  clients sink;
  net::network client_net(client_port, nullptr);
  const auto ann = client_net.connect(server.bound(), sink);
  ASSERT_FALSE(client_net.send(ann, login_frame("ann")));
  ASSERT_TRUE(sink.wait(ann, [](const auto& v) { return has_type(v, MT::EnterZone); }));

  ASSERT_TRUE(server.inject_zone_fault(config.start_zone));
  const auto enters = [](const auto& v) {
    std::size_t n = 0;
    for (const auto& [type, f] : v) {
      n += type == type_id(MT::EnterZone) ? 1 : 0;
    }
    return n;
  };
  ASSERT_TRUE(sink.wait(ann, [&](const auto& v) { return enters(v) == 2; }))
      << "a second EnterZone from the restarted zone";
  // Still playing: a refused move is corrected by the new incarnation; nobody was kicked.
  ASSERT_FALSE(client_net.send(ann, move_frame(0.0f, 0.0f, 77)));
  EXPECT_TRUE(sink.wait(ann, [](const auto& v) { return has_type(v, MT::MoveCorrection); }));
  EXPECT_TRUE(sink.wait(ann, [](const auto& v) {
    return !has_type(v, MT::Kicked) && !has_type(v, MT::Error);
  }, 0ms)) << "no Kicked, and the move was not refused as arriving before the re-entry";
  EXPECT_EQ(server.online(), 1u);
  server.begin_shutdown();
  EXPECT_EQ(server.stop(5s), 0u) << "saved and released from the restarted zone";
  client_net.shutdown();
  client_port.stop();
}

}  // namespace
}  // namespace quay::game::server
