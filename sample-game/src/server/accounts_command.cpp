// The operator's account command (see accounts_command.hpp).
#include "accounts_command.hpp"

#include <istream>
#include <ostream>

#include "character_store.hpp"
#include "gateway_actor.hpp"

namespace quay::game::server {

int run_accounts_command(const accounts_request& r, std::istream& in, std::ostream& out,
                         std::ostream& err) {
  const bool with_secret = r.action == "create" || r.action == "reset";
  if (!with_secret && r.action != "disable" && r.action != "enable") {
    err << "accounts: unknown action '" << r.action << "' (create, disable, enable, reset)\n";
    return 2;
  }
  if (!valid_character_name(r.name)) {
    err << "accounts: invalid name (1-24 characters of [A-Za-z0-9_-])\n";
    return 2;
  }
  std::string secret = r.secret;
  if (with_secret && !r.secret_given) {
    std::getline(in, secret);
    if (!secret.empty() && secret.back() == '\r') {
      secret.pop_back();
    }
  }
  if (with_secret && secret.empty()) {
    err << "accounts: empty secret refused\n";
    return 1;
  }
  character_store store;
  if (auto e = store.open(r.database); !e.empty()) {
    err << "accounts: " << e << "\n";
    return 2;
  }
  std::string hash;
  if (with_secret) {
    hash = hash_secret(secret, r.hash);
    if (hash.empty()) {
      err << "accounts: hashing failed (out of memory for hash_mem_limit?)\n";
      return 2;
    }
  }
  std::string e;
  if (r.action == "create") {
    e = store.create_account(r.name, hash, r.start_zone);
  } else if (r.action == "reset") {
    e = store.set_secret(r.name, hash);
  } else {
    e = store.set_disabled(r.name, r.action == "disable");
  }
  if (e == "exists" || e == "no such account") {
    err << "accounts: " << r.action << " '" << r.name << "': " << e << "\n";
    return 1;
  }
  if (!e.empty()) {
    err << "accounts: " << r.action << " '" << r.name << "': " << e << "\n";
    return 2;
  }
  out << "accounts: " << r.action << " '" << r.name << "': done\n";
  return 0;
}

}  // namespace quay::game::server
