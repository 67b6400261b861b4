// WebSocket and HTTP on the game port inside a session: classification of the first bytes, the
// upgrade handshake with its deadline, framing (one binary message = one envelope), ping and
// close handling, and plain HTTP GETs answered by the owner. See session_ws.hpp and
// docs/protocol.md ("WebSocket transport").
#include "session_ws.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <string>
#include <vector>

#include "connection.hpp"
#include "handshake.hpp"
#include "quay/actors/error.hpp"
#include "quay/actors/system.hpp"
#include "quay/runtime/log.hpp"

namespace quay::net::detail {

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
  static const auto l = quay::log::get("net");
  return l;
}

std::size_t ws_prefix(std::size_t payload, std::byte* out) noexcept {
  return ws::encode_binary_header(payload, std::span<std::byte, ws::max_frame_header_bytes>(
                                               out, ws::max_frame_header_bytes));
}

enum class phase : std::uint8_t {
  classify,   // fewer than 4 bytes seen, all a prefix of "GET "
  handshake,  // an HTTP request is being parsed
  http_wait,  // a plain GET: delivered (or to be delivered) to the owner, awaiting respond()
  http_done,  // answered; closing
  open,       // WebSocket frames
  closed,     // a close frame was queued (either side); closing
};

// Receives go here: a WebSocket peer's bytes are handed to wslay at once, so the whole buffer
// is free for every receive.
constexpr std::size_t input_bytes = 8 * 1024;
// Frames an owner sends before the protocol is known (it hears `accepted` at once): held, then
// queued in the right form; past this many the peer is not reading a handshake answer.
constexpr std::size_t max_early_frames = 256;

}  // namespace

struct ws_state {
  phase ph = phase::classify;
  bool delivered = false;  // the http_request has gone to the owner
  listen_protocols protos;
  std::uint32_t handshake_ms = 0;
  port_time opened{};
  port_time window_start{};
  ws::handshake hs;
  ws::connection_limits limits;
  std::unique_ptr<ws::connection> conn;
  std::array<std::byte, 4> head{};  // the first bytes while they are a prefix of "GET "
  std::size_t head_len = 0;
  std::vector<std::byte> input = std::vector<std::byte>(input_bytes);
  std::vector<frame> early;
  std::vector<std::byte> message;
  std::array<std::byte, (max_send_buffers / 2) * send_queue::max_prefix_bytes> scratch{};

  explicit ws_state(const listen_options& o)
      : protos(o.protocols),
        hs(ws::handshake_limits{o.websocket.max_header_bytes, o.websocket.max_headers}) {
    handshake_ms = static_cast<std::uint32_t>(
        std::clamp<std::int64_t>(o.websocket.handshake_timeout.count(), 1, UINT32_MAX));
    limits.max_message_bytes = std::clamp<std::size_t>(o.session.max_frame_size, 1, frame_size_cap);
    limits.max_fragments = o.websocket.max_fragments;
    limits.max_pings_per_window = o.websocket.max_pings_per_second;
  }
};

void ws_state_free::operator()(ws_state* w) const noexcept { delete w; }

bool ws_supported() noexcept { return true; }

ws_ptr make_ws_state(const listen_options& o, port_time now) {
  if (!o.protocols.websocket && !o.protocols.http) return nullptr;
  ws_ptr w(new ws_state(o));
  w->opened = w->window_start = now;
  return w;
}

std::span<std::byte> ws_input_space(session& s) { return s.ws->input; }
std::span<std::byte> ws_scratch(session& s) noexcept { return s.ws->scratch; }
bool ws_open(const session& s) noexcept { return s.ws && s.ws->ph == phase::open; }

namespace {

std::error_code reason_of(ws::close_reason r) {
  switch (r) {
    case ws::close_reason::none:
    case ws::close_reason::peer_closed: return errc::closed_by_peer;
    case ws::close_reason::closed_by_owner: return errc::closed_by_owner;
    case ws::close_reason::text_frame: return errc::websocket_text_frame;
    case ws::close_reason::protocol_error: return errc::websocket_protocol_error;
    case ws::close_reason::message_too_big: return errc::websocket_too_big;
    case ws::close_reason::too_many_fragments:
    case ws::close_reason::ping_flood: return errc::websocket_policy;
  }
  return errc::websocket_protocol_error;
}

void push_raw(session& s, std::span<const std::byte> bytes) {
  if (!bytes.empty()) s.out.push_raw(frame::copy_of(bytes));
}
void push_raw(session& s, std::string_view text) {
  push_raw(s, std::as_bytes(std::span(text.data(), text.size())));
}

// Queues the HTTP refusal the handshake wrote and closes once it is sent.
void refuse_locked(session& s, std::string_view response, std::error_code why) {
  s.ws->ph = phase::http_done;
  s.ws->early.clear();
  if (!s.out.prefixed()) s.out.use_prefix(&ws_prefix);
  push_raw(s, response);
  graceful_close_locked(s, why);
}

// Moves what the connection produced (pongs, the close frame) to the send queue, and closes
// the session once the connection has closed.
void pump_connection_locked(session& s) {
  ws_state& w = *s.ws;
  const auto out = w.conn->output();
  push_raw(s, out);
  w.conn->consume_output(out.size());
  if (w.conn->closed() && w.ph == phase::open) {
    w.ph = phase::closed;
    const auto why = w.conn->reason();
    if (why != ws::close_reason::peer_closed) {
      logger()->warn("session {}:{} closed: websocket {} (close {})", s.slot, s.generation,
                     ws::describe(why), w.conn->close_code_sent());
    }
    graceful_close_locked(s, reason_of(why));
  }
}

void feed_connection_locked(session& s, std::span<const std::byte> bytes) {
  ws_state& w = *s.ws;
  // The ping window is one second of port time, read here rather than on a timer: the
  // connection counts pings between new_window() calls.
  const port_time now = s.net.port.now();
  if (now - w.window_start >= millis(1000)) {
    w.conn->new_window();
    w.window_start = now;
  }
  w.conn->feed(bytes);
  pump_connection_locked(s);
}

void upgrade_locked(session& s, std::span<const std::byte> rest) {
  ws_state& w = *s.ws;
  s.out.use_prefix(&ws_prefix);
  push_raw(s, w.hs.response());
  w.conn = std::make_unique<ws::connection>(w.limits);
  w.ph = phase::open;
  w.window_start = s.net.port.now();
  // Frames the owner sent while the handshake ran, now as WebSocket messages.
  for (frame& f : w.early) send_locked(s, std::move(f));
  w.early.clear();
  w.message.reserve(256);
  if (!rest.empty()) feed_connection_locked(s, rest);
}

void handshake_locked(session& s, std::span<const std::byte> bytes) {
  ws_state& w = *s.ws;
  std::size_t consumed = 0;
  switch (w.hs.feed(bytes, consumed)) {
    case ws::handshake_status::need_more:
      return;
    case ws::handshake_status::accepted:
      if (!w.protos.websocket) {
        logger()->info("session {}:{} refused: a WebSocket upgrade on a listener without websocket",
                       s.slot, s.generation);
        refuse_locked(s,
                      "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                      errc::protocol_not_accepted);
        return;
      }
      upgrade_locked(s, bytes.subspan(consumed));
      return;
    case ws::handshake_status::refused:
      if (w.hs.plain_get() && w.protos.http) {
        w.ph = phase::http_wait;
        w.early.clear();
        s.out.use_prefix(&ws_prefix);
        return;  // ws_ready_locked delivers it
      }
      logger()->info("session {}:{} refused: {} ({})", s.slot, s.generation,
                     ws::describe(w.hs.error()), ws::http_status(w.hs.error()));
      refuse_locked(s, w.hs.response(), errc::handshake_refused);
      return;
  }
}

}  // namespace

void ws_input_locked(session& s, std::size_t n) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  if (s.state != session_state::open) return;  // closing: discard
  ws_state& w = *s.ws;
  std::span<const std::byte> bytes(w.input.data(), n);
  switch (w.ph) {
    case phase::classify: {
      // At most 4 bytes decide; keep them while they are a prefix of "GET ".
      std::array<std::byte, 4> first{};
      std::size_t k = w.head_len;
      std::copy_n(w.head.begin(), k, first.begin());
      const std::size_t add = std::min(first.size() - k, bytes.size());
      std::copy_n(bytes.begin(), add, first.begin() + static_cast<std::ptrdiff_t>(k));
      k += add;
      const auto kind = ws::classify_stream(std::span<const std::byte>(first.data(), k));
      if (kind == ws::stream_kind::need_more) {
        w.head = first;
        w.head_len = k;
        return;
      }
      if (kind == ws::stream_kind::quay) {
        if (!w.protos.quay) {
          logger()->info("session {}:{} refused: a Quay stream on a listener without quay",
                         s.slot, s.generation);
          hard_close_locked(s, errc::protocol_not_accepted, true);
          return;
        }
        // A Quay stream: its bytes go to the framer, and the session takes the plain TCP path.
        std::vector<std::byte> all(w.head.begin(), w.head.begin() + static_cast<std::ptrdiff_t>(w.head_len));
        all.insert(all.end(), bytes.begin(), bytes.end());
        std::vector<frame> early = std::move(w.early);
        s.ws.reset();
        std::span<const std::byte> rest(all);
        // Bounded: every round takes at least one byte (prepare() is never empty while the
        // framer is not in error), or stops at an error the next decode reports.
        for (int round = 0; !rest.empty() && round < 1'000'000; ++round) {
          s.reader.prepare(true);
          const std::size_t took = s.reader.feed(rest);
          if (took == 0) break;
          rest = rest.subspan(took);
        }
        for (frame& f : early) send_locked(s, std::move(f));
        return;
      }
      w.ph = phase::handshake;
      if (w.head_len > 0) {
        // The kept bytes come first: a request split inside "GET ".
        const std::array<std::byte, 4> kept = w.head;
        const std::size_t kept_len = w.head_len;
        w.head_len = 0;
        handshake_locked(s, std::span<const std::byte>(kept.data(), kept_len));
        if (s.state != session_state::open || s.ws->ph != phase::handshake) return;
      }
      handshake_locked(s, bytes);
      return;
    }
    case phase::handshake:
      handshake_locked(s, bytes);
      return;
    case phase::open:
      feed_connection_locked(s, bytes);
      return;
    case phase::http_wait:
    case phase::http_done:
    case phase::closed:
      return;  // no pipelining: one request per connection
  }
}

bool ws_ready_locked(session& s, session_lock& lk) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  ws_state& w = *s.ws;
  if (w.ph == phase::http_wait && !w.delivered && s.state == session_state::open) {
    w.delivered = true;
    http_request r;
    r.session = s.handle();
    r.method = "GET";
    r.target = std::string(w.hs.target());
    r.host = std::string(w.hs.host());
    r.origin = std::string(w.hs.origin());
    r.authorization = std::string(w.hs.authorization());
    r.accept = std::string(w.hs.accept());
    s.delivering = true;
    lk.unlock();
    bool handled = true;
    std::error_code sent;
    if (s.handler != nullptr) {
      handled = s.handler->on_http_request(r.session, r);
    } else {
      sent = s.net.actors->send(s.owner, r);
      // A full bounded mailbox must not lose the request: the control lane takes it.
      if (sent == actor_errc::mailbox_full) sent = s.net.actors->send_control(s.owner, r);
    }
    lk.lock();
    s.delivering = false;
    if (sent && s.state == session_state::open) {
      hard_close_locked(s, errc::owner_gone, true);
    } else if (!handled && s.state == session_state::open && s.ws && s.ws->ph == phase::http_wait) {
      http_response nf;
      nf.status = 404;
      nf.body = "not found\n";
      ws_respond_locked(s, nf);
    }
    start_send_locked(s);
    return false;
  }
  return w.ph == phase::open;
}

decode_status ws_next_frame(session& s, frame& f) {
  ws_state& w = *s.ws;
  if (w.ph != phase::open || !w.conn->next_message(w.message)) return decode_status::need_more;
  // One copy into an 8-aligned frame of its own (the envelope is verified in place there).
  f = frame::copy_of(w.message);
  return decode_status::frame;
}

std::optional<std::error_code> ws_send_locked(session& s, frame& f) {
  ws_state& w = *s.ws;
  switch (w.ph) {
    case phase::classify:
    case phase::handshake:
      if (w.early.size() >= max_early_frames) return errc::slow_reader;
      w.early.push_back(std::move(f));
      return std::error_code{};
    case phase::http_wait:
    case phase::http_done:
      return errc::send_queue_closed;
    case phase::open:
    case phase::closed:
      return std::nullopt;
  }
  return std::nullopt;
}

void ws_closing_locked(session& s, std::error_code reason) {
  ws_state& w = *s.ws;
  if (w.ph != phase::open || w.conn->closed()) return;
  w.ph = phase::closed;
  w.conn->close(reason == errc::shutting_down ? ws::close_code::going_away : ws::close_code::normal);
  const auto out = w.conn->output();
  push_raw(s, out);
  w.conn->consume_output(out.size());
  // The queue may have been empty with no write pending (everything sent): the close frame
  // needs a write of its own, or the graceful close would wait for its linger.
  schedule_send_locked(s);
}

bool ws_deadline(const session& s, port_time& due) noexcept {
  const ws_state& w = *s.ws;
  if (w.ph != phase::classify && w.ph != phase::handshake && w.ph != phase::http_wait) return false;
  due = w.opened + millis(w.handshake_ms);
  return true;
}

bool ws_expired_locked(session& s, port_time now) {
  port_time due{};
  if (!ws_deadline(s, due) || now < due) return false;
  logger()->info("session {}:{} closed: handshake timeout ({} ms)", s.slot, s.generation,
                 s.ws->handshake_ms);
  hard_close_locked(s, errc::handshake_timeout, true);
  return true;
}

std::error_code ws_respond_locked(session& s, const http_response& r) {
  if (!s.ws || s.ws->ph != phase::http_wait || s.state != session_state::open) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  auto clean = [](std::string_view v) { return v.find_first_of("\r\n") == std::string_view::npos; };
  const int status = (r.status >= 100 && r.status <= 999) ? r.status : 500;
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                     (status == 200 ? "OK" : status == 404 ? "Not Found" : "Status") + "\r\n";
  if (clean(r.content_type)) head += "Content-Type: " + r.content_type + "\r\n";
  for (const auto& [name, value] : r.headers) {
    if (!name.empty() && clean(name) && clean(value) && name.find(':') == std::string::npos) {
      head += name + ": " + value + "\r\n";
    }
  }
  head += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
  s.ws->ph = phase::http_done;
  push_raw(s, head);
  push_raw(s, r.body);
  graceful_close_locked(s, errc::http_answered);
  return {};
}

}  // namespace quay::net::detail
