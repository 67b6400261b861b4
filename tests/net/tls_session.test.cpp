// Sessions over TLS on 127.0.0.1 (quay/net/tls.hpp): frames through a listener with a
// certificate, and each attack on the TLS port closed with its reason while a bystander on the
// same TLS listener is served. The clients are raw sockets driven by a client tls::engine, so
// the attacks send exactly the bytes they mean to.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "net_test_support.hpp"
#include "quay/net/tls.hpp"
#include "self_signed.hpp"
#include "tls_engine.hpp"

namespace quay::net::test {
namespace {

namespace tlsx = quay::net::tls;

struct cert_dir {
  cert_dir() {
    dir = std::filesystem::temp_directory_path() /
          ("quay-tls-session-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string error;
    files = tlsx::write_self_signed(dir.string(), "server", error);
    if (files.certificate_file.empty()) ADD_FAILURE() << error;
  }
  ~cert_dir() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  tlsx::self_signed_files files;
};

const cert_dir& certs() {
  static cert_dir c;
  return c;
}

tlsx::context client_context(bool tls12 = false) {
  tlsx::context::client_options o;
  o.ca_file = certs().files.certificate_file;
  o.server_name = "localhost";
  if (tls12) o.max_version = tlsx::version::tls1_2;
  std::string error;
  auto c = tlsx::context::make_client(o, error);
  EXPECT_TRUE(c) << error;
  return c;
}

// A blocking TLS client: a raw socket and a client engine. Test thread only.
class tls_client {
 public:
  tls_client(io_port& p, const endpoint& at, const tlsx::context& ctx) : sock_(p, at), tls_(ctx) {}

  bool connected() const { return sock_.connected(); }
  raw_client& socket() { return sock_; }
  tlsx::engine& engine() { return tls_; }

  bool flush() {
    const auto out = tls_.output();
    if (out.empty()) return true;
    bytes copy(out.begin(), out.end());
    tls_.consume_output(copy.size());
    return sock_.send(copy);
  }

  bool handshake() {
    const auto end = clock::now() + deadline_default;
    while (!tls_.handshake_done() && !tls_.failed() && clock::now() < end) {
      if (!flush()) return false;
      if (!receive(end)) return false;
    }
    return flush() && tls_.handshake_done();
  }

  bool send_frame(const frame& f) { return tls_.write(f.wire()) && flush(); }

  /// Plaintext up to and including `delim`, or nullopt.
  std::optional<std::string> read_until(std::string_view delim) {
    const auto end = clock::now() + deadline_default;
    for (;;) {
      const std::string_view have(reinterpret_cast<const char*>(plain_.data()), plain_.size());
      if (const auto at = have.find(delim); at != std::string_view::npos) {
        std::string out(have.substr(0, at + delim.size()));
        plain_.erase(plain_.begin(), plain_.begin() + static_cast<std::ptrdiff_t>(out.size()));
        return out;
      }
      if (!receive(end)) return std::nullopt;
    }
  }
  /// Exactly `n` bytes of plaintext, or nullopt.
  std::optional<bytes> read_plain(std::size_t n) {
    const auto end = clock::now() + deadline_default;
    while (plain_.size() < n) {
      if (!receive(end)) return std::nullopt;
    }
    bytes out(plain_.begin(), plain_.begin() + static_cast<std::ptrdiff_t>(n));
    plain_.erase(plain_.begin(), plain_.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
  }

  /// One frame's payload in plaintext, or nullopt.
  std::optional<bytes> read_frame() {
    const auto end = clock::now() + deadline_default;
    for (;;) {
      if (plain_.size() >= 4) {
        const std::uint32_t len = read_frame_header(plain_.data());
        if (plain_.size() >= 4 + len) {
          bytes payload(plain_.begin() + 4, plain_.begin() + 4 + len);
          plain_.erase(plain_.begin(), plain_.begin() + 4 + len);
          return payload;
        }
      }
      if (!receive(end)) return std::nullopt;
    }
  }

 private:
  // One receive fed to the engine, and the plaintext it gave kept. False at the end or deadline.
  bool receive(clock::time_point end) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock::now());
    if (left <= 0ms) return false;
    bytes in;
    std::error_code ec;
    if (!sock_.read_some(in, ec, left)) return false;
    if (!in.empty()) tls_.feed(in);
    std::byte buf[4096];
    for (std::size_t n; (n = tls_.read(buf)) > 0;) plain_.insert(plain_.end(), buf, buf + n);
    flush();
    return !ec && !tls_.failed();
  }

  raw_client sock_;
  tlsx::engine tls_;
  bytes plain_;
};

class tls_session_test : public net_fixture {
 protected:
  endpoint listen_tls(std::chrono::milliseconds handshake_timeout = 10'000ms) {
    std::string error;
    listen_options o;
    o.session.layer = make_tls_server_layer(
        {certs().files.certificate_file, certs().files.private_key_file, handshake_timeout}, error);
    EXPECT_TRUE(o.session.layer) << error;
    return listen_echo(o);
  }

  // A bystander on the TLS listener: a full handshake and an echoed frame.
  void expect_bystander_served(const endpoint& at) {
    auto ctx = client_context();
    tls_client b(port_, at, ctx);
    ASSERT_TRUE(b.handshake()) << b.engine().detail();
    ASSERT_TRUE(b.send_frame(text_frame(100, 9, "bystander")));
    auto p = b.read_frame();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(decode(*p).text, "bystander");
  }

  // Waits until some session closed with `reason` (bystanders close too, with their own).
  ::testing::AssertionResult closed_with(tls_errc reason) {
    const std::error_code want = make_error_code(reason);
    std::unique_lock lk(rec_.mu);
    const bool seen = rec_.cv.wait_for(lk, deadline_default, [&] {
      for (const auto& [slot, why] : rec_.closed) {
        if (why == want) return true;
      }
      return false;
    });
    if (seen) return ::testing::AssertionSuccess();
    auto r = ::testing::AssertionFailure() << "no session closed with " << want.message() << "; saw:";
    for (const auto& [slot, why] : rec_.closed) r << " [" << why.message() << "]";
    return r;
  }
};

TEST_F(tls_session_test, frames_echo_over_tls_1_3_and_tls_1_2_through_a_listener_with_a_certificate) {
  const auto at = listen_tls();
  for (bool tls12 : {false, true}) {
    auto ctx = client_context(tls12);
    tls_client c(port_, at, ctx);
    ASSERT_TRUE(c.handshake()) << c.engine().detail();
    EXPECT_EQ(c.engine().protocol(), tls12 ? "TLSv1.2" : "TLSv1.3");
    for (std::uint32_t i = 0; i < 30; ++i) {
      ASSERT_TRUE(c.send_frame(text_frame(100, i, "over tls " + std::to_string(i))));
      auto p = c.read_frame();
      ASSERT_TRUE(p.has_value()) << i;
      EXPECT_EQ(decode(*p).seq, i);
      EXPECT_EQ(decode(*p).text, "over tls " + std::to_string(i));
    }
  }
}

TEST_F(tls_session_test, a_plain_text_client_on_the_tls_port_is_refused_as_plaintext_client) {
  const auto at = listen_tls();
  raw_client plain(port_, at);
  ASSERT_TRUE(plain.send_frame(text_frame(100, 1, "hello in the clear")));
  EXPECT_TRUE(plain.wait_closed().has_value()) << "the server closes the plain-text client";
  plain.shutdown_send();
  EXPECT_TRUE(closed_with(tls_errc::plaintext_client));
  expect_bystander_served(at);
}

TEST_F(tls_session_test, garbage_in_the_handshake_gets_an_alert_and_closes_as_handshake_failed) {
  const auto at = listen_tls();
  raw_client c(port_, at);
  bytes rec = {std::byte{22}, std::byte{3}, std::byte{1}, std::byte{0}, std::byte{48}};
  for (int i = 0; i < 48; ++i) rec.push_back(static_cast<std::byte>(i * 37));
  ASSERT_TRUE(c.send(rec));
  auto alert = c.read_bytes(7);  // one alert record: 5-byte header + level + description
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ((*alert)[0], std::byte{21}) << "an alert record";
  EXPECT_EQ((*alert)[5], std::byte{2}) << "fatal";
  EXPECT_TRUE(c.wait_closed().has_value());
  c.shutdown_send();
  EXPECT_TRUE(closed_with(tls_errc::handshake_failed));
  expect_bystander_served(at);
}

TEST_F(tls_session_test, a_handshake_that_stalls_is_closed_at_its_deadline_while_a_bystander_is_served) {
  const auto at = listen_tls(300ms);
  auto ctx = client_context();
  // Before the connect: the deadline counts from the server's accept, which the connect precedes.
  const auto started = clock::now();
  tls_client staller(port_, at, ctx);
  // Half a ClientHello, then nothing.
  const auto hello = staller.engine().output();
  ASSERT_GT(hello.size(), 20u);
  ASSERT_TRUE(staller.socket().send(hello.first(hello.size() / 2)));
  expect_bystander_served(at);
  EXPECT_TRUE(staller.socket().wait_closed().has_value());
  EXPECT_TRUE(closed_with(tls_errc::handshake_timeout));
  // Not before the deadline (the close is seen here after it happened; the sweep's 50 ms tick
  // may make it later, never earlier).
  EXPECT_GE(clock::now() - started, 300ms);
}

TEST_F(tls_session_test, a_tls_1_2_client_asking_to_renegotiate_is_refused_and_closed) {
  const auto at = listen_tls();
  auto ctx = client_context(true);
  tls_client c(port_, at, ctx);
  ASSERT_TRUE(c.handshake()) << c.engine().detail();
  ASSERT_TRUE(c.send_frame(text_frame(100, 1, "before")));
  ASSERT_TRUE(c.read_frame().has_value());
  ASSERT_TRUE(c.engine().request_renegotiation());
  ASSERT_TRUE(c.flush());
  EXPECT_TRUE(c.socket().wait_closed().has_value());
  c.socket().shutdown_send();
  EXPECT_TRUE(closed_with(tls_errc::renegotiation_refused));
  expect_bystander_served(at);
}

TEST_F(tls_session_test, a_client_that_resets_or_leaves_inside_a_record_is_closed_as_reset_mid_record) {
  const auto at = listen_tls();
  for (bool reset : {true, false}) {
    auto ctx = client_context();
    tls_client c(port_, at, ctx);
    ASSERT_TRUE(c.handshake()) << c.engine().detail();
    // One whole record and half of the next in one send (one loopback segment): the echo of
    // the first proves the server's receive took the half record too.
    ASSERT_TRUE(c.engine().write(text_frame(100, 1, "whole").wire()));
    const auto first = c.engine().output().size();
    ASSERT_TRUE(c.engine().write(text_frame(100, 2, std::string(2000, 'x')).wire()));
    const auto out = c.engine().output();
    const std::size_t cut = first + (out.size() - first) / 2;
    ASSERT_TRUE(c.socket().send(out.first(cut)));
    c.engine().consume_output(out.size());  // the rest is never sent
    auto echoed = c.read_frame();
    ASSERT_TRUE(echoed.has_value());
    EXPECT_EQ(decode(*echoed).text, "whole");
    if (reset) {
      c.socket().reset();
    } else {
      c.socket().shutdown_send();
    }
    EXPECT_TRUE(closed_with(tls_errc::reset_mid_record)) << (reset ? "reset" : "FIN");
    {
      std::lock_guard lk(rec_.mu);
      rec_.closed.clear();
    }
  }
  expect_bystander_served(at);
}

TEST_F(tls_session_test, a_graceful_close_of_a_tls_session_sends_close_notify_before_the_fin) {
  const auto at = listen_tls();
  auto ctx = client_context();
  tls_client c(port_, at, ctx);
  ASSERT_TRUE(c.handshake());
  ASSERT_TRUE(c.send_frame(text_frame(100, 1, "hi")));
  ASSERT_TRUE(c.read_frame().has_value());
  session_handle h;
  {
    std::lock_guard lk(rec_.mu);
    ASSERT_EQ(rec_.accepted.size(), 1u);
    h = rec_.accepted[0];
  }
  ASSERT_FALSE(net_.close(h));
  EXPECT_FALSE(c.read_frame().has_value()) << "the stream ends";
  EXPECT_TRUE(c.engine().peer_closed()) << "with close_notify";
  EXPECT_FALSE(c.engine().failed()) << c.engine().detail();
}

TEST_F(tls_session_test, sixteen_tls_clients_at_once_on_two_workers_each_get_their_own_frames_back) {
  // Stress for the layer under the session's mutex (run under TSan): handshakes and records of
  // many sessions interleave on both workers.
  const auto at = listen_tls();
  auto ctx = client_context();
  constexpr int clients = 16, frames = 40;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      tls_client c(port_, at, ctx);
      if (!c.handshake()) return;
      for (std::uint32_t i = 0; i < frames; ++i) {
        const std::string text = "client " + std::to_string(t) + " frame " + std::to_string(i);
        if (!c.send_frame(text_frame(100, i, text))) return;
        auto p = c.read_frame();
        if (!p || decode(*p).text != text) return;
      }
      good.fetch_add(1);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), clients);
}

TEST_F(tls_session_test, websocket_over_tls_wss_exchanges_envelopes_beside_quay_frames_over_tls) {
  std::string error;
  listen_options o;
  o.session.layer = make_tls_server_layer(
      {certs().files.certificate_file, certs().files.private_key_file}, error);
  ASSERT_TRUE(o.session.layer) << error;
  o.protocols.websocket = true;
  const auto at = listen_echo(o);
  auto ctx = client_context();
  tls_client c(port_, at, ctx);
  ASSERT_TRUE(c.handshake()) << c.engine().detail();
  const std::string upgrade =
      "GET /play HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  ASSERT_TRUE(c.engine().write(std::as_bytes(std::span(upgrade.data(), upgrade.size()))));
  ASSERT_TRUE(c.flush());
  auto response = c.read_until("\r\n\r\n");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->rfind("HTTP/1.1 101 ", 0), 0u) << *response;
  EXPECT_NE(response->find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << *response;
  for (std::uint32_t i = 0; i < 20; ++i) {
    const std::string text = "wss " + std::to_string(i);
    const frame f = text_frame(100, i, text);
    // One masked binary message = one envelope (RFC 6455 5.2; payload under 126 bytes).
    const auto payload = f.payload();
    ASSERT_LT(payload.size(), 126u);
    bytes msg = {std::byte{0x82}, static_cast<std::byte>(0x80 | payload.size()), std::byte{1},
                 std::byte{2}, std::byte{3}, std::byte{4}};
    for (std::size_t k = 0; k < payload.size(); ++k) {
      msg.push_back(payload[k] ^ static_cast<std::byte>(1 + k % 4));
    }
    ASSERT_TRUE(c.engine().write(msg));
    ASSERT_TRUE(c.flush());
    auto head = c.read_plain(2);
    ASSERT_TRUE(head.has_value()) << i;
    EXPECT_EQ((*head)[0], std::byte{0x82}) << "a final binary frame, unmasked";
    const auto len = static_cast<std::size_t>((*head)[1]);
    ASSERT_LT(len, 126u);
    auto body = c.read_plain(len);
    ASSERT_TRUE(body.has_value());
    EXPECT_EQ(decode(*body).text, text);
  }
  // Quay frames over TLS on the same port are served too.
  tls_client q(port_, at, ctx);
  ASSERT_TRUE(q.handshake());
  ASSERT_TRUE(q.send_frame(text_frame(100, 1, "tls tcp")));
  auto p = q.read_frame();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(decode(*p).text, "tls tcp");
}

TEST_F(tls_session_test, a_listener_with_a_missing_certificate_is_refused_with_the_path) {
  std::string error;
  auto f = make_tls_server_layer({"/nonexistent/server.crt", "/nonexistent/server.key"}, error);
  EXPECT_FALSE(f);
  EXPECT_NE(error.find("/nonexistent/server.crt"), std::string::npos) << error;
  EXPECT_TRUE(tls_available());
}

}  // namespace
}  // namespace quay::net::test
