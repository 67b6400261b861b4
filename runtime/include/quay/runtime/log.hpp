#pragma once

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

namespace quay::log {

/// The named logger of a module ("runtime", "actors", "net", "game", ...), created on first
/// use. Its level comes from the environment: QUAY_LOG=info sets every module;
/// QUAY_LOG=warn,net=debug sets a default and per-module overrides. Thread-safe.
std::shared_ptr<spdlog::logger> get(std::string_view module);

}  // namespace quay::log
