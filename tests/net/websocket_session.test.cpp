// WebSocket and HTTP on the game port, at session level over 127.0.0.1: the upgrade, one binary
// message = one envelope both ways, encode-once fan-out to TCP and WebSocket sessions, ping and
// close, plain HTTP GETs answered by the owner, and every hostile case of issue 17 — each one
// checks that a TCP bystander on the same port is still served.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "net_test_support.hpp"

namespace quay::net::test {
namespace {

constexpr std::uint16_t text_type = 100;
constexpr std::string_view good_key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view good_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

bytes as_bytes(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return bytes(p, p + s.size());
}

std::string upgrade_request(std::string_view key = good_key, std::string_view target = "/play") {
  std::string r = "GET ";
  r.append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
  r.append("Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ");
  r.append(key).append("\r\n\r\n");
  return r;
}

// A client frame: masked unless told otherwise.
bytes client_frame(std::uint8_t opcode, std::span<const std::byte> payload, bool fin = true,
                   bool masked = true) {
  bytes out;
  out.push_back(std::byte{static_cast<std::uint8_t>((fin ? 0x80 : 0) | opcode)});
  const std::uint8_t m = masked ? 0x80 : 0;
  const std::size_t n = payload.size();
  if (n < 126) {
    out.push_back(std::byte{static_cast<std::uint8_t>(m | n)});
  } else if (n < 65536) {
    out.push_back(std::byte{static_cast<std::uint8_t>(m | 126)});
    out.push_back(std::byte{static_cast<std::uint8_t>(n >> 8)});
    out.push_back(std::byte{static_cast<std::uint8_t>(n & 0xff)});
  } else {
    out.push_back(std::byte{static_cast<std::uint8_t>(m | 127)});
    for (int i = 7; i >= 0; --i) out.push_back(std::byte{static_cast<std::uint8_t>((n >> (8 * i)) & 0xff)});
  }
  const std::array<std::byte, 4> key{std::byte{0x12}, std::byte{0x34}, std::byte{0x56}, std::byte{0x78}};
  if (masked) out.insert(out.end(), key.begin(), key.end());
  for (std::size_t i = 0; i < n; ++i) out.push_back(masked ? payload[i] ^ key[i % 4] : payload[i]);
  return out;
}
bytes binary(const frame& f) { return client_frame(0x2, f.payload()); }

struct ws_frame {
  int opcode = -1;
  bool fin = false;
  bool masked = false;
  bytes payload;
};

std::optional<ws_frame> read_ws(raw_client& c) {
  auto h = c.read_bytes(2);
  if (!h) return std::nullopt;
  ws_frame f;
  f.fin = (static_cast<std::uint8_t>((*h)[0]) & 0x80) != 0;
  f.opcode = static_cast<std::uint8_t>((*h)[0]) & 0x0f;
  f.masked = (static_cast<std::uint8_t>((*h)[1]) & 0x80) != 0;
  std::uint64_t n = static_cast<std::uint8_t>((*h)[1]) & 0x7f;
  if (n >= 126) {
    auto ext = c.read_bytes(n == 126 ? 2 : 8);
    if (!ext) return std::nullopt;
    n = 0;
    for (auto b : *ext) n = (n << 8) | static_cast<std::uint8_t>(b);
  }
  auto p = c.read_bytes(static_cast<std::size_t>(n));
  if (!p) return std::nullopt;
  f.payload = std::move(*p);
  return f;
}

std::uint16_t close_code_of(const ws_frame& f) {
  if (f.payload.size() < 2) return 0;
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(f.payload[0]) << 8) |
                                    static_cast<std::uint8_t>(f.payload[1]));
}

// The HTTP response head and body (Content-Length), or nullopt.
std::optional<std::string> read_http(raw_client& c) {
  std::string head;
  for (int i = 0; i < 16384 && head.find("\r\n\r\n") == std::string::npos; ++i) {
    auto b = c.read_bytes(1);
    if (!b) return std::nullopt;
    head.push_back(static_cast<char>((*b)[0]));
  }
  const auto cl = head.find("Content-Length: ");
  std::size_t len = 0;
  if (cl != std::string::npos) len = std::stoul(head.substr(cl + 16));
  auto body = c.read_bytes(len);
  if (!body) return std::nullopt;
  return head + std::string(reinterpret_cast<const char*>(body->data()), body->size());
}

listen_options ws_listener(bool http = false) {
  listen_options o;
  o.protocols.websocket = true;
  o.protocols.http = http;
  o.websocket.handshake_timeout = 300ms;
  return o;
}

// A plain TCP client on the same port still gets its echo.
void expect_bystander_served(io_port& p, const endpoint& at) {
  raw_client b(p, at);
  ASSERT_TRUE(b.connected());
  ASSERT_TRUE(b.send_frame(text_frame(text_type, 9, "bystander")));
  auto r = b.read_frame();
  ASSERT_TRUE(r.has_value()) << "the TCP bystander was not served";
  EXPECT_EQ(decode(*r).text, "bystander");
}

class websocket_session_test : public net_fixture {
 protected:
  // Connects and upgrades; the client is ready for frames.
  std::unique_ptr<raw_client> open_ws(const endpoint& at) {
    auto c = std::make_unique<raw_client>(port_, at);
    EXPECT_TRUE(c->connected());
    EXPECT_TRUE(c->send(as_bytes(upgrade_request())));
    auto r = read_http(*c);
    EXPECT_TRUE(r.has_value());
    if (r) {
      EXPECT_EQ(r->rfind("HTTP/1.1 101 ", 0), 0u) << *r;
      EXPECT_NE(r->find(good_accept), std::string::npos) << *r;
    }
    return c;
  }
  // Sends `hostile` after the upgrade and expects a close frame with `code`, then the end of
  // the stream, the owner told `reason`, and a bystander served.
  void expect_closed_with(const endpoint& at, const bytes& hostile, std::uint16_t code,
                          std::error_code reason) {
    auto c = open_ws(at);
    ASSERT_TRUE(c->send(hostile));
    std::optional<ws_frame> f;
    for (int i = 0; i < 100; ++i) {  // pongs may come first
      f = read_ws(*c);
      if (!f || f->opcode == 0x8) break;
    }
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->opcode, 0x8);
    EXPECT_EQ(close_code_of(*f), code);
    EXPECT_TRUE(c->wait_closed().has_value());
    c->shutdown_send();
    auto why = rec_.wait_closed();
    ASSERT_TRUE(why.has_value());
    EXPECT_EQ(*why, reason);
    expect_bystander_served(port_, at);
  }
};

TEST_F(websocket_session_test, a_websocket_client_exchanges_envelopes_while_tcp_on_the_same_port_is_served) {
  const auto at = listen_echo(ws_listener());
  auto c = open_ws(at);
  for (int i = 0; i < 100; ++i) {
    const frame f = text_frame(text_type, static_cast<std::uint32_t>(i), "ws " + std::to_string(i));
    ASSERT_TRUE(c->send(binary(f)));
    auto back = read_ws(*c);
    ASSERT_TRUE(back.has_value()) << i;
    EXPECT_EQ(back->opcode, 0x2);
    EXPECT_TRUE(back->fin);
    EXPECT_FALSE(back->masked);
    EXPECT_EQ(decode(back->payload).text, "ws " + std::to_string(i));
  }
  expect_bystander_served(port_, at);
  EXPECT_EQ(net_.info(rec_.accepted[0])->websocket, true);
}

TEST_F(websocket_session_test, a_request_split_byte_by_byte_and_frames_right_behind_it_are_served) {
  const auto at = listen_echo(ws_listener());
  raw_client c(port_, at);
  const frame f = text_frame(text_type, 1, "behind the request");
  bytes all = as_bytes(upgrade_request());
  const std::size_t request_bytes = all.size();
  const bytes msg = binary(f);
  all.insert(all.end(), msg.begin(), msg.end());
  for (std::size_t i = 0; i < 6; ++i) ASSERT_TRUE(c.send(std::span(all).subspan(i, 1)));
  ASSERT_TRUE(c.send(std::span(all).subspan(6)));
  (void)request_bytes;
  auto r = read_http(c);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 101 ", 0), 0u);
  auto back = read_ws(c);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(decode(back->payload).text, "behind the request");
}

TEST_F(websocket_session_test, one_encoded_frame_reaches_a_tcp_and_a_websocket_session_unchanged) {
  const auto at = listen_echo(ws_listener());
  auto w = open_ws(at);
  raw_client t(port_, at);
  ASSERT_TRUE(t.send_frame(text_frame(text_type, 1, "hello")));
  ASSERT_TRUE(t.read_frame().has_value());
  ASSERT_TRUE(rec_.wait_accepted(2));
  const frame shared = text_frame(text_type, 77, std::string(300, 'z'));
  std::vector<session_handle> hs;
  {
    std::lock_guard lk(rec_.mu);
    hs = rec_.accepted;
  }
  for (const auto& h : hs) ASSERT_FALSE(net_.send(h, shared));
  auto on_tcp = t.read_frame();
  auto on_ws = read_ws(*w);
  ASSERT_TRUE(on_tcp.has_value());
  ASSERT_TRUE(on_ws.has_value());
  EXPECT_EQ(*on_tcp, on_ws->payload);
  EXPECT_TRUE(std::equal(on_tcp->begin(), on_tcp->end(), shared.payload().begin(), shared.payload().end()));
}

TEST_F(websocket_session_test, a_client_ping_is_answered_with_its_payload_and_a_close_is_echoed) {
  const auto at = listen_echo(ws_listener());
  auto c = open_ws(at);
  ASSERT_TRUE(c->send(client_frame(0x9, as_bytes("are you there"))));
  auto pong = read_ws(*c);
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->opcode, 0xA);
  EXPECT_EQ(pong->payload, as_bytes("are you there"));
  const bytes code{std::byte{0x03}, std::byte{0xe8}};  // 1000
  ASSERT_TRUE(c->send(client_frame(0x8, code)));
  auto echo = read_ws(*c);
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->opcode, 0x8);
  EXPECT_EQ(close_code_of(*echo), 1000);
  EXPECT_TRUE(c->wait_closed().has_value());
  c->shutdown_send();
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::closed_by_peer);
}

TEST_F(websocket_session_test, a_server_close_sends_frames_then_a_normal_close_frame) {
  const auto at = listen_echo(ws_listener());
  auto c = open_ws(at);
  ASSERT_TRUE(rec_.wait_accepted(1));
  const session_handle h = rec_.accepted[0];
  ASSERT_FALSE(net_.send(h, text_frame(text_type, 5, "goodbye")));
  ASSERT_FALSE(net_.close(h));
  auto last = read_ws(*c);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(decode(last->payload).text, "goodbye");
  auto cl = read_ws(*c);
  ASSERT_TRUE(cl.has_value());
  EXPECT_EQ(cl->opcode, 0x8);
  EXPECT_EQ(close_code_of(*cl), 1000);
  EXPECT_TRUE(c->wait_closed().has_value());
}

TEST_F(websocket_session_test, a_websocket_flood_pauses_reading_at_the_owners_mark_and_every_message_arrives) {
  auto o = ws_listener();
  o.session.mailbox_high_water = 64;
  o.session.mailbox_low_water = 16;
  o.session.idle_timeout = 0ms;
  gated_owner::gate g;
  std::atomic<int> n{0};
  actor_ref flooded_owner;
  endpoint at;
  ASSERT_FALSE(net_.listen(
      o,
      [&](session_handle, const endpoint&) {
        if (n.fetch_add(1) == 0) return flooded_owner = system_.spawn<gated_owner>(g);
        return system_.spawn<echo_owner>(net_, rec_);
      },
      &at));
  auto flood = open_ws(at);
  constexpr int messages = 3000;
  bytes blob;
  for (int i = 0; i < messages; ++i) {
    const bytes m = binary(text_frame(text_type, static_cast<std::uint32_t>(i), "flood"));
    blob.insert(blob.end(), m.begin(), m.end());
  }
  ASSERT_TRUE(flood->send(blob));
  const session_handle h{0, 1};
  ASSERT_TRUE(poll_until([&] {
    auto inf = net_.info(h);
    return inf && inf->reading_paused;
  })) << "reads pause";
  const auto depth = system_.mailbox_depth(flooded_owner);
  ASSERT_TRUE(depth.has_value());
  EXPECT_LE(*depth, 64u + 16u) << "the mailbox stays near its high-water mark";
  expect_bystander_served(port_, at);
  g.release();
  EXPECT_TRUE(poll_until([&] { return g.frames.load() == messages; }))
      << "got " << g.frames.load() << " of " << messages;
}

TEST_F(websocket_session_test, a_quiet_websocket_gets_a_heartbeat_ping_envelope_and_then_times_out) {
  auto o = ws_listener();
  o.session.heartbeat_interval = 100ms;
  o.session.idle_timeout = 400ms;
  const auto at = listen_echo(o);
  auto c = open_ws(at);
  auto ping = read_ws(*c);
  ASSERT_TRUE(ping.has_value());
  EXPECT_EQ(ping->opcode, 0x2);
  EXPECT_EQ(decode(ping->payload).type, msg_type::ping);
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::idle_timeout);
}

// Hostile input.

TEST_F(websocket_session_test, a_handshake_that_never_ends_is_closed_at_the_deadline) {
  const auto at = listen_echo(ws_listener());
  raw_client c(port_, at);
  ASSERT_TRUE(c.send(as_bytes("GET /play HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")));
  auto end = c.wait_closed(5s);
  ASSERT_TRUE(end.has_value()) << "the slow handshake was not closed";
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::handshake_timeout);
  expect_bystander_served(port_, at);
}

TEST_F(websocket_session_test, a_connection_that_sends_nothing_is_closed_at_the_deadline) {
  const auto at = listen_echo(ws_listener());
  raw_client c(port_, at);
  ASSERT_TRUE(c.send(as_bytes("GE")));
  ASSERT_TRUE(c.wait_closed(5s).has_value());
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::handshake_timeout);
  expect_bystander_served(port_, at);
}

TEST_F(websocket_session_test, an_oversized_header_is_refused_with_431) {
  const auto at = listen_echo(ws_listener());
  raw_client c(port_, at);
  std::string req = "GET /play HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ";
  req.append(10000, 'a');
  ASSERT_TRUE(c.send(as_bytes(req)));
  auto r = read_http(c);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 431 ", 0), 0u) << *r;
  EXPECT_TRUE(c.wait_closed().has_value());
  c.shutdown_send();
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::handshake_refused);
  expect_bystander_served(port_, at);
}

TEST_F(websocket_session_test, a_bad_sec_websocket_key_is_refused_with_400) {
  const auto at = listen_echo(ws_listener());
  raw_client c(port_, at);
  ASSERT_TRUE(c.send(as_bytes(upgrade_request("not-a-key"))));
  auto r = read_http(c);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 400 ", 0), 0u) << *r;
  EXPECT_TRUE(c.wait_closed().has_value());
  c.shutdown_send();
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::handshake_refused);
  expect_bystander_served(port_, at);
}

TEST_F(websocket_session_test, an_unmasked_client_frame_is_closed_with_1002) {
  const auto at = listen_echo(ws_listener());
  expect_closed_with(at, client_frame(0x2, text_frame(text_type, 1, "x").payload(), true, false),
                     1002, errc::websocket_protocol_error);
}

TEST_F(websocket_session_test, an_oversized_message_is_closed_with_1009) {
  auto o = ws_listener();
  o.session.max_frame_size = 1024;
  const auto at = listen_echo(o);
  const bytes big(4096, std::byte{0});
  expect_closed_with(at, client_frame(0x2, big), 1009, errc::websocket_too_big);
}

TEST_F(websocket_session_test, an_endlessly_fragmented_message_is_closed_with_1008) {
  const auto at = listen_echo(ws_listener());
  bytes all = client_frame(0x2, as_bytes("a"), false);
  for (int i = 0; i < 200; ++i) {
    const bytes more = client_frame(0x0, as_bytes("a"), false);
    all.insert(all.end(), more.begin(), more.end());
  }
  expect_closed_with(at, all, 1008, errc::websocket_policy);
}

TEST_F(websocket_session_test, an_unknown_opcode_is_closed_with_1002) {
  const auto at = listen_echo(ws_listener());
  expect_closed_with(at, client_frame(0x3, as_bytes("?")), 1002, errc::websocket_protocol_error);
}

TEST_F(websocket_session_test, a_ping_flood_is_closed_with_1008) {
  const auto at = listen_echo(ws_listener());
  bytes all;
  for (int i = 0; i < 100; ++i) {
    const bytes ping = client_frame(0x9, as_bytes("p"));
    all.insert(all.end(), ping.begin(), ping.end());
  }
  expect_closed_with(at, all, 1008, errc::websocket_policy);
}

TEST_F(websocket_session_test, a_close_with_an_invalid_code_is_closed_with_1002) {
  const auto at = listen_echo(ws_listener());
  const bytes code{std::byte{0x03}, std::byte{0xed}};  // 1005 may not be sent
  expect_closed_with(at, client_frame(0x8, code), 1002, errc::websocket_protocol_error);
}

TEST_F(websocket_session_test, a_text_frame_is_closed_with_1003) {
  const auto at = listen_echo(ws_listener());
  expect_closed_with(at, client_frame(0x1, as_bytes("hello")), 1003, errc::websocket_text_frame);
}

TEST_F(websocket_session_test, a_binary_message_that_is_not_an_envelope_ends_the_session) {
  const auto at = listen_echo(ws_listener());
  auto c = open_ws(at);
  ASSERT_TRUE(c->send(client_frame(0x2, as_bytes("not a flatbuffer at all"))));
  EXPECT_TRUE(c->wait_closed().has_value());
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::invalid_envelope);
  expect_bystander_served(port_, at);
}

TEST_F(websocket_session_test, a_websocket_upgrade_on_a_quay_only_listener_is_not_served) {
  const auto at = listen_echo();
  raw_client c(port_, at);
  ASSERT_TRUE(c.send(as_bytes(upgrade_request())));
  EXPECT_TRUE(c.wait_closed().has_value());
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::frame_too_large);
  expect_bystander_served(port_, at);
}

// HTTP.

class http_owner : public actor {
 public:
  http_owner(network& n, recorder& r) : net_(n), rec_(r) {}
  static void define(handlers<http_owner>& h) {
    h.on<&http_owner::on_request>().on<&http_owner::on_closed>();
  }

 private:
  void on_request(const http_request& r) {
    http_response a;
    a.status = r.target == "/missing" ? 404 : 200;
    a.content_type = "text/html";
    a.body = "<p>" + r.target + " auth=" + r.authorization + "</p>";
    a.headers.push_back({"Cache-Control", "no-store"});
    a.headers.push_back({"Bad\r\nHeader", "x"});
    EXPECT_FALSE(net_.respond(r.session, a));
    EXPECT_TRUE(net_.respond(r.session, a));  // once only
  }
  void on_closed(const session_closed& m) {
    rec_.on_closed(m.session, m.reason);
    stop();
  }
  network& net_;
  recorder& rec_;
};

TEST_F(websocket_session_test, a_plain_get_goes_to_the_owner_and_its_answer_closes_the_connection) {
  endpoint at;
  auto o = ws_listener(true);
  ASSERT_FALSE(net_.listen(
      o, [this](session_handle, const endpoint&) { return system_.spawn<http_owner>(net_, rec_); },
      &at));
  raw_client c(port_, at);
  ASSERT_TRUE(c.send(as_bytes("GET /admin?zone=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Authorization: Bearer abc\r\nAccept: text/html\r\n\r\n")));
  auto r = read_http(c);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << *r;
  EXPECT_NE(r->find("Content-Type: text/html\r\n"), std::string::npos);
  EXPECT_NE(r->find("Cache-Control: no-store\r\n"), std::string::npos);
  EXPECT_EQ(r->find("Bad"), std::string::npos);
  EXPECT_NE(r->find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(r->find("<p>/admin?zone=1 auth=Bearer abc</p>"), std::string::npos);
  EXPECT_TRUE(c.wait_closed().has_value());
  c.shutdown_send();
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::http_answered);
}

// A session_handler that does not answer HTTP (the default on_http_request).
class frames_only_handler final : public session_handler {
 public:
  explicit frames_only_handler(recorder& r) : rec_(r) {}
  void on_accepted(session_handle s, const endpoint&) override { rec_.on_accepted(s); }
  void on_frame(session_handle, const frame&, const envelope_view&) override { rec_.on_frame(); }
  void on_closed(session_handle s, std::error_code reason) override { rec_.on_closed(s, reason); }

 private:
  recorder& rec_;
};

TEST_F(websocket_session_test, a_handler_that_does_not_answer_http_gets_a_404_sent_for_it) {
  frames_only_handler handler(rec_);
  endpoint at;
  ASSERT_FALSE(net_.listen(ws_listener(true), handler, &at));
  raw_client c(port_, at);
  ASSERT_TRUE(c.send(as_bytes("GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")));
  auto r = read_http(c);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << *r;
  EXPECT_TRUE(c.wait_closed().has_value());
  c.shutdown_send();
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::http_answered);
  net_.shutdown();  // before `handler` goes
}

TEST_F(websocket_session_test, a_plain_get_on_a_listener_without_http_is_refused_with_426) {
  const auto at = listen_echo(ws_listener(false));
  raw_client c(port_, at);
  ASSERT_TRUE(c.send(as_bytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")));
  auto r = read_http(c);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 426 ", 0), 0u) << *r;
  expect_bystander_served(port_, at);
}

TEST_F(websocket_session_test, a_quay_streams_frames_behind_the_first_in_one_receive_are_all_decoded) {
  // The bytes that decided "Quay, not WebSocket" came in one receive with more behind them: a
  // ping (answered by the session) and a zero-length header, which ends the session as it does
  // on a Quay-only listener.
  const auto at = listen_echo(ws_listener(true));
  raw_client c(port_, at);
  ASSERT_TRUE(c.connected());
  const frame f = text_frame(msg_type::ping, 1, "");
  bytes both(f.wire().begin(), f.wire().end());
  both.insert(both.end(), 4, std::byte{0});
  ASSERT_TRUE(c.send(both));
  EXPECT_TRUE(c.wait_closed().has_value()) << "the zero-length header behind the ping was not read";
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::zero_length_frame);
}

TEST_F(websocket_session_test, a_listener_without_quay_refuses_a_quay_stream) {
  auto o = ws_listener(true);
  o.protocols.quay = false;
  const auto at = listen_echo(o);
  raw_client c(port_, at);
  ASSERT_TRUE(c.send_frame(text_frame(text_type, 1, "tcp")));
  EXPECT_TRUE(c.wait_closed().has_value());
  auto why = rec_.wait_closed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, errc::protocol_not_accepted);
}

}  // namespace
}  // namespace quay::net::test
