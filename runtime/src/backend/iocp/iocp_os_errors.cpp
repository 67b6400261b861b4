// Winsock/Win32 error mapping on Windows: OS errors sorted into expected conditions and bugs.
#include "backend/iocp/win32.hpp"
#include "quay/runtime/error.hpp"

namespace quay {

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
