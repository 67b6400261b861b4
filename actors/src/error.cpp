#include <string>

#include "quay/actors/actor_ref.hpp"
#include "quay/actors/error.hpp"

namespace quay {
namespace {

class actor_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "quay.actors"; }
  std::string message(int c) const override {
    switch (static_cast<actor_errc>(c)) {
      case actor_errc::ok:
        return "ok";
      case actor_errc::dead_target:
        return "the target actor does not exist";
      case actor_errc::timed_out:
        return "the request timed out";
      case actor_errc::mailbox_full:
        return "the target's mailbox is full";
      case actor_errc::dropped:
        return "the target's mailbox dropped the request";
      case actor_errc::target_failed:
        return "the target failed while handling the request";
      case actor_errc::target_stopped:
        return "the target stopped before replying";
      case actor_errc::unhandled:
        return "the target has no handler for the request";
      case actor_errc::broken_promise:
        return "the target dropped its response promise without answering";
      case actor_errc::already_answered:
        return "the response promise was already delivered (or never had a request)";
    }
    return "unknown actor error";
  }
};

}  // namespace

const std::error_category& actor_category() noexcept {
  static const actor_category_impl cat;
  return cat;
}

const char* to_string(exit_reason r) noexcept {
  switch (r) {
    case exit_reason::normal:
      return "normal";
    case exit_reason::failure:
      return "failure";
    case exit_reason::killed:
      return "killed";
    case exit_reason::no_actor:
      return "no_actor";
  }
  return "unknown";
}

}  // namespace quay
