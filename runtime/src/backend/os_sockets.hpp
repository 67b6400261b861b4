#pragma once
// The backend-selection header for the socket address API: each backend's os_sockets header
// brings in its OS's sockaddr types and inet_pton/inet_ntop/htons, and defines
//   using os_family_t = ...;                    // the type of sa_family / sin_family
//   bool os_sockets_ready() noexcept;           // true once the socket API may be called
// so that the platform-neutral endpoint code (runtime/src/endpoint.cpp) is written once.

#include "quay/runtime/platform.hpp"

#if defined(QUAY_BACKEND_IOCP)
#include "backend/iocp/iocp_os_sockets.hpp"
#elif defined(QUAY_BACKEND_EPOLL)
#include "backend/epoll/epoll_os_sockets.hpp"
#else
#error "no native backend for this platform"
#endif
