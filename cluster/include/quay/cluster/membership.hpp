#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "quay/cluster/node_id.hpp"
#include "quay/cluster/transport.hpp"
#include "quay/runtime/port.hpp"
#include "quay/runtime/unique_function.hpp"

namespace quay::cluster {

struct membership_options {
  /// Names the cluster: subjects are quay.cluster.<cluster>.*, keys node.<id>.
  std::string cluster = "default";
  /// How often a node beats (and checks its peers).
  millis heartbeat{1000};
  /// A peer not heard from for this many intervals is suspected.
  unsigned suspect_after = 3;
  /// ... and for this many is declared dead (one compare-and-set in the key-value bucket).
  unsigned declare_after = 5;
  /// Every this many intervals a node reads its own key, and fences itself if it was declared
  /// dead (covers a watch event lost while it was cut off).
  unsigned self_check_every = 2;
  /// Written into the node's key ("alive <nonce>") so that, when the reply to its create is
  /// lost, the node can tell its own key from a stranger's. 0 = drawn from std::random_device
  /// (the simulation sets one, to stay deterministic).
  std::uint64_t nonce = 0;
};

enum class peer_event : std::uint8_t { up, suspected, cleared, down };
const char* to_string(peer_event e) noexcept;

struct membership_counters {
  std::uint64_t beats_sent = 0;
  std::uint64_t beats_received = 0;
  std::uint64_t bad_payloads = 0;   ///< garbage, truncated, oversized, unknown kind/version
  std::uint64_t forged = 0;         ///< a sender that is not a registered, live incarnation
  std::uint64_t stale = 0;          ///< beats from a node already declared dead
  std::uint64_t declared = 0;       ///< peers this node declared dead (CAS won)
  std::uint64_t cas_lost = 0;       ///< declarations another node won first
  std::uint64_t peers_up = 0;
  std::uint64_t peers_down = 0;
};

/// Membership and failure detection of one node incarnation.
///
/// On start the node creates its key `node.<id>` = "alive" in the bucket (refused if the id
/// exists: an incarnation is never reused), watches `node.`, subscribes to the beats and
/// announces itself. Every interval it beats and checks its peers: silent for suspect_after
/// intervals = suspected, for declare_after = declared dead by kv update of the peer's key
/// from its "alive" revision to "dead" (so exactly one node wins, and every watcher is told).
/// A node that sees its own key dead fences itself: it stops beating, leaves its
/// subscriptions, and its fenced handler runs once (the owner stops its actors and exits).
///
/// Handlers run on workers of the port, one at a time per membership, outside its lock.
/// Thread contract: every member is thread-safe. Shut down with stop() before the transport,
/// the store and the port go.
class membership {
 public:
  membership(port& p, transport& t, kv_store& kv, node_id self, membership_options options = {});
  ~membership();
  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;

  /// Sets the handler for peers coming up, being suspected or cleared, and going down. Before
  /// start().
  void on_peer(unique_function<void(node_id, peer_event)> handler);
  /// Sets the handler run once when this node finds itself declared dead. Before start().
  void on_fenced(unique_function<void()> handler);

  /// Registers and joins; `ready` runs once on a worker with no error, or key_exists /
  /// disconnected / closed.
  void start(unique_function<void(std::error_code)> ready);
  /// Stops beating and watching (no declaration of its own death; peers will declare it).
  /// Idempotent.
  void stop();

  node_id self() const noexcept;
  /// The peers currently believed alive (suspected ones included), sorted.
  std::vector<node_id> peers() const;
  bool fenced() const;
  membership_counters counters() const;

  struct state;

 private:
  std::shared_ptr<state> s_;
};

}  // namespace quay::cluster
