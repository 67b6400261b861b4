#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "quay/cluster/error.hpp"
#include "quay/runtime/port.hpp"
#include "quay/runtime/unique_function.hpp"

namespace quay::cluster {

/// One message as it arrived: its subject, the reply subject (empty when none) and its bytes.
struct message {
  std::string subject;
  std::string reply;
  std::vector<std::uint8_t> data;
};

/// Runs on a worker of the transport's port for each message of one subscription. Invocations
/// for one subscription never overlap and come in arrival order.
using message_handler = unique_function<void(message&&)>;

/// The result of a request: no error and the reply, or no_responders / timed_out /
/// disconnected / closed. Runs once on a worker.
using reply_handler = unique_function<void(std::error_code, message&&)>;

/// The connection's state as the transport sees it.
enum class link_state : std::uint8_t { connected, disconnected, reconnected, closed };

const char* to_string(link_state s) noexcept;

/// Runs on a worker for each change of the connection's state.
using state_handler = unique_function<void(link_state)>;

/// Identifies one subscription; 0 is never valid.
struct subscription_id {
  std::uint64_t value = 0;
  explicit operator bool() const noexcept { return value != 0; }
};

/// Counters kept by a transport. Each field is read with relaxed loads: a snapshot, not a
/// consistent cut.
struct transport_counters {
  std::uint64_t published = 0;         ///< messages handed to the server
  std::uint64_t published_bytes = 0;
  std::uint64_t received = 0;          ///< messages delivered to a handler
  std::uint64_t received_bytes = 0;
  std::uint64_t outbound_dropped = 0;  ///< publishes refused: outbound queue full or closed
  std::uint64_t inbound_dropped = 0;   ///< arrivals dropped: a subscription's inbox was full
  std::uint64_t reconnects = 0;        ///< connections re-established after a loss
  std::uint64_t disconnects = 0;
};

/// Publish/subscribe and request/reply between the nodes of a cluster.
///
/// Thread contract: every member is thread-safe and never blocks the caller (a worker may call
/// any of them). Handlers run on workers of the port given at construction, never on the
/// transport's own threads and never under a lock of the transport. After close(), no handler
/// starts anymore.
///
/// Ordering: messages one transport publishes reach one subscription of another transport in
/// the order published (NATS orders per connection). Nothing is promised across publishers.
/// Delivery is at most once: a message may be lost (drop, disconnect, overflow), never
/// duplicated by the transport.
class transport {
 public:
  virtual ~transport() = default;
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  /// Queues `data` for `subject` (with `reply` as the reply subject when not empty). Returns
  /// queue_full (counted, logged) when the bounded outbound queue is full, closed after close().
  /// No error means queued, not delivered.
  virtual std::error_code publish(std::string_view subject, std::span<const std::uint8_t> data,
                                  std::string_view reply = {}) = 0;

  /// Subscribes to `subject` (NATS wildcards `*` and `>` allowed). Arrivals are posted to the
  /// port; a subscription's bounded inbox drops (counted) past its limit.
  virtual subscription_id subscribe(std::string_view subject, message_handler handler) = 0;

  /// Stops a subscription: its handler does not start again once this returns (one already
  /// running finishes).
  virtual void unsubscribe(subscription_id id) = 0;

  /// Sends a request and calls `done` once with the first reply, or with no_responders as soon
  /// as the server says nobody serves `subject`, or timed_out after `timeout`.
  virtual void request(std::string_view subject, std::span<const std::uint8_t> data,
                       millis timeout, reply_handler done) = 0;

  /// Sets the handler told about connection changes (replaces the previous one).
  virtual void on_state(state_handler handler) = 0;

  /// True while connected to the server. Thread-safe.
  virtual bool connected() const noexcept = 0;

  virtual transport_counters counters() const noexcept = 0;

  /// Closes: pending requests complete with closed, subscriptions stop. Idempotent. Not from
  /// inside one of this transport's handlers.
  virtual void close() = 0;

 protected:
  transport() = default;
};

/// One value of a key-value bucket with its revision (a number that grows on every change of
/// the bucket; 0 is never a valid revision).
struct kv_entry {
  std::string key;
  std::string value;
  std::uint64_t revision = 0;
  bool deleted = false;
};

using kv_done = unique_function<void(std::error_code, kv_entry&&)>;
using kv_watch_handler = unique_function<void(kv_entry&&)>;

/// A key-value bucket with compare-and-set (JetStream key-value on NATS).
///
/// Thread contract: thread-safe, never blocks the caller; each `done` runs once on a worker.
class kv_store {
 public:
  virtual ~kv_store() = default;
  kv_store(const kv_store&) = delete;
  kv_store& operator=(const kv_store&) = delete;

  /// Reads `key`: key_not_found when absent.
  virtual void get(std::string_view key, kv_done done) = 0;
  /// Creates `key` only if it does not exist: key_exists otherwise.
  virtual void create(std::string_view key, std::string_view value, kv_done done) = 0;
  /// Writes `key` only if its latest revision is `expected`: wrong_revision otherwise. One
  /// atomic compare-and-set on the server.
  virtual void update(std::string_view key, std::string_view value, std::uint64_t expected,
                      kv_done done) = 0;
  /// Tells `handler` about every later change of a key under `prefix` (each key's current
  /// value first). One watch per store; replaces the previous one.
  virtual void watch(std::string_view prefix, kv_watch_handler handler) = 0;
  /// Stops the watch and refuses later calls (closed). Idempotent.
  virtual void close() = 0;

 protected:
  kv_store() = default;
};

}  // namespace quay::cluster
