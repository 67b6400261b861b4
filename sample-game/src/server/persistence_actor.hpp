#pragma once
// The persistence actor: owns every character (name, token, latest record) and the store they
// are written to. Loads answer from memory (everything is read once at startup); saves mark a
// character dirty, and dirty characters go to SQLite in ordered batches through the port's
// blocking-work pool, one batch in flight at a time. A failed batch (database locked, disk
// full) is logged, counted and retried with exponential backoff; what it held stays dirty, so
// nothing is lost while the server keeps running.

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "messages.hpp"
#include "quay/actors/actor.hpp"

namespace quay::game::server {

/// Counters of the persistence actor, readable from any thread (metrics, tests, shutdown).
struct persistence_counters {
  std::atomic<std::size_t> pending{0};           ///< characters changed and not on disk yet
  std::atomic<std::uint64_t> batches_written{0}; ///< batches committed
  std::atomic<std::uint64_t> characters_written{0};
  std::atomic<std::uint64_t> write_failures{0};  ///< batches that failed (each is retried)
  std::atomic<std::uint64_t> retries{0};         ///< batches started again after a failure
};

/// The persistence actor. Thread contract: an actor — state touched only in its turns; the
/// counters are atomics other threads read.
class persistence_actor final : public actor {
public:
  /// `store` may be null (tests without a database: characters live in memory only).
  /// `stored` is what the store held at startup; `counters` may be null.
  persistence_actor(server_context ctx, character_store* store,
                    std::vector<stored_character> stored, persistence_counters* counters);

  static void define(handlers<persistence_actor>& h);

  /// For tests: a character (owner only; read between fixture steps).
  const stored_character* find(const std::string& name) const;

private:
  struct write_done_msg {
    std::string error;
    std::size_t count = 0;
  };
  struct retry_msg {};

  load_character_reply on_load(load_character_msg& m);
  void on_save(save_msg& m);
  void on_set_secret(set_secret_msg& m);
  void on_write_done(const write_done_msg& m);
  void on_retry(const retry_msg&);

  void mark_dirty(const std::string& name);
  void flush();
  void publish();

  server_context ctx_;
  character_store* store_;
  persistence_counters* counters_;
  std::map<std::string, stored_character, std::less<>> characters_;
  std::uint64_t next_character_id_ = 1;
  std::vector<std::string> dirty_;    // names changed since the last batch, in change order
  std::unordered_set<std::string> dirty_names_;  // the same names, for O(1) "already dirty?"
  std::vector<std::string> writing_;  // names in the batch on the blocking pool
  bool waiting_retry_ = false;        // a failed batch waits for its backoff timer
  std::uint32_t backoff_ms_ = 0;      // the next retry delay (0: no failure streak)
};

}  // namespace quay::game::server
