// Turning the server's messages into tracked state and script events (docs/protocol.md).
// Every payload is verified before it is read. State is updated first and the events are
// delivered after, so a script resumed by one of them sees the whole message applied.

#include <lua.hpp>

#include <cctype>
#include <string>

#include "game_protocol.hpp"
#include "quay/net/envelope.hpp"
#include "quay/schemas/chat_generated.h"
#include "quay/schemas/combat_generated.h"
#include "quay/schemas/error_generated.h"
#include "quay/schemas/login_generated.h"
#include "quay/schemas/message_ids_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/server_info_generated.h"
#include "quay/schemas/zone_generated.h"

namespace quay::bots::detail {

namespace wire = quay::game::wire;

// "OnCooldown" -> "on_cooldown": the names scripts compare against.
std::string snake(const char* camel) {
  std::string out;
  for (const char* p = camel; p != nullptr && *p != 0; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (std::isupper(c)) {
      if (!out.empty()) out += '_';
      out += static_cast<char>(std::tolower(c));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string error_name(wire::ErrorCode c) {
  const char* n = wire::EnumNameErrorCode(c);
  return n != nullptr && *n != 0 ? snake(n) : "code_" + std::to_string(static_cast<int>(c));
}

namespace {

template <class T>
const T* root_of(const net::frame& f) {
  net::envelope_view env;
  if (net::decode_envelope(f.payload(), env)) return nullptr;
  return flatbuffers::GetRoot<T>(env.payload.data());
}

std::uint32_t seq_of(const net::frame& f) {
  net::envelope_view env;
  return net::decode_envelope(f.payload(), env) ? 0 : env.seq;
}

using detail::set_str;  // the string_view one, beside this overload for flatbuffers strings
void set_str(lua_State* L, const char* k, const flatbuffers::String* v) {
  set_str(L, k, v != nullptr ? v->string_view() : std::string_view{});
}

void fill_login_result(lua_State* L, const event& ev) {
  const auto* r = root_of<wire::LoginResult>(ev.message);
  set_int(L, "seq", seq_of(ev.message));
  set_str(L, "error", error_name(r->error()));
  set_int(L, "character_id", static_cast<lua_Integer>(r->character_id()));
  set_str(L, "name", r->name());
  set_int(L, "server_time", r->server_time_ms());
  set_int(L, "tick_rate", r->tick_rate());
  set_int(L, "protocol_version", r->protocol_version());
  set_str(L, "resume_token", r->resume_token());
  set_int(L, "resume_grace_s", r->resume_grace_s());
  lua_pushboolean(L, r->resumed() ? 1 : 0);
  lua_setfield(L, -2, "resumed");
}

void fill_logged_out(lua_State* L, const event& ev) { set_int(L, "seq", seq_of(ev.message)); }

// ServerInfo as a table: the fields by name, zones = {{id = 1, name = "..."}, ...}.
void fill_server_info(lua_State* L, const event& ev) {
  const auto* i = root_of<wire::ServerInfo>(ev.message);
  set_int(L, "seq", seq_of(ev.message));
  set_int(L, "protocol_version", i->protocol_version());
  set_str(L, "server_version", i->server_version());
  set_int(L, "start_zone", i->start_zone());
  set_int(L, "tick_rate", i->tick_rate());
  set_int(L, "max_players", i->max_players());
  set_num(L, "message_burst", i->message_burst());
  set_num(L, "messages_per_second", i->messages_per_second());
  set_int(L, "chat_max_bytes", i->chat_max_bytes());
  set_num(L, "chat_burst", i->chat_burst());
  set_num(L, "chat_per_second", i->chat_per_second());
  set_int(L, "max_frame_size", i->max_frame_size());
  lua_newtable(L);
  if (i->zones() != nullptr) {
    lua_Integer n = 0;
    for (const auto* z : *i->zones()) {
      lua_newtable(L);
      set_int(L, "id", z->id());
      set_str(L, "name", z->name());
      lua_rawseti(L, -2, ++n);
    }
  }
  lua_setfield(L, -2, "zones");
}

void fill_kicked(lua_State* L, const event& ev) {
  const auto* k = root_of<wire::Kicked>(ev.message);
  set_str(L, "reason", error_name(k->reason()));
  set_int(L, "code", static_cast<lua_Integer>(k->reason()));
  set_str(L, "message", k->message());
}

void fill_error(lua_State* L, const event& ev) {
  const auto* e = root_of<wire::Error>(ev.message);
  set_int(L, "seq", seq_of(ev.message));
  set_str(L, "error", error_name(e->code()));
  set_int(L, "code", static_cast<lua_Integer>(e->code()));
  set_int(L, "request_type", e->request_type());
  set_str(L, "message", e->message());
}

void fill_enter_zone(lua_State* L, const event& ev) {
  const auto* z = root_of<wire::EnterZone>(ev.message);
  set_int(L, "zone", z->zone_id());
  set_str(L, "zone_name", z->zone_name());
  set_int(L, "id", z->self_id());
  if (z->position() != nullptr) {
    set_num(L, "x", z->position()->x());
    set_num(L, "y", z->position()->y());
  }
  set_int(L, "hp", z->hp());
  set_int(L, "max_hp", z->max_hp());
  set_int(L, "level", z->level());
  set_int(L, "xp", z->xp());
}

void fill_entity_enter(lua_State* L, const event& ev) {
  const auto* u = root_of<wire::WorldUpdate>(ev.message);
  const auto* s = u->enters()->Get(ev.index);
  set_int(L, "id", s->id());
  set_str(L, "kind", s->kind() == wire::EntityKind::Npc ? "npc" : "player");
  set_str(L, "name", s->name());
  if (s->position() != nullptr) {
    set_num(L, "x", s->position()->x());
    set_num(L, "y", s->position()->y());
  }
  set_int(L, "hp", s->hp());
  set_int(L, "max_hp", s->max_hp());
  set_int(L, "level", s->level());
}

void fill_id_name(lua_State* L, const event& ev) {
  set_int(L, "id", ev.number);
  if (!ev.text.empty()) set_str(L, "name", ev.text);
}

void fill_world_update(lua_State* L, const event& ev) {
  const auto* u = root_of<wire::WorldUpdate>(ev.message);
  set_int(L, "tick", u->tick());
  set_int(L, "server_time", u->server_time_ms());
  set_int(L, "enters", u->enters() ? u->enters()->size() : 0);
  set_int(L, "leaves", u->leaves() ? u->leaves()->size() : 0);
  set_int(L, "updates", u->updates() ? u->updates()->size() : 0);
}

void fill_correction(lua_State* L, const event& ev) {
  const auto* c = root_of<wire::MoveCorrection>(ev.message);
  set_int(L, "seq", seq_of(ev.message));
  if (c->position() != nullptr) {
    set_num(L, "x", c->position()->x());
    set_num(L, "y", c->position()->y());
  }
  set_str(L, "verdict", snake(wire::EnumNameMoveVerdict(c->verdict())));
}

void fill_hit(lua_State* L, const event& ev) {
  const auto* h = root_of<wire::CombatEvents>(ev.message)->hits()->Get(ev.index);
  set_int(L, "attacker", h->attacker());
  set_int(L, "target", h->target());
  set_int(L, "damage", h->damage());
  lua_pushboolean(L, h->killed() ? 1 : 0);
  lua_setfield(L, -2, "killed");
}

// The bot's own respawn keeps its frame, so the table also holds where it came back (x, y);
// another entity's respawn is just its id.
void fill_respawned(lua_State* L, const event& ev) {
  set_int(L, "id", ev.number);
  if (!ev.message) return;
  const auto* at = root_of<wire::CombatEvents>(ev.message)->respawn_position();
  if (at != nullptr) {
    set_num(L, "x", at->x());
    set_num(L, "y", at->y());
  }
}

void fill_progress(lua_State* L, const event& ev) {
  const auto* p = root_of<wire::Progress>(ev.message);
  set_int(L, "xp_gained", p->xp_gained());
  set_int(L, "xp", p->xp());
  set_int(L, "xp_to_next", p->xp_to_next());
  set_int(L, "level", p->level());
  set_int(L, "levels_gained", p->levels_gained());
  set_int(L, "max_hp", p->max_hp());
}

void fill_chat(lua_State* L, const event& ev) {
  const auto* c = root_of<wire::ChatMessage>(ev.message);
  set_str(L, "channel", snake(wire::EnumNameChatChannel(c->channel())));
  set_int(L, "from_id", c->from_id());
  set_str(L, "from", c->from_name());
  set_str(L, "text", c->text());
  if (c->to() != nullptr && c->to()->size() != 0) set_str(L, "to", c->to());
}

void fill_pong(lua_State* L, const event& ev) {
  set_int(L, "seq", static_cast<lua_Integer>(ev.index));
  set_num(L, "rtt_ms", static_cast<double>(ev.number) / 1000.0);
}

template <class T>
bool verified(std::span<const std::byte> payload) {
  flatbuffers::Verifier v(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
  return v.VerifyBuffer<T>(nullptr);
}

}  // namespace

void game_protocol::on_message(bot& b, const net::frame& message) {
  net::envelope_view env;
  if (net::decode_envelope(message.payload(), env)) {
    stats.count_error("invalid envelope from server");
    return;
  }
  const port_time now = b.env().now();
  // The scratch vector is taken, not borrowed, so a delivery that (through the script) led
  // back here could not clobber the events still being delivered.
  std::vector<event> out;
  out.swap(scratch);
  out.clear();
  auto make = [&](std::string_view name, void (*fill)(lua_State*, const event&)) {
    event ev;
    ev.name = name;
    ev.fill = fill;
    ev.message = message;
    ev.at = now;
    return ev;
  };
  auto bad = [&] { stats.count_error("invalid payload from server: type " + std::to_string(env.type)); };

  switch (static_cast<wire::MessageType>(env.type)) {
    case wire::MessageType::LoginResult: {
      if (!verified<wire::LoginResult>(env.payload)) return bad();
      const auto* r = flatbuffers::GetRoot<wire::LoginResult>(env.payload.data());
      if (r->error() == wire::ErrorCode::Ok) {
        me.character_id = r->character_id();
        if (r->name() != nullptr) me.name = r->name()->str();
        if (r->resume_token() != nullptr) resume_token = r->resume_token()->str();
        if (env.seq == login_seq) {
          // Our clock at the moment the server stamped its time, assuming the reply took half
          // the round trip: the basis of AOI staleness.
          const auto half = (now - login_sent) / 2;
          const auto local = (now - half).time_since_epoch().count();
          offset_ms = r->server_time_ms() - local;
          have_offset = true;
        }
      } else {
        stats.count_error("login refused: " + error_name(r->error()));
      }
      out.push_back(make("login_result", &fill_login_result));
      break;
    }
    case wire::MessageType::LoggedOut: {
      if (!verified<wire::LoggedOut>(env.payload)) return bad();
      out.push_back(make("logged_out", &fill_logged_out));
      break;
    }
    case wire::MessageType::ServerInfo: {
      if (!verified<wire::ServerInfo>(env.payload)) return bad();
      out.push_back(make("server_info", &fill_server_info));
      break;
    }
    case wire::MessageType::Kicked: {
      if (!verified<wire::Kicked>(env.payload)) return bad();
      stats.count_error("kicked: " + error_name(flatbuffers::GetRoot<wire::Kicked>(
                                         env.payload.data())->reason()));
      out.push_back(make("kicked", &fill_kicked));
      break;
    }
    case wire::MessageType::Error: {
      if (!verified<wire::Error>(env.payload)) return bad();
      // A ping is an Attack on entity 0, which the server always refuses: the refusal, carrying
      // the ping's seq, is the pong (see sample-game/bots/README.md, "ping").
      for (auto it = pings.begin(); it != pings.end(); ++it) {
        if (it->first != env.seq) continue;
        const auto us = b.env().precise_now() - it->second;
        stats.rtt.record(us);
        event ev = make("pong", &fill_pong);
        ev.index = env.seq;
        ev.number = us.count();
        pings.erase(it);
        b.deliver(std::move(ev));
        return;
      }
      const auto* e = flatbuffers::GetRoot<wire::Error>(env.payload.data());
      stats.count_error("server refused: " + error_name(e->code()));
      out.push_back(make("error", &fill_error));
      break;
    }
    case wire::MessageType::EnterZone: {
      if (!verified<wire::EnterZone>(env.payload)) return bad();
      const auto* z = flatbuffers::GetRoot<wire::EnterZone>(env.payload.data());
      entities.clear();
      me.in_zone = true;
      me.zone = z->zone_id();
      me.zone_name = z->zone_name() ? z->zone_name()->str() : std::string();
      me.width = z->width();
      me.height = z->height();
      me.cell_size = z->cell_size();
      me.aoi_radius = z->aoi_radius_cells();
      me.id = z->self_id();
      if (z->position() != nullptr) {
        me.x = z->position()->x();
        me.y = z->position()->y();
        me.acknowledge(now);
      }
      me.hp = z->hp();
      me.max_hp = z->max_hp();
      me.level = z->level();
      me.xp = z->xp();
      me.xp_to_next = z->xp_to_next();
      if (z->max_speed() > 0) me.max_speed = z->max_speed();
      me.portals.clear();
      if (z->portals() != nullptr) {
        for (const auto* p : *z->portals()) {
          portal_info pi;
          pi.name = p->name() ? p->name()->str() : std::string();
          if (p->position() != nullptr) {
            pi.x = p->position()->x();
            pi.y = p->position()->y();
          }
          pi.radius = p->radius();
          pi.target_zone = p->target_zone();
          me.portals.push_back(std::move(pi));
        }
      }
      out.push_back(make("enter_zone", &fill_enter_zone));
      break;
    }
    case wire::MessageType::MoveCorrection: {
      if (!verified<wire::MoveCorrection>(env.payload)) return bad();
      const auto* c = flatbuffers::GetRoot<wire::MoveCorrection>(env.payload.data());
      if (c->position() != nullptr) {
        me.x = c->position()->x();
        me.y = c->position()->y();
        me.acknowledge(now);
      }
      stats.count_error("move corrected: " + snake(wire::EnumNameMoveVerdict(c->verdict())));
      out.push_back(make("correction", &fill_correction));
      break;
    }
    case wire::MessageType::WorldUpdate: {
      if (!verified<wire::WorldUpdate>(env.payload)) return bad();
      const auto* u = flatbuffers::GetRoot<wire::WorldUpdate>(env.payload.data());
      if (have_offset) {
        const auto stamped = u->server_time_ms() - offset_ms;
        stats.aoi_staleness.record(
            std::chrono::milliseconds{now.time_since_epoch().count() - stamped});
      }
      const bool leave_events = b.wants("entity_leave");
      const bool enter_events = b.wants("entity_enter");
      if (u->leaves() != nullptr && (track_entities || leave_events)) {
        for (const auto id : *u->leaves()) {
          if (!leave_events) {
            entities.erase(id);
            continue;
          }
          event ev = make("entity_leave", &fill_id_name);
          ev.message = {};
          ev.number = id;
          if (auto it = entities.find(id); it != entities.end()) {
            ev.text = std::move(it->second.name);
            entities.erase(it);
          }
          out.push_back(std::move(ev));
        }
      }
      if (u->enters() != nullptr) {
        for (flatbuffers::uoffset_t i = 0; i < u->enters()->size(); ++i) {
          const auto* s = u->enters()->Get(i);
          if (s->id() != me.id && !track_entities && !enter_events) continue;
          entity_info e;
          e.id = s->id();
          e.npc = s->kind() == wire::EntityKind::Npc;
          e.name = s->name() ? s->name()->str() : std::string();
          if (s->position() != nullptr) {
            e.x = s->position()->x();
            e.y = s->position()->y();
          }
          e.hp = s->hp();
          e.max_hp = s->max_hp();
          e.level = s->level();
          if (e.id == me.id) {
            me.x = e.x;
            me.y = e.y;
            me.acknowledge(now);
            me.hp = e.hp;
            me.max_hp = e.max_hp;
            me.level = e.level;
            continue;
          }
          if (track_entities) entities[e.id] = std::move(e);
          if (!enter_events) continue;
          event ev = make("entity_enter", &fill_entity_enter);
          ev.index = i;
          out.push_back(std::move(ev));
        }
      }
      if (u->updates() != nullptr) {
        for (const auto* s : *u->updates()) {
          if (s->id() == me.id) {
            me.x = s->position().x();
            me.y = s->position().y();
            me.acknowledge(now);
            me.hp = s->hp();
            me.max_hp = s->max_hp();
            me.level = s->level();
            continue;
          }
          if (!track_entities) continue;
          auto& e = entities[s->id()];
          e.id = s->id();
          e.x = s->position().x();
          e.y = s->position().y();
          e.hp = s->hp();
          e.max_hp = s->max_hp();
          e.level = s->level();
        }
      }
      if (b.wants("world_update")) out.push_back(make("world_update", &fill_world_update));
      break;
    }
    case wire::MessageType::CombatEvents: {
      if (!verified<wire::CombatEvents>(env.payload)) return bad();
      const auto* c = flatbuffers::GetRoot<wire::CombatEvents>(env.payload.data());
      if (c->hits() != nullptr) {
        for (flatbuffers::uoffset_t i = 0; i < c->hits()->size(); ++i) {
          event ev = make("hit", &fill_hit);
          ev.index = i;
          out.push_back(std::move(ev));
        }
      }
      if (c->respawned() != nullptr) {
        for (const auto id : *c->respawned()) {
          // Back to life means back to full hp (docs/protocol.md, "Combat"), and for the bot
          // itself at `respawn_position`, which no WorldUpdate repeats.
          event ev = make("respawned", &fill_respawned);
          if (id == me.id) {
            me.hp = me.max_hp;
            if (c->respawn_position() != nullptr) {
              me.x = c->respawn_position()->x();
              me.y = c->respawn_position()->y();
              me.acknowledge(now);
            }
          } else {
            if (auto it = entities.find(id); it != entities.end()) {
              it->second.hp = it->second.max_hp;
            }
            ev.message = {};
          }
          ev.number = id;
          out.push_back(std::move(ev));
        }
      }
      break;
    }
    case wire::MessageType::Progress: {
      if (!verified<wire::Progress>(env.payload)) return bad();
      const auto* p = flatbuffers::GetRoot<wire::Progress>(env.payload.data());
      me.xp = p->xp();
      me.xp_to_next = p->xp_to_next();
      me.level = p->level();
      me.max_hp = p->max_hp();
      out.push_back(make("progress", &fill_progress));
      break;
    }
    case wire::MessageType::ChatMessage: {
      if (!verified<wire::ChatMessage>(env.payload)) return bad();
      out.push_back(make("chat", &fill_chat));
      break;
    }
    default:
      stats.count_error("unexpected message type " + std::to_string(env.type) + " from server");
      return;
  }
  for (auto& ev : out) b.deliver(std::move(ev));
  out.clear();
  if (scratch.capacity() < out.capacity()) scratch.swap(out);
}

void game_protocol::on_closed(bot&) {
  me = self_info{};
  entities.clear();
  pings.clear();
  have_offset = false;
}

}  // namespace quay::bots::detail
