// WebSocket framing on the server side: binary messages are handed up whole, server frames are
// unmasked, and each hostile input is refused with its close code.
#include "connection.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using bytes = std::vector<std::byte>;
using quay::net::ws::close_code;
using quay::net::ws::close_reason;
using quay::net::ws::connection;
using quay::net::ws::connection_limits;

constexpr std::uint8_t op_continuation = 0x0, op_text = 0x1, op_binary = 0x2, op_close = 0x8,
                       op_ping = 0x9, op_pong = 0xa;

bytes payload_of(std::size_t n, std::uint8_t seed = 1) {
  bytes p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::byte>((i * 13 + seed) & 0xff);
  return p;
}

// One client frame: masked unless told otherwise (RFC 6455 5.2).
bytes client_frame(std::uint8_t opcode, const bytes& payload, bool fin = true, bool masked = true) {
  bytes f;
  f.push_back(static_cast<std::byte>((fin ? 0x80 : 0) | opcode));
  const std::uint8_t mask_bit = masked ? 0x80 : 0;
  const std::size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<std::byte>(mask_bit | n));
  } else if (n <= 0xffff) {
    f.push_back(static_cast<std::byte>(mask_bit | 126));
    f.push_back(static_cast<std::byte>(n >> 8));
    f.push_back(static_cast<std::byte>(n));
  } else {
    f.push_back(static_cast<std::byte>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<std::byte>(static_cast<std::uint64_t>(n) >> (8 * i)));
  }
  const std::byte key[4] = {std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
  if (masked) f.insert(f.end(), key, key + 4);
  for (std::size_t i = 0; i < n; ++i) f.push_back(masked ? payload[i] ^ key[i % 4] : payload[i]);
  return f;
}

bytes close_payload(std::uint16_t code) {
  return {static_cast<std::byte>(code >> 8), static_cast<std::byte>(code & 0xff)};
}

void append(bytes& a, const bytes& b) { a.insert(a.end(), b.begin(), b.end()); }

// A server frame read back from output(): opcode, payload, and whether it was masked.
struct server_frame {
  std::uint8_t opcode = 0;
  bool fin = false;
  bool masked = false;
  bytes payload;
};

std::vector<server_frame> parse_output(std::span<const std::byte> out) {
  std::vector<server_frame> frames;
  std::size_t i = 0;
  while (i + 2 <= out.size()) {
    server_frame f;
    const auto b0 = std::to_integer<unsigned>(out[i]);
    const auto b1 = std::to_integer<unsigned>(out[i + 1]);
    f.fin = (b0 & 0x80) != 0;
    f.opcode = static_cast<std::uint8_t>(b0 & 0x0f);
    f.masked = (b1 & 0x80) != 0;
    std::uint64_t n = b1 & 0x7f;
    i += 2;
    if (n == 126) {
      n = (std::to_integer<unsigned>(out[i]) << 8) | std::to_integer<unsigned>(out[i + 1]);
      i += 2;
    } else if (n == 127) {
      n = 0;
      for (int k = 0; k < 8; ++k) n = (n << 8) | std::to_integer<unsigned>(out[i + k]);
      i += 8;
    }
    if (f.masked) i += 4;
    f.payload.assign(out.begin() + static_cast<std::ptrdiff_t>(i),
                     out.begin() + static_cast<std::ptrdiff_t>(i + n));
    i += n;
    frames.push_back(std::move(f));
  }
  EXPECT_EQ(i, out.size()) << "output ends inside a frame";
  return frames;
}

// The close code of the last frame in the output, which must be a close frame.
std::uint16_t sent_close_code(const connection& c) {
  const auto frames = parse_output(c.output());
  if (frames.empty() || frames.back().opcode != op_close || frames.back().payload.size() < 2) return 0;
  const auto& p = frames.back().payload;
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) | std::to_integer<unsigned>(p[1]));
}

TEST(websocket_connection, one_binary_message_is_handed_up_as_one_payload) {
  connection c;
  const bytes p = payload_of(300);
  EXPECT_TRUE(c.feed(client_frame(op_binary, p)));
  bytes got;
  ASSERT_TRUE(c.next_message(got));
  EXPECT_EQ(got, p);
  EXPECT_FALSE(c.next_message(got));
  EXPECT_TRUE(c.output().empty());
}

TEST(websocket_connection, a_fragmented_message_split_byte_by_byte_is_handed_up_whole) {
  connection c;
  const bytes a = payload_of(70, 1), b = payload_of(200, 2), d = payload_of(5, 3);
  bytes stream = client_frame(op_binary, a, false);
  append(stream, client_frame(op_ping, payload_of(4)));  // a control frame between fragments
  append(stream, client_frame(op_continuation, b, false));
  append(stream, client_frame(op_continuation, d, true));
  for (std::byte x : stream) ASSERT_TRUE(c.feed(std::span(&x, 1)));
  bytes got;
  ASSERT_TRUE(c.next_message(got));
  bytes want = a;
  append(want, b);
  append(want, d);
  EXPECT_EQ(got, want);
  const auto out = parse_output(c.output());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].opcode, op_pong);
  EXPECT_EQ(out[0].payload, payload_of(4));
}

TEST(websocket_connection, many_messages_in_one_feed_arrive_in_order) {
  connection c;
  bytes stream;
  for (std::uint8_t i = 0; i < 20; ++i) append(stream, client_frame(op_binary, payload_of(10 + i, i)));
  ASSERT_TRUE(c.feed(stream));
  bytes got;
  for (std::uint8_t i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.next_message(got));
    EXPECT_EQ(got, payload_of(10 + i, i));
  }
}

TEST(websocket_connection, a_ping_is_answered_by_an_unmasked_pong_with_its_payload) {
  connection c;
  ASSERT_TRUE(c.feed(client_frame(op_ping, payload_of(9))));
  const auto out = parse_output(c.output());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].opcode, op_pong);
  EXPECT_FALSE(out[0].masked);
  EXPECT_EQ(out[0].payload, payload_of(9));
  c.consume_output(c.output().size());
  EXPECT_TRUE(c.output().empty());
}

TEST(websocket_connection, a_text_frame_is_refused_with_1003) {
  connection c;
  const std::string hi = "hello";
  bytes text(reinterpret_cast<const std::byte*>(hi.data()), reinterpret_cast<const std::byte*>(hi.data()) + hi.size());
  EXPECT_FALSE(c.feed(client_frame(op_text, text)));
  EXPECT_EQ(c.reason(), close_reason::text_frame);
  EXPECT_EQ(sent_close_code(c), 1003);
  bytes got;
  EXPECT_FALSE(c.next_message(got));
}

TEST(websocket_connection, an_unmasked_client_frame_is_refused_with_1002) {
  connection c;
  EXPECT_FALSE(c.feed(client_frame(op_binary, payload_of(8), true, false)));
  EXPECT_EQ(c.reason(), close_reason::protocol_error);
  EXPECT_EQ(sent_close_code(c), 1002);
  bytes got;
  EXPECT_FALSE(c.next_message(got));
}

TEST(websocket_connection, an_unknown_opcode_is_refused_with_1002) {
  for (std::uint8_t op : {std::uint8_t{0x3}, std::uint8_t{0x7}, std::uint8_t{0xb}, std::uint8_t{0xf}}) {
    connection c;
    EXPECT_FALSE(c.feed(client_frame(op, payload_of(3)))) << int(op);
    EXPECT_EQ(sent_close_code(c), 1002) << int(op);
  }
}

TEST(websocket_connection, a_message_over_the_size_limit_is_refused_with_1009) {
  connection_limits limits;
  limits.max_message_bytes = 1000;
  connection c(limits);
  EXPECT_FALSE(c.feed(client_frame(op_binary, payload_of(1001))));
  EXPECT_EQ(c.reason(), close_reason::message_too_big);
  EXPECT_EQ(sent_close_code(c), 1009);
}

TEST(websocket_connection, fragments_adding_up_over_the_size_limit_are_refused_with_1009) {
  connection_limits limits;
  limits.max_message_bytes = 1000;
  connection c(limits);
  bytes stream = client_frame(op_binary, payload_of(600), false);
  append(stream, client_frame(op_continuation, payload_of(600), true));
  EXPECT_FALSE(c.feed(stream));
  EXPECT_EQ(sent_close_code(c), 1009);
  bytes got;
  EXPECT_FALSE(c.next_message(got));
}

TEST(websocket_connection, a_message_of_exactly_the_size_limit_is_accepted) {
  connection_limits limits;
  limits.max_message_bytes = 70000;
  connection c(limits);
  EXPECT_TRUE(c.feed(client_frame(op_binary, payload_of(70000))));
  bytes got;
  ASSERT_TRUE(c.next_message(got));
  EXPECT_EQ(got.size(), 70000u);
}

TEST(websocket_connection, endless_empty_fragments_are_refused_with_1008) {
  connection_limits limits;
  limits.max_fragments = 64;
  connection c(limits);
  bytes stream = client_frame(op_binary, {}, false);
  for (int i = 0; i < 10000; ++i) append(stream, client_frame(op_continuation, {}, false));
  EXPECT_FALSE(c.feed(stream));
  EXPECT_EQ(c.reason(), close_reason::too_many_fragments);
  EXPECT_EQ(sent_close_code(c), 1008);
}

TEST(websocket_connection, a_ping_flood_is_refused_with_1008_and_a_new_window_allows_more) {
  connection_limits limits;
  limits.max_pings_per_window = 5;
  connection c(limits);
  for (int window = 0; window < 3; ++window) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.feed(client_frame(op_ping, {}))) << window << " " << i;
    c.new_window();
  }
  EXPECT_EQ(parse_output(c.output()).size(), 15u);
  bytes flood;
  for (int i = 0; i < 6; ++i) append(flood, client_frame(op_ping, {}));
  EXPECT_FALSE(c.feed(flood));
  EXPECT_EQ(c.reason(), close_reason::ping_flood);
  EXPECT_EQ(sent_close_code(c), 1008);
}

TEST(websocket_connection, a_valid_close_is_answered_with_the_same_code) {
  connection c;
  EXPECT_FALSE(c.feed(client_frame(op_close, close_payload(1000))));
  EXPECT_EQ(c.reason(), close_reason::peer_closed);
  EXPECT_EQ(c.close_code_received(), 1000);
  EXPECT_EQ(sent_close_code(c), 1000);
  EXPECT_EQ(c.close_code_sent(), 1000);
}

TEST(websocket_connection, a_close_with_an_invalid_code_is_answered_with_1002) {
  for (std::uint16_t code : {std::uint16_t{0}, std::uint16_t{999}, std::uint16_t{1005}, std::uint16_t{1006},
                             std::uint16_t{1015}, std::uint16_t{2000}, std::uint16_t{5000}}) {
    connection c;
    EXPECT_FALSE(c.feed(client_frame(op_close, close_payload(code)))) << code;
    EXPECT_EQ(c.reason(), close_reason::protocol_error) << code;
    EXPECT_EQ(sent_close_code(c), 1002) << code;
  }
  connection one_byte;
  EXPECT_FALSE(one_byte.feed(client_frame(op_close, bytes{std::byte{3}})));
  EXPECT_EQ(sent_close_code(one_byte), 1002);
}

TEST(websocket_connection, a_close_whose_reason_is_not_utf8_is_answered_with_1007_however_it_is_split) {
  bytes payload = close_payload(1000);
  append(payload, bytes{std::byte{'o'}, std::byte{'k'}, std::byte{0xc3}, std::byte{0x28}, std::byte{'!'}});
  const bytes frame = client_frame(op_close, payload);
  for (std::size_t split = 0; split <= frame.size(); ++split) {
    connection c;
    c.feed(std::span(frame).first(split));
    c.feed(std::span(frame).subspan(split));
    EXPECT_EQ(c.reason(), close_reason::protocol_error) << "split at " << split;
    EXPECT_EQ(sent_close_code(c), 1007) << "split at " << split;
  }
}

TEST(websocket_connection, a_close_with_a_utf8_reason_is_answered_in_kind) {
  bytes payload = close_payload(4000);
  const std::string why = "bye \xc3\xa9t\xc3\xa9";
  for (char ch : why) payload.push_back(static_cast<std::byte>(ch));
  connection c;
  EXPECT_FALSE(c.feed(client_frame(op_close, payload)));
  EXPECT_EQ(c.reason(), close_reason::peer_closed);
  EXPECT_EQ(sent_close_code(c), 4000);
}

TEST(websocket_connection, bytes_after_a_refusal_are_dropped) {
  connection c;
  bytes stream = client_frame(op_text, payload_of(3));
  append(stream, client_frame(op_binary, payload_of(3)));
  EXPECT_FALSE(c.feed(stream));
  EXPECT_FALSE(c.feed(client_frame(op_binary, payload_of(3))));
  bytes got;
  EXPECT_FALSE(c.next_message(got));
  EXPECT_EQ(parse_output(c.output()).size(), 1u);
}

TEST(websocket_connection, the_server_closing_queues_one_unmasked_close_frame) {
  connection c;
  c.close(close_code::going_away);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.reason(), close_reason::closed_by_owner);
  const auto out = parse_output(c.output());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].masked);
  EXPECT_EQ(sent_close_code(c), 1001);
}

TEST(websocket_connection, a_binary_header_and_a_shared_payload_form_one_valid_server_frame) {
  for (std::size_t n : {std::size_t{0}, std::size_t{125}, std::size_t{126}, std::size_t{65535},
                        std::size_t{65536}, std::size_t{200000}}) {
    std::array<std::byte, quay::net::ws::max_frame_header_bytes> h{};
    const std::size_t hn = quay::net::ws::encode_binary_header(n, h);
    EXPECT_EQ(hn, n < 126 ? 2u : n <= 0xffff ? 4u : 10u);
    const bytes p = payload_of(n);
    bytes wire(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(hn));
    append(wire, p);
    const auto frames = parse_output(wire);
    ASSERT_EQ(frames.size(), 1u) << n;
    EXPECT_TRUE(frames[0].fin);
    EXPECT_FALSE(frames[0].masked);
    EXPECT_EQ(frames[0].opcode, op_binary);
    EXPECT_EQ(frames[0].payload, p);
  }
}

}  // namespace
