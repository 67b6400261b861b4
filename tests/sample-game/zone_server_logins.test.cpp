// Logins against the real zone server over TCP (tcp_clients.hpp): connections that close at
// every point of a login, and what a client is told about its login. Every wait has a deadline.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "quay/runtime/io_port.hpp"
#include "session_token.hpp"
#include "tcp_clients.hpp"

namespace quay::game::server {
namespace {

using namespace tcp_test;

// The first LoginResult `s` received (nullptr: none yet).
const wire::LoginResult* login_result(const std::vector<std::pair<std::uint16_t, net::frame>>& v) {
  for (const auto& [type, f] : v) {
    if (type == type_id(MT::LoginResult)) {
      return payload<wire::LoginResult>(f);
    }
  }
  return nullptr;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) {
      return false;
    }
    std::this_thread::sleep_for(1ms);  // polling a condition, with a deadline
  }
  return true;
}

struct tcp_client_side {
  io_port port{[] {
    io_port_options po;
    po.workers = 1;
    return po;
  }()};
  clients sink;
  net::network net{port, nullptr};
  ~tcp_client_side() {
    net.shutdown();
    port.stop();
  }
};

TEST(zone_server_logins, logins_closed_at_once_leave_every_slot_free_and_the_next_login_is_fast) {
  temp_dir dir("ghosts");
  server_config config = test_config(dir);
  config.settings.max_players = 4;
  // Some of the reset sessions below finish their login before the reset: with a grace period
  // those are parked for a resume and rightly keep their slot (tests/sample-game/resume); this
  // test is about sessions that end during their login.
  config.settings.resume_grace_s = 0;
  zone_server server;
  const auto problems = server.start(config, nullptr);
  ASSERT_TRUE(problems.empty()) << problems.front();
  tcp_client_side c;

  // 120 connections send a LoginRequest and close at once: half with FIN after the request,
  // half with RST. Names repeat (existing accounts) and are new (created at login).
  constexpr int flood = 120;
  std::vector<net::session_handle> sessions;
  for (int i = 0; i < flood; ++i) {
    const auto s = c.net.connect(server.bound(), c.sink);
    const std::string name = "ghost" + std::to_string(i % 8);
    ASSERT_FALSE(c.net.send(s, login_frame(name.c_str())));
    if (i % 2 == 0) {
      (void)c.net.close(s);
    } else {
      // Wait for the request to leave (its LoginResult or the connect), then reset.
      (void)c.sink.wait(s, [](const auto& v) { return !v.empty(); }, 2ms);
      (void)c.net.abort(s, net::errc::closed_by_owner);
    }
    sessions.push_back(s);
  }
  for (const auto s : sessions) {
    ASSERT_TRUE(c.sink.wait_closed(s));
  }
  // Every slot comes free: a session that ended during its login holds nothing.
  EXPECT_TRUE(wait_until([&] { return server.online() == 0; }, 3s))
      << server.online() << " players still hold a slot with nobody connected";

  // max_players new logins (one under a flooded name) all complete at once, in normal time.
  std::vector<net::session_handle> players;
  const auto begin = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) {
    const std::string name = i == 0 ? "ghost1" : "fresh" + std::to_string(i);
    players.push_back(c.net.connect(server.bound(), c.sink));
    ASSERT_FALSE(c.net.send(players.back(), login_frame(name.c_str())));
  }
  for (const auto s : players) {
    wire::ErrorCode e = wire::ErrorCode::InternalError;
    ASSERT_TRUE(c.sink.wait(s, [&](const auto& v) {
      const auto* r = login_result(v);
      e = r != nullptr ? r->error() : e;
      return r != nullptr;
    }, 3s)) << "no LoginResult";
    EXPECT_EQ(e, wire::ErrorCode::Ok) << wire::EnumNameErrorCode(e);
  }
  const auto took = std::chrono::steady_clock::now() - begin;
  // A login waits for nothing but persistence: well under the 2 s a kicked session's final
  // save may take (a bound that holds on a loaded machine and under TSan).
  EXPECT_LT(took, 1500ms) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                          << " ms for 4 logins";
  EXPECT_EQ(server.online(), 4u);
  server.begin_shutdown();
  EXPECT_EQ(server.stop(5s), 0u) << "no ghost kept the shutdown waiting";
}

TEST(zone_server_logins, a_connection_over_the_limit_is_told_server_full_before_the_close) {
  temp_dir dir("conn-limit");
  server_config config = test_config(dir);
  config.settings.max_players = 1;
  config.settings.connection_slack = 2;  // 3 connections are served
  zone_server server;
  const auto problems = server.start(config, nullptr);
  ASSERT_TRUE(problems.empty()) << problems.front();
  tcp_client_side c;

  std::vector<net::session_handle> served;
  for (int i = 0; i < 3; ++i) {
    // Not logged in (max_players is 1): a Logout before login is answered with an Error and
    // the session stays open, which shows it was accepted. Each in turn, so the one over the
    // limit is the fourth to be accepted.
    served.push_back(c.net.connect(server.bound(), c.sink));
    ASSERT_FALSE(c.net.send(served.back(), logout_frame()));
    ASSERT_TRUE(c.sink.wait(served.back(), [](const auto& v) { return has_type(v, MT::Error); }));
  }
  const auto over = c.net.connect(server.bound(), c.sink);
  ASSERT_TRUE(c.sink.wait(over, [](const auto& v) {
    return kicked_with(v, wire::ErrorCode::ServerFull);
  })) << "closed with: " << c.sink.close_reason(over).message();
  EXPECT_TRUE(c.sink.wait_closed(over));
  EXPECT_EQ(c.sink.close_reason(over), net::errc::closed_by_peer)
      << "a graceful close after the Kicked: " << c.sink.close_reason(over).message();
  for (const auto s : served) {
    EXPECT_FALSE(c.sink.wait_closed(s, 0ms)) << "the others are unaffected";
  }
  server.begin_shutdown();
  EXPECT_EQ(server.stop(5s), 0u);
}

TEST(zone_server_logins, the_server_makes_a_0600_session_key_and_a_tcp_login_returns_a_token_it_accepts) {
  temp_dir dir("session-key");
  const server_config config = test_config(dir);
  zone_server server;
  const auto problems = server.start(config, nullptr);
  ASSERT_TRUE(problems.empty()) << problems.front();
  const auto key_file = dir.path / "session.key";
  struct stat st {};
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0) << "no key file generated";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  session_key key{};
  ASSERT_EQ(load_or_create_key_file(key_file.string(), key), "");

  tcp_client_side c;
  const auto s = c.net.connect(server.bound(), c.sink);
  ASSERT_FALSE(c.net.send(s, login_frame("keyed")));
  std::string token;
  ASSERT_TRUE(c.sink.wait(s, [&](const auto& v) {
    const auto* r = login_result(v);
    if (r != nullptr && r->session_token() != nullptr) {
      token = r->session_token()->str();
    }
    return r != nullptr;
  }, 3s)) << "no LoginResult";
  std::uint64_t id = 0;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_EQ(check_session_token({key, std::nullopt, true}, token, "keyed", now_ms, &id),
            token_status::ok)
      << "the token is signed with the key file's key";
  EXPECT_NE(id, 0u);
  server.begin_shutdown();
  EXPECT_EQ(server.stop(5s), 0u);
}

}  // namespace
}  // namespace quay::game::server
