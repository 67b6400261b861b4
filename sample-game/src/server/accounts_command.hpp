#pragma once
// The operator's account command: `zone-server accounts create|disable|enable|reset NAME`, on
// the database of the server's data directory (<data_dir>/characters.sqlite3). create and reset
// read the secret from `--secret` or, without it, the first line of standard input, and store
// only its argon2id hash. Run it while the server is stopped: a running server reads accounts
// once at startup and would write its own copy of an account back at its next save.

#include <iosfwd>
#include <string>

#include "account_secret.hpp"

namespace quay::game::server {

/// What one accounts command is asked to do.
struct accounts_request {
  std::string action;  ///< create, disable, enable or reset
  std::string name;
  std::string secret;  ///< empty: read a line from `in`
  bool secret_given = false;
  std::string database;  ///< the characters.sqlite3 path
  std::uint32_t start_zone = 1;
  hash_params hash;
};

/// Runs the command; messages go to `out` (success) and `err` (failure, never the secret).
/// Returns the process exit code: 0 done, 1 refused (no such account, name taken, empty
/// secret), 2 bad usage or database error. Thread contract: any thread; blocks on disk.
int run_accounts_command(const accounts_request& r, std::istream& in, std::ostream& out,
                         std::ostream& err);

}  // namespace quay::game::server
