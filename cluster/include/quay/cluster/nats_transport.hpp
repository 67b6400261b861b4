#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>

#include "quay/cluster/transport.hpp"

namespace quay::cluster {

struct nats_options {
  /// The server, e.g. "nats://127.0.0.1:4222".
  std::string url;
  /// The connection's name as the server shows it.
  std::string name = "quay";
  /// Messages waiting for the publisher thread; past it a publish is a counted drop.
  std::size_t outbound_limit = 65536;
  /// Messages waiting for one subscription's handler; past it an arrival is a counted drop.
  std::size_t inbox_limit = 65536;
  /// How long connect() may wait for the first connection.
  millis connect_timeout{2000};
  /// Between reconnect attempts after a loss (attempts never stop until close()).
  millis reconnect_wait{100};
};

/// The transport over a NATS server, through libnats (the official C client).
///
/// libnats runs its callbacks on its own threads; they only copy what arrived into a message
/// and push it to the subscription's bounded inbox, whose drain runs the handler on a worker of
/// the port. Publishes go through a bounded queue drained by one publisher thread (libnats may
/// block on a full socket; a worker never does). After a lost connection libnats reconnects and
/// replays the subscriptions; what was published or sent meanwhile beyond its reconnect buffer
/// is lost and counted. Echo is off: a node does not receive its own publishes.
///
/// Thread contract: as transport; connect(), open_kv() and close() block the caller and must
/// not be called from a worker.
class nats_transport final : public transport {
 public:
  /// Connects; nullptr and `ec` set (disconnected) when no server answered in time.
  static std::unique_ptr<nats_transport> connect(port& p, nats_options options,
                                                 std::error_code& ec);
  ~nats_transport() override;

  /// Opens the JetStream key-value bucket `bucket` (history 1, created if absent) on this
  /// connection. nullptr and `ec` set on failure (JetStream off, server gone).
  std::unique_ptr<kv_store> open_kv(const std::string& bucket, std::error_code& ec);

  std::error_code publish(std::string_view subject, std::span<const std::uint8_t> data,
                          std::string_view reply = {}) override;
  subscription_id subscribe(std::string_view subject, message_handler handler) override;
  void unsubscribe(subscription_id id) override;
  void request(std::string_view subject, std::span<const std::uint8_t> data, millis timeout,
               reply_handler done) override;
  void on_state(state_handler handler) override;
  bool connected() const noexcept override;
  transport_counters counters() const noexcept override;
  void close() override;

  struct impl;

 private:
  explicit nats_transport(std::shared_ptr<impl> i);
  std::shared_ptr<impl> impl_;
};

}  // namespace quay::cluster
