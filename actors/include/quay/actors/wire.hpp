#pragma once

// Wire forms: how a message type that crosses a process boundary (a client session, later
// another node) is declared, encoded, verified and decoded. See docs/sdk.md ("Messages from
// clients and other processes").
//
// A message stays a plain C++ struct, and a local send of it stays what it is without a wire
// form: no encoding, no allocation. Its wire form is declared once, by specialising
// quay::wire_form<M> next to the struct:
//
//   template <> struct quay::wire_form<move_intent> {
//     static constexpr std::uint16_t id = 48;        // stable: never renumbered or reused
//     using table = game::wire::MoveIntent;          // its flatbuffers root table (schemas/)
//     static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder&, const move_intent&);
//     static move_intent decode(const table&);       // the table has passed the Verifier
//   };
//
// Then `h.on<&T::on_move>()` also registers the type's wire id in T's handler table, so the same
// handler receives it from a local send, a session (net::deliver) or another process
// (wire::decode_envelope).

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <type_traits>

#include <flatbuffers/flatbuffers.h>

#include "quay/actors/actor.hpp"

namespace quay {

/// Wire ids 0-15 belong to the protocol itself (ping, pong); message types use 16 and up.
inline constexpr std::uint16_t first_wire_id = 16;

/// A message type with a declared wire form (see the top of this header).
template <class M>
concept wire_message = requires(flatbuffers::FlatBufferBuilder& b, const M& m,
                                const typename wire_form<M>::table& t) {
  { wire_form<M>::id } -> std::convertible_to<std::uint16_t>;
  { wire_form<M>::encode(b, m) } -> std::same_as<flatbuffers::Offset<typename wire_form<M>::table>>;
  { wire_form<M>::decode(t) } -> std::same_as<M>;
};

/// Why wire::deliver or wire::decode_envelope refused bytes.
enum class wire_errc {
  unknown_wire_id = 1,  ///< no handler (deliver) or no registered type (decode) for the id
  invalid_payload,      ///< the bytes did not pass flatbuffers::Verifier for the id's table
};
const std::error_category& wire_category() noexcept;
inline std::error_code make_error_code(wire_errc e) noexcept {
  return {static_cast<int>(e), wire_category()};
}

/// Bounds on the work the verifier does for one payload.
struct wire_limits {
  std::uint32_t max_depth = 32;
  std::uint32_t max_tables = 10'000;
};

namespace wire {

/// Encodes `m` into `b` (cleared first) and returns the finished flatbuffer, valid until `b`
/// is next changed. Thread-safe for distinct builders.
template <wire_message M>
std::span<const std::byte> encode(flatbuffers::FlatBufferBuilder& b, const M& m) {
  b.Clear();
  b.Finish(wire_form<M>::encode(b, m));
  return {reinterpret_cast<const std::byte*>(b.GetBufferPointer()), b.GetSize()};
}

/// Verifies `bytes` as a wire_form<M>::table (8-byte aligned, flatbuffers::Verifier with
/// `limits`). Thread-safe (pure).
template <wire_message M>
bool verify(std::span<const std::byte> bytes, const wire_limits& limits = {}) noexcept {
  if (bytes.empty() || reinterpret_cast<std::uintptr_t>(bytes.data()) % 8 != 0) {
    // The verifier checks alignment relative to the buffer start only; a decoder reading a
    // double from a misaligned address would be undefined behaviour.
    return false;
  }
  flatbuffers::Verifier::Options o;
  o.max_depth = limits.max_depth;
  o.max_tables = limits.max_tables;
  flatbuffers::Verifier v(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), o);
  return v.VerifyBuffer<typename wire_form<M>::table>(nullptr);
}

/// Verifies and decodes `bytes` for `wire_id` into a message envelope of the registered type,
/// for the receiving side of a transport (the cluster): enqueue it as a local send and the
/// target's on<> handler runs. Null with `ec` set when the id has no registered type (any
/// actor type's on<> of a wire_message registers it) or the bytes do not verify. Thread-safe.
detail::envelope* decode_envelope(std::uint16_t wire_id, std::span<const std::byte> bytes,
                                  std::error_code& ec);

/// decode_envelope, then enqueues the message for `to` as a local send from `sender` (a remote
/// actor's ref, for the cluster): `to`'s on<> handler for the type runs with sender() ==
/// `sender`. Errors: those of decode_envelope (nothing is enqueued; counted), dead_target,
/// mailbox_full. Thread-safe.
std::error_code send_decoded(actor_system& sys, actor_ref to, actor_ref sender,
                             std::uint16_t wire_id, std::span<const std::byte> bytes);

/// Verifies `bytes` for `wire_id`, decodes them and runs `self`'s on<> handler for that id with
/// origin() = `from` (from.wire_id is set to `wire_id`). In `self`'s own turn only (a handler of
/// self calls it; owner only). Returns wire_errc::unknown_wire_id when self's table has no
/// handler for the id (counted in actor_system::unhandled() and wire::stats().unknown, logged) or
/// wire_errc::invalid_payload when the bytes do not verify (counted in
/// wire::stats().rejected, logged); no handler sees bytes that did not verify. A handler
/// that returns a reply answers nothing here (there is no asker): its value is discarded.
std::error_code deliver(actor& self, std::uint16_t wire_id, std::span<const std::byte> bytes,
                        const message_origin& from);

/// Counters of wire deliveries that reached no handler, process-wide (each is also logged).
/// Thread-safe.
struct counters {
  std::uint64_t unknown = 0;   ///< no handler for the wire id
  std::uint64_t rejected = 0;  ///< payload did not verify
};
counters stats() noexcept;

}  // namespace wire

namespace detail {
/// Adds M to the process-wide wire registry (idempotent; a second type with the same id is a
/// start-up error: logged and aborts). Thread-safe.
void register_wire_entry(const wire_entry& e);

template <class M>
const wire_entry& wire_entry_of() {
  static const wire_entry e = [] {
    static_assert(wire_form<M>::id >= first_wire_id, "wire ids 0-15 are reserved");
    wire_entry w;
    w.wire_id = wire_form<M>::id;
    w.type_id = message_type_id<M>();
    w.verify = [](std::span<const std::byte> b) noexcept { return wire::verify<M>(b); };
    w.decode = [](std::span<const std::byte> b) -> envelope* {
      const auto* t = flatbuffers::GetRoot<typename wire_form<M>::table>(b.data());
      return make_envelope(wire_form<M>::decode(*t));
    };
    register_wire_entry(w);
    return w;
  }();
  return e;
}

template <class M>
void add_wire_handler(handler_table& t) {
  static_assert(wire_message<M>,
                "wire_form<M> must give `static constexpr std::uint16_t id`, `using table`, "
                "`encode(FlatBufferBuilder&, const M&)` returning Offset<table> and "
                "`decode(const table&)` returning M");
  t.add_wire(wire_entry_of<M>());
}
}  // namespace detail

}  // namespace quay

template <>
struct std::is_error_code_enum<quay::wire_errc> : std::true_type {};
