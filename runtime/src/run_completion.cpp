#include "run_completion.hpp"

#include <exception>

#include "quay/runtime/error.hpp"
#include "quay/runtime/log.hpp"

namespace quay::detail {

void run_completion(completion* c) noexcept {
  try {
    c->invoke();
  } catch (const std::exception& e) {
    log::get("runtime")->error("completion threw: {}", e.what());
  } catch (...) {
    log::get("runtime")->error("completion threw a non-standard exception");
  }
}

void run_completion_aborted(completion* c) noexcept {
  try {
    c->invoke(make_error_code(errc::aborted), 0);
  } catch (const std::exception& e) {
    log::get("runtime")->error("completion threw during shutdown: {}", e.what());
  } catch (...) {
    log::get("runtime")->error("completion threw a non-standard exception during shutdown");
  }
}

}  // namespace quay::detail
