#include "quay/bots/run_stats.hpp"

namespace quay::bots {

void run_stats::restart_window() noexcept {
  for (auto* c : {&msgs_out, &msgs_in, &bytes_out, &bytes_in}) c->store(0, std::memory_order_relaxed);
  rtt.reset();
  aoi_staleness.reset();
}

void run_stats::count_error(std::string_view kind) {
  std::lock_guard lock(errors_mutex_);
  auto it = errors_.find(kind);
  if (it == errors_.end()) {
    errors_.emplace(std::string(kind), 1);
  } else {
    ++it->second;
  }
}

std::map<std::string, std::uint64_t> run_stats::errors() const {
  std::lock_guard lock(errors_mutex_);
  return {errors_.begin(), errors_.end()};
}

}  // namespace quay::bots
