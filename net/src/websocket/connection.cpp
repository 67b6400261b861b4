#include "connection.hpp"

#include <wslay/wslay.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace quay::net::ws {

bool valid_close_code(std::uint16_t code) noexcept {
  // 1004-1006 and 1015 are reserved for local use and never sent on the wire.
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

std::string_view describe(close_reason r) noexcept {
  switch (r) {
    case close_reason::none: return "open";
    case close_reason::peer_closed: return "the peer closed the WebSocket";
    case close_reason::closed_by_owner: return "closed by the server";
    case close_reason::text_frame: return "a text frame (Quay takes binary messages only)";
    case close_reason::protocol_error: return "a WebSocket protocol error";
    case close_reason::message_too_big: return "a message over the size limit";
    case close_reason::too_many_fragments: return "a message in too many fragments";
    case close_reason::ping_flood: return "too many pings";
  }
  return "unknown";
}

std::size_t encode_binary_header(std::size_t payload_bytes,
                                 std::span<std::byte, max_frame_header_bytes> out) noexcept {
  out[0] = std::byte{0x82};  // FIN + binary
  if (payload_bytes < 126) {
    out[1] = static_cast<std::byte>(payload_bytes);
    return 2;
  }
  if (payload_bytes <= 0xffff) {
    out[1] = std::byte{126};
    out[2] = static_cast<std::byte>(payload_bytes >> 8);
    out[3] = static_cast<std::byte>(payload_bytes);
    return 4;
  }
  out[1] = std::byte{127};
  const auto n = static_cast<std::uint64_t>(payload_bytes);
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<std::byte>(n >> (56 - 8 * i));
  return 10;
}

stream_kind classify_stream(std::span<const std::byte> first) noexcept {
  static constexpr char get[] = {'G', 'E', 'T', ' '};
  const std::size_t n = std::min(first.size(), sizeof get);
  for (std::size_t i = 0; i < n; ++i)
    if (first[i] != static_cast<std::byte>(get[i])) return stream_kind::quay;
  return n == sizeof get ? stream_kind::websocket : stream_kind::need_more;
}

namespace {

// True when `s` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or code points over
// U+10FFFF).
bool valid_utf8(std::span<const std::byte> s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned c = std::to_integer<unsigned>(s[i]);
    std::size_t extra = 0;
    unsigned lo = 0x80, hi = 0xbf;  // the range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const unsigned b = std::to_integer<unsigned>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

// wslay's C callbacks, forwarding to the connection in user_data.
struct callbacks {
  static connection& self(void* user) { return *static_cast<connection*>(user); }

  static ssize_t recv(wslay_event_context_ptr ctx, std::uint8_t* buf, std::size_t len, int, void* user) {
    connection& c = self(user);
    // After a refusal nothing more is read: the rest of the input is dropped.
    if (c.in_.empty() || c.closed()) {
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
    const std::size_t n = std::min(len, c.in_.size());
    std::memcpy(buf, c.in_.data(), n);
    c.in_ = c.in_.subspan(n);
    return static_cast<ssize_t>(n);
  }

  static ssize_t send(wslay_event_context_ptr, const std::uint8_t* data, std::size_t len, int, void* user) {
    auto& out = self(user).out_;
    const auto* p = reinterpret_cast<const std::byte*>(data);
    out.insert(out.end(), p, p + len);
    return static_cast<ssize_t>(len);
  }

  static int genmask(wslay_event_context_ptr, std::uint8_t* buf, std::size_t len, void*) {
    std::memset(buf, 0, len);  // server frames are never masked; wslay asks clients only
    return 0;
  }

  static void frame_start(wslay_event_context_ptr, const wslay_event_on_frame_recv_start_arg* a, void* user) {
    connection& c = self(user);
    c.frame_opcode_ = a->opcode;
    switch (a->opcode) {
      case WSLAY_TEXT_FRAME:
        c.refuse(close_reason::text_frame, close_code::unsupported_data);
        break;
      case WSLAY_BINARY_FRAME:
        c.fragments_ = 1;
        break;
      case WSLAY_CONTINUATION_FRAME:
        // Empty continuation frames cost the peer two bytes each and wslay nothing it
        // bounds: this count is what ends an endless message.
        if (++c.fragments_ > c.limits_.max_fragments)
          c.refuse(close_reason::too_many_fragments, close_code::policy_violation);
        break;
      case WSLAY_PING:
        if (++c.pings_ > c.limits_.max_pings_per_window)
          c.refuse(close_reason::ping_flood, close_code::policy_violation);
        break;
      case WSLAY_CONNECTION_CLOSE:
        c.close_payload_.clear();
        break;
      default:
        break;
    }
  }

  static void frame_chunk(wslay_event_context_ptr, const wslay_event_on_frame_recv_chunk_arg* a, void* user) {
    connection& c = self(user);
    if (c.frame_opcode_ != WSLAY_CONNECTION_CLOSE) return;
    // A control frame's payload is at most 125 bytes (wslay refuses longer ones).
    const std::size_t room = 125 - std::min<std::size_t>(125, c.close_payload_.size());
    const auto* p = reinterpret_cast<const std::byte*>(a->data);
    c.close_payload_.insert(c.close_payload_.end(), p, p + std::min(room, a->data_length));
  }

  static void frame_end(wslay_event_context_ptr, void* user) {
    connection& c = self(user);
    if (c.frame_opcode_ != WSLAY_CONNECTION_CLOSE || c.closed()) return;
    // Checked here, before wslay echoes the peer's code back: a close with a one-byte payload
    // or a code outside the sendable ranges is answered with 1002 (RFC 6455 7.4.1), one whose
    // reason is not UTF-8 with 1007 (RFC 6455 8.1).
    const auto& p = c.close_payload_;
    if (p.size() == 1) {
      c.refuse(close_reason::protocol_error, close_code::protocol_error);
    } else if (p.size() >= 2) {
      const auto code = static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                                   std::to_integer<unsigned>(p[1]));
      if (!valid_close_code(code)) {
        c.code_received_ = code;
        c.refuse(close_reason::protocol_error, close_code::protocol_error);
      } else if (!valid_utf8(std::span(p).subspan(2))) {
        // libwslay checks the reason only when it arrives in one read; checked here whole.
        c.code_received_ = code;
        c.refuse(close_reason::protocol_error, close_code::invalid_payload);
      }
    }
  }

  static void message(wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* a, void* user) {
    connection& c = self(user);
    if (a->opcode == WSLAY_BINARY_FRAME && !c.closed()) {
      const auto* p = reinterpret_cast<const std::byte*>(a->msg);
      c.messages_.emplace_back(p, p + a->msg_length);
      c.fragments_ = 0;
    } else if (a->opcode == WSLAY_CONNECTION_CLOSE) {
      if (c.code_received_ == 0) c.code_received_ = a->status_code;
      if (!c.closed()) c.reason_ = close_reason::peer_closed;
    }
  }
};

namespace {

close_reason reason_for(std::uint16_t code) noexcept {
  return code == static_cast<std::uint16_t>(close_code::message_too_big) ? close_reason::message_too_big
                                                                           : close_reason::protocol_error;
}

}  // namespace

connection::connection(connection_limits limits) : limits_(limits) {
  static constexpr wslay_event_callbacks cbs = {
      &callbacks::recv,        &callbacks::send,        &callbacks::genmask,    &callbacks::frame_start,
      &callbacks::frame_chunk, &callbacks::frame_end,   &callbacks::message,
  };
  if (wslay_event_context_server_init(&ctx_, &cbs, this) != 0) throw std::bad_alloc();
  wslay_event_config_set_max_recv_msg_length(ctx_, limits_.max_message_bytes);
}

connection::~connection() { wslay_event_context_free(ctx_); }

bool connection::feed(std::span<const std::byte> bytes) {
  if (closed()) return false;
  in_ = bytes;
  const int rv = wslay_event_recv(ctx_);
  in_ = {};
  if (rv != 0 && !closed()) refuse(close_reason::protocol_error, close_code::protocol_error);
  pump_output();
  return !closed();
}

void connection::pump_output() {
  wslay_event_send(ctx_);
  // wslay refuses some input itself (unmasked frames, unknown opcodes, oversized messages):
  // its own close frame tells which.
  if (!closed() && wslay_event_get_close_sent(ctx_) != 0) {
    code_sent_ = wslay_event_get_status_code_sent(ctx_);
    reason_ = reason_for(code_sent_);
  }
  if (reason_ == close_reason::peer_closed && code_sent_ == 0 && wslay_event_get_close_sent(ctx_) != 0)
    code_sent_ = wslay_event_get_status_code_sent(ctx_);
}

bool connection::next_message(std::vector<std::byte>& out) {
  if (messages_.empty()) return false;
  out = std::move(messages_.front());
  messages_.pop_front();
  return true;
}

void connection::consume_output(std::size_t n) noexcept {
  out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(std::min(n, out_.size())));
}

void connection::close(close_code code) {
  refuse(close_reason::closed_by_owner, code);
  pump_output();
}

void connection::refuse(close_reason why, close_code code) {
  if (closed()) return;
  reason_ = why;
  code_sent_ = static_cast<std::uint16_t>(code);
  wslay_event_queue_close(ctx_, code_sent_, nullptr, 0);
  wslay_event_shutdown_read(ctx_);
}

}  // namespace quay::net::ws
