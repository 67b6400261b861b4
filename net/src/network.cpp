// quay::net::network: the public API over network_impl (slot table: slot_table.cpp, accept:
// accept.cpp, connect: connect.cpp, sweep: sweep.cpp, session state machine: session.cpp).
#include "quay/net/network.hpp"

#include "network_impl.hpp"
#include "session_ws.hpp"
#include "quay/actors/system.hpp"

namespace quay::net {

using detail::session_lock;
using detail::session_state;

namespace {

// Locks the session named by `h`, or returns nullptr if the handle is stale.
detail::session* locked(detail::network_impl& net, session_handle h, session_lock& lk) {
  detail::session* s = net.lookup(h.slot);
  if (s == nullptr || h.generation == 0) return nullptr;
  lk.acquire(*s);
  if (s->generation != h.generation || s->state == session_state::free) {
    lk.unlock();
    return nullptr;
  }
  return s;
}

}  // namespace

network::network(io_port& port, actor_system* actors)
    : impl_(std::make_unique<detail::network_impl>(port, actors)) {}

network::~network() { shutdown(); }

namespace {
std::error_code check_protocols(const listen_options& o) {
  const auto& p = o.protocols;
  if (!p.quay && !p.websocket && !p.http) return std::make_error_code(std::errc::invalid_argument);
  if ((p.websocket || p.http) && !detail::ws_supported()) {
    return std::make_error_code(std::errc::protocol_not_supported);
  }
  return {};
}
}  // namespace

std::error_code network::listen(const listen_options& o, owner_factory factory, endpoint* bound) {
  if (impl_->actors == nullptr) return std::make_error_code(std::errc::invalid_argument);
  if (const auto ec = check_protocols(o)) return ec;
  auto l = std::make_unique<detail::listener_state>(*impl_, o);
  l->factory = std::move(factory);
  return impl_->start_listener(std::move(l), bound);
}

std::error_code network::listen(const listen_options& o, session_handler& handler,
                                endpoint* bound) {
  if (const auto ec = check_protocols(o)) return ec;
  auto l = std::make_unique<detail::listener_state>(*impl_, o);
  l->handler = &handler;
  return impl_->start_listener(std::move(l), bound);
}

session_handle network::connect(const endpoint& target, actor_ref owner,
                                const session_options& o) {
  if (impl_->actors == nullptr || !owner) return {};
  return impl_->start_connect(target, owner, nullptr, o);
}

session_handle network::connect(const endpoint& target, session_handler& handler,
                                const session_options& o) {
  return impl_->start_connect(target, actor_ref{}, &handler, o);
}

std::error_code network::send(session_handle h, frame f) {
  if (!f) return std::make_error_code(std::errc::invalid_argument);
  session_lock lk;
  detail::session* s = locked(*impl_, h, lk);
  if (s == nullptr) return errc::session_gone;
  const auto ec = detail::send_locked(*s, std::move(f));
  detail::finish(*s, lk);
  return ec;
}

std::error_code network::close(session_handle h, std::error_code reason) {
  session_lock lk;
  detail::session* s = locked(*impl_, h, lk);
  if (s == nullptr) return errc::session_gone;
  detail::graceful_close_locked(*s, reason);
  detail::finish(*s, lk);
  return {};
}

std::error_code network::respond(session_handle h, const http_response& r) {
  session_lock lk;
  detail::session* s = locked(*impl_, h, lk);
  if (s == nullptr) return errc::session_gone;
  const auto ec = detail::ws_respond_locked(*s, r);
  if (!ec) detail::schedule_send_locked(*s);
  detail::finish(*s, lk);
  return ec;
}

std::error_code network::abort(session_handle h, std::error_code reason) {
  session_lock lk;
  detail::session* s = locked(*impl_, h, lk);
  if (s == nullptr) return errc::session_gone;
  detail::hard_close_locked(*s, reason, true);
  detail::finish(*s, lk);
  return {};
}

namespace {
// The pending accept completes with an abort and, seeing `closed`, is not restarted. It takes
// no lock, so it may run inside close() (a stopped port).
void close_listeners(detail::network_impl& net) {
  std::lock_guard lk(net.listeners_mu);
  for (auto& l : net.listeners) {
    std::lock_guard llk(l->mu);
    l->closed = true;
    l->sock.close();
  }
}
}  // namespace

void network::stop_listening() { close_listeners(*impl_); }

void network::shutdown() {
  if (impl_->shut.exchange(true)) return;
  close_listeners(*impl_);
  const std::uint32_t n = impl_->slots_in_use_high();
  for (std::uint32_t i = 0; i < n; ++i) {
    detail::session* s = impl_->lookup(i);
    session_lock lk(*s);
    if (s->state == session_state::free) continue;
    detail::hard_close_locked(*s, errc::shutting_down, false);
    detail::finish(*s, lk);
  }
}

std::optional<session_info> network::info(session_handle h) const {
  session_lock lk;
  detail::session* s = locked(*impl_, h, lk);
  if (s == nullptr) return std::nullopt;
  session_info i;
  i.queued_bytes = s->out.queued_bytes();
  i.read_heap_bytes = s->reader.heap_bytes();
  i.reading_paused = s->paused;
  i.open = s->state == session_state::open;
  i.websocket = s->ws && detail::ws_open(*s);
  return i;
}

network_stats network::stats() const noexcept {
  const auto& c = impl_->stats;
  network_stats st;
  st.open_sessions = c.open.load(std::memory_order_relaxed);
  st.accepted = c.accepted.load(std::memory_order_relaxed);
  st.refused_over_limit = c.refused.load(std::memory_order_relaxed);
  st.closed = c.closed.load(std::memory_order_relaxed);
  st.frames_in = c.frames_in.load(std::memory_order_relaxed);
  st.frames_out = c.frames_out.load(std::memory_order_relaxed);
  st.read_pauses = c.pauses.load(std::memory_order_relaxed);
  return st;
}

}  // namespace quay::net
