#include "quay/cluster/error.hpp"

#include "quay/cluster/transport.hpp"

namespace quay::cluster {

namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "quay.cluster"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::ok: return "ok";
      case errc::no_responders: return "no responders";
      case errc::timed_out: return "request timed out";
      case errc::disconnected: return "not connected to the server";
      case errc::queue_full: return "outbound queue full (message dropped)";
      case errc::closed: return "closed";
      case errc::bad_payload: return "bad payload";
      case errc::key_exists: return "key exists";
      case errc::key_not_found: return "key not found";
      case errc::wrong_revision: return "wrong revision (compare-and-set lost)";
      case errc::server_error: return "server error";
    }
    return "unknown cluster error";
  }
};
}  // namespace

const std::error_category& cluster_category() noexcept {
  static const category c;
  return c;
}

const char* to_string(link_state s) noexcept {
  switch (s) {
    case link_state::connected: return "connected";
    case link_state::disconnected: return "disconnected";
    case link_state::reconnected: return "reconnected";
    case link_state::closed: return "closed";
  }
  return "?";
}

}  // namespace quay::cluster
