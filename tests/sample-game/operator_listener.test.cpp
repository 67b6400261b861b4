// The zone server's operator listener end to end (operator_session.cpp, zone_server.cpp): plain
// HTTP over a real socket to 127.0.0.1 — probes, the token, /metrics with the live zones, the
// game port's GET / — and /readyz turning 503 while the server drains (begin_shutdown) yet
// still answering until stop().
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tcp_clients.hpp"
#include "zone_server.hpp"

namespace {

using namespace quay;
using namespace quay::game::server;
using namespace quay::game::server::tcp_test;

struct http_result {
  int status = 0;
  std::string head;
  std::string body;
};

// One GET with Connection: close; every socket call bounded by a 5 s timeout.
http_result get(std::uint16_t port, const std::string& target, const std::string& extra = {}) {
  http_result r;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return r;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return r;
  }
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra +
                          "Connection: close\r\n\r\n";
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string all;
  char buf[16384];
  for (int i = 0; i < 10'000; ++i) {  // bounded: the server closes after its answer
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    all.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto end = all.find("\r\n\r\n");
  if (all.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  r.status = std::stoi(all.substr(9, 3));
  r.head = all.substr(0, end);
  r.body = all.substr(end + 4);
  return r;
}

TEST(operator_listener, probes_token_metrics_and_readiness_during_the_drain) {
  temp_dir dir("operator-listener");
  server_config config = test_config(dir);
  config.operator_enabled = true;
  config.operator_port = 0;
  config.operator_token = "op-token-1";
  config.web_enabled = true;  // the game port also serves GET /
  zone_server server;
  const auto problems = server.start(config, nullptr);
  ASSERT_TRUE(problems.empty()) << problems.front();
  const std::uint16_t op = server.operator_bound().port();
  ASSERT_NE(op, 0);

  EXPECT_EQ(get(op, "/healthz").status, 200);
  EXPECT_EQ(get(op, "/readyz").status, 200);
  EXPECT_EQ(get(op, "/metrics").status, 401);
  EXPECT_EQ(get(op, "/metrics?token=nope").status, 401);
  const http_result m = get(op, "/metrics", "Authorization: Bearer op-token-1\r\n");
  ASSERT_EQ(m.status, 200) << m.head;
  EXPECT_NE(m.head.find("text/plain; version=0.0.4"), std::string::npos) << m.head;
  EXPECT_NE(m.body.find("quay_zone_players{zone=\"1\""), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("quay_actors{type=\"gateway\"} 1"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("quay_ready 1"), std::string::npos) << m.body;
  const http_result z = get(op, "/api/zones?token=op-token-1");
  ASSERT_EQ(z.status, 200);
  EXPECT_NE(z.body.find("\"zones\":[{\"id\":"), std::string::npos) << z.body;

  // The game port: a plain GET is an HTTP fetch, answered (200 with the built page, or 404
  // naming what is missing when node was not there to build it), never a player.
  const http_result page = get(server.bound().port(), "/");
  EXPECT_TRUE(page.status == 200 || page.status == 404) << page.head;
  if (page.status == 200) {
    EXPECT_NE(page.body.find("client.js"), std::string::npos);
  }

  server.begin_shutdown();
  EXPECT_FALSE(server.ready());
  const http_result draining = get(op, "/readyz");
  EXPECT_EQ(draining.status, 503) << draining.head;
  EXPECT_EQ(get(op, "/healthz").status, 200);  // alive while draining
  EXPECT_NE(get(op, "/metrics?token=op-token-1").body.find("quay_ready 0"), std::string::npos);
  EXPECT_EQ(server.stop(std::chrono::seconds(5)), 0u);
}

}  // namespace
