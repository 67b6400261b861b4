#pragma once
// Characters in SQLite: one file under the data directory, WAL journal, schema versioned with
// PRAGMA user_version and migrated forward on open. Every call blocks on disk, so the server
// calls it only at startup (before any worker runs game code) and through the port's
// blocking-work pool (port::run_blocking) — never on a worker.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "quay/game/zone_world.hpp"

struct sqlite3;

namespace quay::game::server {

/// A character as stored: its secret and its record.
struct stored_character {
  /// A legacy plain-text token (schema version 1); empty once the account has a hash. The
  /// gateway rehashes it at its next successful login and clears it.
  std::string token;
  /// The encoded argon2id hash of the secret (account_secret.hpp), or empty (legacy).
  std::string secret;
  /// Disabled by an operator (`zone-server accounts disable`): its logins are refused.
  bool disabled = false;
  player_record record;
};

/// The SQLite character store. Thread contract: every member is thread-safe (one mutex), but
/// callers must order writes to the same character themselves (the gateway keeps one write
/// batch in flight at a time).
class character_store {
public:
  /// The schema version this code writes.
  static constexpr int schema_version = 3;

  character_store() = default;
  ~character_store();
  character_store(const character_store&) = delete;
  character_store& operator=(const character_store&) = delete;

  /// Opens (creating if needed) the database file, enables WAL and migrates the schema. A
  /// write that finds the database locked waits up to `busy_timeout_ms`, then fails (the
  /// caller retries). Returns an error message, empty on success.
  std::string open(const std::string& path, int busy_timeout_ms = 2000);

  /// Every stored character. Empty on error (the message goes to `error`).
  std::vector<stored_character> load_all(std::string& error);

  /// Inserts or updates characters in one transaction: all of them or, on any error (locked,
  /// full, I/O), none (rolled back). Returns an error message or empty.
  std::string save(const std::vector<stored_character>& batch);

  /// Operator commands (`zone-server accounts`), each one transaction. Creates an account
  /// with an encoded hash in `start_zone`; "exists" when the name (regardless of case) is taken.
  std::string create_account(const std::string& name, const std::string& secret,
                             std::uint32_t start_zone);
  /// Replaces an account's secret with an encoded hash and clears its legacy plain token.
  std::string set_secret(const std::string& name, const std::string& secret);
  /// Disables or enables an account.
  std::string set_disabled(const std::string& name, bool disabled);

  /// Caps the database at `pages` pages (PRAGMA max_page_count): a write that would grow it
  /// further fails with "database or disk is full". Tests simulate a full disk with it; an
  /// operator could cap the file. Returns an error message or empty.
  std::string limit_pages(std::uint32_t pages);

  /// The schema version of the open database (PRAGMA user_version).
  int version();

private:
  std::string exec(const char* sql);
  std::string update_one(const char* sql, const std::string& name, const std::string* text,
                         int number);

  std::mutex mu_;
  sqlite3* db_ = nullptr;
};

}  // namespace quay::game::server
