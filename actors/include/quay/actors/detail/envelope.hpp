#pragma once

// Message envelopes and their pool. Internal to the SDK (detail/): sends are templates that
// build the envelope in the sender's code, so this header is included by actor.hpp, but game
// code never names these types.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "quay/actors/actor_ref.hpp"

namespace quay::detail {

/// A link of the intrusive MPSC mailbox queue.
struct mpsc_node {
  std::atomic<mpsc_node*> next{nullptr};
};

struct envelope;

/// Per message type: a dense integer id (for handler-table dispatch) and how to destroy it.
struct message_ops {
  std::uint32_t type_id;
  void (*destroy)(envelope& e) noexcept;
  std::uint32_t reply_type_id;  // id of M::reply_type (M is a request type), else 0
};

/// Hands out the next message type id (1, 2, ...). Thread-safe.
std::uint32_t next_message_type_id() noexcept;

/// The dense id of message type M, assigned on first use. Thread-safe.
template <class M>
std::uint32_t message_type_id() noexcept {
  static const std::uint32_t id = next_message_type_id();
  return id;
}

/// The id of M::reply_type if M is a request type, else 0. Thread-safe.
template <class M>
std::uint32_t reply_type_id_of() noexcept {
  if constexpr (requires { typename M::reply_type; }) {
    return message_type_id<typename M::reply_type>();
  } else {
    return 0;
  }
}

/// What an envelope means to the runtime. `user` envelopes go to the actor's handler table;
/// the others are system messages the actor base handles itself.
enum class envelope_kind : std::uint8_t {
  user,        ///< an ordinary message (request if `id` != 0)
  start,       ///< first turn: runs on_start()
  exit,        ///< asks the actor to stop; `code` holds the exit_reason
  reply,       ///< a reply to request `id`; error in `code` (actor_errc) if non-zero
  timeout,     ///< request `id` ran past its deadline
  timer,       ///< timer `id` fired; payload is the user's message
  monitor,     ///< sender wants a `down` when this actor stops
  demonitor,   ///< sender no longer wants it
  link,        ///< sender links to this actor
  unlink,      ///< sender unlinks
  link_exit,   ///< a linked actor stopped; payload is `down`
  child_exit,  ///< a supervised child stopped; payload is `down`
  monitor_down ///< a monitored actor stopped; payload is `down`
};

/// Bytes of message stored inside an envelope; larger messages are stored on the heap.
inline constexpr std::size_t inline_message_bytes = 64;
/// Messages of at most this many bytes (and alignment at most 8) travel in a small envelope.
inline constexpr std::size_t small_message_bytes = 8;

/// Envelope flag: this is a large_envelope (128 bytes). Set by the pool, never cleared.
inline constexpr std::uint16_t flag_large = 0x8000;

/// One message in a mailbox: the header plus a small inline slot, 64 bytes (one cache line).
/// Messages of at most 8 bytes (and payload-less system messages) live in the slot; up to 64
/// bytes, in a large_envelope; larger ones on the heap, with their pointer in the slot. Pooled
/// (see allocate_envelope), so a message of at most 64 bytes costs no heap allocation in steady
/// state. The envelope class follows from the message type, so the sender and the receiver
/// (which both know it) agree on where the payload is; free_envelope reads `flag_large`.
struct envelope : mpsc_node {
  const message_ops* ops = nullptr;  // null for payload-less system messages
  actor_ref sender{};
  std::uint32_t target_generation = 0;
  std::uint64_t id = 0;           // request id, timer id
  std::int64_t enqueued_ns = 0;   // steady-clock stamp when sampled for metrics, else 0
  envelope_kind kind = envelope_kind::user;
  bool control = false;           // true: control lane (never evicted by bounds)
  std::uint16_t flags = 0;        // flag_large (the pool's), flag_counted (the mailbox's)
  std::int32_t code = 0;          // reply error (actor_errc) or exit_reason
  alignas(8) unsigned char small_storage[small_message_bytes];

  template <class M>
  static constexpr bool fits_small = sizeof(M) <= small_message_bytes && alignof(M) <= 8 &&
                                     std::is_nothrow_move_constructible_v<M>;
  template <class M>
  static constexpr bool fits_inline = sizeof(M) <= inline_message_bytes && alignof(M) <= 16 &&
                                      std::is_nothrow_move_constructible_v<M>;
  /// True if an M travels in a large_envelope.
  template <class M>
  static constexpr bool needs_large = fits_inline<M> && !fits_small<M>;

  /// Where an M is (or its heap pointer, if it does not fit inline).
  template <class M>
  void* slot() noexcept;

  /// The payload as M. Precondition: the envelope holds an M.
  template <class M>
  M& get() noexcept {
    if constexpr (fits_inline<M>) {
      return *std::launder(reinterpret_cast<M*>(slot<M>()));
    } else {
      return **std::launder(reinterpret_cast<M**>(slot<M>()));
    }
  }
};

static_assert(sizeof(envelope) == 64, "an envelope should be one cache line");
static_assert(sizeof(void*) <= small_message_bytes, "a heap message's pointer fits the slot");

/// An envelope with room for a message of up to 64 bytes: two cache lines.
struct large_envelope : envelope {
  alignas(16) unsigned char storage[inline_message_bytes];
};

static_assert(sizeof(large_envelope) == 128, "a large envelope should be two cache lines");

template <class M>
void* envelope::slot() noexcept {
  if constexpr (needs_large<M>) {
    return static_cast<large_envelope*>(this)->storage;
  } else {
    return small_storage;
  }
}

/// Takes a blank (small) envelope from the calling thread's pool (refilled in batches from a
/// shared depot, which carves page blocks when it is empty). Thread-safe.
envelope* allocate_envelope();
/// The same for a large envelope (`flags` holds flag_large). Thread-safe.
large_envelope* allocate_large_envelope();
/// Destroys the payload (if any) and returns the envelope to the calling thread's pool of its
/// class. Thread-safe.
void free_envelope(envelope* e) noexcept;

template <class M>
struct message_ops_of {
  static void destroy(envelope& e) noexcept {
    if constexpr (envelope::fits_inline<M>) {
      std::launder(reinterpret_cast<M*>(e.slot<M>()))->~M();
    } else {
      delete *std::launder(reinterpret_cast<M**>(e.slot<M>()));
    }
  }
  static const message_ops& get() noexcept {
    static const message_ops ops{message_type_id<M>(), &destroy, reply_type_id_of<M>()};
    return ops;
  }
};

/// Builds an envelope holding `m`. Thread-safe.
template <class T>
envelope* make_envelope(T&& m) {
  using M = std::remove_cvref_t<T>;
  envelope* e = nullptr;
  if constexpr (envelope::needs_large<M>) {
    e = allocate_large_envelope();
  } else {
    e = allocate_envelope();
  }
  if constexpr (envelope::fits_inline<M>) {
    try {
      ::new (e->slot<M>()) M(std::forward<T>(m));
    } catch (...) {
      free_envelope(e);
      throw;
    }
  } else {
    M* heap = nullptr;
    try {
      heap = new M(std::forward<T>(m));
    } catch (...) {
      free_envelope(e);
      throw;
    }
    ::new (e->slot<M>()) M*(heap);
  }
  e->ops = &message_ops_of<M>::get();
  return e;
}

}  // namespace quay::detail
