// quay::net::network: the public API, the slot table, listeners and their accept loops,
// connectors, and the sweep that runs idle timeouts, heartbeats and close deadlines.
#include "quay/net/network.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "network_impl.hpp"
#include "quay/actors/system.hpp"
#include "quay/runtime/error.hpp"
#include "quay/runtime/log.hpp"

namespace quay::net {

namespace detail {

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
  static const auto l = quay::log::get("net");
  return l;
}

constexpr millis accept_retry_delay{100};

void start_accept(listener_state& l);

// Drops one in_flight count: the last touch of the network by its caller.
void leave(network_impl& net) { net.in_flight.fetch_sub(1, std::memory_order_release); }

// The accept completion counts in in_flight from its start to its end (it restarts the accept,
// which counts again, before it leaves). It takes no lock: on a stopped port it runs inside
// the start or the close that aborted it, with the listener's mutex held.
void on_accept(completion* c, std::error_code ec, std::size_t) {
  listener_state& l = *static_cast<listener_state::accept_completion*>(c)->owner;
  network_impl& net = l.net;
  if (ec) {
    if (l.closed.load() || ec == quay::errc::aborted || ec == quay::errc::shut_down) {
      return leave(net);
    }
    // Out of descriptors (or another resource): do not spin; try again shortly. The timer's
    // callback runs exactly once (aborted if the port stops) and counts meanwhile.
    logger()->warn("accept failed on {}: {}; retrying", l.opts.at.to_string(), ec.message());
    net.in_flight.fetch_add(1, std::memory_order_relaxed);
    net.port.start_timer(accept_retry_delay, [&l](std::error_code tec) {
      network_impl& n = l.net;
      if (!tec) start_accept(l);
      leave(n);
    });
    return leave(net);
  }
  tcp_socket peer = std::move(l.aop.peer);
  const endpoint peer_ep = l.aop.peer_endpoint;
  if (net.shut.load()) {
    peer.close();  // shutdown() raced with this accept: no new sessions
    return leave(net);
  }

  if (l.open.load(std::memory_order_relaxed) >= l.opts.max_connections) {
    net.stats.refused.fetch_add(1, std::memory_order_relaxed);
    logger()->warn("connection from {} refused: connection limit ({}) reached",
                   peer_ep.to_string(), l.opts.max_connections);
    peer.close();
  } else if (session* s = net.allocate(); s == nullptr) {
    net.stats.refused.fetch_add(1, std::memory_order_relaxed);
    logger()->error("connection from {} refused: no session slot left", peer_ep.to_string());
    peer.close();
  } else {
    session_lock lk(*s);
    configure(*s, l.opts.session);
    s->sock = std::move(peer);
    s->listener = &l;
    s->handler = l.handler;
    l.open.fetch_add(1, std::memory_order_relaxed);
    net.stats.accepted.fetch_add(1, std::memory_order_relaxed);
    if (l.opts.session.no_delay) s->sock.set_no_delay(true);
    const session_handle h = s->handle();
    if (l.handler == nullptr) {
      // The factory may spawn an actor; it runs without the session's mutex, but the session
      // is `starting` with `delivering` set, so nothing can finalise it meanwhile.
      s->delivering = true;
      lk.unlock();
      const actor_ref owner = l.factory ? l.factory(h, peer_ep) : actor_ref{};
      lk.lock();
      s->delivering = false;
      s->owner = owner;
    }
    if (s->state != session_state::starting) {
      finish(*s, lk);
    } else if (l.handler == nullptr && !s->owner) {
      logger()->warn("connection from {} refused: no owner", peer_ep.to_string());
      hard_close_locked(*s, errc::no_owner, false);
      finish(*s, lk);
    } else {
      open_session(*s, lk, peer_ep);
      finish(*s, lk);
    }
  }
  start_accept(l);
  leave(net);
}

void start_accept(listener_state& l) {
  std::lock_guard lk(l.mu);
  if (l.closed.load()) return;
  l.net.in_flight.fetch_add(1, std::memory_order_relaxed);
  l.sock.async_accept(l.aop);
}

void on_connect(completion* c, std::error_code ec, std::size_t n) {
  session& s = *static_cast<session_connect*>(c)->owner;
  if (holds_lock(s)) {
    // Started (or aborted) inside a call made under the session's mutex: see network_impl.hpp.
    c->set_result(ec, n);
    s.deferred |= deferred_connect;
    return;
  }
  session_lock lk(s);
  s.connect_pending = false;
  if (s.state != session_state::connecting) {
    s.cop.reset();
    return finish(s, lk);
  }
  if (ec) {
    logger()->debug("connect to {} failed: {}", s.cop->target.to_string(), ec.message());
    hard_close_locked(s, ec, false);
    s.cop.reset();
    return finish(s, lk);
  }
  s.sock = std::move(s.cop->socket);
  const endpoint peer = s.cop->target;
  s.cop.reset();
  s.sock.set_no_delay(true);
  open_session(s, lk, peer);
  finish(s, lk);
}

}  // namespace

session_connect::session_connect(session* s) : connect_op(&on_connect), owner(s) {}
listener_state::accept_completion::accept_completion(listener_state* l)
    : accept_op(&on_accept), owner(l) {}
listener_state::listener_state(network_impl& n, const listen_options& o) : net(n), opts(o) {}

struct network_impl::chunk {
  explicit chunk(network_impl& n, std::uint32_t first) {
    for (std::uint32_t i = 0; i < chunk_size; ++i) {
      slots[i] = std::make_unique<session>(n, first + i);
    }
  }
  std::array<std::unique_ptr<session>, chunk_size> slots;
};

network_impl::network_impl(io_port& p, actor_system* a) : port(p), actors(a) {
  // The sweep timer counts until its last invocation, the one with an error (cancelled by the
  // destructor, or aborted when the port stops).
  in_flight.fetch_add(1, std::memory_order_relaxed);
  sweep_timer = port.start_timer(
      sweep_period,
      [this](std::error_code ec) {
        if (!ec) return sweep();
        leave(*this);
      },
      sweep_period);
}

network_impl::~network_impl() {
  port.cancel_timer(sweep_timer);
  // Completions that refer to sessions, listeners or the sweep may still be queued on a running
  // port (a stopped one has run them all): wait for them. A port that cannot run them (this is
  // its only worker) or does not within the deadline is a shutdown order that cannot be made
  // safe, so it is refused loudly rather than left to touch freed memory.
  constexpr auto deadline = std::chrono::seconds(30);
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (in_flight.load(std::memory_order_acquire) != 0) {
    const bool stuck = port.in_worker() && port.concurrency() == 1;
    if (stuck || std::chrono::steady_clock::now() > until) {
      logger()->critical(
          "network destroyed with {} operations in flight that its port {}; aborting "
          "(destroy the network from outside the port's only worker, or stop the port first)",
          in_flight.load(), stuck ? "cannot run from this worker" : "did not finish in 30 s");
      std::abort();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& c : chunks_) delete c.load(std::memory_order_acquire);
}

session* network_impl::lookup(std::uint32_t slot) const noexcept {
  if ((slot >> chunk_bits) >= max_chunks) return nullptr;
  chunk* c = chunks_[slot >> chunk_bits].load(std::memory_order_acquire);
  return c == nullptr ? nullptr : c->slots[slot & (chunk_size - 1)].get();
}

session* network_impl::allocate() {
  std::uint32_t slot = 0;
  {
    std::lock_guard lk(table_mu_);
    if (free_.empty()) {
      const std::uint32_t first = high_water_.load(std::memory_order_relaxed);
      if ((first >> chunk_bits) >= max_chunks) return nullptr;
      chunks_[first >> chunk_bits].store(new chunk(*this, first), std::memory_order_release);
      for (std::uint32_t i = chunk_size; i > 0; --i) free_.push_back(first + i - 1);
      high_water_.store(first + chunk_size, std::memory_order_release);
    }
    slot = free_.back();
    free_.pop_back();
  }
  session* s = lookup(slot);
  std::lock_guard lk(s->mu);
  if (s->generation == 0) s->generation = 1;
  s->state = session_state::starting;
  stats.open.fetch_add(1, std::memory_order_relaxed);
  in_flight.fetch_add(1, std::memory_order_relaxed);  // dropped at the end of finish()
  return s;
}

void network_impl::release(std::uint32_t slot) {
  std::lock_guard lk(table_mu_);
  free_.push_back(slot);
}

std::error_code network_impl::start_listener(std::unique_ptr<listener_state> l, endpoint* bound) {
  if (shut.load()) return errc::shutting_down;
  if (auto ec = l->sock.open(port, l->opts.at, l->opts.backlog)) return ec;
  if (bound != nullptr) l->sock.local_endpoint(*bound);
  listener_state& ref = *l;
  {
    std::lock_guard lk(listeners_mu);
    listeners.push_back(std::move(l));
  }
  start_accept(ref);
  return {};
}

session_handle network_impl::start_connect(const endpoint& target, actor_ref owner,
                                           session_handler* h, const session_options& o) {
  session* s = allocate();
  if (s == nullptr) return {};
  session_lock lk(*s);
  configure(*s, o);
  s->owner = owner;
  s->handler = h;
  s->state = session_state::connecting;
  const session_handle handle = s->handle();
  if (shut.load()) {
    hard_close_locked(*s, errc::shutting_down, false);
    finish(*s, lk);
    return handle;
  }
  s->cop = std::make_unique<session_connect>(s);
  s->cop->target = target;
  s->connect_pending = true;
  async_connect(port, *s->cop);
  return handle;
}

}  // namespace detail

using detail::session;
using detail::session_lock;
using detail::session_state;

namespace {

// Locks the session named by `h`, or returns nullptr if the handle is stale.
session* locked(detail::network_impl& net, session_handle h, session_lock& lk) {
  session* s = net.lookup(h.slot);
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

std::error_code network::listen(const listen_options& o, owner_factory factory, endpoint* bound) {
  if (impl_->actors == nullptr) return std::make_error_code(std::errc::invalid_argument);
  auto l = std::make_unique<detail::listener_state>(*impl_, o);
  l->factory = std::move(factory);
  return impl_->start_listener(std::move(l), bound);
}

std::error_code network::listen(const listen_options& o, session_handler& handler,
                                endpoint* bound) {
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
  session* s = locked(*impl_, h, lk);
  if (s == nullptr) return errc::session_gone;
  const auto ec = detail::send_locked(*s, std::move(f));
  detail::finish(*s, lk);
  return ec;
}

std::error_code network::close(session_handle h, std::error_code reason) {
  session_lock lk;
  session* s = locked(*impl_, h, lk);
  if (s == nullptr) return errc::session_gone;
  detail::graceful_close_locked(*s, reason);
  detail::finish(*s, lk);
  return {};
}

std::error_code network::abort(session_handle h, std::error_code reason) {
  session_lock lk;
  session* s = locked(*impl_, h, lk);
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
    session* s = impl_->lookup(i);
    session_lock lk(*s);
    if (s->state == session_state::free) continue;
    detail::hard_close_locked(*s, errc::shutting_down, false);
    detail::finish(*s, lk);
  }
}

std::optional<session_info> network::info(session_handle h) const {
  session_lock lk;
  session* s = locked(*impl_, h, lk);
  if (s == nullptr) return std::nullopt;
  session_info i;
  i.queued_bytes = s->out.queued_bytes();
  i.read_heap_bytes = s->reader.heap_bytes();
  i.reading_paused = s->paused;
  i.open = s->state == session_state::open;
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
