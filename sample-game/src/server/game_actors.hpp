#pragma once
// Spawning the zone server's actors in the right order, so that each one's context already
// names the services it talks to: persistence, chat, gateway, then one supervised zone actor
// per zone. The zone server uses it on the io_port; tests and fuzz targets on the
// deterministic fixture.

#include <atomic>
#include <cstdint>
#include <vector>

#include "messages.hpp"
#include "persistence_actor.hpp"
#include "quay/game/zone_definition.hpp"

namespace quay {
class actor_system;
}

namespace quay::game::server {

/// What spawn_game_actors needs besides the context.
struct game_setup {
  std::uint32_t start_zone = 1;
  std::vector<zone_definition> zones;
  character_store* store = nullptr;          ///< null: characters in memory only
  std::vector<stored_character> stored;      ///< what the store held at startup
  std::atomic<std::size_t>* online = nullptr;  ///< mirrors players online (may be null)
  persistence_counters* counters = nullptr;  ///< may be null
  std::uint32_t zone_max_restarts = 3;       ///< per zone, within zone_restart_window
  millis zone_restart_window{10'000};
};

/// The service actors it spawned.
struct game_actors {
  actor_ref persistence;
  actor_ref chat;
  actor_ref gateway;
  std::vector<actor_ref> zone_supervisors;  ///< in the order of setup.zones
};

/// Spawns persistence, chat and gateway (registered as "persistence", "chat", "gateway") and
/// one zone_supervisor per zone (its zone actor registers as "zone/<id>" in the supervisor's
/// first turn). Fills `ctx`'s actor refs; the players' context is `ctx` afterwards.
/// Thread-safe (spawning is); call once per system.
game_actors spawn_game_actors(actor_system& sys, server_context& ctx, game_setup setup);

}  // namespace quay::game::server
