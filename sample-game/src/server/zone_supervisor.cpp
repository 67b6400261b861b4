// The zone supervisor (see zone_supervisor.hpp).
#include "zone_supervisor.hpp"

#include "quay/actors/system.hpp"
#include "quay/runtime/log.hpp"
#include "zone_actor.hpp"

namespace quay::game::server {

zone_supervisor::zone_supervisor(server_context ctx, zone_definition zone, std::uint64_t seed,
                                 std::uint32_t max_restarts, millis window)
    : ctx_(ctx), zone_(std::move(zone)), seed_(seed), max_restarts_(max_restarts),
      window_(window) {}

void zone_supervisor::define(handlers<zone_supervisor>& h) {
  h.on<&zone_supervisor::on_restarted>();
}

void zone_supervisor::on_start() {
  set_restart_intensity(max_restarts_, window_);
  // Each incarnation starts from the zone's definition (NPCs at home, no players); players
  // of a failed one re-enter it with the state the failed one handed them.
  supervise<zone_actor>(restart_policy::permanent, zone_actor_name(zone_.id), ctx_, zone_,
                        seed_);
}

void zone_supervisor::on_restarted(const child_restarted& m) {
  spdlog::logger& log = ctx_.log != nullptr ? *ctx_.log : *log::get("game");
  log.warn("zone {} '{}' restarted after {}: {}", zone_.id, zone_.name, to_string(m.reason),
           m.detail);
}

}  // namespace quay::game::server
