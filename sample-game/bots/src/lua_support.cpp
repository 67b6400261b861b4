#include <cstdlib>
#include <cstring>
#include <string>

#include "bot_impl.hpp"

namespace quay::bots {
namespace {

// Every allocation of a bot's state is counted, and refused past the bot's limit: a script that
// grows without bound fails with "not enough memory" instead of taking the process with it.
void* counting_alloc(void* ud, void* ptr, std::size_t old_size, std::size_t new_size) {
  auto* m = static_cast<bot::impl*>(ud);
  // When ptr is null, old_size encodes the kind of object, not a size.
  const std::size_t old_bytes = ptr != nullptr ? old_size : 0;
  if (new_size == 0) {
    std::free(ptr);
    m->memory -= old_bytes;
    return nullptr;
  }
  // Outside the script (building a failure report, an event table) a little headroom lets the
  // bot report why it failed even when the script used up its limit.
  const std::size_t limit =
      m->in_resume ? m->options.memory_limit : m->options.memory_limit + (1u << 20);
  if (new_size > old_bytes && m->memory - old_bytes + new_size > limit) {
    return nullptr;
  }
  void* p = std::realloc(ptr, new_size);
  if (p != nullptr) m->memory = m->memory - old_bytes + new_size;
  return p;
}

constexpr int loop_guard_step = 10'000;

void loop_guard(lua_State* L, lua_Debug*) {
  auto* m = impl_of(L);
  m->instructions += loop_guard_step;
  if (m->instructions > m->options.instruction_limit) {
    luaL_error(L,
               "the script ran %d instructions without waiting (a loop without sleep or "
               "wait_for?)",
               static_cast<int>(m->instructions));
  }
}

void describe_into(lua_State* L, int idx, std::string& out, int depth, std::size_t max_len) {
  idx = lua_absindex(L, idx);
  if (out.size() >= max_len) return;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: out += "nil"; return;
    case LUA_TBOOLEAN: out += lua_toboolean(L, idx) ? "true" : "false"; return;
    case LUA_TNUMBER: {
      lua_pushvalue(L, idx);
      out += lua_tostring(L, -1);  // converts the copy, not the original
      lua_pop(L, 1);
      return;
    }
    case LUA_TSTRING: {
      std::size_t n = 0;
      const char* s = lua_tolstring(L, idx, &n);
      out += '"';
      out.append(s, std::min<std::size_t>(n, 80));
      if (n > 80) out += "...";
      out += '"';
      return;
    }
    case LUA_TTABLE: {
      if (depth >= 3) {
        out += "{...}";
        return;
      }
      out += '{';
      bool first = true;
      // The event's kind first, so a report line starts with what the event is.
      if (lua_getfield(L, idx, "event") == LUA_TSTRING) {
        out += "event=";
        describe_into(L, -1, out, depth + 1, max_len);
        first = false;
      }
      lua_pop(L, 1);
      lua_pushnil(L);
      while (lua_next(L, idx) != 0) {
        if (out.size() >= max_len) {
          lua_pop(L, 2);
          break;
        }
        const bool is_name = lua_type(L, -2) == LUA_TSTRING &&
                             std::strcmp(lua_tostring(L, -2), "event") == 0;
        if (!is_name) {
          if (!first) out += ", ";
          first = false;
          if (lua_type(L, -2) == LUA_TSTRING) {
            out += lua_tostring(L, -2);
          } else {
            out += '[';
            describe_into(L, -2, out, depth + 1, max_len);
            out += ']';
          }
          out += '=';
          describe_into(L, -1, out, depth + 1, max_len);
        }
        lua_pop(L, 1);
      }
      out += '}';
      return;
    }
    default: out += luaL_typename(L, idx); return;
  }
}

}  // namespace

lua_State* new_bot_state(bot::impl* owner) {
  lua_State* L = lua_newstate(&counting_alloc, owner);
  if (L == nullptr) return nullptr;
  std::memcpy(lua_getextraspace(L), &owner, sizeof(owner));
  // No io, os or package: a scenario talks to the world only through the bot API.
  static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                  {LUA_COLIBNAME, luaopen_coroutine},
                                  {LUA_TABLIBNAME, luaopen_table},
                                  {LUA_STRLIBNAME, luaopen_string},
                                  {LUA_MATHLIBNAME, luaopen_math},
                                  {LUA_UTF8LIBNAME, luaopen_utf8}};
  for (const auto& lib : libs) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }
  // A scenario reads no files: everything it needs is in the script or its arguments.
  for (const char* unsafe : {"dofile", "loadfile"}) {
    lua_pushnil(L);
    lua_setglobal(L, unsafe);
  }
  return L;
}

bot::impl* impl_of(lua_State* L) noexcept {
  bot::impl* m = nullptr;
  std::memcpy(&m, lua_getextraspace(L), sizeof(m));
  return m;
}

void push_event(lua_State* L, const event& ev) {
  lua_createtable(L, 0, 6);
  lua_pushlstring(L, ev.name.data(), ev.name.size());
  lua_setfield(L, -2, "event");
  lua_pushinteger(L, static_cast<lua_Integer>(ev.at.time_since_epoch().count()));
  lua_setfield(L, -2, "at");
  if (ev.fill != nullptr) {
    ev.fill(L, ev);
    return;
  }
  if (!ev.text.empty()) {
    lua_pushlstring(L, ev.text.data(), ev.text.size());
    lua_setfield(L, -2, "text");
  }
  if (ev.number != 0) {
    lua_pushinteger(L, static_cast<lua_Integer>(ev.number));
    lua_setfield(L, -2, "value");
  }
}

std::string describe_value(lua_State* L, int idx, std::size_t max_len) {
  std::string out;
  if (!lua_checkstack(L, 16)) return "?";
  describe_into(L, idx, out, 0, max_len);
  if (out.size() > max_len) {
    out.resize(max_len);
    out += "...";
  }
  return out;
}

std::string where_suspended(lua_State* T) {
  // The script's own line is what a reader wants, not the line inside a library helper
  // (prelude chunks are named "=...", script files "@..."), so file chunks win.
  lua_Debug ar;
  std::string fallback;
  for (int level = 0; lua_getstack(T, level, &ar) != 0; ++level) {
    if (lua_getinfo(T, "Sl", &ar) == 0 || ar.currentline <= 0) continue;
    std::string here = std::string(ar.short_src) + ":" + std::to_string(ar.currentline);
    if (ar.source != nullptr && ar.source[0] == '@') return here;
    if (fallback.empty()) fallback = std::move(here);
  }
  return fallback;
}

void install_loop_guard(lua_State* co) { lua_sethook(co, &loop_guard, LUA_MASKCOUNT, loop_guard_step); }

}  // namespace quay::bots
