// Configuration file loading (see config.hpp and sample-game/zone-server.toml).
#include "config.hpp"

#include <toml++/toml.h>

namespace quay::game::server {

namespace {

template <class T>
void read(const toml::table& t, std::string_view key, T& out, std::vector<std::string>& errors,
          const std::string& where) {
  const auto node = t.at_path(key);
  if (!node) {
    return;
  }
  if constexpr (std::is_same_v<T, std::string>) {
    if (const auto v = node.value<std::string>()) {
      out = *v;
      return;
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    if (const auto v = node.value<bool>()) {
      out = *v;
      return;
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    if (const auto v = node.value<double>()) {
      out = static_cast<T>(*v);
      return;
    }
  } else {
    if (const auto v = node.value<std::int64_t>(); v && *v >= 0) {
      out = static_cast<T>(*v);
      return;
    }
  }
  errors.push_back(where + ": " + std::string(key) + ": wrong type or negative");
}

}  // namespace

std::vector<std::string> load_config_file(const std::string& path, server_config& c) {
  std::vector<std::string> errors;
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    errors.push_back(path + ": line " + std::to_string(e.source().begin.line) + ": " +
                     std::string(e.description()));
    return errors;
  }
  read(t, "server.host", c.host, errors, path);
  read(t, "server.port", c.port, errors, path);
  read(t, "server.workers", c.workers, errors, path);
  read(t, "server.max_players", c.settings.max_players, errors, path);
  read(t, "server.dev_accounts", c.settings.dev_accounts, errors, path);
  read(t, "server.shutdown_grace_s", c.shutdown_grace_s, errors, path);
  read(t, "accounts.hash_ops_limit", c.settings.hash.ops_limit, errors, path);
  read(t, "accounts.hash_mem_limit", c.settings.hash.mem_limit, errors, path);
  read(t, "accounts.max_login_jobs", c.settings.max_login_jobs, errors, path);
  read(t, "accounts.max_login_queue", c.settings.max_login_queue, errors, path);
  read(t, "accounts.session_key", c.session_key, errors, path);
  read(t, "accounts.previous_session_key", c.previous_session_key, errors, path);
  read(t, "accounts.session_key_file", c.session_key_file, errors, path);
  read(t, "accounts.session_token_ttl_s", c.settings.session_token_ttl_s, errors, path);
  read(t, "accounts.resume_grace_s", c.settings.resume_grace_s, errors, path);
  read(t, "accounts.resume_token_ttl_s", c.settings.resume_token_ttl_s, errors, path);
  read(t, "accounts.account_free_failures", c.settings.login_limits.account_free_failures, errors, path);
  read(t, "accounts.address_free_failures", c.settings.login_limits.address_free_failures, errors, path);
  read(t, "accounts.backoff_base_ms", c.settings.login_limits.backoff_base_ms, errors, path);
  read(t, "accounts.backoff_max_ms", c.settings.login_limits.backoff_max_ms, errors, path);
  read(t, "limits.connection_burst", c.settings.login_limits.connections.burst, errors, path);
  read(t, "limits.connections_per_second", c.settings.login_limits.connections.per_second, errors, path);
  read(t, "tls.certificate_file", c.tls_certificate_file, errors, path);
  read(t, "tls.private_key_file", c.tls_private_key_file, errors, path);
  read(t, "tls.handshake_timeout_ms", c.tls_handshake_timeout_ms, errors, path);
  read(t, "world.zones_dir", c.zones_dir, errors, path);
  read(t, "world.start_zone", c.start_zone, errors, path);
  read(t, "world.tick_rate", c.settings.tick_rate, errors, path);
  read(t, "world.aoi_radius_cells", c.settings.rules.aoi_radius_cells, errors, path);
  read(t, "world.max_speed", c.settings.rules.movement.max_speed, errors, path);
  read(t, "chat.max_length", c.settings.rules.chat.max_length, errors, path);
  read(t, "chat.burst", c.settings.rules.chat.burst, errors, path);
  read(t, "chat.per_second", c.settings.rules.chat.per_second, errors, path);
  read(t, "chat.say_radius", c.settings.rules.chat.say_radius, errors, path);
  read(t, "limits.message_burst", c.settings.messages.burst, errors, path);
  read(t, "limits.messages_per_second", c.settings.messages.per_second, errors, path);
  read(t, "limits.unexpected_burst", c.settings.unexpected.burst, errors, path);
  read(t, "limits.unexpected_per_second", c.settings.unexpected.per_second, errors, path);
  read(t, "limits.connection_slack", c.settings.connection_slack, errors, path);
  read(t, "world.zone_rejoin_wait_ms", c.settings.zone_rejoin_wait_ms, errors, path);
  read(t, "storage.data_dir", c.data_dir, errors, path);
  read(t, "storage.save_interval_s", c.settings.save_interval_s, errors, path);
  read(t, "storage.save_retry_ms", c.settings.save_retry_ms, errors, path);
  read(t, "storage.save_retry_max_ms", c.settings.save_retry_max_ms, errors, path);
  read(t, "log.file", c.log_file, errors, path);
  read(t, "log.level", c.log_level, errors, path);
  read(t, "log.stats_interval_s", c.settings.stats_interval_s, errors, path);
  if (c.settings.hash.clamped().ops_limit != c.settings.hash.ops_limit ||
      c.settings.hash.clamped().mem_limit != c.settings.hash.mem_limit) {
    errors.push_back(path + ": accounts.hash_ops_limit/hash_mem_limit: outside libsodium's "
                     "range (ops >= 1, mem >= 8192 bytes)");
  }
  if (c.settings.tick_rate == 0 || c.settings.tick_rate > 100) {
    errors.push_back(path + ": world.tick_rate: must be between 1 and 100");
  }
  return errors;
}

}  // namespace quay::game::server
