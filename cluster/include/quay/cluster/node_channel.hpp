#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "quay/cluster/node_id.hpp"
#include "quay/cluster/transport.hpp"

namespace quay::cluster {

/// An actor somewhere in the cluster: its node incarnation and its slot and generation there.
struct remote_address {
  node_id node;
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  friend bool operator==(const remote_address&, const remote_address&) = default;
};

/// One message that arrived from another node, already validated.
struct remote_message {
  remote_address from;
  remote_address to;
  std::uint16_t wire_id = 0;
  std::vector<std::uint8_t> payload;  // the message's wire form, not yet verified as such
};

struct channel_options {
  std::string cluster = "default";
  /// Larger payloads are refused on send (bad_payload) and dropped on receipt (counted).
  std::size_t max_payload = 1 << 20;
};

struct channel_counters {
  std::uint64_t sent = 0, sent_bytes = 0;
  std::uint64_t received = 0, received_bytes = 0;
  std::uint64_t send_refused = 0;   ///< oversized, or the transport refused (queue full, closed)
  std::uint64_t bad_payloads = 0;   ///< garbage, truncated, oversized, bad fields
  std::uint64_t misrouted = 0;      ///< addressed to another incarnation (a forged or stale id)
  std::uint64_t duplicates = 0;     ///< a sequence number at or below one already delivered
  std::uint64_t lost = 0;           ///< sequence gaps: messages known to be lost on the way
  std::uint64_t from_dead = 0;      ///< from a node already declared dead
};

/// The node-to-node message stream under remote actor sends (issue 15, step 5: the stream only;
/// routing actor_ref sends into it is not built yet).
///
/// Each node subscribes to `quay.cluster.<cluster>.node.<its id>`. Every message this node sends
/// to node X goes on X's subject over this node's one connection, numbered 1, 2, 3... per
/// destination. NATS keeps one connection's order, so messages from any actor here to any actor
/// on X arrive in the order sent: per-sender FIFO between two actors is implied. The receiver
/// delivers a sequence number only if it is above the last one it delivered from that
/// incarnation: at most once, even if the network (or a hostile peer) replays. A gap is counted
/// as lost. A sender declared dead (peer_down) is never heard again.
///
/// Thread contract: thread-safe; the deliver handler runs on a worker, one message at a time,
/// in arrival order.
class node_channel {
 public:
  node_channel(port& p, transport& t, node_id self, channel_options options = {});
  ~node_channel();
  node_channel(const node_channel&) = delete;
  node_channel& operator=(const node_channel&) = delete;

  /// Subscribes; `deliver` gets every accepted message.
  void start(unique_function<void(remote_message&&)> deliver);
  /// Sends to `to.node`. bad_payload when over max_payload; the transport's error otherwise.
  std::error_code send(const remote_address& from, const remote_address& to,
                       std::uint16_t wire_id, std::span<const std::uint8_t> payload);
  /// Forgets a node declared dead: its later messages are dropped (from_dead).
  void peer_down(node_id id);
  /// Unsubscribes. Idempotent.
  void stop();

  channel_counters counters() const;
  /// The subject node `id` listens on.
  std::string subject_of(node_id id) const;

  struct state;

 private:
  std::shared_ptr<state> s_;
};

}  // namespace quay::cluster
