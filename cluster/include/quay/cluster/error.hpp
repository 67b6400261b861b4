#pragma once

#include <system_error>

namespace quay::cluster {

/// Conditions the cluster module reports as values.
enum class errc {
  ok = 0,
  no_responders = 1,   ///< a request reached nobody serving its subject (NATS "no responders")
  timed_out,           ///< a request ran past its deadline with no reply
  disconnected,        ///< the transport has no connection to the server right now
  queue_full,          ///< the bounded outbound queue was full: the message was dropped (counted)
  closed,              ///< the transport or node was closed
  bad_payload,         ///< a payload failed validation (garbage, truncated, oversized, forged)
  key_exists,          ///< kv create: the key already exists
  key_not_found,       ///< kv get/update: no such key
  wrong_revision,      ///< kv update: the key changed since the given revision (lost the CAS)
  server_error,        ///< the server or client library reported another failure (logged)
};

const std::error_category& cluster_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), cluster_category()};
}

}  // namespace quay::cluster

template <>
struct std::is_error_code_enum<quay::cluster::errc> : std::true_type {};
