#pragma once
// The gateway: logins (development accounts, name rules, one session per character), the
// character store, who is online (for whispers and duplicate logins), and shutdown.

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "character_store.hpp"
#include "messages.hpp"
#include "quay/actors/actor.hpp"

namespace quay::game::server {

/// A stored character.
struct character {
  std::string token;
  player_record record;
};

/// The gateway. Thread contract: an actor — state touched only in its turns, except
/// `online_count`, which other threads read.
class gateway_actor final : public actor {
public:
  /// `start_zone` is where new characters begin; `online_count` (may be null) mirrors how many
  /// characters are in the world, for the shutdown wait and metrics. With a `store`, characters
  /// start from `stored` and every change is written back through the blocking-work pool;
  /// `pending_writes` (may be null) mirrors how many changes are not on disk yet.
  gateway_actor(server_context ctx, std::uint32_t start_zone,
                std::atomic<std::size_t>* online_count, character_store* store = nullptr,
                std::vector<stored_character> stored = {},
                std::atomic<std::size_t>* pending_writes = nullptr);

  static void define(handlers<gateway_actor>& h);

  /// For tests: a stored character (owner only).
  const character* find(const std::string& name) const;

private:
  struct online {
    actor_ref player;
    net::session_handle session;
    bool leaving = false;  // kicked or offline; its final save has not arrived yet
  };
  struct release_msg {
    std::string name;
  };
  struct write_done_msg {
    std::string error;
    std::size_t count = 0;
  };

  void on_login(login_msg& m);
  void on_offline(const player_offline_msg& m);
  void on_save(save_msg& m);
  void on_whisper(whisper_msg& m);
  void on_shutdown(const shutdown_msg&);
  void on_release(const release_msg& m);
  void on_write_done(const write_done_msg& m);
  void mark_dirty(const std::string& name);
  void flush();
  void publish_pending();

  void grant(login_msg& m);
  void publish_count();

  server_context ctx_;
  std::uint32_t start_zone_;
  std::atomic<std::size_t>* online_count_;
  std::map<std::string, character, std::less<>> characters_;
  std::unordered_map<std::string, online> online_;
  std::unordered_map<std::string, login_msg> waiting_;  // logins waiting for a kicked session
  std::uint64_t next_character_id_ = 1;
  bool shutting_down_ = false;
  character_store* store_;
  std::atomic<std::size_t>* pending_writes_;
  std::vector<std::string> dirty_;  // names changed since the last write, in change order
  std::size_t in_flight_ = 0;       // characters in the write running on the blocking pool
  flatbuffers::FlatBufferBuilder fbb_;
};

/// True for a valid character name: 1-24 characters of [A-Za-z0-9_-].
bool valid_character_name(std::string_view name);

}  // namespace quay::game::server
