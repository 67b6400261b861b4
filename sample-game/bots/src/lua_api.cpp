// The core script API: waiting (wait_for, sleep), assertions (expect, fail), the connection
// (connect, disconnect, send_raw), signals between bots, time and logging. The game protocol
// adds its own functions on top (see bot_protocol::install).

#include <string>
#include <utility>

#include "bot_impl.hpp"

namespace quay::bots {
namespace {

// Refuses a waiting call anywhere but the script's own coroutine: a wait inside a nested
// coroutine would suspend that coroutine, not the bot, and a wait inside a filter cannot
// suspend at all.
bot::impl* script_caller(lua_State* T, const char* fn) {
  auto* m = impl_of(T);
  if (T != m->co || m->in_filter) {
    luaL_error(T, "%s can only be called from the bot's script, not from a filter or a nested "
                  "coroutine", fn);
  }
  return m;
}

millis timeout_arg(lua_State* T, int idx, const bot::impl& m) {
  if (lua_isnoneornil(T, idx)) return m.options.default_wait;
  const lua_Integer ms = luaL_checkinteger(T, idx);
  return millis{ms < 0 ? 0 : ms};
}

int l_wait_for(lua_State* T) {
  auto* m = script_caller(T, "wait_for");
  std::vector<std::string> names;
  switch (lua_type(T, 1)) {
    case LUA_TNIL:
    case LUA_TNONE: break;
    case LUA_TSTRING: names.emplace_back(lua_tostring(T, 1)); break;
    case LUA_TTABLE: {
      const auto n = luaL_len(T, 1);
      for (lua_Integer i = 1; i <= n; ++i) {
        if (lua_rawgeti(T, 1, i) != LUA_TSTRING) {
          return luaL_error(T, "wait_for: event names must be strings");
        }
        names.emplace_back(lua_tostring(T, -1));
        lua_pop(T, 1);
      }
      break;
    }
    default: return luaL_argerror(T, 1, "an event name or a list of names");
  }
  const millis timeout = timeout_arg(T, 2, *m);
  const int ft = lua_type(T, 3);
  if (ft != LUA_TNONE && ft != LUA_TNIL && ft != LUA_TTABLE && ft != LUA_TFUNCTION) {
    return luaL_argerror(T, 3, "a filter table or function");
  }
  lua_settop(T, 3);

  m->end_wait();
  m->wait = bot::impl::wait_kind::event;
  m->wait_names = std::move(names);
  if (ft == LUA_TTABLE || ft == LUA_TFUNCTION) {
    lua_pushvalue(T, 3);
    m->wait_filter = luaL_ref(T, LUA_REGISTRYINDEX);
  }
  // Events that arrived before the call count: a reply can beat the wait for it.
  for (auto it = m->inbox.begin(); it != m->inbox.end(); ++it) {
    switch (m->matches(T, *it)) {
      case bot::impl::match::no: continue;
      case bot::impl::match::yes:
        m->inbox.erase(it);
        m->end_wait();
        return 1;
      case bot::impl::match::error:
        m->end_wait();
        return lua_error(T);
    }
  }
  if (timeout.count() == 0) {
    m->end_wait();
    lua_pushnil(T);
    lua_pushliteral(T, "timeout");
    return 2;
  }
  m->begin_wait(bot::impl::wait_kind::event, timeout);
  return lua_yield(T, 0);
}

int l_sleep(lua_State* T) {
  auto* m = script_caller(T, "sleep");
  const lua_Integer ms = luaL_checkinteger(T, 1);
  m->end_wait();
  m->wait = bot::impl::wait_kind::sleep;
  m->begin_wait(bot::impl::wait_kind::sleep, millis{ms < 0 ? 0 : ms});
  return lua_yield(T, 0);
}

// wait_change(timeout): suspends until the next event arrives (true) or the timeout (false),
// without taking the event: it stays for wait_for. For polling a condition on tracked state.
int l_wait_change(lua_State* T) {
  auto* m = script_caller(T, "wait_change");
  const millis timeout = timeout_arg(T, 1, *m);
  m->end_wait();
  m->begin_wait(bot::impl::wait_kind::change, timeout);
  return lua_yield(T, 0);
}

// Raises "chunk:line: <prefix><message>" where the line is `level` frames up.
int raise_at(lua_State* T, int level, const char* prefix, int msg_idx) {
  luaL_where(T, level);
  lua_pushstring(T, prefix);
  if (lua_isnoneornil(T, msg_idx)) {
    lua_pushliteral(T, "(no message)");
  } else {
    luaL_tolstring(T, msg_idx, nullptr);
  }
  lua_concat(T, 3);
  return lua_error(T);
}

int l_expect(lua_State* T) {
  if (lua_toboolean(T, 1)) {
    lua_settop(T, 1);
    return 1;
  }
  const int top = lua_gettop(T);
  if (top >= 3) {
    // expect(cond, "fmt %d", x): format only on failure, so passing expectations cost nothing.
    lua_getglobal(T, "string");
    lua_getfield(T, -1, "format");
    lua_remove(T, -2);
    for (int i = 2; i <= top; ++i) lua_pushvalue(T, i);
    lua_call(T, top - 1, 1);
    return raise_at(T, 1, "expect failed: ", lua_gettop(T));
  }
  return raise_at(T, 1, "expect failed: ", 2);
}

int l_fail(lua_State* T) {
  const auto level = static_cast<int>(luaL_optinteger(T, 2, 1));
  return raise_at(T, level, "failed: ", 1);
}

int l_now(lua_State* T) {
  lua_pushinteger(T, static_cast<lua_Integer>(impl_of(T)->env.now().time_since_epoch().count()));
  return 1;
}

int l_log(lua_State* T) {
  const int n = lua_gettop(T);
  std::string line;
  for (int i = 1; i <= n; ++i) {
    if (i > 1) line += ' ';
    std::size_t len = 0;
    const char* s = luaL_tolstring(T, i, &len);
    line.append(s, len);
    lua_pop(T, 1);
  }
  impl_of(T)->env.log(line);
  return 0;
}

int l_signal(lua_State* T) {
  std::size_t klen = 0;
  const char* key = luaL_checklstring(T, 1, &klen);
  std::size_t vlen = 0;
  const char* value = lua_isnoneornil(T, 2) ? "" : luaL_tolstring(T, 2, &vlen);
  impl_of(T)->env.signal({key, klen}, {value, vlen});
  return 0;
}

int l_ignore(lua_State* T) {
  auto* m = impl_of(T);
  const int n = lua_gettop(T);
  if (n == 0) m->ignored.clear();
  for (int i = 1; i <= n; ++i) m->ignored.emplace_back(luaL_checkstring(T, i));
  return 0;
}

int l_drain(lua_State* T) {
  auto* m = impl_of(T);
  const char* name = luaL_optstring(T, 1, nullptr);
  lua_Integer dropped = 0;
  for (auto it = m->inbox.begin(); it != m->inbox.end();) {
    if (name == nullptr || it->name == name) {
      it = m->inbox.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  lua_pushinteger(T, dropped);
  return 1;
}

int l_connect(lua_State* T) {
  auto* m = impl_of(T);
  if (!m->is_connected) m->env.connect();
  return 0;
}

int l_disconnect(lua_State* T) {
  auto* m = impl_of(T);
  if (m->is_connected) m->env.disconnect();
  return 0;
}

int l_drop(lua_State* T) {
  auto* m = impl_of(T);
  if (m->is_connected) m->env.drop();
  return 0;
}

int l_connected(lua_State* T) {
  lua_pushboolean(T, impl_of(T)->is_connected ? 1 : 0);
  return 1;
}

int l_send_raw(lua_State* T) {
  std::size_t n = 0;
  const char* s = luaL_checklstring(T, 1, &n);
  const auto ec = impl_of(T)->env.send_raw({reinterpret_cast<const std::uint8_t*>(s), n});
  if (ec) {
    lua_pushnil(T);
    lua_pushstring(T, ec.message().c_str());
    return 2;
  }
  lua_pushboolean(T, 1);
  return 1;
}

// raw_open{read = false}: one more unframed connection; returns its id, or nil and why.
int l_raw_open(lua_State* T) {
  bool read = true;
  if (lua_istable(T, 1)) {
    lua_getfield(T, 1, "read");
    if (!lua_isnil(T, -1)) read = lua_toboolean(T, -1) != 0;
    lua_pop(T, 1);
  }
  const std::uint32_t id = impl_of(T)->env.raw_open(read);
  if (id == 0) {
    lua_pushnil(T);
    lua_pushstring(T, "raw connections are not available here");
    return 2;
  }
  lua_pushinteger(T, static_cast<lua_Integer>(id));
  return 1;
}

int l_raw_send(lua_State* T) {
  const auto id = static_cast<std::uint32_t>(luaL_checkinteger(T, 1));
  std::size_t n = 0;
  const char* s = luaL_checklstring(T, 2, &n);
  const auto ec = impl_of(T)->env.raw_send(id, {reinterpret_cast<const std::uint8_t*>(s), n});
  if (ec) {
    lua_pushnil(T);
    lua_pushstring(T, ec.message().c_str());
    return 2;
  }
  lua_pushboolean(T, 1);
  return 1;
}

int l_raw_pending(lua_State* T) {
  const auto id = static_cast<std::uint32_t>(luaL_checkinteger(T, 1));
  lua_pushinteger(T, static_cast<lua_Integer>(impl_of(T)->env.raw_pending(id)));
  return 1;
}

int l_raw_close(lua_State* T) {
  impl_of(T)->env.raw_end(static_cast<std::uint32_t>(luaL_checkinteger(T, 1)), false);
  return 0;
}

int l_raw_reset(lua_State* T) {
  impl_of(T)->env.raw_end(static_cast<std::uint32_t>(luaL_checkinteger(T, 1)), true);
  return 0;
}

// Waits that read better in Lua, built on the primitives above. Stale "connected" and
// "disconnected" events are drained first so they cannot answer a new connect.
constexpr const char* core_prelude = R"lua(
function connect(timeout)
  if connected() then return true end
  drain("connected"); drain("disconnected")
  _connect()
  local ev = wait_for({"connected", "disconnected"}, timeout)
  if ev == nil then return nil, "timeout" end
  if ev.event == "disconnected" then return nil, ev.reason end
  return true
end

function disconnect(timeout)
  if not connected() then return true end
  drain("disconnected")
  _disconnect()
  return wait_for("disconnected", timeout) ~= nil
end

-- Cuts the connection abruptly (RST), as a network failure would; waits until it is closed.
function drop(timeout)
  if not connected() then return true end
  drain("disconnected")
  _drop()
  return wait_for("disconnected", timeout) ~= nil
end

local function names_text(names)
  if type(names) == "table" then return table.concat(names, "|") end
  return tostring(names or "any event")
end

function expect_event(names, timeout, filter, msg)
  local ev = wait_for(names, timeout, filter)
  if ev == nil then fail(msg or ("timed out waiting for " .. names_text(names)), 2) end
  return ev
end

function wait_until(pred, timeout)
  local deadline = now() + (timeout or 5000)
  while true do
    local v = pred()
    if v then return v end
    local left = deadline - now()
    if left <= 0 then return nil end
    wait_change(left)
  end
end

function wait_signal(key, timeout)
  local ev = wait_for("signal", timeout, {key = key})
  if ev == nil then return nil, "timeout" end
  return ev.value
end
)lua";

}  // namespace

void bot::impl::begin_wait(wait_kind kind, millis timeout) {
  wait = kind;
  wait_token = next_token++;
  wait_timer = true;
  env.start_timer(timeout, wait_token);
}

void bot::impl::install_core_api(lua_State* L) {
  static const luaL_Reg fns[] = {{"wait_for", l_wait_for},   {"sleep", l_sleep},
                                 {"wait_change", l_wait_change},
                                 {"expect", l_expect},       {"fail", l_fail},
                                 {"now", l_now},             {"log", l_log},
                                 {"print", l_log},           {"signal", l_signal},
                                 {"ignore", l_ignore},       {"drain", l_drain},
                                 {"_connect", l_connect},    {"_disconnect", l_disconnect},
                                 {"_drop", l_drop},
                                 {"connected", l_connected}, {"send_raw", l_send_raw},
                                 {"raw_open", l_raw_open},   {"raw_send", l_raw_send},
                                 {"raw_close", l_raw_close}, {"raw_reset", l_raw_reset},
                                 {"raw_pending", l_raw_pending}};
  lua_pushglobaltable(L);
  luaL_setfuncs(L, fns, 0);
  lua_pop(L, 1);

  auto* m = impl_of(L);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, m->options.name.c_str());
  lua_setfield(L, -2, "name");
  lua_pushinteger(L, m->options.index);
  lua_setfield(L, -2, "index");
  lua_pushinteger(L, m->options.count);
  lua_setfield(L, -2, "count");
  lua_createtable(L, 0, static_cast<int>(m->options.args.size()));
  for (const auto& [k, v] : m->options.args) {
    lua_pushlstring(L, v.data(), v.size());
    lua_setfield(L, -2, k.c_str());
  }
  lua_setfield(L, -2, "args");
  lua_setglobal(L, "bot");

  // Repeatable randomness: the same seed and index give the same wander path every run.
  lua_getglobal(L, "math");
  lua_getfield(L, -1, "randomseed");
  lua_pushinteger(L, static_cast<lua_Integer>(m->options.seed));
  lua_pushinteger(L, m->options.index);
  lua_call(L, 2, 0);
  lua_pop(L, 1);

  if (luaL_loadbufferx(L, core_prelude, std::char_traits<char>::length(core_prelude), "=quay",
                       "t") != LUA_OK ||
      lua_pcall(L, 0, 0, 0) != LUA_OK) {
    // The prelude is part of this program: failing to load it is a bug, said loudly.
    std::string msg = lua_tostring(L, -1);
    lua_pop(L, 1);
    m->env.log("bots: the core prelude failed to load: " + msg);
  }
}

}  // namespace quay::bots
