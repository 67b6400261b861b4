#pragma once
// The zone server's configuration: defaults, a TOML file (toml++), then command-line overrides
// (CLI11). Problems are returned as messages, never thrown.

#include <cstdint>
#include <string>
#include <vector>

#include "messages.hpp"

namespace quay::game::server {

/// Everything the zone-server program can be told.
struct server_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7777;
  std::size_t workers = 0;  ///< 0: one per core
  std::string zones_dir;    ///< directory of zone *.toml files
  std::uint32_t start_zone = 1;
  std::string data_dir = "zone-server-data";
  std::string log_file;     ///< empty: <data_dir>/zone-server.log
  std::string log_level = "info";
  std::uint32_t shutdown_grace_s = 5;
  /// Session token keys: 64 hex digits each; empty session_key: the key file (default
  /// <data_dir>/session.key, generated with mode 0600 on first start).
  std::string session_key;
  std::string previous_session_key;  ///< still accepted (rotation)
  std::string session_key_file;
  /// TLS on the client listener (Linux builds): both set makes the port TLS-only; both empty
  /// keeps it plain TCP (docs/protocol.md "TLS transport").
  std::string tls_certificate_file;
  std::string tls_private_key_file;
  std::uint32_t tls_handshake_timeout_ms = 10'000;
  server_settings settings;
};

/// Reads a TOML configuration file into `config` (keys it does not set keep their values).
/// Returns the problems found ("file: key: message"); empty means success.
std::vector<std::string> load_config_file(const std::string& path, server_config& config);

}  // namespace quay::game::server
