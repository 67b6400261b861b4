// A build without OpenSSL (Windows: Debian has no mingw OpenSSL): TLS is refused with a clear
// error, so a configuration that asks for it fails at start-up instead of serving plain text.
#include "quay/net/tls.hpp"

namespace quay::net {

bool tls_available() noexcept { return false; }

stream_layer_factory make_tls_server_layer(const tls_server_config&, std::string& error) {
  error = "TLS is not built in (no OpenSSL in this build; the Windows build has none)";
  return {};
}

stream_layer_factory make_tls_client_layer(const tls_client_config&, std::string& error) {
  error = "TLS is not built in (no OpenSSL in this build; the Windows build has none)";
  return {};
}

}  // namespace quay::net
