#pragma once

// TLS for listeners and connectors (docs/protocol.md "TLS transport"): OpenSSL 3 through
// memory BIOs on the workers, TLS 1.3 and 1.2 only. Linux only: a build without OpenSSL (the
// Windows build: Debian has no mingw OpenSSL) has tls_available() false, and the make_*
// functions refuse with an error instead.

#include <chrono>
#include <string>
#include <system_error>

#include "quay/net/session.hpp"

namespace quay::net {

/// Why a TLS session ended. Each is a session_closed reason and a log line.
enum class tls_errc {
  ok = 0,
  plaintext_client = 1,   ///< the client spoke plain text (a Quay frame, HTTP) on a TLS listener
  handshake_failed,       ///< a malformed hello, no shared version or cipher, an untrusted peer
  peer_alert,             ///< the peer ended the stream with a fatal alert
  renegotiation_refused,  ///< a TLS 1.2 peer asked to renegotiate
  bad_record,             ///< a record that did not parse or decrypt (tampering, garbage)
  reset_mid_record,       ///< the connection ended (FIN or reset) inside a TLS record
  handshake_timeout,      ///< the handshake was not done within handshake_timeout
};

const std::error_category& tls_category() noexcept;

inline std::error_code make_error_code(tls_errc e) noexcept {
  return {static_cast<int>(e), tls_category()};
}

/// A listener's TLS: its certificate and key (PEM files).
struct tls_server_config {
  std::string certificate_file;
  std::string private_key_file;
  /// The handshake must be done this long after accept, or the session is closed
  /// (handshake_timeout). 0 disables (the idle timeout still applies).
  std::chrono::milliseconds handshake_timeout{10'000};
};

/// A connector's TLS: whom it trusts.
struct tls_client_config {
  std::string ca_file;                ///< PEM trust anchors; empty: the system's defaults
  std::string server_name = "localhost";  ///< SNI and the name the certificate must carry
  bool verify_peer = true;            ///< false: trust any certificate (hostile-server tests only)
  bool tls12_only = false;            ///< offer TLS 1.2 only (tests of 1.2 servers)
  std::chrono::milliseconds handshake_timeout{10'000};
};

/// True when this build has TLS (OpenSSL found, not Windows). Thread-safe.
bool tls_available() noexcept;

/// A session_options::layer for a listener: loads the certificate and key once (shared by all
/// its sessions). On failure returns an empty factory and sets `error` (the file and
/// OpenSSL's reason). Thread-safe.
stream_layer_factory make_tls_server_layer(const tls_server_config& config, std::string& error);
/// A session_options::layer for network::connect. On failure: empty, with `error`.
stream_layer_factory make_tls_client_layer(const tls_client_config& config, std::string& error);

}  // namespace quay::net

template <>
struct std::is_error_code_enum<quay::net::tls_errc> : std::true_type {};
