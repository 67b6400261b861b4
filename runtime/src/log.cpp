// Named spdlog loggers per module, with levels from QUAY_LOG ("info", "warn,net=debug").
#include "quay/runtime/log.hpp"

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace quay::log {
namespace {

struct level_config {
  spdlog::level::level_enum fallback = spdlog::level::info;
  std::map<std::string, spdlog::level::level_enum, std::less<>> modules;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Parses "warn,net=debug,actors=trace". Unknown level names are ignored (spdlog maps them to
// "off", which would silence a module by a typo).
level_config parse_levels(const char* env) {
  level_config cfg;
  if (env == nullptr) return cfg;
  std::string_view rest(env);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto eq = item.find('=');
    const std::string level_name(trim(eq == std::string_view::npos ? item : item.substr(eq + 1)));
    const auto level = spdlog::level::from_str(level_name);
    if (level == spdlog::level::off && level_name != "off") continue;
    if (eq == std::string_view::npos) {
      cfg.fallback = level;
    } else {
      cfg.modules[std::string(trim(item.substr(0, eq)))] = level;
    }
  }
  return cfg;
}

struct registry {
  std::mutex mu;
  level_config levels = parse_levels(std::getenv("QUAY_LOG"));
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
};

registry& the_registry() {
  static registry r;
  return r;
}

}  // namespace

std::shared_ptr<spdlog::logger> get(std::string_view module) {
  registry& r = the_registry();
  std::lock_guard lock(r.mu);
  if (auto it = r.loggers.find(module); it != r.loggers.end()) return it->second;
  auto logger = std::make_shared<spdlog::logger>(std::string(module), r.sink);
  const auto level = r.levels.modules.find(module);
  logger->set_level(level != r.levels.modules.end() ? level->second : r.levels.fallback);
  r.loggers.emplace(std::string(module), logger);
  return logger;
}

}  // namespace quay::log
