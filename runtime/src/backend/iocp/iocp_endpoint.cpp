// Endpoints (sockaddr_in / sockaddr_in6 in the endpoint's storage) and Winsock/Win32 error
// mapping on Windows. Same behaviour as epoll_endpoint.cpp; only the headers and codes differ.
#include <cstring>
#include <string>

#include "backend/iocp/iocp_socket.hpp"
#include "backend/iocp/win32.hpp"
#include "quay/runtime/error.hpp"
#include "quay/runtime/socket.hpp"

namespace quay {

static_assert(sizeof(sockaddr_in6) <= endpoint::capacity, "endpoint storage too small");
static_assert(sizeof(sockaddr_in) <= endpoint::capacity, "endpoint storage too small");

std::optional<endpoint> endpoint::parse(std::string_view address, std::uint16_t port) {
  // inet_pton needs a NUL-terminated string; the longest numeric IPv6 text is 45 characters.
  if (address.empty() || address.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  if (!detail::winsock_started()) return std::nullopt;
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
  ADDRESS_FAMILY family = 0;
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
    // Appended piecewise, as on Linux (GCC 12 -O3 warns falsely on operator+ chains).
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

// Winsock reports WSAE* codes from calls; a packet's NTSTATUS becomes a Win32 ERROR_* code
// (RtlNtStatusToDosError). Both kinds arrive here; their ranges do not overlap.
std::error_code map_os_error(int os_error) noexcept {
  switch (os_error) {
    case 0: return {};
    case ERROR_OPERATION_ABORTED:  // == WSA_OPERATION_ABORTED: CancelIoEx, closesocket
    case WSAEINTR:                 // a blocking call cancelled
      return make_error_code(errc::aborted);
    case WSAECONNRESET:
    case WSAENETRESET:
    case ERROR_NETNAME_DELETED:  // the packet form of a reset connection
      return make_error_code(errc::connection_reset);
    case WSAECONNREFUSED:
    case ERROR_CONNECTION_REFUSED:
    case ERROR_PORT_UNREACHABLE:  // ConnectEx to a closed port can report this
      return make_error_code(errc::connection_refused);
    case WSAECONNABORTED:
    case ERROR_CONNECTION_ABORTED:
    case ERROR_REQUEST_ABORTED:
      return make_error_code(errc::connection_aborted);
    case WSAETIMEDOUT:
    case ERROR_SEM_TIMEOUT:  // the packet form of a timed-out connection
      return make_error_code(errc::timed_out);
    case WSAEWOULDBLOCK: return make_error_code(errc::would_block);
    case WSAEADDRINUSE:
    case ERROR_ADDRESS_ALREADY_ASSOCIATED:
      return make_error_code(errc::address_in_use);
    case WSAEADDRNOTAVAIL: return make_error_code(errc::address_unavailable);
    case WSAENETUNREACH:
    case WSAEHOSTUNREACH:
    case WSAENETDOWN:
    case ERROR_NETWORK_UNREACHABLE:
    case ERROR_HOST_UNREACHABLE:
      return make_error_code(errc::network_unreachable);
    case WSAEMFILE:
    case ERROR_TOO_MANY_OPEN_FILES:
      return make_error_code(errc::too_many_files);
    case WSAENOTCONN: return make_error_code(errc::not_connected);
    case WSAESHUTDOWN:               // a send after shutdown_send(): Linux says EPIPE
    case ERROR_GRACEFUL_DISCONNECT:  // the packet form of the same
      return make_error_code(errc::connection_reset);
    // Anything else (WSAENOTSOCK, WSAEFAULT, WSAEINVAL, ...) is a bug or a resource problem
    // and keeps its system code, so is_expected() says false and it gets logged.
    default: return {os_error, std::system_category()};
  }
}

}  // namespace quay
