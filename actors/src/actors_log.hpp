#pragma once

#include <memory>

#include "quay/runtime/log.hpp"

namespace quay::detail {

/// The "actors" logger, looked up once per process: quay::log::get takes the logger registry's
/// mutex, and hot paths log (an unhandled message at debug level, an overload warning), so they
/// must not pay a process-wide lock per message. The level is the logger's own (set_level works
/// as before). Thread-safe.
inline spdlog::logger& actors_log() {
  static const std::shared_ptr<spdlog::logger> logger = log::get("actors");
  return *logger;
}

}  // namespace quay::detail
