#pragma once

#include <cstddef>
#include <system_error>

#include "quay/runtime/platform.hpp"

namespace quay {

namespace detail {
template <std::size_t N>
struct os_storage {
  alignas(8) unsigned char bytes[N];
};
template <>
struct os_storage<0> {};
}  // namespace detail

/// One unit of work for a port: a posted task, a finished socket operation or a timer expiry.
///
/// Intrusive and allocation-free: the owner embeds a completion (or derives from it) and keeps
/// it alive until it has run. The port calls `invoke_fn` exactly once per post or per started
/// operation, on one worker, with the operation's result.
///
/// Thread contract: a completion may be posted from any thread, but must not be posted again
/// before its previous invocation has started.
class completion {
 public:
  using invoke_fn = void (*)(completion* self, std::error_code ec, std::size_t bytes);

  explicit completion(invoke_fn fn) noexcept : fn_(fn) {}
  completion(const completion&) = delete;
  completion& operator=(const completion&) = delete;

  /// Records the result the completion will be invoked with. Backend and port use only.
  void set_result(std::error_code ec, std::size_t bytes) noexcept {
    ec_ = ec;
    bytes_ = bytes;
  }
  /// Invokes the completion with its recorded result. Worker only (or the manual port's stepper).
  void invoke() { fn_(this, ec_, bytes_); }
  /// Invokes with the given result, overriding the recorded one.
  void invoke(std::error_code ec, std::size_t bytes) { fn_(this, ec, bytes); }

  /// Start of the backend-owned storage (the OVERLAPPED on Windows).
  void* os_storage() noexcept { return this; }

 protected:
  ~completion() = default;

 private:
  // Must stay the first member: on Windows it is the OVERLAPPED, and the backend converts
  // between completion* and OVERLAPPED* by address.
  [[no_unique_address]] detail::os_storage<detail::completion_os_bytes> os_{};
  invoke_fn fn_;
  std::error_code ec_{};
  std::size_t bytes_ = 0;
};

}  // namespace quay
