#pragma once
// The backend-selection header: picks the native backend of io_port at compile time.
//
// Every backend defines quay::detail::native_backend with the same members, which io_port.cpp
// forwards to (see docs/architecture.md, "The port contract"):
//   native_backend(io_port& owner, const io_port_options&);
//   void post(completion*) noexcept;       void stop();       void wait_stopped();
//   port_time now() const noexcept;        std::size_t concurrency() const noexcept;
//   bool in_worker() const noexcept;       timer_service& timers() noexcept;
//   blocking_pool& blocking() noexcept;
// and implements the socket API of quay/runtime/socket.hpp in its own folder.

#include "quay/runtime/platform.hpp"

#if defined(QUAY_BACKEND_IOCP)
#include "backend/iocp/iocp_backend.hpp"
#elif defined(QUAY_BACKEND_EPOLL)
#include "backend/epoll/epoll_backend.hpp"
#else
#error "no native backend for this platform"
#endif
