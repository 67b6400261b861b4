// The gateway actor (see gateway_actor.hpp).
#include "gateway_actor.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include "account_secret.hpp"
#include "session_token.hpp"
#include "quay/actors/system.hpp"
#include "quay/runtime/log.hpp"

namespace quay::game::server {

namespace {
spdlog::logger& logger(const server_context& ctx) {
  return ctx.log != nullptr ? *ctx.log : *log::get("game");
}

// How long a new login waits for a kicked session's final save before going ahead with the
// last stored state.
constexpr millis release_wait{2000};
// How long a login waits for the persistence actor's answer.
constexpr millis load_timeout{5000};

std::uint64_t key(actor_ref a) { return (std::uint64_t{a.slot} << 32) | a.generation; }
}  // namespace

bool valid_character_name(std::string_view name) {
  if (name.empty() || name.size() > 24) {
    return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

gateway_actor::gateway_actor(server_context ctx, std::uint32_t start_zone,
                             std::atomic<std::size_t>* online_count)
    : ctx_(ctx),
      start_zone_(start_zone),
      online_count_(online_count),
      limits_(ctx.settings->login_limits) {}

void gateway_actor::define(handlers<gateway_actor>& h) {
  h.on<&gateway_actor::on_login>()
      .on<&gateway_actor::on_offline>()
      .on<&gateway_actor::on_released>()
      .on<&gateway_actor::on_shutdown>()
      .on<&gateway_actor::on_release>()
      .on<&gateway_actor::on_verified>()
      .on<&gateway_actor::on_parked>()
      .on<&gateway_actor::on_park_expired>();
}

void gateway_actor::publish_count() {
  if (online_count_ != nullptr) {
    online_count_->store(online_.size() + loading_.size(), std::memory_order_release);
  }
}

void gateway_actor::on_login(login_msg& m) {
  const auto deny = [&](game_errc e) { send(m.player, login_denied_msg{e, m.seq}); };
  if (shutting_down_) {
    return deny(game_errc::server_shutting_down);
  }
  if (!valid_character_name(m.name)) {
    return deny(game_errc::invalid_name);
  }
  // Back-off is checked before anything costs a hash: a brute force in back-off is answered
  // at once and spends nothing of the blocking pool.
  const time_ms t = now().time_since_epoch().count();
  // A resume is limited by its address only: its token cannot be guessed (a 256-bit MAC over
  // a 64-bit nonce), so an account back-off would only let anyone lock the owner out of it.
  const std::string account = m.resume_token.empty() ? name_key(m.name) : std::string();
  if (const auto v = limits_.check(account, m.address, t);
      v != login_limiter::verdict::allowed) {
    const bool by_address = v == login_limiter::verdict::address_backoff;
    logger(ctx_).warn("login of '{}' from {} refused: {} in back-off for {} ms more "
                      "(login_throttled)",
                      m.name, m.address.empty() ? "?" : m.address,
                      by_address ? "address" : "account",
                      limits_.until(by_address ? std::string_view(m.address)
                                               : std::string_view(account),
                                    by_address) - t);
    return deny(game_errc::login_throttled);
  }
  if (!m.resume_token.empty()) {
    return resume(m);
  }
  if (online_.size() + loading_.size() >= ctx_.settings->max_players &&
      !online_.contains(name_key(m.name))) {
    return deny(game_errc::server_full);
  }
  loading_.insert(key(m.player));
  publish_count();
  if (!m.session_token.empty()) {
    return login_with_token(m);
  }
  load_character_msg q{m.name, {}, false, start_zone_};
  // Interleaving: other logins (even of this name) are handled while this one waits; every
  // later step re-checks what it relies on.
  ask(ctx_.persistence, std::move(q), load_timeout,
      [this, m = std::move(m)](result<load_character_reply> r) mutable { on_loaded(m, r); });
}

void gateway_actor::on_loaded(login_msg& m, result<load_character_reply>& r) {
  if (!loading_.contains(key(m.player))) {
    return;  // the session ended while its character was loading: nobody waits for it
  }
  if (!r) {
    logger(ctx_).error("login of '{}': persistence did not answer: {}", m.name,
                       r.error().message());
    return end_login(m, game_errc::internal_error);
  }
  if (shutting_down_) {
    return end_login(m, game_errc::server_shutting_down);
  }
  // The bound counts jobs queued or running on the blocking pool: a flood of logins cannot
  // fill the pool's queue ahead of the persistence actor's saves. A burst past it (a server
  // restart, a zone of players reconnecting) waits here in arrival order; only a flood past
  // the queue's bound as well is refused.
  if (login_jobs_ >= std::max<std::size_t>(ctx_.settings->max_login_jobs, 1)) {
    if (verify_queue_.size() >= ctx_.settings->max_login_queue) {
      logger(ctx_).warn(
          "login of '{}' refused: {} logins being verified and {} waiting (login_busy)", m.name,
          login_jobs_, verify_queue_.size());
      return end_login(m, game_errc::login_busy);
    }
    verify_queue_.push_back(queued_login{std::move(m), std::move(*r)});
    return;
  }
  start_verify(m, *r);
}

void gateway_actor::start_queued_verify() {
  while (!verify_queue_.empty() &&
         login_jobs_ < std::max<std::size_t>(ctx_.settings->max_login_jobs, 1)) {
    queued_login q = std::move(verify_queue_.front());
    verify_queue_.pop_front();
    if (!loading_.contains(key(q.login.player))) {
      continue;  // its session ended while it waited: nobody waits for it
    }
    if (shutting_down_) {
      end_login(q.login, game_errc::server_shutting_down);
      continue;
    }
    start_verify(q.login, q.loaded);
  }
}

void gateway_actor::start_verify(login_msg& m, load_character_reply& r) {
  ++login_jobs_;
  auto job = std::make_shared<verify_job>();
  job->login = std::move(m);
  job->create = !r.found && ctx_.settings->dev_accounts;
  if (r.found) {
    job->stored = std::move(r.character);
  }
  const hash_params params = ctx_.settings->hash;
  actor_system* sys = &system();
  const actor_ref me = self();
  system().get_port().run_blocking(
      [job, params] {
        // On the blocking pool: the slow part of a login. An unknown name costs one hash as
        // well, so the time of an answer does not tell which names exist.
        const std::string& given = job->login.token;
        const auto& c = job->stored;
        if (job->create) {
          job->new_secret = hash_secret(given, params);
          job->ok = !job->new_secret.empty();
        } else if (is_hashed_secret(c.secret)) {
          job->ok = verify_secret(c.secret, given);
          if (job->ok && needs_rehash(c.secret, params)) {
            job->new_secret = hash_secret(given, params);
          }
        } else if (!c.token.empty()) {
          // A legacy plain token (schema version 1): compared in constant time, and rehashed
          // once it matched, so the plain column is cleared.
          job->ok = secrets_equal(c.token, given);
          if (job->ok) {
            job->new_secret = hash_secret(given, params);
          }
        } else {
          (void)hash_secret(given, params);
          job->ok = false;
        }
      },
      [sys, me, job](std::error_code ec) {
        // On a worker, outside the gateway's turns: only a message may reach its state.
        if (ec) {
          job->ok = false;
          job->failed = true;
        }
        (void)sys->send(me, verified_msg{job});
      });
}

void gateway_actor::on_verified(const verified_msg& v) {
  --login_jobs_;
  start_queued_verify();
  auto& job = *v.job;
  login_msg& m = job.login;
  if (job.ok && !job.create && !job.new_secret.empty()) {
    // Stored even if the session has ended meanwhile: the secret was right.
    send(ctx_.persistence, set_secret_msg{m.name, std::move(job.new_secret)});
  }
  // Counted even if the session has ended meanwhile: closing right after a guess must not
  // escape the back-off.
  if (!job.failed && !job.ok) {
    limits_.failed(name_key(m.name), m.address, now().time_since_epoch().count());
  } else if (job.ok) {
    limits_.succeeded(name_key(m.name));
  }
  if (!loading_.contains(key(m.player))) {
    return;  // the session ended while its secret was being verified
  }
  if (job.failed) {
    logger(ctx_).error("login of '{}': verification failed on the blocking pool", m.name);
    return end_login(m, game_errc::internal_error);
  }
  if (!job.ok) {
    logger(ctx_).info("login of '{}' from {} refused: invalid credentials", m.name,
                      m.address.empty() ? "?" : m.address);
    return end_login(m, game_errc::invalid_credentials);
  }
  if (shutting_down_) {
    return end_login(m, game_errc::server_shutting_down);
  }
  if (!job.create && job.stored.disabled) {
    logger(ctx_).info("login of '{}' refused: account disabled", m.name);
    return end_login(m, game_errc::account_disabled);
  }
  if (!job.create) {
    return finish_login(m);
  }
  // A development account: created with the hash, unless a login of the same name created it
  // first (then this one is refused: its secret was never checked against that account).
  // The message is built before the lambda takes m (argument order is unspecified).
  load_character_msg create{m.name, std::move(job.new_secret), true, start_zone_};
  ask(ctx_.persistence, std::move(create), load_timeout, [this, m = std::move(m)](result<load_character_reply> r) mutable {
        if (!loading_.contains(key(m.player))) {
          return;
        }
        if (!r) {
          return end_login(m, game_errc::internal_error);
        }
        if (!r->created) {
          return end_login(m, game_errc::invalid_credentials);
        }
        logger(ctx_).info("development account '{}' created", m.name);
        finish_login(m);
      });
}

std::int64_t gateway_actor::wall_ms() {
  // Tokens expire by the wall clock: every gateway of a cluster reads the same time.
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void gateway_actor::login_with_token(login_msg& m) {
  std::uint64_t id = 0;
  const auto st = check_session_token(ctx_.settings->session, m.session_token, name_key(m.name),
                                      wall_ms(), &id);
  if (st != token_status::ok) {
    // A forged or replayed-after-expiry token counts as a failed login (back-off applies).
    limits_.failed(name_key(m.name), m.address, now().time_since_epoch().count());
    logger(ctx_).info("login of '{}' from {} refused: session token {}", m.name,
                      m.address.empty() ? "?" : m.address,
                      st == token_status::expired ? "expired" : "invalid");
    return end_login(m, st == token_status::expired ? game_errc::session_token_expired
                                                    : game_errc::session_token_invalid);
  }
  const std::string name = m.name;
  ask(ctx_.persistence, load_character_msg{name, {}, false, start_zone_}, load_timeout,
      [this, id, m = std::move(m)](result<load_character_reply> r) mutable {
        if (!loading_.contains(key(m.player))) {
          return;
        }
        if (!r) {
          return end_login(m, game_errc::internal_error);
        }
        // The account may have been deleted and its name taken again since the token was
        // issued: the id must match too.
        if (!r->found || r->character.record.character_id != id) {
          return end_login(m, game_errc::session_token_invalid);
        }
        if (r->character.disabled) {
          return end_login(m, game_errc::account_disabled);
        }
        if (shutting_down_) {
          return end_login(m, game_errc::server_shutting_down);
        }
        limits_.succeeded(name_key(m.name));
        finish_login(m);
      });
}

void gateway_actor::end_login(login_msg& m, game_errc e) {
  loading_.erase(key(m.player));
  publish_count();
  send(m.player, login_denied_msg{e, m.seq});
}

void gateway_actor::finish_login(login_msg& m) {
  loading_.erase(key(m.player));
  publish_count();
  if (online_.size() >= ctx_.settings->max_players && !online_.contains(name_key(m.name))) {
    send(m.player, login_denied_msg{game_errc::server_full, m.seq});
    return;
  }
  admit(m);
}

void gateway_actor::admit(login_msg& m) {
  const auto on = online_.find(name_key(m.name));
  if (on == online_.end()) {
    return grant(m);
  }
  // One session per character: the older one is kicked, and this login waits for its final
  // save so the character continues from its latest state.
  if (!on->second.leaving) {
    send(on->second.player, kick_msg{game_errc::replaced_by_new_login});
    on->second.leaving = true;
  }
  if (const auto w = waiting_.find(name_key(m.name)); w != waiting_.end()) {
    send(w->second.player, login_denied_msg{game_errc::replaced_by_new_login, w->second.seq});
  }
  const std::string name = m.name;
  waiting_.insert_or_assign(name_key(name), std::move(m));
  after(release_wait, release_msg{name});
}

void gateway_actor::grant(login_msg& m) {
  online_[name_key(m.name)] = presence{m.player, m.session, false};
  publish_count();
  // The record is loaded again (after a release it is the final save of the kicked session).
  const std::string name = m.name;
  ask(ctx_.persistence, load_character_msg{name, {}, false, start_zone_}, load_timeout,
      [this, m = std::move(m)](result<load_character_reply> r) mutable {
        const auto on = online_.find(name_key(m.name));
        const bool still_ours = on != online_.end() && on->second.player == m.player;
        if (!still_ours || on->second.leaving) {
          // Kicked (shutdown, a newer login) while loading: never in a zone, so nothing to
          // save; a login waiting for it goes ahead at once.
          send(m.player, login_denied_msg{shutting_down_ ? game_errc::server_shutting_down
                                                         : game_errc::replaced_by_new_login,
                                          m.seq});
          if (still_ours) {
            on_release(release_msg{m.name});
          }
          return;
        }
        std::optional<actor_ref> zone;
        player_record record;
        if (r && r->found) {
          record = std::move(r->character.record);
          zone = system().whereis(zone_actor_name(record.zone_id));
          if (!zone) {
            // The saved zone is not hosted (any more): start over in the start zone.
            record.zone_id = start_zone_;
            record.has_pos = false;
            zone = system().whereis(zone_actor_name(start_zone_));
          }
        }
        if (!zone) {
          online_.erase(on);
          publish_count();
          send(m.player, login_denied_msg{game_errc::internal_error, m.seq});
          return;
        }
        publish_count();
        std::string token;
        if (ctx_.settings->session.ready) {
          token = issue_session_token(
              ctx_.settings->session, record.character_id, name_key(m.name),
              wall_ms() + std::int64_t{ctx_.settings->session_token_ttl_s} * 1000);
        }
        on->second.character_id = record.character_id;
        on->second.name = record.name;
        std::string resume_token;
        if (m.resume_nonce != 0) {
          on->second.resume_nonce = m.resume_nonce;  // its client holds that token already
        } else {
          resume_token = resume_token_for(on->second);
        }
        send(m.player, login_granted_msg{std::move(record), *zone, m.seq, std::move(token),
                                         std::move(resume_token)});
      });
}

void gateway_actor::on_offline(const player_offline_msg& m) {
  // The session may have ended at any point of its login (a client that sends LoginRequest
  // and closes at once): wherever the login is, it ends here, or it would hold a slot with
  // nobody behind it.
  if (loading_.erase(key(m.player)) != 0) {
    publish_count();  // on_loaded drops the answer
    return;
  }
  if (const auto w = waiting_.find(name_key(m.name)); w != waiting_.end() && w->second.player == m.player) {
    waiting_.erase(w);  // the release_msg timer then finds nobody waiting
    return;
  }
  const auto it = online_.find(name_key(m.name));
  if (it != online_.end() && it->second.handing_from == m.player && it->second.player != m.player) {
    // The player actor that held a resumed character stopped instead of handing it over (its
    // zone failed, or it was stopped): the character is being saved, and the resume goes on
    // as a login that continues from that final save.
    presence& p = it->second;
    p.handing_from = {};
    if (!p.resuming) {
      return;  // the resuming session has ended as well: the final save releases the name
    }
    login_msg next = std::move(*p.resuming);
    p.resuming.reset();
    p.player = m.player;
    p.leaving = true;
    waiting_.insert_or_assign(name_key(m.name), std::move(next));
    if (!m.joined) {
      on_release(release_msg{m.name});
    } else {
      after(release_wait, release_msg{m.name});
    }
    return;
  }
  if (it == online_.end() || it->second.player != m.player) {
    return;
  }
  if (it->second.handing_from && !m.joined) {
    // A resuming session that ended before it heard resume_granted_msg never asked for the
    // character: it stays where it was.
    return undo_resume(it->second);
  }
  it->second.resuming.reset();
  it->second.leaving = true;
  if (!m.joined) {
    // Never sent to a zone (login_granted_msg had not reached it): no final save will come.
    on_release(release_msg{m.name});
    return;
  }
  // Released by its final save, or by the timer if the save is lost.
  after(release_wait, release_msg{m.name});
}

void gateway_actor::on_released(const character_released_msg& m) {
  const auto on = online_.find(name_key(m.name));
  if (on != online_.end() && on->second.leaving) {
    on_release(release_msg{m.name});
  }
}

void gateway_actor::on_release(const release_msg& m) {
  const auto on = online_.find(name_key(m.name));
  if (on == online_.end() || !on->second.leaving) {
    return;
  }
  online_.erase(on);
  publish_count();
  if (const auto w = waiting_.find(name_key(m.name)); w != waiting_.end()) {
    login_msg next = std::move(w->second);
    waiting_.erase(w);
    grant(next);
  }
}

std::string gateway_actor::resume_token_for(presence& p) {
  // A new nonce invalidates every resume token issued before for this character.
  p.resume_nonce = random_resume_nonce();
  if (!ctx_.settings->session.ready || ctx_.settings->resume_grace_s == 0) {
    return {};
  }
  return issue_resume_token(ctx_.settings->session, p.character_id, name_key(p.name),
                            p.resume_nonce,
                            wall_ms() + std::int64_t{ctx_.settings->resume_token_ttl_s} * 1000);
}

void gateway_actor::resume(login_msg& m) {
  const auto deny = [&](game_errc e) { send(m.player, login_denied_msg{e, m.seq}); };
  const std::string k = name_key(m.name);
  const char* from = m.address.empty() ? "?" : m.address.c_str();
  std::uint64_t id = 0;
  std::uint64_t nonce = 0;
  const auto st =
      check_resume_token(ctx_.settings->session, m.resume_token, k, wall_ms(), &id, &nonce);
  if (st != token_status::ok && st != token_status::expired) {
    limits_.failed({}, m.address, now().time_since_epoch().count());
    logger(ctx_).info("resume of '{}' from {} refused: resume token invalid", m.name, from);
    return deny(game_errc::session_token_invalid);
  }
  const auto on = online_.find(k);
  // One-time use: the owner of the character (this gateway) holds the one nonce that works.
  // The grace period is its state too: once it ends the character is leaving or gone.
  if (st == token_status::expired || on == online_.end() || on->second.leaving ||
      on->second.character_id != id || on->second.resume_nonce == 0) {
    logger(ctx_).info("resume of '{}' from {} refused: nothing to resume (grace period over, or "
                      "logged out)", m.name, from);
    return deny(game_errc::resume_unavailable);
  }
  presence& p = on->second;
  if (nonce != p.resume_nonce) {
    // Replayed (or superseded by a later login or resume): counts as a failed login of the
    // address.
    limits_.failed({}, m.address, now().time_since_epoch().count());
    logger(ctx_).warn("resume of '{}' from {} refused: resume token already used", m.name, from);
    return deny(game_errc::resume_token_used);
  }
  if (shutting_down_) {
    return deny(game_errc::server_shutting_down);
  }
  // The new session takes the character from whichever player actor holds it: a parked one,
  // or one whose connection the server still believes open (the client knows better; it is
  // sent Kicked{ReplacedByNewLogin}). The grace timer is cancelled by the generation.
  const actor_ref holder = p.player;
  p.prev_nonce = p.resume_nonce;
  p.prev_parked = p.parked;
  p.handing_from = holder;
  p.resuming = m;
  p.player = m.player;
  p.session = m.session;
  p.parked = false;
  ++p.park_gen;
  std::string session_token;
  if (ctx_.settings->session.ready) {
    session_token = issue_session_token(
        ctx_.settings->session, p.character_id, k,
        wall_ms() + std::int64_t{ctx_.settings->session_token_ttl_s} * 1000);
  }
  std::string resume_token = resume_token_for(p);
  p.resuming->resume_nonce = p.resume_nonce;
  logger(ctx_).info("'{}' resumed from {}", p.name, from);
  send(m.player, resume_granted_msg{m.seq, p.character_id, p.name, holder,
                                    std::move(session_token), std::move(resume_token)});
}

void gateway_actor::undo_resume(presence& p) {
  p.player = p.handing_from;
  p.handing_from = {};
  p.resuming.reset();
  p.resume_nonce = p.prev_nonce;
  p.parked = p.prev_parked;
  if (p.parked) {
    after(std::chrono::seconds(ctx_.settings->resume_grace_s), park_expired_msg{p.name, ++p.park_gen});
  }
}

void gateway_actor::on_parked(const player_parked_msg& m) {
  const auto on = online_.find(name_key(m.name));
  if (on == online_.end() || on->second.player != m.player || on->second.leaving) {
    return;
  }
  on->second.parked = true;
  logger(ctx_).info("'{}' dropped: kept in the world for {} s for a resume", m.name,
                    ctx_.settings->resume_grace_s);
  after(std::chrono::seconds(ctx_.settings->resume_grace_s),
        park_expired_msg{m.name, ++on->second.park_gen});
}

void gateway_actor::on_park_expired(const park_expired_msg& m) {
  const auto on = online_.find(name_key(m.name));
  if (on == online_.end() || !on->second.parked || on->second.park_gen != m.gen ||
      on->second.leaving) {
    return;
  }
  // The grace period is over: saved and removed as at a logout (its final save releases it).
  logger(ctx_).info("'{}' not resumed within {} s: saved and removed", m.name,
                    ctx_.settings->resume_grace_s);
  on->second.leaving = true;
  on->second.resume_nonce = 0;
  send(on->second.player, kick_msg{game_errc::resume_unavailable});
}

void gateway_actor::on_shutdown(const shutdown_msg&) {
  shutting_down_ = true;
  logger(ctx_).info("shutting down: kicking {} players", online_.size());
  for (auto& [name, who] : online_) {
    if (!who.leaving) {
      send(who.player, kick_msg{game_errc::server_shutting_down});
      who.leaving = true;
    }
  }
  for (auto& [name, w] : waiting_) {
    send(w.player, login_denied_msg{game_errc::server_shutting_down, w.seq});
  }
  waiting_.clear();
  // Logins waiting for a verification slot end now; those being verified end when it answers.
  while (!verify_queue_.empty()) {
    queued_login q = std::move(verify_queue_.front());
    verify_queue_.pop_front();
    if (loading_.contains(key(q.login.player))) end_login(q.login, game_errc::server_shutting_down);
  }
}

}  // namespace quay::game::server
