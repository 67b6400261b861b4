#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "quay/net/frame.hpp"

namespace quay::net {

/// Message type ids 0-15 belong to the protocol itself; game messages use 16 and up.
namespace msg_type {
inline constexpr std::uint16_t invalid = 0;  ///< never sent; a frame with type 0 is rejected
inline constexpr std::uint16_t ping = 1;     ///< heartbeat request, empty payload
inline constexpr std::uint16_t pong = 2;     ///< heartbeat reply, same seq as the ping
inline constexpr std::uint16_t first_user = 16;
}  // namespace msg_type

struct envelope_view;
std::error_code decode_envelope(std::span<const std::byte> bytes, envelope_view& out) noexcept;

/// A verified envelope: its fields, with `payload` pointing into the frame it was read from.
///
/// Only decode_envelope() makes a verified view: it records the payload span it checked, and
/// verified() is true while `payload` is still that span. A view built or re-pointed by hand is
/// not verified, and a dispatcher refuses it (errc::invalid_envelope), so no handler reaches a
/// payload that did not pass through the verifiers.
struct envelope_view {
  std::uint16_t type = 0;
  std::uint32_t seq = 0;
  std::span<const std::byte> payload;

  /// True if decode_envelope() produced this view and `payload` is the span it verified.
  bool verified() const noexcept {
    return verified_ && payload.data() == checked_.data() && payload.size() == checked_.size();
  }

 private:
  friend std::error_code decode_envelope(std::span<const std::byte>, envelope_view&) noexcept;
  std::span<const std::byte> checked_;
  bool verified_ = false;
};

/// Verifies `bytes` as a quay.wire.Envelope flatbuffer (flatbuffers::Verifier with bounded depth
/// and table count) and fills `out`. Returns errc::invalid_envelope if it is not one, or if its
/// type is msg_type::invalid. The payload is not verified here (that needs its root type; see
/// dispatcher). `bytes` must start 8-byte aligned (frame payloads do). Thread-safe (pure).
std::error_code decode_envelope(std::span<const std::byte> bytes, envelope_view& out) noexcept;

/// Encodes an envelope of `type`, `seq` and `payload` (a finished flatbuffer of the type's root
/// table, or empty) into a frame ready to send. The nested payload is placed 8-byte aligned.
/// Returns an empty frame if the result would exceed frame_size_cap. Thread-safe.
frame encode_envelope(std::uint16_t type, std::uint32_t seq, std::span<const std::byte> payload);

/// A ping or pong frame (empty payload) with `seq`. Thread-safe.
frame encode_ping(std::uint32_t seq);
frame encode_pong(std::uint32_t seq);

}  // namespace quay::net
