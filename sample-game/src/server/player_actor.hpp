#pragma once
// The player actor: owns one client session from accept to close. Its one handler table
// serves the client's messages (verified and decoded by net::deliver, the session as their
// origin) beside the server's own, runs the session's state machine (login -> in zone -> leaving), cuts
// off floods (a per-session message rate and a budget of wrong-state messages), forwards game
// requests to its zone and chat to the chat actor, and re-enters a zone that failed.

#include <optional>
#include <string>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "messages.hpp"
#include "quay/actors/actor.hpp"
#include "quay/game/client_messages.hpp"
#include "quay/game/codec.hpp"
#include "quay/game/rate_limit.hpp"
#include "quay/net/session_ref.hpp"

namespace quay::game::server {

/// One connected client. Thread contract: an actor — state touched only in its turns.
class player_actor final : public actor {
public:
  player_actor(server_context ctx, net::session_handle session, std::string address = {});
  ~player_actor() override;

  static void define(handlers<player_actor>& h);

private:
  // awaiting_login -> logging_in -> joining -> playing -> gone; playing -> rejoining (its zone
  // failed) -> joining -> playing again, or gone when the zone does not come back.
  // Resume: playing -> parked (the connection dropped; the character stays in its zone) ->
  // handing_over (a resume asked for it) -> gone once the zone moved it to the new player
  // actor, which went logging_in -> joining (resume_granted_msg) -> playing (zone_joined_msg).
  enum class state : std::uint8_t {
    awaiting_login, logging_in, joining, playing, rejoining, parked, handing_over, gone
  };

  struct login_timeout_msg {};
  struct rejoin_msg {};

  void on_start() override;
  void on_stop(exit_reason reason) override;
  void on_accepted(const net::session_accepted& m);
  void on_frame(const net::session_frame& m);
  void on_closed(const net::session_closed& m);
  /// A plain GET on the game port: the web client's files (GET / and its script).
  void on_http(const net::http_request& m);
  void on_granted(login_granted_msg& m);
  void on_denied(const login_denied_msg& m);
  void on_joined(const zone_joined_msg& m);
  void on_kick(const kick_msg& m);
  void on_login_timeout(const login_timeout_msg&);
  void on_zone_lost(zone_lost_msg& m);
  void on_rejoin(const rejoin_msg&);
  void on_zone_bound(const name_bound& m);
  void on_chat_bounced(chat_bounced_msg& m);
  void on_resume_granted(resume_granted_msg& m);
  void on_hand_over(const hand_over_msg& m);
  void on_rebound(const zone_rebound_msg& m);
  /// The connection dropped while playing: keep the character in the world for a resume.
  void park();
  // The client's messages (wire forms in quay/game/client_messages.hpp).
  void on_login(login_request& m);
  void on_logout(const logout_request&);
  void on_server_info_request(const server_info_request&);
  void on_move(const move_intent& m);
  void on_attack(const attack_request& m);
  void on_use_portal(const use_portal_request&);
  void on_chat_send(chat_send_request& m);

  game::server_info server_info() const;
  void error(std::uint32_t seq, std::uint16_t type, game_errc e);
  /// True when playing; else answers the client's message being handled as unexpected().
  bool require_playing();
  /// Answers the client's message being handled (origin()) as not allowed in this state; kicks
  /// when the budget for them is spent.
  void unexpected();
  void kick(game_errc reason, std::error_code close_reason);
  /// Leaves the world (zone saves the character), tells the gateway, stops this actor.
  void leave();
  /// leave() without stopping: the messages, and the session's close if `close_session`.
  /// Idempotent.
  void depart(bool close_session);

  server_context ctx_;
  net::session_handle session_;
  std::string close_label_;  // why the session ends, for quay_sessions_closed_total
  bool http_only_ = false;   // a web page fetch, not a player: not counted as a session close
  net::session client_;  // session_ as a value to send and close through
  std::string address_;  // the client's source address (no port), for limits and logs
  state state_ = state::awaiting_login;
  std::string name_;
  std::uint32_t login_seq_ = 0;  // the LoginRequest's seq, for its LoginResult
  bool over_limit_ = false;      // accepted over the connection limit: refused at start
  game_errc refusal_ = game_errc::ok;  // refused at start: told when the client first speaks
  actor_ref zone_;
  entity_id entity_ = no_entity;
  bool in_chat_ = false;        // registered with the chat actor
  token_bucket messages_;       // every client message
  token_bucket unexpected_;     // messages refused with UnexpectedMessage
  actor_ref lost_zone_;         // rejoining: the failed incarnation
  player_record held_;          // rejoining: the last state the failed zone handed over
  timer_handle rejoin_deadline_;  // rejoining: gives up when the zone does not come back
  bool resumed_ = false;                 // this session resumed (LoginResult already sent)
  std::optional<hand_over_msg> handover_;  // a resume waiting for (or in) the hand-over
  std::vector<chat_bounced_msg> held_chat_;  // bounced lines waiting for the next zone_joined
  flatbuffers::FlatBufferBuilder fbb_;
};

}  // namespace quay::game::server
