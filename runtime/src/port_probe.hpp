#pragma once

#include "quay/runtime/io_port.hpp"

namespace quay::detail {

/// For tests that set up a race with the port's wait: true once a worker has published that it
/// is about to wait for I/O (epoll: the poller's `poller_waiting_`; IOCP: `waiting_ > 0`),
/// which it does before it reads the timer deadline its timeout comes from. Thread-safe.
bool a_worker_is_waiting_for_io(io_port& p) noexcept;

}  // namespace quay::detail
