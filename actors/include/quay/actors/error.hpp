#pragma once

#include <system_error>

namespace quay {

/// Conditions the actor SDK reports as values (request/reply results, send results).
enum class actor_errc {
  ok = 0,
  dead_target,    ///< the target actor does not exist (or stopped before it got the message)
  timed_out,      ///< no reply arrived before the request's deadline
  mailbox_full,   ///< a bounded mailbox with the reject policy refused the message
  dropped,        ///< a bounded mailbox with the drop-oldest policy evicted the request
  target_failed,  ///< the target failed (threw) while handling the request
  target_stopped, ///< the target stopped before it replied (e.g. while awaiting)
  unhandled,      ///< the target has no handler for the request's type
  broken_promise, ///< the target dropped the request's response_promise without answering
  already_answered, ///< response_promise::deliver on a promise that has nothing to answer
};

/// The category of actor_errc. Thread-safe.
const std::error_category& actor_category() noexcept;

inline std::error_code make_error_code(actor_errc e) noexcept {
  return {static_cast<int>(e), actor_category()};
}

}  // namespace quay

template <>
struct std::is_error_code_enum<quay::actor_errc> : std::true_type {};
