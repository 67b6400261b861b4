#include "bot_impl.hpp"

#include <algorithm>
#include <utility>


namespace quay::bots {
namespace {

void fill_closed(lua_State* L, const event& ev) {
  lua_pushlstring(L, ev.text.data(), ev.text.size());
  lua_setfield(L, -2, "reason");
  lua_pushinteger(L, static_cast<lua_Integer>(ev.number));
  lua_setfield(L, -2, "code");
}

}  // namespace

bot::bot(const script& source, bot_options options, bot_env& env,
         std::unique_ptr<bot_protocol> protocol)
    : impl_(std::make_unique<impl>(*this, source, std::move(options), env, std::move(protocol))) {}

bot::~bot() { impl_->close_state(); }

void bot::start() {
  auto& m = *impl_;
  if (m.st != impl::state::created) return;
  m.L = new_bot_state(&m);
  if (m.L == nullptr) {
    m.finish_failed("cannot create a Lua state (memory limit too small)", {});
    return;
  }
  impl::install_core_api(m.L);
  if (m.protocol) m.protocol->install(m.L);

  m.co = lua_newthread(m.L);
  // Keep the coroutine reachable: it lives in the registry until the state closes.
  lua_rawsetp(m.L, LUA_REGISTRYINDEX, m.co);
  install_loop_guard(m.co);

  // '@' makes Lua name the chunk as a file: messages read "chat.lua:12: ...".
  std::string chunk = "@" + m.source.chunk_name();
  const auto& src = m.source.source();
  if (luaL_loadbufferx(m.co, src.data(), src.size(), chunk.c_str(), "t") != LUA_OK) {
    std::string msg = lua_tostring(m.co, -1) ? lua_tostring(m.co, -1) : "cannot load the script";
    m.finish_failed("syntax: " + msg, {});
    return;
  }
  m.resume(0);
}

void bot::on_connected() {
  auto& m = *impl_;
  if (m.st == impl::state::done) return;
  m.is_connected = true;
  event ev;
  ev.name = "connected";
  ev.at = m.env.now();
  deliver(std::move(ev));
}

void bot::on_message(const net::frame& message) {
  auto& m = *impl_;
  if (m.st == impl::state::done || !m.protocol) return;
  m.protocol->on_message(*this, message);
}

void bot::on_closed(std::error_code reason) {
  auto& m = *impl_;
  m.is_connected = false;
  if (m.protocol) m.protocol->on_closed(*this);
  if (m.st == impl::state::done) return;
  event ev;
  ev.name = "disconnected";
  ev.fill = &fill_closed;
  ev.number = reason.value();
  ev.text = reason ? reason.message() : std::string("closed");
  ev.at = m.env.now();
  deliver(std::move(ev));
}

void bot::on_timer(std::uint64_t token) {
  auto& m = *impl_;
  if (m.st != impl::state::waiting || token != m.wait_token || !m.wait_timer) return;
  m.wait_timer = false;
  const auto kind = m.wait;
  m.end_wait();
  if (kind == impl::wait_kind::sleep) {
    m.resume(0);
  } else if (kind == impl::wait_kind::change) {
    lua_pushboolean(m.co, 0);
    m.resume(1);
  } else {
    lua_pushnil(m.co);
    lua_pushliteral(m.co, "timeout");
    m.resume(2);
  }
}

void bot::deliver(event ev) {
  auto& m = *impl_;
  if (m.st == impl::state::done) return;
  if (m.options.history > 0) {
    if (m.history.size() >= m.options.history) m.history.pop_front();
    m.history.push_back(ev);
  }
  if (m.is_ignored(ev.name)) return;
  if (m.st == impl::state::waiting && m.wait == impl::wait_kind::change) {
    // wait_change: something arrived; the event stays for a later wait_for.
    m.keep(std::move(ev));
    m.end_wait();
    lua_pushboolean(m.co, 1);
    m.resume(1);
    return;
  }
  if (m.st != impl::state::waiting || m.wait != impl::wait_kind::event) {
    m.keep(std::move(ev));
    return;
  }
  // The coroutine is suspended, so the filter runs on the main thread.
  switch (m.matches(m.L, ev)) {
    case impl::match::no:
      m.keep(std::move(ev));
      return;
    case impl::match::error: {
      std::string msg = describe_value(m.L, -1);
      lua_pop(m.L, 1);
      m.finish_failed("wait_for filter failed: " + msg, {});
      return;
    }
    case impl::match::yes:
      lua_xmove(m.L, m.co, 1);
      m.end_wait();
      m.resume(1);
      return;
  }
}

void bot::stop() {
  auto& m = *impl_;
  if (m.st == impl::state::done) return;
  if (m.st == impl::state::running) {
    m.pending_stop = true;
    return;
  }
  m.finish_stopped();
}

void bot::fail(std::string why) {
  auto& m = *impl_;
  if (m.st == impl::state::done) return;
  if (m.st == impl::state::running) {
    m.pending_fail = std::move(why);
    return;
  }
  std::string where = m.co != nullptr ? where_suspended(m.co) : std::string();
  std::string msg = where.empty() ? why : where + ": " + why;
  if (m.wait == impl::wait_kind::event) {
    std::string names;
    for (const auto& n : m.wait_names) names += (names.empty() ? "" : "|") + n;
    msg += " (waiting for " + (names.empty() ? std::string("any event") : names) + ")";
  } else if (m.wait == impl::wait_kind::sleep) {
    msg += " (in sleep)";
  }
  std::string tb;
  if (m.co != nullptr) {
    luaL_traceback(m.L, m.co, nullptr, 0);
    tb = lua_tostring(m.L, -1);
    lua_pop(m.L, 1);
  }
  m.finish_failed(std::move(msg), std::move(tb));
}

bool bot::done() const noexcept { return impl_->st == impl::state::done; }
bool bot::connected() const noexcept { return impl_->is_connected; }
bool bot::wants(std::string_view event_name) const noexcept {
  return !impl_->is_ignored(event_name);
}
std::uint64_t bot::events_dropped() const noexcept { return impl_->dropped; }
std::size_t bot::lua_memory() const noexcept { return impl_->memory; }
const bot_options& bot::options() const noexcept { return impl_->options; }
bot_env& bot::env() noexcept { return impl_->env; }
bot_protocol* bot::protocol() noexcept { return impl_->protocol.get(); }
bot& bot::from(lua_State* L) noexcept { return impl_of(L)->self; }

// --- impl ---

void bot::impl::resume(int nargs) {
  st = state::running;
  instructions = 0;
  int nres = 0;
  in_resume = true;
  const int rc = lua_resume(co, L, nargs, &nres);
  in_resume = false;
  if (rc == LUA_YIELD) {
    lua_pop(co, nres);
    st = state::waiting;
    if (pending_fail) {
      std::string why = std::move(*pending_fail);
      pending_fail.reset();
      self.fail(std::move(why));
    } else if (pending_stop) {
      finish_stopped();
    } else if (wait == wait_kind::none) {
      // Only the bot API may suspend the script: a bare coroutine.yield would leave it
      // suspended with nothing to wake it.
      self.fail("the script yielded outside wait_for/sleep (coroutine.yield in the main chunk)");
    }
    return;
  }
  if (rc == LUA_OK) {
    lua_settop(co, 0);
    if (pending_fail) {
      finish_failed(std::move(*pending_fail), {});
    } else {
      finish_ok();
    }
    return;
  }
  std::string msg = describe_value(co, -1, 2000);
  if (lua_type(co, -1) == LUA_TSTRING) msg = lua_tostring(co, -1);
  luaL_traceback(L, co, nullptr, 0);
  std::string tb = lua_tostring(L, -1);
  lua_pop(L, 1);
  finish_failed(std::move(msg), std::move(tb));
}

void bot::impl::finish_ok() {
  result.bot = options.name;
  result.ok = true;
  st = state::done;
  end_wait();
  close_state();
  env.finished(result);
}

void bot::impl::finish_stopped() {
  result.bot = options.name;
  result.ok = true;
  result.stopped = true;
  st = state::done;
  end_wait();
  close_state();
  env.finished(result);
}

void bot::impl::finish_failed(std::string message, std::string traceback) {
  result.bot = options.name;
  result.ok = false;
  result.message = std::move(message);
  result.traceback = std::move(traceback);
  // Render the last events while the Lua state still exists: tables are built lazily.
  if (L != nullptr) {
    for (const auto& ev : history) {
      push_event(L, ev);
      result.last_events.push_back(describe_value(L, -1));
      lua_pop(L, 1);
    }
  } else {
    for (const auto& ev : history) result.last_events.emplace_back(ev.name);
  }
  st = state::done;
  end_wait();
  close_state();
  env.finished(result);
}

void bot::impl::close_state() {
  if (L == nullptr) return;
  if (wait_timer) {
    env.cancel_timer(wait_token);
    wait_timer = false;
  }
  lua_close(L);
  L = nullptr;
  co = nullptr;
  wait_filter = LUA_NOREF;
  inbox.clear();
}

void bot::impl::end_wait() {
  if (wait_timer) {
    env.cancel_timer(wait_token);
    wait_timer = false;
  }
  if (wait_filter != LUA_NOREF && L != nullptr) luaL_unref(L, LUA_REGISTRYINDEX, wait_filter);
  wait_filter = LUA_NOREF;
  wait_names.clear();
  wait = wait_kind::none;
}

void bot::impl::keep(event ev) {
  if (options.inbox_capacity == 0) {
    ++dropped;
    return;
  }
  if (inbox.size() >= options.inbox_capacity) {
    inbox.pop_front();
    ++dropped;
  }
  inbox.push_back(std::move(ev));
}

bool bot::impl::is_ignored(std::string_view name) const {
  return std::find(ignored.begin(), ignored.end(), name) != ignored.end();
}

bot::impl::match bot::impl::matches(lua_State* T, const event& ev) {
  if (!wait_names.empty() &&
      std::find(wait_names.begin(), wait_names.end(), ev.name) == wait_names.end()) {
    return match::no;
  }
  push_event(T, ev);
  if (wait_filter == LUA_NOREF) return match::yes;
  const int ev_idx = lua_gettop(T);
  lua_rawgeti(T, LUA_REGISTRYINDEX, wait_filter);
  if (lua_type(T, -1) == LUA_TFUNCTION) {
    lua_pushvalue(T, ev_idx);
    in_filter = true;
    const int rc = lua_pcall(T, 1, 1, 0);
    in_filter = false;
    if (rc != LUA_OK) {
      lua_remove(T, ev_idx);  // leave only the error message
      return match::error;
    }
    const bool ok = lua_toboolean(T, -1) != 0;
    lua_pop(T, 1);
    if (ok) return match::yes;
    lua_pop(T, 1);
    return match::no;
  }
  // A table filter: every field must equal the event's field of the same name.
  bool ok = true;
  lua_pushnil(T);
  while (lua_next(T, -2) != 0) {
    // stack: ev, filter, key, value
    lua_pushvalue(T, -2);
    lua_gettable(T, ev_idx);  // ev[key]
    if (!lua_rawequal(T, -1, -2)) ok = false;
    lua_pop(T, 2);
    if (!ok) {
      lua_pop(T, 1);  // the key
      break;
    }
  }
  lua_pop(T, 1);  // the filter
  if (ok) return match::yes;
  lua_pop(T, 1);  // the event
  return match::no;
}

}  // namespace quay::bots
