// A login flood from many source addresses over real TCP (issue 20): clients bound to
// 127.0.0.10-29 (loopback only) each open more connections than the per-address rate allows
// and guess a victim's secret; each address past its burst is told ConnectionRateLimited,
// guesses are refused, and a bystander on its own address logs in Ok meanwhile.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "tcp_clients.hpp"

namespace quay::game::server {
namespace {

using namespace tcp_test;
using namespace std::chrono_literals;

/// A blocking client socket bound to `source` (a 127.0.0.x address) before it connects.
struct raw_client {
  int fd = -1;
  raw_client(const char* source, std::uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &a.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      fd = -1;
      return;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ~raw_client() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  bool send(const net::frame& f) {
    const auto* p = reinterpret_cast<const char*>(f.payload().data()) - 4;  // header before it
    const std::size_t n = f.payload().size() + 4;
    return ::send(fd, p, n, MSG_NOSIGNAL) == static_cast<ssize_t>(n);
  }
  /// Reads frames until one of type LoginResult or Kicked arrives (its code), or the deadline.
  std::optional<wire::ErrorCode> answer(std::chrono::milliseconds deadline) {
    std::vector<std::byte> buf;
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      std::byte chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        return std::nullopt;
      }
      buf.insert(buf.end(), chunk, chunk + n);
      while (buf.size() >= 4) {
        const std::uint32_t len = std::to_integer<std::uint32_t>(buf[0]) |
                                  std::to_integer<std::uint32_t>(buf[1]) << 8 |
                                  std::to_integer<std::uint32_t>(buf[2]) << 16 |
                                  std::to_integer<std::uint32_t>(buf[3]) << 24;
        if (buf.size() < 4 + len) {
          break;
        }
        // Copied to an aligned buffer: flatbuffers reads the payload in place.
        std::vector<std::uint64_t> aligned((len + 7) / 8);
        std::memcpy(aligned.data(), buf.data() + 4, len);
        buf.erase(buf.begin(), buf.begin() + 4 + len);
        net::envelope_view env;
        if (net::decode_envelope({reinterpret_cast<const std::byte*>(aligned.data()), len}, env)) {
          return std::nullopt;
        }
        if (env.type == type_id(MT::LoginResult)) {
          return flatbuffers::GetRoot<wire::LoginResult>(env.payload.data())->error();
        }
        if (env.type == type_id(MT::Kicked)) {
          return flatbuffers::GetRoot<wire::Kicked>(env.payload.data())->reason();
        }
      }
    }
    return std::nullopt;
  }
};

net::frame login_with(const char* name, const char* secret) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateLoginRequestDirect(fbb, name, secret));
  return net::encode_envelope(type_id(MT::LoginRequest), 1,
                              {reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()),
                               fbb.GetSize()});
}

TEST(login_flood_addresses, a_flood_from_many_addresses_is_limited_per_address_and_a_bystander_logs_in) {
  temp_dir dir("flood-addresses");
  server_config config = test_config(dir);
  config.settings.login_limits.connections = {3.0, 0.01};  // 3 connections per address
  zone_server server;
  const auto problems = server.start(config, nullptr);
  ASSERT_TRUE(problems.empty()) << problems.front();
  const std::uint16_t port = server.bound().port();
  {
    raw_client owner("127.0.0.2", port);
    ASSERT_GE(owner.fd, 0) << "cannot bind 127.0.0.2 (loopback aliases needed)";
    ASSERT_TRUE(owner.send(login_with("victim", "the-right-one")));
    ASSERT_EQ(owner.answer(3s), wire::ErrorCode::Ok);
  }
  int rate_limited = 0;
  int refused = 0;
  for (int a = 10; a < 30; ++a) {
    const std::string source = "127.0.0." + std::to_string(a);
    for (int i = 0; i < 5; ++i) {
      raw_client c(source.c_str(), port);
      ASSERT_GE(c.fd, 0) << source;
      (void)c.send(login_with("victim", ("guess" + std::to_string(i)).c_str()));
      const auto e = c.answer(3s);
      ASSERT_TRUE(e.has_value()) << source << " #" << i << ": no answer";
      if (*e == wire::ErrorCode::ConnectionRateLimited) {
        ++rate_limited;
        EXPECT_GE(i, 3) << source << ": limited before its burst";
      } else {
        EXPECT_TRUE(*e == wire::ErrorCode::InvalidCredentials ||
                    *e == wire::ErrorCode::LoginThrottled)
            << wire::EnumNameErrorCode(*e);
        ++refused;
      }
    }
    if (a % 5 == 0) {
      // The bystander, on its own address, in the middle of the flood.
      raw_client b(("127.0.0." + std::to_string(100 + a)).c_str(), port);
      const std::string name = "bystander" + std::to_string(a);
      ASSERT_TRUE(b.send(login_with(name.c_str(), "mine")));
      EXPECT_EQ(b.answer(3s), wire::ErrorCode::Ok) << "bystander during the flood";
    }
  }
  EXPECT_EQ(rate_limited, 20 * 2) << "2 of 5 connections per address over the burst of 3";
  EXPECT_EQ(refused, 20 * 3);
  server.begin_shutdown();
  EXPECT_EQ(server.stop(5s), 0u);
}

}  // namespace
}  // namespace quay::game::server
