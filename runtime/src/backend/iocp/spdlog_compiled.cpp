// spdlog, compiled once for the Windows cross build (cmake/quay_deps_windows.cmake).
//
// Debian ships no mingw build of spdlog, so the Windows build used it header-only, and then
// every translation unit that logs carried a private copy of the whole library: 6 MB objects
// whose duplicate sections took GNU ld for PE 20 s and more per test program. With
// SPDLOG_COMPILED_LIB everyone else sees declarations only, and the definitions live here,
// once: the -inl.h files spdlog keeps for this purpose, and explicit instantiations of the
// sink templates Quay names (stderr colour sink for the log, ring-buffer sink in tests, the
// stdout colour sink behind spdlog's default logger).
#ifndef SPDLOG_COMPILED_LIB
#error "spdlog_compiled.cpp is built only with SPDLOG_COMPILED_LIB (the Windows build)"
#endif

#include <mutex>

#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/sinks/stdout_color_sinks-inl.h>
#include <spdlog/sinks/wincolor_sink-inl.h>
#include <spdlog/spdlog-inl.h>

namespace spdlog {

template class sinks::base_sink<std::mutex>;
template class sinks::base_sink<details::null_mutex>;

template class sinks::wincolor_sink<details::console_mutex>;
template class sinks::wincolor_sink<details::console_nullmutex>;
template class sinks::wincolor_stdout_sink<details::console_mutex>;
template class sinks::wincolor_stdout_sink<details::console_nullmutex>;
template class sinks::wincolor_stderr_sink<details::console_mutex>;
template class sinks::wincolor_stderr_sink<details::console_nullmutex>;

template std::shared_ptr<logger> stdout_color_mt<synchronous_factory>(const std::string&,
                                                                      color_mode);
template std::shared_ptr<logger> stdout_color_st<synchronous_factory>(const std::string&,
                                                                      color_mode);
template std::shared_ptr<logger> stderr_color_mt<synchronous_factory>(const std::string&,
                                                                      color_mode);
template std::shared_ptr<logger> stderr_color_st<synchronous_factory>(const std::string&,
                                                                      color_mode);

}  // namespace spdlog
