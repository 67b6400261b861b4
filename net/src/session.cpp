// The session state machine: receive, decode, deliver, send, close. See network_impl.hpp for
// the locking rules.
#include <algorithm>
#include <cassert>

#include "network_impl.hpp"
#include "session_ws.hpp"
#include "quay/actors/detail/drain_notification.hpp"
#include "quay/actors/error.hpp"
#include "quay/actors/system.hpp"
#include "quay/net/envelope.hpp"
#include "quay/runtime/error.hpp"
#include "quay/runtime/log.hpp"

namespace quay::net::detail {

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
  static const auto l = quay::log::get("net");
  return l;
}

std::error_code close_reason_of(std::error_code ec) {
  if (ec == quay::errc::end_of_stream) return errc::closed_by_peer;
  return ec;
}

enum class delivery : std::uint8_t { delivered, full, gone };

delivery outcome_of(std::error_code ec) {
  if (!ec) return delivery::delivered;
  // A bounded mailbox that is full is backpressure, not a dead owner: the event waits.
  return ec == actor_errc::mailbox_full ? delivery::full : delivery::gone;
}

// Delivers to the owner with the mutex released. On `full` the frame is left in `in`.
delivery deliver_frame(session& s, session_handle h, inbound& in) {
  assert(!holds_lock(s) && "owner events are delivered with the session's mutex released");
  assert(in.env.verified() && "only a verified envelope reaches an owner");
  if (s.handler != nullptr) {
    s.handler->on_frame(h, in.data, in.env);
    return delivery::delivered;
  }
  const auto d = outcome_of(s.net.actors->send(s.owner, session_frame{h, in.env, in.data}));
  if (d == delivery::delivered) in = inbound{};
  return d;
}

// The owner's mailbox refused an event because it is full: reading pauses until the actor has
// worked it down to half of what it holds now, then the held events go first.
void pause_for_full_mailbox_locked(session& s) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  const auto depth = s.net.actors->mailbox_depth(s.owner);
  if (!depth) {
    hard_close_locked(s, errc::owner_gone, true);
    return;
  }
  s.paused = true;
  s.drain_pending = true;
  s.net.stats.pauses.fetch_add(1, std::memory_order_relaxed);
  quay::detail::notify_when_drained(*s.net.actors, s.owner, *depth / 2, &s.dop);
}

void on_recv(completion* c, std::error_code ec, std::size_t n);
void on_send(completion* c, std::error_code ec, std::size_t n);
void on_drain(completion* c, std::error_code ec, std::size_t n);

// The session whose mutex this thread holds, if any. A plain pointer: no destructor (see
// quay/runtime/thread_exit.hpp on thread_locals under mingw).
thread_local const session* t_held = nullptr;

}  // namespace

bool holds_lock(const session& s) noexcept { return t_held == &s; }

namespace {
// A completion invoked inside a runtime call made under its session's mutex: record it for
// session_lock::unlock() instead of locking again (which would deadlock).
bool defer_if_held(session& s, completion* c, std::uint8_t bit, std::error_code ec,
                   std::size_t n) noexcept {
  if (!holds_lock(s)) return false;
  c->set_result(ec, n);
  s.deferred |= bit;
  return true;
}
}  // namespace

void session_lock::acquire(session& s) {
  // One session at a time per thread: nothing locks a second session under a first.
  assert(t_held == nullptr && "a session's mutex taken while holding another's");
  s.mu.lock();
  s_ = last_ = &s;
  t_held = &s;
}

void session_lock::lock() { acquire(*last_); }

void session_lock::unlock() {
  session& s = *std::exchange(s_, nullptr);
  const std::uint8_t d = std::exchange(s.deferred, 0);
  // Taken before the release: each deferred completion still counts as pending, so the
  // session lives until the last of them has run; nothing else of it is read afterwards.
  completion* ops[4] = {(d & deferred_recv) ? &s.rop : nullptr,
                        (d & deferred_send) ? &s.sop : nullptr,
                        (d & deferred_drain) ? &s.dop : nullptr,
                        (d & deferred_connect) ? s.cop.get() : nullptr};
  t_held = nullptr;
  s.mu.unlock();
  for (completion* c : ops) {
    if (c != nullptr) c->invoke();
  }
}

session_recv::session_recv(session* s) : recv_op(&on_recv), owner(s) {}
session_send::session_send(session* s) : send_op(&on_send), owner(s) {}
session_drain::session_drain(session* s) : completion(&on_drain), owner(s) {}

session::session(network_impl& n, std::uint32_t slot_index) : slot(slot_index), net(n) {}

void configure(session& s, const session_options& o) {
  s.reader = framer(o.max_frame_size);
  s.out = send_queue(o.send_high_water);
  auto ms = [](std::chrono::milliseconds d) {
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(d.count(), 0, UINT32_MAX));
  };
  s.idle_ms = ms(o.idle_timeout);
  s.heartbeat_ms = ms(o.heartbeat_interval);
  s.linger_ms = ms(o.close_linger);
  // Mailbox depths past four billion messages are not a useful mark; they clamp.
  auto depth = [](std::uint64_t d) {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(d, UINT32_MAX));
  };
  s.mailbox_high = depth(o.mailbox_high_water);
  s.mailbox_low = depth(std::min(o.mailbox_low_water, o.mailbox_high_water));
  s.recv_pending = s.send_pending = s.drain_pending = s.connect_pending = false;
  s.delivering = s.paused = s.ping_sent = s.fin_sent = s.active = s.layer_shut = false;
  s.layer = o.layer ? o.layer() : nullptr;
  s.ws.reset();  // a listener that accepts WebSocket/HTTP sets it after configure()
  s.reason = {};
  s.sweep_tick = 0;
  s.last_rx = s.net.port.now();
}

void open_session(session& s, session_lock& lk, const endpoint& peer) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  s.state = session_state::open;
  s.last_rx = s.opened_at = s.net.port.now();
  // The owner hears `accepted` before anything else; `delivering` keeps the slot alive while
  // the mutex is released.
  const session_handle h = s.handle();
  s.delivering = true;
  lk.unlock();
  delivery d = delivery::delivered;
  if (s.handler != nullptr) {
    s.handler->on_accepted(h, peer);
  } else {
    d = outcome_of(s.net.actors->send(s.owner, session_accepted{h, peer}));
  }
  lk.lock();
  s.delivering = false;
  schedule_sweep_locked(s, s.net.port.now());
  if (d == delivery::gone) hard_close_locked(s, errc::owner_gone, true);
  if (d == delivery::full && s.state == session_state::open) {
    // Nothing is read before the owner has heard `accepted`.
    s.held = std::make_unique<held_events>();
    s.held->accepted = true;
    s.held->peer = peer;
    pause_for_full_mailbox_locked(s);
  }
  start_recv_locked(s);
  start_send_locked(s);  // frames queued while connecting
}

void start_recv_locked(session& s) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  if (s.recv_pending || s.paused) return;
  if (s.state != session_state::open && s.state != session_state::closing) return;
  // With a layer the socket writes into the layer's buffer; plain TCP straight into the framer.
  auto space = s.layer ? s.layer->recv_space()
               : s.ws  ? ws_input_space(s)
                       : s.reader.prepare(s.active);
  if (space.empty()) return;
  s.rop.buffer = mutable_buffer{space.data(), space.size()};
  s.recv_pending = true;
  async_recv(s.sock, s.rop);
}

namespace {
// The send path through a layer: the queued plaintext goes into the layer (which copies it),
// then the layer's output is written as one buffer.
void start_layer_send_locked(session& s) {
  if (s.send_pending) return;
  if (s.state != session_state::open && s.state != session_state::closing) return;
  stream_layer& l = *s.layer;
  // Bounded: each round either consumes plaintext or stops.
  while (!s.out.empty()) {
    const std::size_t count =
        s.out.prefixed() ? s.out.gather(s.iov_small, ws_scratch(s)) : s.out.gather(s.iov_small);
    const std::size_t taken = l.write(std::span<const const_buffer>(s.iov_small.data(), count));
    if (taken == 0) break;
    s.out.consume(taken);
  }
  if (l.failure()) {
    layer_failed_locked(s);
    if (s.state != session_state::closing && s.state != session_state::open) return;
  }
  const auto o = l.output();
  if (o.empty()) return;
  s.iov_small[0] = const_buffer{o.data(), o.size()};
  s.sop.buffers = s.iov_small.data();
  s.sop.count = 1;
  s.send_pending = true;
  async_send(s.sock, s.sop);
}
}  // namespace

bool has_output(const session& s) noexcept {
  return !s.out.empty() || (s.layer && !s.layer->output().empty());
}

void layer_failed_locked(session& s) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  const std::error_code why = s.layer->failure();
  if (s.state != session_state::open) return;
  logger()->warn("session {}:{} closed: transport layer failed: {}", s.slot, s.generation,
                 why.message());
  // Plaintext can no longer be protected: only the layer's own output (an alert) goes out.
  s.out.clear();
  s.layer_shut = true;
  graceful_close_locked(s, why);
}

void flush_done_locked(session& s) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  if (s.state != session_state::closing || s.fin_sent || s.send_pending || !s.out.empty()) return;
  if (s.layer) {
    if (!s.layer_shut) {
      s.layer_shut = true;
      s.layer->shutdown();
      start_send_locked(s);
    }
    if (s.send_pending || !s.layer->output().empty()) return;
  }
  // Flushed: send FIN, then wait for the peer's (or the linger deadline).
  s.sock.shutdown_send();
  s.fin_sent = true;
}

void start_send_locked(session& s) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  if (s.layer) return start_layer_send_locked(s);
  if (s.send_pending || s.out.empty()) return;
  if (s.state != session_state::open && s.state != session_state::closing) return;
  std::span<const_buffer> iov(s.iov_small);
  // A WebSocket frame takes two buffers (header, payload).
  const std::size_t buffers = s.out.prefixed() ? s.out.size() * 2 : s.out.size();
  if (buffers > s.iov_small.size()) {
    if (!s.iov_large) s.iov_large = std::make_unique<const_buffer[]>(max_send_buffers);
    iov = std::span<const_buffer>(s.iov_large.get(), max_send_buffers);
  }
  s.sop.count = s.out.prefixed() ? s.out.gather(iov, ws_scratch(s)) : s.out.gather(iov);
  s.sop.buffers = iov.data();
  s.send_pending = true;
  async_send(s.sock, s.sop);
}

void schedule_send_locked(session& s) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  if (s.send_pending || !has_output(s)) return;
  if (s.state != session_state::open && s.state != session_state::closing) return;
  // The send op itself is posted, with no bytes sent, as the flush: on_send then starts the
  // gather write. send_pending covers the posted op, so nothing else starts a write meanwhile.
  s.send_pending = true;
  s.sop.set_result({}, 0);
  s.net.port.post(&s.sop);
}

void hard_close_locked(session& s, std::error_code reason, bool rst) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  if (s.state == session_state::closed || s.state == session_state::free) return;
  if (!s.reason) s.reason = reason;
  s.state = session_state::closed;
  if (s.cop) s.cop->socket.close();  // aborts a pending connect
  if (rst) {
    s.sock.reset();
  } else {
    s.sock.close();
  }
  s.out.clear();
  s.held.reset();
  if (s.drain_pending && s.net.actors != nullptr &&
      quay::detail::cancel_drain_notification(*s.net.actors, s.owner, &s.dop)) {
    s.drain_pending = false;
  }
}

void graceful_close_locked(session& s, std::error_code reason) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  if (s.state != session_state::open) {
    if (s.state == session_state::connecting || s.state == session_state::starting) {
      hard_close_locked(s, reason, false);
    }
    return;
  }
  if (s.ws) ws_closing_locked(s, reason);  // the WebSocket close frame, behind queued frames
  s.reason = reason;
  s.state = session_state::closing;
  s.closing_since = s.net.port.now();
  schedule_sweep_locked(s, s.closing_since);  // the linger deadline may be the earliest
  // Inbound frames are no longer delivered; received bytes are discarded until the peer's FIN.
  // The read buffer may be dropped only if no receive is writing into it: a pending receive
  // (into an active session's read block) keeps it until on_recv, which drops it then.
  if (!s.recv_pending) s.reader = framer(1);
  s.held.reset();
  s.paused = false;
  flush_done_locked(s);
  start_recv_locked(s);
}

void finish(session& s, session_lock& lk) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  if (s.state != session_state::closed || s.recv_pending || s.send_pending || s.drain_pending ||
      s.connect_pending || s.delivering) {
    lk.unlock();
    return;
  }
  network_impl& net = s.net;
  actor_system* const actors = net.actors;
  const session_handle h = s.handle();
  const std::error_code reason = s.reason;
  const actor_ref owner = s.owner;
  session_handler* handler = s.handler;
  listener_state* listener = s.listener;
  s.reader = framer(1);
  s.out = send_queue(0);
  s.iov_large.reset();
  s.layer.reset();
  s.ws.reset();
  s.cop.reset();
  s.held.reset();
  s.owner = {};
  s.handler = nullptr;
  s.listener = nullptr;
  s.state = session_state::free;
  s.generation = s.generation == UINT32_MAX ? 1 : s.generation + 1;
  lk.unlock();

  if (listener != nullptr) listener->open.fetch_sub(1, std::memory_order_relaxed);
  net.stats.open.fetch_sub(1, std::memory_order_relaxed);
  net.stats.closed.fetch_add(1, std::memory_order_relaxed);
  net.release(h.slot);
  // The slot may be reused from here on; only values are used below.
  if (handler != nullptr) {
    handler->on_closed(h, reason);
  } else if (owner && actors != nullptr) {
    // In order behind the session's frames when the mailbox has room; a full bounded mailbox
    // must not lose the close (the owner would hold a dead session forever), so then it goes
    // on the control lane, ahead of the frames still queued.
    if (actors->send(owner, session_closed{h, reason}) == actor_errc::mailbox_full) {
      actors->send_control(owner, session_closed{h, reason});
    }
  }
  // The last touch: once the count is down, the network may be destroyed.
  net.in_flight.fetch_sub(1, std::memory_order_release);
}

std::error_code send_locked(session& s, frame f) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  if (s.state == session_state::closing) return errc::send_queue_closed;
  if (s.state != session_state::open && s.state != session_state::connecting &&
      s.state != session_state::starting) {
    return errc::session_gone;
  }
  if (s.ws) {
    if (const auto held = ws_send_locked(s, f)) {
      if (*held == errc::slow_reader) hard_close_locked(s, errc::slow_reader, true);
      return *held;
    }
  }
  if (!s.out.push(std::move(f))) {
    logger()->warn("session {}:{} closed: slow reader ({} bytes queued, high-water {})", s.slot,
                   s.generation, s.out.queued_bytes(), s.out.high_water());
    hard_close_locked(s, errc::slow_reader, true);
    return errc::slow_reader;
  }
  s.net.stats.frames_out.fetch_add(1, std::memory_order_relaxed);
  // While a batch is being delivered, replies only queue: process_locked starts one gather
  // write for all of them when the batch is done. Otherwise the write starts from the port.
  if (!s.delivering) schedule_send_locked(s);
  return {};
}

namespace {
// The earliest time the sweep must look at `s`; false if no deadline applies.
bool next_deadline_locked(const session& s, port_time now, port_time& due) {
  bool any = false;
  auto consider = [&](port_time t) {
    if (!any || t < due) due = t;
    any = true;
  };
  if (s.state == session_state::closing) {
    consider(s.closing_since + millis(s.linger_ms));
  } else if (s.state == session_state::open) {
    // A paused session's quiet time restarts when it resumes (on_drain sets last_rx): look
    // again a full interval from now.
    const port_time base = s.paused ? now : s.last_rx;
    if (s.heartbeat_ms != 0 && !s.ping_sent) consider(base + millis(s.heartbeat_ms));
    if (s.idle_ms != 0) consider(base + millis(s.idle_ms));
    if (s.layer && s.layer->negotiating() && s.layer->negotiation_timeout().count() > 0) {
      consider(s.opened_at + s.layer->negotiation_timeout());
    }
    if (port_time hs{}; s.ws && ws_deadline(s, hs)) consider(hs);
  }
  return any;
}
}  // namespace

void schedule_sweep_locked(session& s, port_time now) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  port_time due{};
  if (!next_deadline_locked(s, now, due)) return;
  const std::uint64_t tick = sweep_tick_ceil(due);
  // An entry filed at or before this tick will look in time; a later one is superseded (its
  // visit sees another sweep_tick and drops it).
  if (s.sweep_tick != 0 && s.sweep_tick <= tick) return;
  s.sweep_tick = s.net.wheel.add({s.slot, s.generation, tick});
}

void sweep_locked(session& s, port_time now) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  const auto quiet = now - s.last_rx;
  if (s.state == session_state::closing) {
    if (now - s.closing_since >= millis(s.linger_ms)) hard_close_locked(s, s.reason, true);
    return;
  }
  if (s.state != session_state::open) return;
  // A negotiation (TLS handshake) that outlives its deadline: a stalled or trickling peer.
  if (s.layer && s.layer->negotiating() && s.layer->negotiation_timeout().count() > 0 &&
      now - s.opened_at >= s.layer->negotiation_timeout()) {
    const std::error_code why = s.layer->negotiation_expired();
    logger()->warn("session {}:{} closed: {} ({} ms)", s.slot, s.generation, why.message(),
                   s.layer->negotiation_timeout().count());
    hard_close_locked(s, why, false);
    return;
  }
  if (s.ws && ws_expired_locked(s, now)) return;
  if (s.paused) return;
  if (s.idle_ms != 0 && quiet >= millis(s.idle_ms)) {
    logger()->info("session {}:{} closed: idle timeout ({} ms without a frame)", s.slot,
                   s.generation, s.idle_ms);
    hard_close_locked(s, errc::idle_timeout, false);
    return;
  }
  if (s.heartbeat_ms != 0 && !s.ping_sent && quiet >= millis(s.heartbeat_ms)) {
    s.ping_sent = true;
    send_locked(s, encode_ping(0));
  }
}

namespace {

// Receive backpressure: pauses reading when the owner's mailbox is over its high-water mark
// and asks the actor system to post `dop` once it has drained. Returns true if paused.
bool pause_if_owner_behind_locked(session& s) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  if (s.state != session_state::open || s.handler != nullptr || s.net.actors == nullptr) {
    return false;
  }
  const auto depth = s.net.actors->mailbox_depth(s.owner);
  if (!depth) {
    hard_close_locked(s, errc::owner_gone, true);
    return false;
  }
  if (*depth <= s.mailbox_high) return false;
  s.paused = true;
  s.drain_pending = true;
  s.net.stats.pauses.fetch_add(1, std::memory_order_relaxed);
  quay::detail::notify_when_drained(*s.net.actors, s.owner, s.mailbox_low, &s.dop);
  return true;
}

// Decodes the buffered frames and delivers them in batches with the mutex released (a handler
// may send). Between batches it checks the owner's mailbox, so a flood stops within one batch
// of the high-water mark; undecoded bytes wait in the read buffer until the drain. While the
// mutex is released the session is marked `delivering`, so it cannot be finalised meanwhile.
// Delivers the events a full mailbox refused, in order, with the mutex released. Returns true if
// all went (reading may go on); false if the mailbox was full again (paused again) or the
// session ended.
bool deliver_held_locked(session& s, session_lock& lk) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  std::unique_ptr<held_events> held = std::move(s.held);
  const session_handle h = s.handle();
  s.delivering = true;
  lk.unlock();
  delivery d = delivery::delivered;
  if (held->accepted) {
    d = outcome_of(s.net.actors->send(s.owner, session_accepted{h, held->peer}));
    if (d == delivery::delivered) held->accepted = false;
  }
  std::size_t sent = 0;
  while (d == delivery::delivered && sent < held->frames.size()) {
    d = deliver_frame(s, h, held->frames[sent]);
    if (d == delivery::delivered) ++sent;
  }
  lk.lock();
  s.delivering = false;
  if (s.state != session_state::open) return false;
  if (d == delivery::gone) {
    hard_close_locked(s, errc::owner_gone, true);
    return false;
  }
  start_send_locked(s);  // sends made while `delivering` only queued
  if (d == delivery::delivered) return true;
  held->frames.erase(held->frames.begin(),
                     held->frames.begin() + static_cast<std::ptrdiff_t>(sent));
  s.held = std::move(held);
  pause_for_full_mailbox_locked(s);
  return false;
}

void process_locked(session& s, session_lock& lk) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  constexpr std::size_t batch_size = 16;
  std::array<inbound, batch_size> batch;
  if (s.held && !s.paused && s.state == session_state::open && !deliver_held_locked(s, lk)) {
    return;
  }
  if (s.ws && (s.paused || !ws_ready_locked(s, lk))) return;
  while (s.state == session_state::open && !s.paused) {
    std::size_t count = 0;
    bool drained = false;
    while (count < batch_size && s.state == session_state::open) {
      // A view into the read block when the payload lies aligned there (no copy), else a copy
      // into a frame of its own: either way an 8-byte aligned, shareable frame.
      frame f;
      const auto st = s.ws ? ws_next_frame(s, f) : s.reader.next_frame(f);
      if (st == decode_status::need_more) {
        drained = true;
        break;
      }
      if (st == decode_status::error) {
        logger()->warn("session {}:{} closed: {} (header length {}, max {})", s.slot,
                       s.generation, s.reader.error().message(), s.reader.offending_length(),
                       s.reader.max_frame_size());
        hard_close_locked(s, s.reader.error(), true);
        break;
      }
      envelope_view env;
      if (const auto bad = decode_envelope(f.payload(), env)) {
        logger()->warn("session {}:{} closed: {} ({} byte frame)", s.slot, s.generation,
                       bad.message(), f.payload_size());
        hard_close_locked(s, bad, true);
        break;
      }
      if (env.type == msg_type::ping) {
        send_locked(s, encode_pong(env.seq));
        continue;
      }
      if (env.type == msg_type::pong) continue;
      batch[count++] = inbound{std::move(f), env};
    }
    if (count > 0) {
      s.net.stats.frames_in.fetch_add(count, std::memory_order_relaxed);
      const session_handle h = s.handle();
      s.delivering = true;
      lk.unlock();
      delivery d = delivery::delivered;
      std::size_t sent = 0;
      while (sent < count && d == delivery::delivered) {
        d = deliver_frame(s, h, batch[sent]);
        if (d == delivery::delivered) ++sent;
      }
      lk.lock();
      s.delivering = false;
      // An owner that closed the session gracefully and then stopped (a kick) has asked for
      // its last frames to be flushed: only an open session is aborted for a dead owner.
      if (d == delivery::gone && s.state == session_state::open) {
        hard_close_locked(s, errc::owner_gone, true);
      }
      if (d == delivery::full && s.state == session_state::open) {
        // The refused frame and the rest of the batch wait, in order, for the drain.
        s.held = std::make_unique<held_events>();
        for (std::size_t i = sent; i < count; ++i) s.held->frames.push_back(std::move(batch[i]));
      }
      for (auto& in : batch) in = inbound{};
      start_send_locked(s);  // what the handlers queued during the batch, in one write
      if (s.held && s.state == session_state::open) {
        pause_for_full_mailbox_locked(s);
        break;
      }
    }
    if (drained || pause_if_owner_behind_locked(s)) break;
  }
}

// Moves what the layer has decoded into the framer and delivers it, until the layer has
// nothing more or the owner's mailbox pauses reading (the rest waits in the layer for the
// drain). A closing session reads and discards. Then sends what the layer produced (a TLS
// handshake answers from here).
void pump_layer_locked(session& s, session_lock& lk) {
  assert(holds_lock(s) && "session function called without the session's mutex");
  // Bounded: the layer holds at most what the receives put in; each round takes some of it.
  for (int round = 0; round < 1'000'000 && s.layer; ++round) {
    if (s.state == session_state::closing) {
      std::array<std::byte, 4096> sink;
      if (s.layer->read(sink) == 0) break;
      continue;
    }
    if (s.state != session_state::open || s.paused) break;
    const std::size_t got = s.layer->read(s.ws ? ws_input_space(s) : s.reader.prepare(true));
    if (s.layer->failure()) {
      layer_failed_locked(s);
      break;
    }
    if (got == 0) break;
    if (s.ws) {
      ws_input_locked(s, got);
    } else {
      s.reader.commit(got);
    }
    process_locked(s, lk);
  }
  if (s.layer) start_send_locked(s);
}

void on_recv(completion* c, std::error_code ec, std::size_t n) {
  session& s = *static_cast<session_recv*>(c)->owner;
  if (defer_if_held(s, c, deferred_recv, ec, n)) return;
  session_lock lk(s);
  if (ec) {
    if (s.state == session_state::open || s.state == session_state::closing) {
      if (s.state == session_state::open) {
        logger()->debug("session {}:{} receive ended: {}", s.slot, s.generation, ec.message());
      }
      std::error_code why = close_reason_of(ec);
      // A layer may sort the end (TLS: the peer left inside a record).
      if (s.layer && s.state == session_state::open) {
        const std::error_code sorted = s.layer->transport_ended(why);
        if (sorted != why) {
          logger()->warn("session {}:{} closed: {}", s.slot, s.generation, sorted.message());
          why = sorted;
        }
      }
      hard_close_locked(s, why, false);
    }
    s.recv_pending = false;
    return finish(s, lk);
  }
  const bool ws = s.ws != nullptr;
  if (s.layer) {
    s.layer->received(n);
  } else if (ws) {
    ws_input_locked(s, n);
  } else {
    s.reader.commit(n);
  }
  const port_time now = s.net.port.now();
  // A session receiving again within a second keeps its read block between receives (one
  // syscall per burst); a rarely talking one drops back to the inline area and costs no heap.
  s.active = now - s.last_rx < millis(1000);
  s.last_rx = now;
  s.ping_sent = false;
  if (s.layer) {
    pump_layer_locked(s, lk);
  } else if (s.state == session_state::open) {
    process_locked(s, lk);
  }
  if (ws) start_send_locked(s);  // the handshake's answer, pongs, a close frame
  // Closing (before this receive or during its delivery): discard until the peer's FIN. The
  // receive has completed, so nothing writes into the read buffer and it may go.
  if (s.state == session_state::closing) s.reader = framer(1);
  s.recv_pending = false;
  start_recv_locked(s);
  finish(s, lk);
}

void on_send(completion* c, std::error_code ec, std::size_t n) {
  session& s = *static_cast<session_send*>(c)->owner;
  if (defer_if_held(s, c, deferred_send, ec, n)) return;
  session_lock lk(s);
  s.send_pending = false;
  if (s.layer) {
    s.layer->consume_output(n);
  } else {
    s.out.consume(n);
  }
  if (ec) {
    if (s.state == session_state::open || s.state == session_state::closing) {
      logger()->debug("session {}:{} send failed: {}", s.slot, s.generation, ec.message());
      hard_close_locked(s, close_reason_of(ec), false);
    }
    return finish(s, lk);
  }
  start_send_locked(s);
  flush_done_locked(s);
  finish(s, lk);
}

void on_drain(completion* c, std::error_code ec, std::size_t n) {
  session& s = *static_cast<session_drain*>(c)->owner;
  if (defer_if_held(s, c, deferred_drain, ec, n)) return;
  session_lock lk(s);
  // The notification has fired, so it is no longer registered.
  s.drain_pending = false;
  s.paused = false;
  s.last_rx = s.net.port.now();  // time spent paused is ours, not the peer's idleness
  if (ec && s.state == session_state::open) hard_close_locked(s, errc::owner_gone, true);
  // Frames left in the read buffer when reading paused go first; this may pause again.
  process_locked(s, lk);
  if (s.layer) pump_layer_locked(s, lk);
  start_recv_locked(s);
  finish(s, lk);
}

}  // namespace

}  // namespace quay::net::detail
