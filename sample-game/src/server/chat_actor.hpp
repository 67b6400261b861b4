#pragma once
// The chat actor: the chat service of the server. Every ChatSend passes through it: it applies
// the chat rules (UTF-8, control characters, length) and the rate limit, routes whispers by
// name to any zone, and hands say and zone messages to the sender's zone actor, which knows
// who is near (say) or present (zone).
//
// The rate limit belongs to the character, not the session: it is kept for a while after the
// character leaves, so reconnecting does not refill the bucket of a flooder.

#include <string>
#include <unordered_map>

#include <flatbuffers/flatbuffers.h>

#include "messages.hpp"
#include "quay/actors/actor.hpp"

namespace quay::game::server {

/// The chat service. Thread contract: an actor — state touched only in its turns.
class chat_actor final : public actor {
public:
  explicit chat_actor(server_context ctx);

  static void define(handlers<chat_actor>& h);

  /// For tests: characters reachable by whisper (owner only).
  std::size_t online() const { return online_.size(); }

private:
  struct member {
    actor_ref player;
    net::session_handle session;
  };
  struct prune_msg {};

  void on_start() override;
  void on_join(chat_join_msg& m);
  void on_leave(const chat_leave_msg& m);
  void on_send(chat_send_msg& m);
  void on_prune(const prune_msg&);

  void refuse(const chat_send_msg& m, game_errc e);
  time_ms clock_ms() const;

  server_context ctx_;
  std::unordered_map<std::string, member> online_;
  std::unordered_map<std::string, token_bucket> limits_;  // per character, online or recently
  flatbuffers::FlatBufferBuilder fbb_;
};

}  // namespace quay::game::server
