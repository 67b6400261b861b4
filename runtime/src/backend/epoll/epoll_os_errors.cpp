// errno mapping on Linux: OS errors sorted into expected conditions and bugs.
#include <cerrno>

#include "quay/runtime/error.hpp"

namespace quay {

std::error_code map_os_error(int os_error) noexcept {
  switch (os_error) {
    case 0: return {};
    case ECANCELED: return make_error_code(errc::aborted);
    case ECONNRESET:
    case EPIPE: return make_error_code(errc::connection_reset);
    case ECONNREFUSED: return make_error_code(errc::connection_refused);
    case ECONNABORTED: return make_error_code(errc::connection_aborted);
    case ETIMEDOUT: return make_error_code(errc::timed_out);
    case EAGAIN: return make_error_code(errc::would_block);
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK: return make_error_code(errc::would_block);
#endif
    case EADDRINUSE: return make_error_code(errc::address_in_use);
    case EADDRNOTAVAIL: return make_error_code(errc::address_unavailable);
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN: return make_error_code(errc::network_unreachable);
    case EMFILE:
    case ENFILE: return make_error_code(errc::too_many_files);
    case ENOTCONN: return make_error_code(errc::not_connected);
    // Anything else (EBADF, EFAULT, EINVAL, ENOTSOCK, ...) is a bug or a resource problem
    // and keeps its system code, so is_expected() says false and it gets logged.
    default: return {os_error, std::system_category()};
  }
}

}  // namespace quay
