#include "quay/runtime/error.hpp"

#include <string>

namespace quay {
namespace {

class runtime_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "quay"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::ok: return "success";
      case errc::aborted: return "operation aborted";
      case errc::end_of_stream: return "end of stream";
      case errc::connection_reset: return "connection reset by peer";
      case errc::connection_refused: return "connection refused";
      case errc::connection_aborted: return "connection aborted";
      case errc::timed_out: return "timed out";
      case errc::would_block: return "operation would block";
      case errc::address_in_use: return "address in use";
      case errc::address_unavailable: return "address not available";
      case errc::network_unreachable: return "network unreachable";
      case errc::too_many_files: return "too many open files";
      case errc::not_connected: return "not connected";
      case errc::already_started: return "an operation of this kind is already pending";
      case errc::bad_address: return "bad address";
      case errc::not_supported: return "not supported by this port";
      case errc::shut_down: return "port shut down";
      case errc::work_failed: return "blocking work failed with an exception";
    }
    return "unknown quay error " + std::to_string(v);
  }
};

}  // namespace

const std::error_category& runtime_category() noexcept {
  static const runtime_category_impl instance;
  return instance;
}

bool is_expected(std::error_code ec) noexcept {
  if (!ec) return true;
  if (ec.category() != runtime_category()) return false;
  switch (static_cast<errc>(ec.value())) {
    case errc::aborted:
    case errc::end_of_stream:
    case errc::connection_reset:
    case errc::connection_refused:
    case errc::connection_aborted:
    case errc::timed_out:
    case errc::would_block:
    case errc::not_connected:
    case errc::shut_down:
      return true;
    default:
      return false;
  }
}

}  // namespace quay
