// Endpoints: sockaddr_in / sockaddr_in6 in the endpoint's storage. Platform-neutral: the OS's
// address API comes through backend/os_sockets.hpp; only error mapping is per backend
// (backend/*/*_os_errors.cpp).
#include <cstring>
#include <string>

#include "backend/os_sockets.hpp"
#include "quay/runtime/socket.hpp"

namespace quay {

static_assert(sizeof(sockaddr_in6) <= endpoint::capacity, "endpoint storage too small");
static_assert(sizeof(sockaddr_in) <= endpoint::capacity, "endpoint storage too small");

std::optional<endpoint> endpoint::parse(std::string_view address, std::uint16_t port) {
  if (!detail::os_sockets_ready()) return std::nullopt;
  // inet_pton needs a NUL-terminated string; the longest numeric IPv6 text is 45 characters.
  if (address.empty() || address.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char text[INET6_ADDRSTRLEN] = {};
  std::memcpy(text, address.data(), address.size());
  endpoint e;
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(e.storage_, &v4, sizeof v4);
    e.size_ = sizeof v4;
    return e;
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, text, &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(e.storage_, &v6, sizeof v6);
    e.size_ = sizeof v6;
    return e;
  }
  return std::nullopt;
}

endpoint endpoint::loopback_v4(std::uint16_t port) { return *parse("127.0.0.1", port); }
endpoint endpoint::loopback_v6(std::uint16_t port) { return *parse("::1", port); }

bool endpoint::is_v6() const noexcept {
  detail::os_family_t family = 0;
  std::memcpy(&family, storage_, sizeof family);
  return size_ != 0 && family == AF_INET6;
}

std::uint16_t endpoint::port() const noexcept {
  if (size_ == 0) return 0;
  if (is_v6()) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, storage_, sizeof v6);
    return ntohs(v6.sin6_port);
  }
  sockaddr_in v4{};
  std::memcpy(&v4, storage_, sizeof v4);
  return ntohs(v4.sin_port);
}

std::string endpoint::to_string() const {
  if (size_ == 0) return "(none)";
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v6()) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, storage_, sizeof v6);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    // Appended piecewise: GCC 12 at -O3 warns falsely (-Wrestrict) on operator+ chains.
    std::string out;
    out.reserve(64);
    out.append("[").append(text).append("]:").append(std::to_string(ntohs(v6.sin6_port)));
    return out;
  }
  sockaddr_in v4{};
  std::memcpy(&v4, storage_, sizeof v4);
  ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
  std::string out;
  out.reserve(32);
  out.append(text).append(":").append(std::to_string(ntohs(v4.sin_port)));
  return out;
}

}  // namespace quay
