#pragma once

// A bot's second, unframed TCP connection, for scenarios that play a broken or hostile client
// (garbage bytes, an oversized frame header). It speaks no protocol: it writes what the script
// gives it, discards what it receives, and reports once, to its owner actor, how it ended.

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <system_error>
#include <vector>

#include "quay/actors/actor_ref.hpp"
#include "quay/actors/system.hpp"
#include "quay/runtime/io_port.hpp"
#include "quay/runtime/socket.hpp"

namespace quay::bots::detail {

/// Sent to the owner once: the raw connection ended (or never came up), with why.
struct raw_closed_msg {
  std::error_code reason;
  std::uint32_t id = 0;  ///< which of the owner's raw connections (0: the send_raw one)
};

/// Thread contract: open/write/release from the owner actor only; completions run on workers.
/// A mutex serialises the two (the socket's contract forbids concurrent starts on one socket).
/// After release() the owner must not touch the object: it frees itself once its pending
/// operations have completed.
class raw_connection {
 public:
  /// Starts connecting to `target`. `id` comes back in raw_closed_msg; with `read` false the
  /// connection never reads (a client that stopped reading).
  static raw_connection* open(io_port& port, actor_system& actors, actor_ref owner,
                              const endpoint& target, std::uint32_t id = 0, bool read = true);
  /// Queues bytes; they go out in order once connected.
  void write(const std::uint8_t* data, std::size_t size);
  /// Bytes queued by write() and not yet written to the socket. Thread-safe.
  std::size_t pending_bytes();
  /// Closes the connection and lets the object go.
  void release();
  /// Resets the connection (RST: unsent bytes dropped) and lets the object go.
  void release_with_reset();

 private:
  raw_connection(actor_system& actors, actor_ref owner, std::uint32_t id, bool read);
  void release_impl(bool reset);
  ~raw_connection() = default;

  template <class Op>
  struct op final : Op {
    explicit op(raw_connection* c, completion::invoke_fn fn) : Op(fn), conn(c) {}
    raw_connection* conn;
  };

  static void on_connect(completion* c, std::error_code ec, std::size_t);
  static void on_send(completion* c, std::error_code ec, std::size_t);
  static void on_recv(completion* c, std::error_code ec, std::size_t n);

  // All *_locked members run with mu_ held.
  void start_send_locked();
  void start_recv_locked();
  void end_locked(std::error_code reason);
  bool finished_locked() const { return released_ && pending_ == 0; }

  std::mutex mu_;
  actor_system& actors_;
  actor_ref owner_;
  std::uint32_t id_;
  bool read_;
  op<connect_op> cop_{this, &on_connect};
  op<send_op> sop_{this, &on_send};
  op<recv_op> rop_{this, &on_recv};
  tcp_socket sock_;
  int pending_ = 0;
  bool connected_ = false;
  bool sending_ = false;
  bool ended_ = false;
  bool released_ = false;
  bool reported_ = false;
  std::deque<std::vector<std::uint8_t>> queue_;
  std::size_t queued_bytes_ = 0;  // in queue_ and in_flight_
  std::vector<std::uint8_t> in_flight_;
  const_buffer out_buf_{};
  std::array<std::uint8_t, 4096> in_buf_{};
};

}  // namespace quay::bots::detail
