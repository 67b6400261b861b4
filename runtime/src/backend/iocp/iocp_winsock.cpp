// Winsock start-up and the extension functions (AcceptEx, ConnectEx, GetAcceptExSockaddrs),
// which are not exported by ws2_32 but fetched from the provider through WSAIoctl.
#include <system_error>

#include "backend/iocp/iocp_socket.hpp"

namespace quay::detail {

namespace {

int start_winsock() noexcept {
  WSADATA data{};
  return ::WSAStartup(MAKEWORD(2, 2), &data);
}

template <class Fn>
void load_extension(SOCKET probe, GUID guid, Fn& out) {
  DWORD bytes = 0;
  if (::WSAIoctl(probe, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof guid, &out, sizeof out,
                 &bytes, nullptr, nullptr) != 0) {
    const int err = ::WSAGetLastError();
    ::closesocket(probe);
    throw std::system_error(err, std::system_category(), "WSAIoctl(extension function)");
  }
}

winsock_ext load_extensions() {
  if (!winsock_started()) {
    throw std::system_error(static_cast<int>(WSASYSNOTREADY), std::system_category(),
                            "WSAStartup");
  }
  // The pointers belong to the TCP provider, the same for IPv4 and IPv6 sockets.
  const SOCKET probe = ::WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                                    WSA_FLAG_OVERLAPPED);
  if (probe == INVALID_SOCKET) {
    throw std::system_error(::WSAGetLastError(), std::system_category(), "WSASocket");
  }
  winsock_ext ext;
  load_extension(probe, WSAID_ACCEPTEX, ext.accept_ex);
  load_extension(probe, WSAID_CONNECTEX, ext.connect_ex);
  load_extension(probe, WSAID_GETACCEPTEXSOCKADDRS, ext.get_accept_ex_sockaddrs);
  ::closesocket(probe);
  return ext;
}

}  // namespace

bool winsock_started() noexcept {
  static const int result = start_winsock();
  return result == 0;
}

const winsock_ext& winsock() {
  // A throwing initialiser leaves the static uninitialised: the next call tries again.
  static const winsock_ext ext = load_extensions();
  return ext;
}

}  // namespace quay::detail
