#pragma once

#include <system_error>

namespace quay {

/// Conditions the runtime reports as values. Expected conditions of a network server
/// (a peer reset, an aborted operation) are told apart from bugs (a bad descriptor), which keep
/// their system_category code and are logged as errors.
enum class errc {
  ok = 0,
  aborted,             ///< the operation was cancelled: socket closed or port shut down
  end_of_stream,       ///< the peer closed its side in an orderly way (recv of 0 bytes)
  connection_reset,    ///< the peer reset the connection (RST, broken pipe)
  connection_refused,  ///< nobody listens at the target
  connection_aborted,  ///< the connection was aborted locally or before accept finished
  timed_out,           ///< an operation or a request ran past its deadline
  would_block,         ///< internal: the non-blocking call must wait for readiness
  address_in_use,      ///< bind failed: the address is taken
  address_unavailable, ///< bind/connect to an address this host does not have
  network_unreachable, ///< no route to the target
  too_many_files,      ///< the process or system is out of descriptors
  not_connected,       ///< the socket is not (or no longer) connected
  already_started,     ///< an operation of the same kind is already pending on this socket
  bad_address,         ///< an endpoint that cannot be parsed or used
  not_supported,       ///< the port (e.g. the manual port) does not support this operation
  shut_down,           ///< the port has stopped
  work_failed,         ///< blocking work threw; the exception was logged
};

const std::error_category& runtime_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), runtime_category()};
}

/// Maps an OS error number (errno on Linux, WSA/Win32 error on Windows) to a runtime code.
/// Expected conditions become `errc`; anything else stays in system_category.
std::error_code map_os_error(int os_error) noexcept;

/// True for conditions a server meets in normal operation (reset, refused, aborted, eof,
/// timed out). False for codes that indicate a bug or resource exhaustion.
bool is_expected(std::error_code ec) noexcept;

}  // namespace quay

template <>
struct std::is_error_code_enum<quay::errc> : std::true_type {};
