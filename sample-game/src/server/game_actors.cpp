// Spawning the zone server's actors (see game_actors.hpp).
#include "game_actors.hpp"

#include "chat_actor.hpp"
#include "gateway_actor.hpp"
#include "quay/actors/system.hpp"
#include "zone_supervisor.hpp"

namespace quay::game::server {

game_actors spawn_game_actors(actor_system& sys, server_context& ctx, game_setup setup) {
  game_actors a;
  // Each actor copies the context when built: spawn in dependency order. Persistence answers
  // whoever asks and tells the sender-given actor of a release, so it needs no other ref.
  a.persistence = sys.spawn<persistence_actor>(ctx, setup.store, std::move(setup.stored),
                                               setup.counters);
  ctx.persistence = a.persistence;
  a.chat = sys.spawn<chat_actor>(ctx);
  ctx.chat = a.chat;
  a.gateway = sys.spawn<gateway_actor>(ctx, setup.start_zone, setup.online);
  ctx.gateway = a.gateway;
  sys.register_name("persistence", a.persistence);
  sys.register_name("chat", a.chat);
  sys.register_name("gateway", a.gateway);
  std::uint64_t seed = 1;
  for (auto& zone : setup.zones) {
    a.zone_supervisors.push_back(sys.spawn<zone_supervisor>(
        ctx, std::move(zone), seed++, setup.zone_max_restarts, setup.zone_restart_window));
  }
  return a;
}

}  // namespace quay::game::server
