// Connectors: network::connect's session, from the handshake to open (or closed with the
// connect error).
#include "network_impl.hpp"
#include "quay/runtime/log.hpp"

namespace quay::net::detail {

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
  static const auto l = quay::log::get("net");
  return l;
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

}  // namespace quay::net::detail
