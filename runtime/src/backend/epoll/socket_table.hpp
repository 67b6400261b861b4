#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "quay/runtime/completion.hpp"

namespace quay::detail {

class native_backend;

/// The epoll backend's state for one socket. Lives in a socket_table slot whose address never
/// changes, so the poller may look a slot up from an epoll event at any time; the generation
/// tells whether the event still belongs to the socket that now holds the slot.
///
/// Thread contract: every field except `index` and `backend` is guarded by `mu`.
class socket_state {
 public:
  std::mutex mu;
  native_backend* backend = nullptr;
  std::uint32_t index = 0;
  /// Bumped when the socket is closed, so events registered under the old value are stale.
  std::uint32_t generation = 1;
  int fd = -1;
  bool listener = false;
  /// A connect is pending in write_op (not a send).
  bool connecting = false;
  /// False once a receive found the socket drained (EAGAIN, or a short read), until the poller
  /// reports the next read edge. A receive started while it is false parks without a syscall:
  /// the edge for any byte that arrives later is still to come, and sets it back (it is taken
  /// under `mu`, after the clear). Reset to true for every new socket in the slot.
  bool maybe_readable = true;
  /// The poller has reported a hang-up or error (EPOLLRDHUP/HUP/ERR). From then on a short
  /// read no longer means "would block": the end of stream or the error behind that edge is
  /// still to be read, and no further edge will announce it.
  bool hangup_seen = false;
  /// The pending receive (recv_op) or accept (accept_op, when `listener`).
  completion* read_op = nullptr;
  /// The pending send (send_op) or connect (connect_op, when `connecting`).
  completion* write_op = nullptr;

  /// The epoll data word for the current registration: generation in the high half.
  std::uint64_t key() const noexcept {
    return (std::uint64_t{generation} << 32) | index;
  }
};

/// A slab of socket_state slots with stable addresses, handed out and returned through a free
/// list. Slots are never freed before the table, so a stale event can always lock its slot.
///
/// Thread contract: every member is thread-safe.
class socket_table {
 public:
  socket_table() = default;
  ~socket_table();
  socket_table(const socket_table&) = delete;
  socket_table& operator=(const socket_table&) = delete;

  /// A free slot (fd = -1, no ops), or nullptr when the table is full.
  socket_state* allocate(native_backend& owner);
  /// Returns a closed slot to the free list.
  void release(socket_state* s) noexcept;
  /// The slot at `index`, or nullptr if no such slot was ever allocated.
  socket_state* at(std::uint32_t index) const noexcept;
  /// Slots allocated so far (live or free); indices below this are valid for at().
  std::uint32_t size() const noexcept { return size_.load(std::memory_order_acquire); }
  /// Slots currently handed out (open sockets).
  std::size_t live() noexcept {
    std::lock_guard lock(mu_);
    return size_.load(std::memory_order_relaxed) - free_.size();
  }

  static constexpr std::size_t chunk_slots = 256;
  static constexpr std::size_t max_chunks = 4096;  // about a million sockets per port

 private:
  std::array<std::atomic<socket_state*>, max_chunks> chunks_{};
  std::atomic<std::uint32_t> size_{0};
  std::mutex mu_;  // guards free_ and growth
  std::vector<socket_state*> free_;
};

}  // namespace quay::detail
