#pragma once

#include <memory>

#include "quay/bots/bot.hpp"
#include "quay/bots/run_stats.hpp"

namespace quay::bots {

/// The sample game's protocol for bots (docs/protocol.md, "Game messages"): the script
/// functions login, logout, move, walk_to, say, zone_say, whisper, attack, use_portal, ping,
/// me_state, entities, entity, find_entity, send_envelope, and the events the server's messages
/// become (login_result, enter_zone, entity_enter, entity_leave, world_update, correction, hit,
/// respawned, progress, chat, error, kicked, pong). sample-game/bots/README.md documents each.
///
/// Round trips and AOI staleness go to `stats`. Thread contract: the factory is thread-safe;
/// the protocol object belongs to one bot (owner only).
std::unique_ptr<bot_protocol> make_game_protocol(run_stats& stats);

}  // namespace quay::bots
