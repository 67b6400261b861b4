#pragma once
// One connection to the operator listener (docs/operations.md): a plain GET answered from
// operator_routes (then the connection closes), or a WebSocket map view: its first message is
// MapSubscribe{zone, token}; with the right token the zone actor pushes ZoneMap frames to it
// until it closes.

#include <cstdint>

#include "messages.hpp"
#include "operator_http.hpp"
#include "quay/actors/actor.hpp"
#include "quay/net/session.hpp"

namespace quay::game::server {

/// The operator session's owner. Thread contract: an actor — state touched only in its turns;
/// `routes` and `sink` are thread-safe and outlive it.
class operator_session final : public actor {
public:
  operator_session(const operator_routes* routes, frame_sink* sink, net::session_handle session,
                   std::string peer, spdlog::logger* log);

  static void define(handlers<operator_session>& h);

private:
  void on_accepted(const net::session_accepted&);
  void on_request(const net::http_request& r);
  void on_frame(const net::session_frame& m);
  void on_closed(const net::session_closed&);
  void on_stop(exit_reason) override;

  const operator_routes* routes_;
  frame_sink* sink_;
  net::session_handle session_;
  std::string peer_;
  spdlog::logger* log_;
  actor_ref zone_;  // the zone this map view subscribed to (null: none)
};

}  // namespace quay::game::server
