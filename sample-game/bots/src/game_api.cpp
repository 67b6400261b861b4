// The game functions a scenario script calls (sample-game/bots/README.md): C primitives that encode the
// client's messages and read the tracked state, and Lua helpers on top (login, walk_to, ...).

#include <lua.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string_view>
#include <limits>

#include "game_protocol.hpp"
#include "quay/game/client_messages.hpp"
#include "quay/net/envelope.hpp"
#include "quay/schemas/chat_generated.h"
#include "quay/schemas/combat_generated.h"
#include "quay/schemas/login_generated.h"
#include "quay/schemas/message_ids_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/server_info_generated.h"
#include "quay/schemas/zone_generated.h"

namespace quay::bots::detail {

namespace wire = quay::game::wire;

namespace {

game_protocol& proto(lua_State* L) { return *static_cast<game_protocol*>(bot::from(L).protocol()); }

int push_seq(lua_State* L, std::uint32_t seq) {
  if (seq == 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "not connected");
    return 2;
  }
  lua_pushinteger(L, seq);
  return 1;
}

int l_login(lua_State* L) {
  auto& p = proto(L);
  const char* name = luaL_checkstring(L, 1);
  const char* token = luaL_checkstring(L, 2);
  p.login_sent = bot::from(L).env().now();
  const auto seq = p.send(bot::from(L), game::login_request{name, token, 1, {}, {}});
  p.login_seq = seq;
  return push_seq(L, seq);
}

// _resume(name, token): a LoginRequest that resumes with `token` (default: the latest one).
int l_resume(lua_State* L) {
  auto& p = proto(L);
  const char* name = luaL_checkstring(L, 1);
  const std::string token = luaL_optstring(L, 2, p.resume_token.c_str());
  p.login_sent = bot::from(L).env().now();
  const auto seq = p.send(bot::from(L), game::login_request{name, "", 1, {}, token});
  p.login_seq = seq;
  return push_seq(L, seq);
}

// resume_token(): the resume token of the latest successful login or resume (nil: none).
int l_resume_token(lua_State* L) {
  auto& p = proto(L);
  if (p.resume_token.empty()) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, p.resume_token.data(), p.resume_token.size());
  }
  return 1;
}

int l_logout(lua_State* L) {
  auto& p = proto(L);
  const auto seq = p.send(bot::from(L), game::logout_request{});
  // The server saves the character and closes the session: an end the script asked for.
  if (seq != 0) bot::from(L).env().expect_close();
  return push_seq(L, seq);
}

int l_server_info(lua_State* L) {
  auto& p = proto(L);
  return push_seq(L, p.send(bot::from(L), game::server_info_request{}));
}

int l_move(lua_State* L) {
  auto& p = proto(L);
  const auto x = static_cast<float>(luaL_checknumber(L, 1));
  const auto y = static_cast<float>(luaL_checknumber(L, 2));
  const auto seq = p.send(bot::from(L), game::move_intent{game::vec2{x, y}});
  // Client-side prediction: the server corrects us if it disagrees.
  if (seq != 0) {
    p.me.x = x;
    p.me.y = y;
  }
  return push_seq(L, seq);
}

int l_chat(lua_State* L) {
  auto& p = proto(L);
  const auto channel = static_cast<wire::ChatChannel>(luaL_checkinteger(L, 1));
  const char* text = luaL_checkstring(L, 2);
  const char* to = luaL_optstring(L, 3, nullptr);
  return push_seq(L, p.send(bot::from(L), game::chat_send_request{static_cast<std::uint8_t>(channel),
                                                                  text, to != nullptr ? to : ""}));
}

int l_attack(lua_State* L) {
  auto& p = proto(L);
  const auto target = static_cast<std::uint32_t>(luaL_checkinteger(L, 1));
  return push_seq(L, p.send(bot::from(L), game::attack_request{target}));
}

int l_use_portal(lua_State* L) {
  auto& p = proto(L);
  return push_seq(L, p.send(bot::from(L), game::use_portal_request{}));
}

// A ping is an Attack on entity 0, which no entity ever has: the server refuses it with an
// Error carrying the ping's seq after a full trip through the player and zone actors. (The
// wire protocol's own ping/pong is answered inside the session layer and never reaches
// clients' code, so it cannot be timed from a script.)
int l_ping(lua_State* L) {
  auto& p = proto(L);
  const auto sent = bot::from(L).env().precise_now();
  const auto seq = p.send(bot::from(L), game::attack_request{0});
  if (seq != 0) {
    // Keep the table small: a ping never answered (the session died) is forgotten.
    if (p.pings.size() >= 16) p.pings.erase(p.pings.begin());
    p.pings.emplace_back(seq, sent);
  }
  return push_seq(L, seq);
}

int l_send_envelope(lua_State* L) {
  const auto type = static_cast<std::uint16_t>(luaL_checkinteger(L, 1));
  const auto seq = static_cast<std::uint32_t>(luaL_checkinteger(L, 2));
  std::size_t n = 0;
  const char* payload = luaL_optlstring(L, 3, "", &n);
  const auto f = net::encode_envelope(type, seq, std::as_bytes(std::span(payload, n)));
  const auto bytes = f.payload();
  const auto ec = bot::from(L).env().send(
      {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  lua_pushboolean(L, ec ? 0 : 1);
  return 1;
}

// acked_position() -> x, y, at: the last position the server stated for this player and when
// it arrived (now()'s clock); nil before the first. Faults tests compare it with the database.
int l_acked_position(lua_State* L) {
  const auto& m = proto(L).me;
  if (!m.acked) return 0;
  lua_pushnumber(L, m.ack_x);
  lua_pushnumber(L, m.ack_y);
  lua_pushinteger(L, static_cast<lua_Integer>(m.ack_at.time_since_epoch().count()));
  return 3;
}

// raw_frame(type, seq, payload): the wire bytes of one frame (length prefix + Envelope), for a
// raw connection. The length is the envelope's true size; a script that wants a lying header
// writes its own bytes.
int l_raw_frame(lua_State* L) {
  const auto type = static_cast<std::uint16_t>(luaL_checkinteger(L, 1));
  const auto seq = static_cast<std::uint32_t>(luaL_checkinteger(L, 2));
  std::size_t n = 0;
  const char* payload = luaL_optlstring(L, 3, "", &n);
  const auto f = net::encode_envelope(type, seq, std::as_bytes(std::span(payload, n)));
  const auto bytes = f.payload();
  const auto size = static_cast<std::uint32_t>(bytes.size());
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int shift = 0; shift < 32; shift += 8) {
    luaL_addchar(&b, static_cast<char>((size >> shift) & 0xffu));
  }
  luaL_addlstring(&b, reinterpret_cast<const char*>(bytes.data()), bytes.size());
  luaL_pushresult(&b);
  return 1;
}

// login_payload(name, token): the bytes of a LoginRequest table (for raw_frame).
int l_login_payload(lua_State* L) {
  auto& p = proto(L);
  const char* name = luaL_checkstring(L, 1);
  const char* token = luaL_optstring(L, 2, "t");
  p.fbb.Clear();
  p.fbb.Finish(wire::CreateLoginRequestDirect(p.fbb, name, token, 1));
  lua_pushlstring(L, reinterpret_cast<const char*>(p.fbb.GetBufferPointer()), p.fbb.GetSize());
  return 1;
}

void push_entity(lua_State* L, const entity_info& e) {
  lua_createtable(L, 0, 8);
  set_int(L, "id", e.id);
  set_str(L, "kind", e.npc ? "npc" : "player");
  set_str(L, "name", e.name);
  set_num(L, "x", e.x);
  set_num(L, "y", e.y);
  set_int(L, "hp", e.hp);
  set_int(L, "max_hp", e.max_hp);
  set_int(L, "level", e.level);
}

// The scalar fields of me_state(), by name; me_get() reads the same fields one by one.
struct me_field {
  const char* name;
  void (*push)(lua_State*, const self_info&);
};

template <auto Member>
void push_integer(lua_State* L, const self_info& m) {
  lua_pushinteger(L, static_cast<lua_Integer>(m.*Member));
}
template <auto Member>
void push_number(lua_State* L, const self_info& m) {
  lua_pushnumber(L, static_cast<lua_Number>(m.*Member));
}
template <auto Member>
void push_string(lua_State* L, const self_info& m) {
  lua_pushlstring(L, (m.*Member).data(), (m.*Member).size());
}

constexpr me_field me_fields[] = {
    {"in_zone", [](lua_State* L, const self_info& m) { lua_pushboolean(L, m.in_zone ? 1 : 0); }},
    {"name", push_string<&self_info::name>},
    {"zone_name", push_string<&self_info::zone_name>},
    {"character_id", push_integer<&self_info::character_id>},
    {"id", push_integer<&self_info::id>},
    {"zone", push_integer<&self_info::zone>},
    {"x", push_number<&self_info::x>},
    {"y", push_number<&self_info::y>},
    {"hp", push_integer<&self_info::hp>},
    {"max_hp", push_integer<&self_info::max_hp>},
    {"level", push_integer<&self_info::level>},
    {"xp", push_integer<&self_info::xp>},
    {"xp_to_next", push_integer<&self_info::xp_to_next>},
    {"max_speed", push_number<&self_info::max_speed>},
    {"width", push_number<&self_info::width>},
    {"height", push_number<&self_info::height>},
    {"cell_size", push_number<&self_info::cell_size>},
    {"aoi_radius", push_integer<&self_info::aoi_radius>},
};

int l_me_state(lua_State* L) {
  const auto& m = proto(L).me;
  lua_createtable(L, 0, static_cast<int>(std::size(me_fields)) + 1);
  for (const me_field& f : me_fields) {
    f.push(L, m);
    lua_setfield(L, -2, f.name);
  }
  lua_createtable(L, static_cast<int>(m.portals.size()), 0);
  for (std::size_t i = 0; i < m.portals.size(); ++i) {
    const auto& p = m.portals[i];
    lua_createtable(L, 0, 5);
    set_str(L, "name", p.name);
    set_num(L, "x", p.x);
    set_num(L, "y", p.y);
    set_num(L, "radius", p.radius);
    set_int(L, "target_zone", p.target_zone);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "portals");
  return 1;
}

// me_get("x", "y", ...) -> the named me_state() fields as values, with no table built: the
// call a script makes every step (a table per call is garbage the collector must sweep).
int l_me_get(lua_State* L) {
  const auto& m = proto(L).me;
  const int n = lua_gettop(L);
  luaL_checkstack(L, n, "too many fields");
  for (int i = 1; i <= n; ++i) {
    std::size_t len = 0;
    const char* want = luaL_checklstring(L, i, &len);
    const std::string_view name(want, len);
    const auto* f = std::find_if(std::begin(me_fields), std::end(me_fields),
                                 [&](const me_field& x) { return name == x.name; });
    if (f == std::end(me_fields)) {
      return luaL_argerror(L, i, lua_pushfstring(L, "no field '%s' in me_state()", want));
    }
    f->push(L, m);
  }
  return n;
}

// The world model is off after track_entities(false): reading it is a script error, not an
// empty view that a test would take for "nobody is here".
const game_protocol& tracked(lua_State* L) {
  const auto& p = proto(L);
  if (!p.track_entities) luaL_error(L, "entities are not tracked (the script called track_entities(false))");
  return p;
}

// track_entities(on): keep (true, the default) or drop the model of the entities in view.
int l_track_entities(lua_State* L) {
  auto& p = proto(L);
  p.track_entities = lua_toboolean(L, 1) != 0;
  if (!p.track_entities) p.entities.clear();
  return 0;
}

int l_entities(lua_State* L) {
  const auto& ents = tracked(L).entities;
  lua_createtable(L, 0, static_cast<int>(ents.size()));
  for (const auto& [id, e] : ents) {
    push_entity(L, e);
    lua_rawseti(L, -2, id);
  }
  return 1;
}

int l_entity(lua_State* L) {
  const auto& ents = tracked(L).entities;
  const auto it = ents.find(static_cast<std::uint32_t>(luaL_checkinteger(L, 1)));
  if (it == ents.end()) return 0;
  push_entity(L, it->second);
  return 1;
}

// find_entity(name): the nearest entity in view with that name (ties: the lowest id), or nil.
int l_find_entity(lua_State* L) {
  const auto& p = tracked(L);
  std::size_t n = 0;
  const char* name = luaL_checklstring(L, 1, &n);
  const std::string_view want(name, n);
  const entity_info* best = nullptr;
  float best_d = std::numeric_limits<float>::max();
  for (const auto& [id, e] : p.entities) {
    if (e.name != want) continue;
    const float d = std::hypot(e.x - p.me.x, e.y - p.me.y);
    if (d < best_d || (d == best_d && best != nullptr && e.id < best->id)) {
      best = &e;
      best_d = d;
    }
  }
  if (best == nullptr) return 0;
  push_entity(L, *best);
  return 1;
}

constexpr const char* game_prelude = R"lua(
function login(name, token, timeout)
  name = name or bot.name
  token = token or ("token-" .. name)
  timeout = timeout or 10000
  if not connected() then
    local ok, why = connect(timeout)
    if not ok then return nil, "connect: " .. tostring(why) end
  end
  drain("login_result"); drain("enter_zone"); drain("kicked")
  local seq = _login(name, token)
  if not seq then return nil, "not connected" end
  local r = wait_for("login_result", timeout, {seq = seq})
  if r == nil then return nil, "timeout" end
  if r.error ~= "ok" then
    wait_for("disconnected", 2000)  -- the server closes the session after a refusal
    return nil, r.error
  end
  if wait_for("enter_zone", timeout) == nil then return nil, "no enter_zone after login" end
  return me_state()
end

-- Reconnects and resumes the character the dropped connection left in the world, with `token`
-- (default: the resume token of the latest successful login or resume). Returns me_state()
-- once EnterZone has come, or nil and the error ("resume_token_used", "resume_unavailable").
function resume(name, token, timeout)
  name = name or bot.name
  timeout = timeout or 10000
  if connected() then return nil, "still connected (drop() first)" end
  local ok, why = connect(timeout)
  if not ok then return nil, "connect: " .. tostring(why) end
  drain("login_result"); drain("enter_zone"); drain("kicked")
  local seq = _resume(name, token)
  if not seq then return nil, "not connected" end
  local r = wait_for("login_result", timeout, {seq = seq})
  if r == nil then return nil, "timeout" end
  if r.error ~= "ok" then
    wait_for("disconnected", 2000)
    return nil, r.error
  end
  if not r.resumed then return nil, "not resumed" end
  if wait_for("enter_zone", timeout) == nil then return nil, "no enter_zone after resume" end
  return me_state()
end

function logout(timeout)
  if not connected() then return true end
  drain("disconnected"); drain("logged_out")
  local seq = _logout()
  -- The server acknowledges (LoggedOut, the Logout's seq), then closes the session.
  local ack = seq and wait_for("logged_out", timeout or 5000, {seq = seq})
  return wait_for("disconnected", timeout or 5000) ~= nil, ack ~= nil
end

function server_info(timeout)
  drain("server_info")
  local seq = _server_info()
  if not seq then return nil, "not connected" end
  local ev = wait_for({"server_info", "error"}, timeout or 5000, {seq = seq})
  if ev == nil then return nil, "timeout" end
  if ev.event == "error" then return nil, ev.error end
  return ev
end

function say(text) return _chat(0, text) end
function zone_say(text) return _chat(1, text) end
function whisper(to, text) return _chat(2, text, to) end

function use_portal(timeout)
  drain("enter_zone")
  local seq = _use_portal()
  if not seq then return nil, "not connected" end
  local ev = wait_for({"enter_zone", "error"}, timeout or 5000, function(e)
    return e.event == "enter_zone" or e.seq == seq
  end)
  if ev == nil then return nil, "timeout" end
  if ev.event == "error" then return nil, ev.error end
  return me_state()
end

function ping(timeout)
  local seq = _ping()
  if not seq then return nil, "not connected" end
  local ev = wait_for("pong", timeout or 5000, {seq = seq})
  if ev == nil then return nil, "timeout" end
  return ev.rtt_ms
end

-- Walks in steps a little under the speed limit, one per 100 ms (the server's tick), until at
-- (x, y). Returns true there; false and why when dead, corrected away for good, or out of time.
function walk_to(x, y, timeout)
  local deadline = now() + (timeout or 30000)
  while true do
    local s = me_state()
    if s.hp <= 0 and s.in_zone then return false, "dead" end
    local dx, dy = x - s.x, y - s.y
    local d = math.sqrt(dx * dx + dy * dy)
    if d < 0.05 then return true end
    if now() >= deadline then return false, "timeout" end
    local step = (s.max_speed > 0 and s.max_speed or 7) * 0.085
    if d <= step then move(x, y) else move(s.x + dx / d * step, s.y + dy / d * step) end
    sleep(100)
  end
end
)lua";

}  // namespace

std::uint32_t game_protocol::send(bot& b, std::uint16_t type, const std::uint8_t* payload,
                                  std::size_t size) {
  const std::uint32_t seq = next_seq++;
  const auto f = net::encode_envelope(
      type, seq, std::as_bytes(std::span(payload, size)));
  const auto bytes = f.payload();
  const auto ec = b.env().send({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  return ec ? 0 : seq;
}

void game_protocol::install(lua_State* L) {
  static const luaL_Reg fns[] = {{"_login", l_login},
                                 {"_logout", l_logout},
                                 {"_resume", l_resume},
                                 {"resume_token", l_resume_token},
                                 {"_server_info", l_server_info},
                                 {"move", l_move},
                                 {"_chat", l_chat},
                                 {"attack", l_attack},
                                 {"_use_portal", l_use_portal},
                                 {"_ping", l_ping},
                                 {"send_envelope", l_send_envelope},
                                 {"raw_frame", l_raw_frame},
                                 {"track_entities", l_track_entities},
                                 {"acked_position", l_acked_position},
                                 {"login_payload", l_login_payload},
                                 {"me_state", l_me_state},
                                 {"me_get", l_me_get},
                                 {"entities", l_entities},
                                 {"entity", l_entity},
                                 {"find_entity", l_find_entity}};
  lua_pushglobaltable(L);
  luaL_setfuncs(L, fns, 0);
  lua_pop(L, 1);
  if (luaL_loadbufferx(L, game_prelude, std::char_traits<char>::length(game_prelude), "=game",
                       "t") != LUA_OK ||
      lua_pcall(L, 0, 0, 0) != LUA_OK) {
    bot::from(L).env().log(std::string("bots: the game prelude failed to load: ") +
                           lua_tostring(L, -1));
    lua_pop(L, 1);
  }
}

}  // namespace quay::bots::detail

namespace quay::bots {

std::unique_ptr<bot_protocol> make_game_protocol(run_stats& stats) {
  return std::make_unique<detail::game_protocol>(stats);
}

}  // namespace quay::bots
