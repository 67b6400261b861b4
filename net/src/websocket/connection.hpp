#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string_view>
#include <vector>

struct wslay_event_context;

namespace quay::net::ws {

/// RFC 6455 7.4.1 close codes the server sends.
enum class close_code : std::uint16_t {
  normal = 1000,
  going_away = 1001,
  protocol_error = 1002,
  unsupported_data = 1003,  ///< text frames: Quay speaks binary envelopes only
  invalid_payload = 1007,   ///< a close reason that is not UTF-8
  policy_violation = 1008,  ///< ping flood, endless fragmentation
  message_too_big = 1009,
  internal_error = 1011,
};

/// True for a code a peer may send in a close frame (RFC 6455 7.4: 1000-1003, 1007-1011,
/// 3000-4999). Thread-safe (pure).
bool valid_close_code(std::uint16_t code) noexcept;

/// Bounds on what one peer may make the server hold or do.
struct connection_limits {
  std::size_t max_message_bytes = 64 * 1024;  ///< a binary message over it: 1009
  std::size_t max_fragments = 64;             ///< frames of one message (empty ones count): 1008
  std::size_t max_pings_per_window = 16;      ///< pings between two new_window() calls: 1008
};

/// Why the connection closed (for the session's close reason and log line).
enum class close_reason : std::uint8_t {
  none = 0,
  peer_closed,         ///< the peer sent a valid close frame (answered in kind)
  closed_by_owner,     ///< close() was called
  text_frame,          ///< 1003
  protocol_error,      ///< 1002: unmasked frame, unknown opcode, bad control frame, invalid close
                       ///< code; 1007: a close reason that is not UTF-8
  message_too_big,     ///< 1009
  too_many_fragments,  ///< 1008
  ping_flood,          ///< 1008
};

std::string_view describe(close_reason r) noexcept;

/// Most bytes a server frame header takes (2 + 8 for a 64-bit length; never a mask).
inline constexpr std::size_t max_frame_header_bytes = 10;

/// Writes the header of one unfragmented, unmasked binary frame of `payload_bytes` into `out`
/// and returns its length (2, 4 or 10). Sending it and then the payload as two iovecs lets one
/// encoded payload go to many sessions unchanged. Thread-safe (pure).
std::size_t encode_binary_header(std::size_t payload_bytes,
                                 std::span<std::byte, max_frame_header_bytes> out) noexcept;

/// What the first bytes of a connection on the game port are. A Quay frame header is a 4-byte
/// little-endian length; "GET " read that way is 542,393,671, over frame_size_cap, so no valid
/// Quay stream begins with it.
enum class stream_kind : std::uint8_t { need_more, websocket, quay };

/// Sorts a stream from its first bytes: need_more while they are a proper prefix of "GET ".
/// Thread-safe (pure).
stream_kind classify_stream(std::span<const std::byte> first) noexcept;

/// The server side of an established WebSocket connection, framed by libwslay's event API.
///
/// A pure core: no I/O, no clock. The owner feeds received bytes, takes whole binary messages
/// (one message = one payload handed up, to become one Quay envelope), and sends the bytes
/// of output() (pongs, close frames) at frame boundaries between its own data frames (made
/// with encode_binary_header). The ping window is the owner's: it calls new_window() on its
/// own timer (e.g. once a second); the core counts pings between calls.
///
/// Refusals: text frames (1003), unmasked client frames, unknown opcodes, fragmented or
/// oversized control frames and close frames with an invalid code (1002), a close reason that
/// is not UTF-8 (1007), a message over
/// max_message_bytes (1009), more than max_fragments frames in a message or more than
/// max_pings_per_window pings in a window (1008). A refusal queues a close frame, and the
/// core reads nothing more: once closed() the owner flushes output() and ends the connection
/// (it need not wait for the peer's close reply).
///
/// Thread contract: owner only (no internal synchronisation).
class connection {
 public:
  explicit connection(connection_limits limits = {});
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  /// Processes received bytes: every whole message in them becomes available from
  /// next_message(), and answers (pong, close) go to output(). Bytes after a close or a
  /// refusal are dropped. Returns false once closed().
  bool feed(std::span<const std::byte> bytes);
  /// Moves the next whole binary message into `out`; false if none is waiting.
  bool next_message(std::vector<std::byte>& out);

  /// Bytes to send, whole frames only.
  std::span<const std::byte> output() const noexcept { return {out_.data(), out_.size()}; }
  /// Drops the first `n` bytes of output() (they were sent).
  void consume_output(std::size_t n) noexcept;

  /// Starts a new ping window (the owner's timer).
  void new_window() noexcept { pings_ = 0; }
  /// Queues a close frame with `code` (the server ends the connection).
  void close(close_code code);

  /// True once a close frame was queued (by either side or a refusal): no data frame may be
  /// sent after output() is flushed, and nothing more is read.
  bool closed() const noexcept { return reason_ != close_reason::none; }
  close_reason reason() const noexcept { return reason_; }
  /// The code of the close frame the server queued (0 while open).
  std::uint16_t close_code_sent() const noexcept { return code_sent_; }
  /// The code the peer's close frame carried (0 if none was received or it had none).
  std::uint16_t close_code_received() const noexcept { return code_received_; }

 private:
  friend struct callbacks;
  void refuse(close_reason why, close_code code);
  void pump_output();

  connection_limits limits_;
  wslay_event_context* ctx_ = nullptr;
  std::span<const std::byte> in_;  // the bytes feed() is handing wslay
  std::vector<std::byte> out_;
  std::deque<std::vector<std::byte>> messages_;
  std::size_t fragments_ = 0;    // frames of the message being received
  std::size_t pings_ = 0;        // pings this window
  std::uint8_t frame_opcode_ = 0;
  std::vector<std::byte> close_payload_;  // the payload of a close frame being received
  close_reason reason_ = close_reason::none;
  std::uint16_t code_sent_ = 0;
  std::uint16_t code_received_ = 0;
};

}  // namespace quay::net::ws
