#pragma once
// The zone supervisor: one per zone, so a zone that keeps failing takes no other zone with it.
// It runs its zone actor under one-for-one supervision (restarted whatever the reason, under
// the registry name "zone/<id>"); more than `max_restarts` failures within `window` make it
// give up, and the zone is gone until the server restarts (its players are kicked with
// ZoneUnavailable, portals to it answer UnknownZone, logins saved there start in the start
// zone).

#include <cstdint>

#include "messages.hpp"
#include "quay/actors/actor.hpp"
#include "quay/game/zone_definition.hpp"

namespace quay::game::server {

/// Supervises one zone actor. Thread contract: an actor — state touched only in its turns.
class zone_supervisor final : public actor {
public:
  zone_supervisor(server_context ctx, zone_definition zone, std::uint64_t seed,
                  std::uint32_t max_restarts = 3, millis window = millis(10'000));

  static void define(handlers<zone_supervisor>& h);

private:
  void on_start() override;
  void on_restarted(const child_restarted& m);

  server_context ctx_;
  zone_definition zone_;
  std::uint64_t seed_;
  std::uint32_t max_restarts_;
  millis window_;
};

}  // namespace quay::game::server
