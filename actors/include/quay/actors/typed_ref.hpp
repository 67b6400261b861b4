#pragma once

#include <type_traits>

#include "quay/actors/actor_ref.hpp"

namespace quay {

/// A handle that lists the message types its actor accepts: send/ask of any other type through
/// it is a compile-time error ("the target's typed_ref does not list this message type").
/// Optional — actor_ref stays the general handle. It converts implicitly to actor_ref and to a
/// typed_ref listing a subset of its types; from an actor_ref only explicitly
/// (`typed_ref<hit, heal> m{sys.spawn<monster>(100)}`), since that conversion is a claim the
/// compiler cannot check. The check is a fold over the list, instantiated per sent type: it
/// adds no template machinery per handler.
///
/// Thread contract: a plain value, like actor_ref.
template <class... Msgs>
class typed_ref {
 public:
  /// True if a message of type M may be sent through this handle.
  template <class M>
  static constexpr bool accepts = (std::is_same_v<std::remove_cvref_t<M>, Msgs> || ...);

  typed_ref() noexcept = default;
  explicit typed_ref(actor_ref r) noexcept : ref_(r) {}
  /// From a handle that lists every type of this one (and maybe more).
  template <class... Other>
    requires(typed_ref<Other...>::template accepts<Msgs> && ...)
  typed_ref(const typed_ref<Other...>& o) noexcept  // NOLINT: implicit by design
      : ref_(o.untyped()) {}

  /// The untyped handle.
  actor_ref untyped() const noexcept { return ref_; }
  operator actor_ref() const noexcept { return ref_; }  // NOLINT: implicit by design
  explicit operator bool() const noexcept { return static_cast<bool>(ref_); }
  friend bool operator==(const typed_ref&, const typed_ref&) = default;

 private:
  actor_ref ref_{};
};

namespace detail {
template <class Ref, class M>
constexpr void check_typed_send() {
  static_assert(Ref::template accepts<M>,
                "quay: send/ask through a typed_ref: the target's typed_ref does not list this "
                "message type");
}
}  // namespace detail

}  // namespace quay
