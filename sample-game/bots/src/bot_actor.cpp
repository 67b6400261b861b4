#include "bot_actor.hpp"

#include <lua.hpp>

#include <cstring>
#include <utility>

#include "quay/runtime/error.hpp"

namespace quay::bots::detail {
namespace {

bot_options options_for(const run_context& run, std::size_t index) {
  bot_options o = run.options.limits;
  o.index = static_cast<int>(index);
  o.count = static_cast<int>(run.options.bots);
  o.name = run.options.name_prefix + std::to_string(index);
  o.args = run.options.args;
  for (const auto& [k, v] : run.source.directives()) o.args.emplace(k, v);
  o.seed = run.options.seed;
  return o;
}

void fill_signal(lua_State* L, const event& ev);
void fill_closed_reason(lua_State* L, const event& ev);

}  // namespace

bot_actor::bot_actor(run_context& run, actor_ref director, std::size_t index)
    : run_(run),
      director_(director),
      index_(index),
      env_(*this),
      bot_(run.source, options_for(run, index), env_,
           run.options.protocol ? run.options.protocol(run.stats) : nullptr) {}

void bot_actor::define(handlers<bot_actor>& h) {
  h.on<&bot_actor::on_accepted>()
      .on<&bot_actor::on_frame>()
      .on<&bot_actor::on_closed>()
      .on<&bot_actor::on_timer>()
      .on<&bot_actor::on_signal>()
      .on<&bot_actor::on_stop_msg>()
      .on<&bot_actor::on_fail_msg>()
      .on<&bot_actor::on_raw_closed>();
}

void bot_actor::on_start() {
  run_.stats.bots_started.fetch_add(1, std::memory_order_relaxed);
  bot_.start();
}

void bot_actor::on_stop(exit_reason) {
  // Stopped from outside (system shutdown) while the script still ran: it ends as stopped.
  if (!ended_) bot_.stop();
  if (raw_ != nullptr) std::exchange(raw_, nullptr)->release();
  for (auto& [id, c] : std::exchange(raws_, {})) c->release();
}

void bot_actor::on_accepted(const net::session_accepted& m) {
  if (m.session != session_) return;
  session_open_ = true;
  run_.stats.connects.fetch_add(1, std::memory_order_relaxed);
  run_.stats.connected_now.fetch_add(1, std::memory_order_relaxed);
  bot_.on_connected();
}

void bot_actor::on_frame(const net::session_frame& m) {
  if (m.session != session_) return;
  run_.stats.msgs_in.fetch_add(1, std::memory_order_relaxed);
  run_.stats.bytes_in.fetch_add(m.data.wire_size(), std::memory_order_relaxed);
  bot_.on_message(m.data);
}

void bot_actor::on_closed(const net::session_closed& m) {
  if (m.session != session_) return;
  session_ = {};
  link_ = {};
  const bool was_open = std::exchange(session_open_, false);
  const bool requested = std::exchange(close_requested_, false);
  if (was_open) {
    run_.stats.connected_now.fetch_sub(1, std::memory_order_relaxed);
    if (!requested) {
      run_.stats.disconnects.fetch_add(1, std::memory_order_relaxed);
      run_.stats.count_error("closed by server or network: " + m.reason.message());
    }
  } else if (!requested) {
    run_.stats.connect_failures.fetch_add(1, std::memory_order_relaxed);
    run_.stats.count_error("connect: " + m.reason.message());
  }
  bot_.on_closed(m.reason);
  // The script has ended and this was its last session: the actor may go now, after the last
  // message about the session (none will come to a stopped actor as a dead letter).
  if (ended_) stop();
}

void bot_actor::on_timer(const bot_timer_msg& m) {
  if (m.token == timer_token_) timer_ = {};
  bot_.on_timer(m.token);
}

void bot_actor::on_signal(const bot_signal_msg& m) {
  event ev;
  ev.name = "signal";
  ev.fill = &fill_signal;
  ev.text = m.key;
  ev.text2 = m.value;
  ev.at = actor::now();
  bot_.deliver(std::move(ev));
}

void bot_actor::on_stop_msg(const bot_stop_msg&) { bot_.stop(); }

void bot_actor::on_fail_msg(const bot_fail_msg& m) { bot_.fail(m.why); }

void bot_actor::on_raw_closed(const raw_closed_msg& m) {
  if (m.id == 0) {
    // The next send_raw opens a new connection.
    if (raw_ != nullptr) std::exchange(raw_, nullptr)->release();
  } else {
    const auto it = raws_.find(m.id);
    if (it == raws_.end()) return;  // the script ended it meanwhile
    it->second->release();
    raws_.erase(it);
  }
  event ev;
  ev.name = "raw_closed";
  ev.fill = &fill_closed_reason;
  ev.index = m.id;
  ev.number = m.reason.value();
  ev.text = m.reason.message();
  ev.at = actor::now();
  bot_.deliver(std::move(ev));
}

// --- env ---

port_time bot_actor::env::now() const noexcept { return a_.actor::now(); }

std::chrono::microseconds bot_actor::env::precise_now() const noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
}

void bot_actor::env::start_timer(millis delay, std::uint64_t token) {
  if (a_.timer_) a_.actor::cancel_timer(a_.timer_);
  a_.timer_token_ = token;
  a_.timer_ = a_.after(delay, bot_timer_msg{token});
}

void bot_actor::env::cancel_timer(std::uint64_t token) {
  if (token == a_.timer_token_ && a_.timer_) {
    a_.actor::cancel_timer(a_.timer_);
    a_.timer_ = {};
  }
}

void bot_actor::env::connect() {
  if (a_.session_) return;
  a_.close_requested_ = false;
  a_.session_ = a_.run_.network->connect(a_.run_.options.server, a_.self(), a_.run_.options.session);
  a_.link_ = a_.run_.network->session(a_.session_);
}

std::error_code bot_actor::env::send(std::span<const std::uint8_t> envelope) {
  if (!a_.session_) return make_error_code(net::errc::session_gone);
  auto f = net::frame::copy_of(std::as_bytes(envelope));
  if (!f) return make_error_code(net::errc::frame_too_large);
  const auto bytes = f.wire_size();
  const auto ec = a_.link_.send(std::move(f));
  if (!ec) {
    a_.run_.stats.msgs_out.fetch_add(1, std::memory_order_relaxed);
    a_.run_.stats.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
  }
  return ec;
}

std::error_code bot_actor::env::send_raw(std::span<const std::uint8_t> bytes) {
  if (a_.raw_ == nullptr) {
    a_.raw_ = raw_connection::open(*a_.run_.port, a_.system(), a_.self(), a_.run_.options.server);
  }
  a_.raw_->write(bytes.data(), bytes.size());
  a_.run_.stats.bytes_out.fetch_add(bytes.size(), std::memory_order_relaxed);
  return {};
}

std::uint32_t bot_actor::env::raw_open(bool read) {
  const std::uint32_t id = a_.next_raw_id_++;
  a_.raws_.emplace(id, raw_connection::open(*a_.run_.port, a_.system(), a_.self(),
                                            a_.run_.options.server, id, read));
  return id;
}

std::error_code bot_actor::env::raw_send(std::uint32_t id, std::span<const std::uint8_t> bytes) {
  const auto it = a_.raws_.find(id);
  if (it == a_.raws_.end()) return make_error_code(errc::not_connected);
  it->second->write(bytes.data(), bytes.size());
  a_.run_.stats.bytes_out.fetch_add(bytes.size(), std::memory_order_relaxed);
  return {};
}

std::size_t bot_actor::env::raw_pending(std::uint32_t id) const {
  const auto it = a_.raws_.find(id);
  return it == a_.raws_.end() ? 0 : it->second->pending_bytes();
}

void bot_actor::env::raw_end(std::uint32_t id, bool reset) {
  const auto it = a_.raws_.find(id);
  if (it == a_.raws_.end()) return;
  if (reset) {
    it->second->release_with_reset();
  } else {
    it->second->release();
  }
  a_.raws_.erase(it);
}

void bot_actor::env::disconnect() {
  if (!a_.session_) return;
  a_.close_requested_ = true;
  a_.link_.close();
}

void bot_actor::env::drop() {
  if (!a_.session_) return;
  a_.close_requested_ = true;
  a_.run_.network->abort(a_.session_, net::errc::closed_by_owner);
}

void bot_actor::env::expect_close() {
  if (a_.session_) a_.close_requested_ = true;
}

void bot_actor::env::log(std::string_view line) {
  if (a_.run_.options.on_log) a_.run_.options.on_log(a_.bot_.options().name, line);
}

void bot_actor::env::signal(std::string_view key, std::string_view value) {
  a_.actor::send(a_.director_, director_signal{a_.index_, std::string(key), std::string(value)});
}

void bot_actor::env::finished(const bot_result& result) {
  a_.ended_ = true;
  a_.run_.stats.events_dropped.fetch_add(a_.bot_.events_dropped(), std::memory_order_relaxed);
  a_.run_.bot_ended(result);
  if (a_.session_) {
    // Stop when the session_closed arrives (a graceful close flushes what the script sent;
    // the session's close_linger bounds the wait).
    a_.close_requested_ = true;
    a_.link_.close();
  } else {
    a_.stop();
  }
}

namespace {

void fill_signal(lua_State* L, const event& ev) {
  lua_pushlstring(L, ev.text.data(), ev.text.size());
  lua_setfield(L, -2, "key");
  lua_pushlstring(L, ev.text2.data(), ev.text2.size());
  lua_setfield(L, -2, "value");
}

void fill_closed_reason(lua_State* L, const event& ev) {
  lua_pushlstring(L, ev.text.data(), ev.text.size());
  lua_setfield(L, -2, "reason");
  lua_pushinteger(L, static_cast<lua_Integer>(ev.number));
  lua_setfield(L, -2, "code");
  lua_pushinteger(L, static_cast<lua_Integer>(ev.index));
  lua_setfield(L, -2, "id");
}

}  // namespace
}  // namespace quay::bots::detail
