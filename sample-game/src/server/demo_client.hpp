#pragma once
// A built-in demo client: an actor that connects to the server over TCP (the SDK's connector),
// logs in, wanders at walking speed and chats now and then. `zone-server --demo-clients N`
// starts N of them so the server shows live figures without the bots program.

#include <cstdint>
#include <string>

#include <flatbuffers/flatbuffers.h>

#include "quay/actors/actor.hpp"
#include "quay/game/client_messages.hpp"
#include "quay/game/rng.hpp"
#include "quay/game/types.hpp"
#include "quay/net/network.hpp"

namespace quay::game::server {

/// One demo client. Thread contract: an actor — state touched only in its turns; the network
/// it uses is thread-safe.
class demo_client final : public actor {
public:
  demo_client(net::network* network, endpoint server, std::string name, std::uint64_t seed);

  static void define(handlers<demo_client>& h);

private:
  struct step_msg {};

  void on_start() override;
  void on_accepted(const net::session_accepted& m);
  void on_frame(const net::session_frame& m);
  void on_closed(const net::session_closed& m);
  void on_step(const step_msg&);

  net::network* network_;
  endpoint server_;
  std::string name_;
  rng random_;
  net::session session_;  // the connection, to send typed messages through
  bool in_world_ = false;
  vec2 pos_;
  float heading_ = 0.0f;
  zone_bounds bounds_;
  std::uint32_t seq_ = 0;
  std::uint32_t steps_ = 0;
};

}  // namespace quay::game::server
