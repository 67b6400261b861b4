// The WebSocket upgrade handshake: valid requests are answered with the RFC accept key, and
// each kind of refusal gets its own error and HTTP status.
#include "handshake.hpp"

#include <gtest/gtest.h>

#include <string>

#include "connection.hpp"

namespace {

using quay::net::ws::handshake;
using quay::net::ws::handshake_error;
using quay::net::ws::handshake_limits;
using quay::net::ws::handshake_status;

std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string request(std::string extra_headers = {},
                    std::string key = "dGhlIHNhbXBsZSBub25jZQ==",
                    std::string first_line = "GET /play HTTP/1.1") {
  return first_line + "\r\nHost: 127.0.0.1:7000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n" + extra_headers + "\r\n";
}

// Feeds `text` in one piece; returns the status.
handshake_status feed_all(handshake& h, std::string_view text, std::size_t* consumed = nullptr) {
  std::size_t n = 0;
  const auto s = h.feed(as_bytes(text), n);
  if (consumed != nullptr) *consumed = n;
  return s;
}

handshake_error refusal_of(const std::string& text, handshake_limits limits = {}) {
  handshake h(limits);
  EXPECT_EQ(feed_all(h, text), handshake_status::refused) << text;
  return h.error();
}

TEST(websocket_handshake, the_accept_key_matches_the_example_of_rfc_6455) {
  EXPECT_EQ(quay::net::ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(websocket_handshake, a_valid_upgrade_is_answered_with_101_and_the_accept_key) {
  handshake h;
  const std::string req = request("Origin: http://127.0.0.1:7000\r\n");
  std::size_t consumed = 0;
  ASSERT_EQ(feed_all(h, req, &consumed), handshake_status::accepted);
  EXPECT_EQ(consumed, req.size());
  EXPECT_EQ(h.target(), "/play");
  EXPECT_EQ(h.origin(), "http://127.0.0.1:7000");
  EXPECT_EQ(h.host(), "127.0.0.1:7000");
  EXPECT_EQ(h.response(),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

TEST(websocket_handshake, a_request_split_into_single_bytes_is_accepted) {
  handshake h;
  const std::string req = request();
  handshake_status s = handshake_status::need_more;
  for (std::size_t i = 0; i < req.size(); ++i) {
    std::size_t n = 0;
    s = h.feed(as_bytes(req).subspan(i, 1), n);
    EXPECT_EQ(n, 1u) << "byte " << i;
    if (i + 1 < req.size()) {
      ASSERT_EQ(s, handshake_status::need_more) << "byte " << i;
    }
  }
  EXPECT_EQ(s, handshake_status::accepted);
}

TEST(websocket_handshake, frames_sent_right_behind_the_request_are_left_for_the_framer) {
  handshake h;
  const std::string req = request();
  const std::string stream = req + "\x82\x80XXXX";
  std::size_t consumed = 0;
  ASSERT_EQ(feed_all(h, stream, &consumed), handshake_status::accepted);
  EXPECT_EQ(consumed, req.size());
}

TEST(websocket_handshake, a_connection_header_listing_upgrade_among_other_tokens_is_accepted) {
  handshake h;
  std::string req = request();
  req.replace(req.find("Connection: Upgrade"), 19, "Connection: keep-alive, Upgrade");
  EXPECT_EQ(feed_all(h, req), handshake_status::accepted);
}

TEST(websocket_handshake, a_bad_key_is_refused_with_400) {
  EXPECT_EQ(refusal_of(request({}, "not-base64!")), handshake_error::bad_key);
  EXPECT_EQ(refusal_of(request({}, "dGhlIHNhbXBsZSBub25j")), handshake_error::bad_key);  // 15 bytes
  EXPECT_EQ(refusal_of(request({}, "dGhlIHNhbXBsZSBub25jZR==")), handshake_error::bad_key);  // not canonical
  EXPECT_EQ(refusal_of(request("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")), handshake_error::bad_key);
  handshake h;
  feed_all(h, request({}, "x"));
  EXPECT_TRUE(h.response().starts_with("HTTP/1.1 400 Bad Request\r\n")) << h.response();
  EXPECT_NE(h.response().find("Connection: close\r\n"), std::string::npos);
}

TEST(websocket_handshake, a_missing_key_is_refused_as_a_bad_key) {
  std::string req = request();
  req.erase(req.find("Sec-WebSocket-Key"), req.find("\r\n", req.find("Sec-WebSocket-Key")) -
                                               req.find("Sec-WebSocket-Key") + 2);
  EXPECT_EQ(refusal_of(req), handshake_error::bad_key);
}

TEST(websocket_handshake, a_version_other_than_13_is_refused_with_426_naming_13) {
  std::string req = request();
  req.replace(req.find("Version: 13"), 11, "Version: 8");
  handshake h;
  ASSERT_EQ(feed_all(h, req), handshake_status::refused);
  EXPECT_EQ(h.error(), handshake_error::unsupported_version);
  EXPECT_TRUE(h.response().starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
  EXPECT_NE(h.response().find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
}

TEST(websocket_handshake, a_plain_get_without_upgrade_is_refused_with_426) {
  const std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(refusal_of(req), handshake_error::not_websocket_upgrade);
  EXPECT_EQ(quay::net::ws::http_status(handshake_error::not_websocket_upgrade), 426);
}

TEST(websocket_handshake, another_method_or_version_is_refused) {
  EXPECT_EQ(refusal_of(request({}, "dGhlIHNhbXBsZSBub25jZQ==", "POST /play HTTP/1.1")), handshake_error::not_get);
  EXPECT_EQ(refusal_of(request({}, "dGhlIHNhbXBsZSBub25jZQ==", "GET /play HTTP/1.0")), handshake_error::not_http11);
  EXPECT_EQ(quay::net::ws::http_status(handshake_error::not_get), 405);
}

TEST(websocket_handshake, a_missing_host_or_a_body_is_refused_with_400) {
  std::string req = request();
  req.erase(req.find("Host:"), req.find("\r\n", req.find("Host:")) - req.find("Host:") + 2);
  EXPECT_EQ(refusal_of(req), handshake_error::missing_host);
  EXPECT_EQ(refusal_of(request("Content-Length: 5\r\n")), handshake_error::has_body);
}

TEST(websocket_handshake, bytes_that_are_not_http_are_refused_as_malformed) {
  EXPECT_EQ(refusal_of("GET /\x01\x02 HTTP/1.1\r\n\r\n"), handshake_error::malformed);
  EXPECT_EQ(refusal_of("GET / HTTP/1.1\r\nbad header line\r\n\r\n"), handshake_error::malformed);
}

TEST(websocket_handshake, an_oversized_header_is_refused_with_431_before_it_is_all_read) {
  handshake_limits limits;
  limits.max_header_bytes = 1024;
  handshake h(limits);
  const std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
  std::size_t consumed = 0;
  ASSERT_EQ(h.feed(as_bytes(big), consumed), handshake_status::refused);
  EXPECT_EQ(h.error(), handshake_error::headers_too_large);
  EXPECT_LE(consumed, limits.max_header_bytes + 1);
  EXPECT_TRUE(h.response().starts_with("HTTP/1.1 431 "));
}

TEST(websocket_handshake, a_handshake_that_never_ends_is_refused_once_it_passes_the_byte_limit) {
  handshake h;  // the default limit: 8 KiB
  const std::string start = "GET / HTTP/1.1\r\n";
  std::size_t n = 0;
  ASSERT_EQ(h.feed(as_bytes(start), n), handshake_status::need_more);
  const std::string line = "X-Drip: 1\r\n";
  handshake_limits few;
  few.max_headers = 100000;  // only the byte limit applies
  handshake drip(few);
  ASSERT_EQ(drip.feed(as_bytes(start), n), handshake_status::need_more);
  std::size_t fed = start.size();
  handshake_status s = handshake_status::need_more;
  while (s == handshake_status::need_more && fed < 64 * 1024) {
    s = drip.feed(as_bytes(line), n);
    fed += line.size();
  }
  EXPECT_EQ(s, handshake_status::refused);
  EXPECT_EQ(drip.error(), handshake_error::headers_too_large);
  EXPECT_LE(fed, few.max_header_bytes + line.size());
}

TEST(websocket_handshake, too_many_headers_are_refused_with_431) {
  handshake_limits limits;
  limits.max_headers = 8;
  std::string extra;
  for (int i = 0; i < 8; ++i) extra += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(refusal_of(request(extra), limits), handshake_error::too_many_headers);
  EXPECT_EQ(quay::net::ws::http_status(handshake_error::too_many_headers), 431);
}

TEST(websocket_handshake, a_refused_handshake_stays_refused_and_consumes_nothing_more) {
  handshake h;
  feed_all(h, "POST / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::size_t n = 7;
  EXPECT_EQ(h.feed(as_bytes(request()), n), handshake_status::refused);
  EXPECT_EQ(n, 0u);
}

TEST(websocket_handshake, a_quay_frame_is_told_from_a_get_by_its_first_bytes) {
  using quay::net::ws::classify_stream;
  using quay::net::ws::stream_kind;
  EXPECT_EQ(classify_stream(as_bytes("")), stream_kind::need_more);
  EXPECT_EQ(classify_stream(as_bytes("GE")), stream_kind::need_more);
  EXPECT_EQ(classify_stream(as_bytes("GET ")), stream_kind::websocket);
  EXPECT_EQ(classify_stream(as_bytes("GET /play")), stream_kind::websocket);
  EXPECT_EQ(classify_stream(as_bytes("GETX")), stream_kind::quay);
  const std::byte quay_header[] = {std::byte{0x10}, std::byte{0}, std::byte{0}, std::byte{0}};
  EXPECT_EQ(classify_stream(quay_header), stream_kind::quay);
}

}  // namespace
