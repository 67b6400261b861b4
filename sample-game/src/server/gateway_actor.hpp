#pragma once
// The gateway: logins (development accounts, name rules, tokens), who is online, one session
// per character (a second login kicks the first and continues from its final save), and
// shutdown. Characters themselves belong to the persistence actor, which it asks at each login.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "messages.hpp"
#include "quay/game/login_limits.hpp"
#include "quay/actors/actor.hpp"

namespace quay::game::server {

/// The gateway. Thread contract: an actor — state touched only in its turns, except
/// `online_count`, which other threads read.
class gateway_actor final : public actor {
public:
  /// `start_zone` is where new characters begin; `online_count` (may be null) mirrors how many
  /// characters are in the world (or on their way in), for the shutdown wait and metrics.
  gateway_actor(server_context ctx, std::uint32_t start_zone,
                std::atomic<std::size_t>* online_count);

  static void define(handlers<gateway_actor>& h);

  /// For tests: characters in the world or on their way in or out (owner only).
  std::size_t online() const { return online_.size(); }

private:
  struct presence {
    actor_ref player;
    net::session_handle session;
    bool leaving = false;  // kicked or offline; its final save has not arrived yet
    // Reconnect and resume (docs/protocol.md, "Reconnect and resume").
    bool parked = false;        // its connection dropped: held for resume_grace_s
    std::uint32_t park_gen = 0; // which park a park_expired_msg is for
    std::uint64_t character_id = 0;
    std::string name;           // as created
    std::uint64_t resume_nonce = 0;  // the one resume token that works now (0: none)
    // A resume being handed over: from which player actor, the login that asked for it, and
    // what to restore if the new session ends before it heard the answer.
    actor_ref handing_from;
    std::optional<login_msg> resuming;
    std::uint64_t prev_nonce = 0;
    bool prev_parked = false;
  };
  struct release_msg {
    std::string name;
  };
  struct park_expired_msg {
    std::string name;
    std::uint32_t gen = 0;
  };
  // A login's secret check on the blocking pool: filled there, handed back in verified_msg.
  struct verify_job {
    login_msg login;
    stored_character stored;  // empty when the name is unknown
    bool create = false;      // a development account: hash the secret, then create it
    bool ok = false;
    bool failed = false;      // the pool could not run it
    std::string new_secret;   // a hash to store (new account, legacy token, old parameters)
  };
  struct verified_msg {
    std::shared_ptr<verify_job> job;
  };

  void on_login(login_msg& m);
  void on_loaded(login_msg& m, result<load_character_reply>& r);
  void start_verify(login_msg& m, load_character_reply& r);
  void start_queued_verify();
  void on_offline(const player_offline_msg& m);
  void on_released(const character_released_msg& m);
  void on_shutdown(const shutdown_msg&);
  void on_release(const release_msg& m);
  void on_parked(const player_parked_msg& m);
  void on_park_expired(const park_expired_msg& m);
  void resume(login_msg& m);
  /// The new session of a resume ended before it heard the answer: the character stays with
  /// the player actor that held it, and the resume token presented still works.
  void undo_resume(presence& p);
  std::string resume_token_for(presence& p);
  void on_verified(const verified_msg& v);
  void end_login(login_msg& m, game_errc e);
  void login_with_token(login_msg& m);
  static std::int64_t wall_ms();
  void finish_login(login_msg& m);

  void admit(login_msg& m);
  void grant(login_msg& m);
  void publish_count();

  server_context ctx_;
  std::uint32_t start_zone_;
  std::atomic<std::size_t>* online_count_;
  // Both keyed by name_key(name): names are unique regardless of case.
  std::unordered_map<std::string, presence> online_;
  std::unordered_map<std::string, login_msg> waiting_;  // logins waiting for a kicked session
  // Logins waiting for persistence, by player actor: a player that goes offline meanwhile is
  // taken out, and its login ends when the answer comes.
  std::unordered_set<std::uint64_t> loading_;
  login_limiter limits_;
  std::size_t login_jobs_ = 0;  // secret checks queued or running on the blocking pool
  // Logins loaded and waiting for a verification slot, oldest first (max_login_queue).
  struct queued_login {
    login_msg login;
    load_character_reply loaded;
  };
  std::deque<queued_login> verify_queue_;
  bool shutting_down_ = false;
};

/// True for a valid character name: 1-24 characters of [A-Za-z0-9_-].
bool valid_character_name(std::string_view name);

}  // namespace quay::game::server
