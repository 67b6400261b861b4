// The TLS close reasons' category: built with and without OpenSSL (the Windows build names
// the codes too, so its logs read the same).
#include <string>

#include "quay/net/tls.hpp"

namespace quay::net {

namespace {

class tls_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "quay.tls"; }
  std::string message(int code) const override {
    switch (static_cast<tls_errc>(code)) {
      case tls_errc::ok: return "ok";
      case tls_errc::plaintext_client: return "plain-text client on a TLS listener";
      case tls_errc::handshake_failed: return "TLS handshake failed";
      case tls_errc::peer_alert: return "peer sent a fatal TLS alert";
      case tls_errc::renegotiation_refused: return "TLS renegotiation refused";
      case tls_errc::bad_record: return "TLS record refused (does not parse or decrypt)";
      case tls_errc::reset_mid_record: return "connection ended inside a TLS record";
      case tls_errc::handshake_timeout: return "TLS handshake not done within its deadline";
    }
    return "unknown TLS error " + std::to_string(code);
  }
};

}  // namespace

const std::error_category& tls_category() noexcept {
  static const tls_category_impl c;
  return c;
}

}  // namespace quay::net
