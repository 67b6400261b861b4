#pragma once
// The NATS transport's state, shared with the key-value store on the same connection.
#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "quay/cluster/nats_transport.hpp"
#include "quay/runtime/log.hpp"
#include "serial_inbox.hpp"

namespace quay::cluster {

struct nats_transport::impl : std::enable_shared_from_this<nats_transport::impl> {
  // One libnats subscription. Kept until the transport goes: libnats may still be inside its
  // callback with this closure after Unsubscribe returns.
  struct sub_record {
    impl* owner = nullptr;
    std::uint64_t id = 0;
    std::shared_ptr<detail::serial_inbox> inbox;
    natsSubscription* sub = nullptr;
  };
  struct outbound {
    std::string subject, reply;
    std::vector<std::uint8_t> data;
  };
  struct pending {
    reply_handler done;
    timer_id timer;
  };

  impl(port& p, nats_options o) : port_(p), o_(std::move(o)), log_(log::get("cluster")) {}
  ~impl();

  void publisher_loop();
  void complete(std::uint64_t token, std::error_code ec, message&& m);
  void tell_state(link_state s);

  port& port_;
  const nats_options o_;
  std::shared_ptr<spdlog::logger> log_;
  natsConnection* nc_ = nullptr;
  std::string inbox_prefix_;  // "<_INBOX.xxx>." for this connection's replies
  sub_record* reply_sub_ = nullptr;

  std::atomic<bool> closed_{false};
  std::atomic<bool> connected_{false};
  struct {
    std::atomic<std::uint64_t> published{0}, published_bytes{0}, received{0}, received_bytes{0},
        outbound_dropped{0}, inbound_dropped{0}, reconnects{0}, disconnects{0};
  } c_;

  std::mutex out_mutex_;
  std::condition_variable out_cv_;
  std::deque<outbound> out_;
  bool out_stop_ = false;
  std::thread publisher_;

  std::mutex mutex_;  // subs_, pending_, state_
  std::vector<std::unique_ptr<sub_record>> subs_;
  std::uint64_t next_sub_ = 0;
  std::unordered_map<std::uint64_t, pending> pending_;
  std::uint64_t next_token_ = 0;
  std::shared_ptr<state_handler> state_;

  // Set by libnats's closed callback, its last callback on this connection: close() waits for
  // it so no connection callback can run after the state is gone.
  std::mutex closed_mutex_;
  std::condition_variable closed_cv_;
  bool closed_cb_done_ = false;
  // Subscriptions whose message callback libnats may still run: each is counted down by its
  // on-complete callback (libnats: "the last message of a closed subscription has been
  // dispatched"); close() waits for zero before the records may go.
  int live_subs_ = 0;  // guarded by closed_mutex_

  /// Registers `rec` for its on-complete callback. Thread-safe.
  void track(sub_record* rec);
};

/// Maps a libnats status to a cluster error (NATS_OK -> no error).
std::error_code from_nats(natsStatus s) noexcept;

}  // namespace quay::cluster
