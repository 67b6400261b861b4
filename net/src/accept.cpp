// Listeners and their accept loops: each accepted connection becomes a session in state
// `starting`, gets its owner from the factory (or the listener's handler) and opens.
#include "network_impl.hpp"
#include "session_ws.hpp"
#include "quay/runtime/error.hpp"
#include "quay/runtime/log.hpp"

namespace quay::net::detail {

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
  static const auto l = quay::log::get("net");
  return l;
}

constexpr millis accept_retry_delay{100};

void start_accept(listener_state& l);

// The accept completion counts in in_flight from its start to its end (it restarts the accept,
// which counts again, before it leaves). It takes no lock: on a stopped port it runs inside
// the start or the close that aborted it, with the listener's mutex held.
void on_accept(completion* c, std::error_code ec, std::size_t) {
  listener_state& l = *static_cast<listener_state::accept_completion*>(c)->owner;
  network_impl& net = l.net;
  if (ec) {
    if (l.closed.load() || ec == quay::errc::aborted || ec == quay::errc::shut_down) {
      return net.leave();
    }
    // Out of descriptors (or another resource): do not spin; try again shortly. The timer's
    // callback runs exactly once (aborted if the port stops) and counts meanwhile.
    logger()->warn("accept failed on {}: {}; retrying", l.opts.at.to_string(), ec.message());
    net.in_flight.fetch_add(1, std::memory_order_relaxed);
    net.port.start_timer(accept_retry_delay, [&l](std::error_code tec) {
      network_impl& n = l.net;
      if (!tec) start_accept(l);
      n.leave();
    });
    return net.leave();
  }
  tcp_socket peer = std::move(l.aop.peer);
  const endpoint peer_ep = l.aop.peer_endpoint;
  if (net.shut.load()) {
    peer.close();  // shutdown() raced with this accept: no new sessions
    return net.leave();
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
    s->ws = make_ws_state(l.opts, net.port.now());
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
  net.leave();
}

void start_accept(listener_state& l) {
  std::lock_guard lk(l.mu);
  if (l.closed.load()) return;
  l.net.in_flight.fetch_add(1, std::memory_order_relaxed);
  l.sock.async_accept(l.aop);
}

}  // namespace

listener_state::accept_completion::accept_completion(listener_state* l)
    : accept_op(&on_accept), owner(l) {}
listener_state::listener_state(network_impl& n, const listen_options& o) : net(n), opts(o) {}

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

}  // namespace quay::net::detail
