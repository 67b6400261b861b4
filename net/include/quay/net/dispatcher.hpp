#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "quay/net/envelope.hpp"
#include "quay/net/error.hpp"
#include "quay/runtime/unique_function.hpp"

namespace quay::net {

/// Bounds on the work the verifier does for one nested payload.
struct verify_limits {
  std::uint32_t max_depth = 32;
  std::uint32_t max_tables = 10'000;
};

/// Maps a message type id to the flatbuffers root type of its payload and a typed handler.
///
/// Every payload is verified with flatbuffers::Verifier for its registered root type before the
/// handler sees it, so handlers read only well-formed buffers. The SDK knows no game messages:
/// game code registers its types (from its schemas) here. `Ctx` is what handlers receive first,
/// typically the owning actor or a per-session state.
///
/// Results are values: errc::invalid_envelope, errc::unknown_message_type and
/// errc::invalid_payload; the owner decides what to do (the usual answer is to close the
/// session with that reason). A handler may return std::error_code to report its own failure.
///
/// Thread contract: owner only. Register handlers before dispatching; never from a handler.
template <class Ctx>
class dispatcher {
 public:
  explicit dispatcher(verify_limits limits = {}) noexcept : limits_(limits) {}

  /// Registers `handler` for `type`, whose payload root table is `T` (a flatc-generated table).
  /// `handler` is called as handler(Ctx&, const T&, const envelope_view&) and returns void or
  /// std::error_code. Returns false (nothing registered) for a reserved type id (below
  /// msg_type::first_user) or one already registered.
  template <class T, class F>
  bool on(std::uint16_t type, F&& handler) {
    if (type < msg_type::first_user) return false;
    auto it = find(type);
    if (it != entries_.end() && it->type == type) return false;
    entry e;
    e.type = type;
    e.verify = &verify_root<T>;
    e.call = [h = std::forward<F>(handler)](Ctx& ctx, const std::uint8_t* buf,
                                            const envelope_view& env) mutable -> std::error_code {
      const T& msg = *flatbuffers::GetRoot<T>(buf);
      if constexpr (std::is_same_v<std::invoke_result_t<decltype(h)&, Ctx&, const T&,
                                                        const envelope_view&>,
                                   std::error_code>) {
        return h(ctx, msg, env);
      } else {
        h(ctx, msg, env);
        return {};
      }
    };
    entries_.insert(it, std::move(e));
    return true;
  }

  /// True if a handler is registered for `type`.
  bool handles(std::uint16_t type) const noexcept {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), type,
                               [](const entry& e, std::uint16_t t) { return e.type < t; });
    return it != entries_.end() && it->type == type;
  }

  /// Verifies the payload of an already decoded envelope for its type's root table and calls
  /// the handler. A view that decode_envelope() did not produce, or whose payload was changed
  /// since, is refused with errc::invalid_envelope. A payload that does not start 8-byte
  /// aligned in memory is invalid (frames start 8-byte aligned and the envelope places the
  /// payload 8-byte aligned within them).
  std::error_code dispatch(Ctx& ctx, const envelope_view& env) {
    // Only a view decode_envelope() verified (and nobody re-pointed since) is dispatched.
    if (!env.verified()) return errc::invalid_envelope;
    auto it = find(env.type);
    if (it == entries_.end() || it->type != env.type) return errc::unknown_message_type;
    const auto* buf = reinterpret_cast<const std::uint8_t*>(env.payload.data());
    // A payload must start 8-byte aligned (the protocol requires it and encode_envelope does
    // it): the verifier checks alignment relative to the payload start only, and a handler
    // reading a double from a misaligned address would be undefined behaviour.
    if (env.payload.empty() || reinterpret_cast<std::uintptr_t>(buf) % 8 != 0 ||
        !it->verify(buf, env.payload.size(), limits_)) {
      return errc::invalid_payload;
    }
    return it->call(ctx, buf, env);
  }

  /// Decodes and verifies the envelope in `frame_payload`, then dispatches it as above.
  std::error_code dispatch_frame(Ctx& ctx, std::span<const std::byte> frame_payload) {
    envelope_view env;
    if (auto ec = decode_envelope(frame_payload, env)) return ec;
    return dispatch(ctx, env);
  }

  std::size_t size() const noexcept { return entries_.size(); }

 private:
  using verify_fn = bool (*)(const std::uint8_t*, std::size_t, const verify_limits&);
  struct entry {
    std::uint16_t type = 0;
    verify_fn verify = nullptr;
    unique_function<std::error_code(Ctx&, const std::uint8_t*, const envelope_view&)> call;
  };

  template <class T>
  static bool verify_root(const std::uint8_t* buf, std::size_t size, const verify_limits& l) {
    flatbuffers::Verifier::Options o;
    o.max_depth = l.max_depth;
    o.max_tables = l.max_tables;
    flatbuffers::Verifier v(buf, size, o);
    return v.VerifyBuffer<T>(nullptr);
  }

  typename std::vector<entry>::iterator find(std::uint16_t type) {
    return std::lower_bound(entries_.begin(), entries_.end(), type,
                            [](const entry& e, std::uint16_t t) { return e.type < t; });
  }

  std::vector<entry> entries_;  // sorted by type
  verify_limits limits_;
};

}  // namespace quay::net
