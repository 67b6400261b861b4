#pragma once
// Internals of quay::net::network: the session slots, their state machine and the listeners.
//
// Concurrency: each session has a mutex that serialises everything touching it — its socket
// completions (recv, send, connect), the drain notification, send()/close() from any thread and
// the sweep. Owner events (accepted, frame, closed) are delivered with the mutex released, so a
// handler may call send() on the same session. While events are being delivered the session
// counts an operation in progress (recv_pending or a start in flight), so it cannot be
// finalised and its slot reused underneath the delivery; this also keeps the owner's events in
// order: accepted, then frames, then exactly one closed.
//
// Slots are never freed, only reused with a new generation, so a stale handle always finds a
// live mutex to lock and a generation that does not match.
//
// No completion runs under the session's mutex (STYLE.md rule 15). Sockets are started and
// closed, posts made and drain notifications registered with the mutex held, and on a stopped
// port (or a socket that is not open) the runtime invokes the completion inside that call. Each
// session completion therefore first asks whether the calling thread holds this session's
// mutex (session_lock keeps a thread-local record); if so it only records its result and a bit
// in `deferred`, and session_lock runs it right after releasing the mutex. Its pending flag
// stays set until it has run, so the session cannot be finalised in between.
//
// Lifetime: every session not yet finalised, every armed timer and every pending accept counts
// in network_impl::in_flight; the count is dropped as the last touch of each. The destructor
// waits for it to reach zero, so a network may be destroyed before or after its port stops.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "quay/actors/actor_ref.hpp"
#include "quay/net/framer.hpp"
#include "quay/net/network.hpp"
#include "quay/net/send_queue.hpp"
#include "quay/runtime/io_port.hpp"
#include "quay/runtime/port.hpp"
#include "quay/runtime/small_mutex.hpp"
#include "quay/runtime/socket.hpp"
#include "stream_layer.hpp"

namespace quay::net::detail {

class network_impl;
struct session;
struct listener_state;

/// Holds a session's mutex (see the file comment): completions that run inline while it is held
/// are deferred to the release. Like std::unique_lock; one thread, one session at a time.
class session_lock {
 public:
  session_lock() = default;
  explicit session_lock(session& s) { acquire(s); }
  ~session_lock() {
    if (s_ != nullptr) unlock();
  }
  session_lock(const session_lock&) = delete;
  session_lock& operator=(const session_lock&) = delete;

  /// Locks `s` (nothing held before).
  void acquire(session& s);
  /// Re-locks the session this lock was acquired for.
  void lock();
  /// Releases the mutex, then runs the completions deferred meanwhile. The session must not be
  /// touched after an unlock unless something pending (a flag such as `delivering`) keeps it.
  void unlock();
  bool owns_lock() const noexcept { return s_ != nullptr; }

 private:
  session* s_ = nullptr;     // held
  session* last_ = nullptr;  // for lock() after unlock()
};

/// True if the calling thread holds `s.mu` through a session_lock.
bool holds_lock(const session& s) noexcept;

struct session_recv final : recv_op {
  explicit session_recv(session* s);
  session* owner;
};
struct session_send final : send_op {
  explicit session_send(session* s);
  session* owner;
};
struct session_drain final : completion {
  explicit session_drain(session* s);
  session* owner;
};
struct session_connect final : connect_op {
  explicit session_connect(session* s);
  session* owner;
};

/// WebSocket/HTTP state of a session (session_ws.cpp); freed by a function defined there.
struct ws_state;
struct ws_state_free {
  void operator()(ws_state* w) const noexcept;
};
using ws_ptr = std::unique_ptr<ws_state, ws_state_free>;

/// A decoded frame on its way to the owner.
struct inbound {
  frame data;
  envelope_view env;
};

/// Owner events the owner's full mailbox (a bounded one) refused: delivered first, in order,
/// when it has drained. Allocated only while a session waits on a full mailbox.
struct held_events {
  bool accepted = false;  // session_accepted itself is waiting
  endpoint peer;
  std::vector<inbound> frames;
};

enum class session_state : std::uint8_t {
  free,        // slot unused
  starting,    // accepted, owner not yet told
  connecting,  // connector: handshake in progress
  open,
  closing,     // graceful close: flushing, then FIN, then waiting for the peer's FIN
  closed,      // socket closed; waiting for pending operations before finalising
};

/// One session. Lives in a slot for the network's lifetime and is reused. Fields are ordered
/// to leave no padding holes: an idle session costs this struct (plus its socket's slot), and
/// issue 5's budget is 1 KiB per idle connection including the owner actor.
struct session {
  explicit session(network_impl& n, std::uint32_t slot_index);

  small_mutex mu;  // 4 bytes instead of std::mutex's 40: there is one per connection
  const std::uint32_t slot;
  std::uint32_t generation = 0;
  // Options, copied small.
  std::uint32_t idle_ms = 0;
  std::uint32_t heartbeat_ms = 0;
  std::uint32_t linger_ms = 0;
  std::uint32_t mailbox_high = 0;
  std::uint32_t mailbox_low = 0;
  actor_ref owner{};

  session_state state = session_state::free;
  bool recv_pending = false;
  bool send_pending = false;  // a write is in flight, or the send op is posted as the flush
  bool drain_pending = false;
  bool connect_pending = false;
  bool delivering = false;  // owner events in flight with the mutex released; sends only queue
  bool paused = false;
  bool ping_sent = false;
  bool fin_sent = false;
  bool active = false;  // the last receive came soon after the one before: keep the read block
  bool layer_shut = false;  // the layer's shutdown() was called (closing, plaintext flushed)
  std::uint8_t deferred = 0;  // deferred_* bits: completions that ran inline under the mutex

  network_impl& net;
  tcp_socket sock;
  // A pending receive writes into the reader's memory: the reader is replaced (which frees its
  // block) only while recv_pending is false, or by that receive's own completion.
  framer reader{1};
  send_queue out{0};
  session_recv rop{this};
  session_send sop{this};
  session_drain dop{this};
  std::unique_ptr<session_connect> cop;  // only while connecting
  std::unique_ptr<held_events> held;      // only while the owner's mailbox was full
  std::unique_ptr<stream_layer> layer;    // a transport layer (TLS), or null for plain TCP
  ws_ptr ws;  // listeners that accept WebSocket/HTTP: until a Quay stream is recognised
  // Gather lists: a few inline (most sends), the full array only for sessions that need it.
  static constexpr std::size_t inline_iov = 4;
  std::array<const_buffer, inline_iov> iov_small{};
  std::unique_ptr<const_buffer[]> iov_large;

  session_handler* handler = nullptr;
  listener_state* listener = nullptr;
  port_time last_rx{};
  port_time opened_at{};  // open_session: a layer's negotiation deadline counts from here
  port_time closing_since{};
  std::uint64_t sweep_tick = 0;  // the tick of this session's one live wheel entry (0: none)
  std::error_code reason;

  session_handle handle() const noexcept { return {slot, generation}; }
};

/// Bits of session::deferred.
inline constexpr std::uint8_t deferred_recv = 1, deferred_send = 2, deferred_drain = 4,
                              deferred_connect = 8;

/// A listening socket and its accept loop.
struct listener_state {
  listener_state(network_impl& n, const listen_options& o);
  network_impl& net;
  listen_options opts;
  owner_factory factory;
  session_handler* handler = nullptr;
  tcp_listener sock;
  struct accept_completion final : accept_op {
    explicit accept_completion(listener_state* l);
    listener_state* owner;
  } aop{this};
  std::mutex mu;  // serialises starting the accept with closing; never held by a completion
  std::atomic<bool> closed{false};
  std::atomic<std::size_t> open{0};
};

/// The sweep's schedule (sweep.cpp): a hashed wheel of 50 ms ticks holding, for each session
/// with a deadline (idle timeout, heartbeat, close linger), one entry at the tick when it next
/// needs a look. Traffic never touches it: a receive only moves the session's last_rx, and an
/// entry that comes due early is re-filed at the session's real deadline. So a sweep's cost is
/// the number of entries due at that tick, independent of the sessions with nothing due.
/// Thread-safe (one mutex, never held while a session's mutex is taken: the order is session,
/// then wheel).
class sweep_wheel {
 public:
  static constexpr std::uint32_t bucket_count = 1024;  // 51.2 s of ticks per revolution
  struct entry {
    std::uint32_t slot;
    std::uint32_t generation;
    std::uint64_t tick;
  };
  /// Files `e`; a tick already swept is moved to the next one. Returns the tick it was filed at.
  std::uint64_t add(entry e);
  /// Appends to `out` every entry due at or before `now_tick`, and removes them.
  void take_due(std::uint64_t now_tick, std::vector<entry>& out);
  /// Entries filed (tests and the benchmark).
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::array<std::vector<entry>, bucket_count> buckets_;
  std::uint64_t next_tick_ = 0;  // the first tick not swept yet
  std::size_t size_ = 0;
};

/// The sweep's resolution, and the tick of a time (floor) or of a deadline (ceil).
inline constexpr millis sweep_period{50};
inline std::uint64_t sweep_tick_floor(port_time t) noexcept {
  return static_cast<std::uint64_t>(t.time_since_epoch().count()) /
         static_cast<std::uint64_t>(sweep_period.count());
}
inline std::uint64_t sweep_tick_ceil(port_time t) noexcept {
  const auto p = static_cast<std::uint64_t>(sweep_period.count());
  return (static_cast<std::uint64_t>(t.time_since_epoch().count()) + p - 1) / p;
}

class network_impl {
 public:
  network_impl(io_port& p, actor_system* a);
  ~network_impl();

  io_port& port;
  actor_system* actors;

  // Slots: chunks allocated on demand and never moved, so lookups need no lock.
  static constexpr std::uint32_t chunk_bits = 8;
  static constexpr std::uint32_t chunk_size = 1u << chunk_bits;
  static constexpr std::uint32_t max_chunks = 4096;  // 1M sessions
  struct chunk;
  session* lookup(std::uint32_t slot) const noexcept;
  /// A free slot in state `starting` or `connecting`, locked by the caller after; nullptr if
  /// every slot is taken.
  session* allocate();
  /// Returns a finalised slot to the free list.
  void release(std::uint32_t slot);
  std::uint32_t slots_in_use_high() const noexcept {
    return high_water_.load(std::memory_order_acquire);
  }

  std::error_code start_listener(std::unique_ptr<listener_state> l, endpoint* bound);
  session_handle start_connect(const endpoint& target, actor_ref owner, session_handler* h,
                               const session_options& o);
  void sweep();

  std::mutex listeners_mu;
  std::vector<std::unique_ptr<listener_state>> listeners;
  std::atomic<bool> shut{false};
  timer_id sweep_timer{};
  sweep_wheel wheel;
  /// Sessions not finalised + armed timers + pending accepts; see the file comment.
  std::atomic<std::uint64_t> in_flight{0};
  /// Drops one in_flight count: the caller's last touch of the network.
  void leave() noexcept { in_flight.fetch_sub(1, std::memory_order_release); }

  struct counters {
    std::atomic<std::uint64_t> open{0}, accepted{0}, refused{0}, closed{0}, frames_in{0},
        frames_out{0}, pauses{0};
  } stats;

 private:
  std::vector<sweep_wheel::entry> sweep_due_;  // sweep()'s buffer
  std::array<std::atomic<chunk*>, max_chunks> chunks_{};
  std::mutex table_mu_;
  std::vector<std::uint32_t> free_;
  std::atomic<std::uint32_t> high_water_{0};  // slots ever handed out
};

// The session state machine (session.cpp). Functions named *_locked need `s.mu` held.
void configure(session& s, const session_options& o);
void open_session(session& s, session_lock& lk, const endpoint& peer);
void start_recv_locked(session& s);
void start_send_locked(session& s);
/// A send outside a delivery does not write inside the call: the write starts when a worker
/// next takes the port's queue, so the frames an actor queues in the rest of its turn (an AOI
/// broadcast, the replies to a batch of messages) leave in one gather write.
void schedule_send_locked(session& s);
void hard_close_locked(session& s, std::error_code reason, bool rst);
void graceful_close_locked(session& s, std::error_code reason);
/// Finalises the session if nothing is pending; releases the lock either way. `s` must not be
/// touched after this returns.
void finish(session& s, session_lock& lk);
std::error_code send_locked(session& s, frame f);
void sweep_locked(session& s, port_time now);
/// Files the session in the sweep wheel at its next deadline, if it has one and is not filed
/// there already. Called when a deadline may have moved earlier (open, closing, a sweep visit).
void schedule_sweep_locked(session& s, port_time now);
/// Unsent bytes wait: in the send queue, or in the layer's output.
bool has_output(const session& s) noexcept;
/// The layer reported failure(): drop the queued plaintext, flush the layer's output, close.
void layer_failed_locked(session& s);
/// A closing session whose queue is flushed: the layer's shutdown, then FIN once all is sent.
void flush_done_locked(session& s);

}  // namespace quay::net::detail
