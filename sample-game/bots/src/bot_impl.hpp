#pragma once

// The inside of a bot, shared by the lifecycle code (bot.cpp), the script API (lua_api.cpp)
// and the Lua helpers (lua_support.cpp). Owner only, like the bot itself.

#include <lua.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "quay/bots/bot.hpp"

namespace quay::bots {

struct bot::impl {
  enum class state { created, running, waiting, done };
  enum class wait_kind { none, sleep, event, change };

  impl(bot& owner, const script& s, bot_options o, bot_env& e, std::unique_ptr<bot_protocol> p)
      : self(owner), source(s), options(std::move(o)), env(e), protocol(std::move(p)) {}

  bot& self;
  const script& source;
  bot_options options;
  bot_env& env;
  std::unique_ptr<bot_protocol> protocol;

  lua_State* L = nullptr;   // the bot's own Lua state (main thread)
  lua_State* co = nullptr;  // the script's coroutine inside it
  std::size_t memory = 0;
  bool in_resume = false;  // the script itself runs (its memory limit is strict then)
  bool in_filter = false;  // a wait_for filter function runs (waiting is refused then)
  std::uint64_t instructions = 0;  // run by the current resume

  state st = state::created;
  // The wait the coroutine is suspended in. A new wait takes a new token, so a timer armed for
  // an earlier wait that fires late is recognised and ignored.
  wait_kind wait = wait_kind::none;
  std::vector<std::string> wait_names;  // empty: any event
  int wait_filter = LUA_NOREF;          // a table or function in the registry, or none
  std::uint64_t wait_token = 0;
  bool wait_timer = false;
  std::uint64_t next_token = 1;

  std::deque<event> inbox;
  std::deque<event> history;
  std::vector<std::string> ignored;
  std::uint64_t dropped = 0;
  bool is_connected = false;

  // A fail() or stop() that arrives while the script runs (from a callback inside a script
  // call) takes effect when the coroutine next yields.
  std::optional<std::string> pending_fail;
  bool pending_stop = false;
  bot_result result;

  // --- lifecycle (bot.cpp) ---
  void resume(int nargs);
  void finish_ok();
  void finish_stopped();
  void finish_failed(std::string message, std::string traceback);
  void close_state();
  void end_wait();
  // Puts `ev` into the inbox (dropping the oldest if full).
  void keep(event ev);

  // --- matching (bot.cpp) ---
  enum class match { no, yes, error };
  // Tests `ev` against the current wait using thread `T` to run a filter; on `yes` the event's
  // table is left on T's stack. On `error` the error message is on T's stack.
  match matches(lua_State* T, const event& ev);
  bool is_ignored(std::string_view name) const;

  // --- script API (lua_api.cpp) ---
  static void install_core_api(lua_State* L);
  // Starts waiting: arms the timeout (0 = none) and records the wait. Owner only, from inside a
  // script call on `co`.
  void begin_wait(wait_kind kind, millis timeout);
};

// --- Lua helpers (lua_support.cpp) ---

// A Lua state whose allocations are counted into `*counter` and capped at `limit`, with the
// standard libraries a scenario needs (no io, os or package), and `owner` in its extra space.
lua_State* new_bot_state(bot::impl* owner);
// The bot a Lua state belongs to.
bot::impl* impl_of(lua_State* L) noexcept;
// Pushes the Lua table of an event: `event` (its name), `at` (ms), then its own fields.
void push_event(lua_State* L, const event& ev);
// Renders the value at `idx` as Lua-like text (tables to a small depth), at most `max_len` chars.
std::string describe_value(lua_State* L, int idx, std::size_t max_len = 240);
// "chunk:line" of the innermost Lua function on `T`'s stack, or "" when there is none.
std::string where_suspended(lua_State* T);
// Installs the instruction-count hook that fails a script stuck in a loop that never waits.
void install_loop_guard(lua_State* co);

}  // namespace quay::bots
