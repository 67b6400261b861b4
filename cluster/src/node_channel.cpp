#include "quay/cluster/node_channel.hpp"

#include <mutex>
#include <set>
#include <unordered_map>

#include "quay/runtime/log.hpp"
#include "remote_envelope.hpp"

namespace quay::cluster {

namespace {
bool log_this(std::uint64_t count) { return (count & (count - 1)) == 0; }
}  // namespace

struct node_channel::state : std::enable_shared_from_this<node_channel::state> {
  state(port& p, transport& t, node_id self, channel_options o)
      : port_(p), t_(t), self_(self), o_(std::move(o)), log_(log::get("cluster")) {}

  port& port_;
  transport& t_;
  const node_id self_;
  const channel_options o_;
  std::shared_ptr<spdlog::logger> log_;

  // The send lock makes "take the next number, publish" one step: numbers go out in order.
  std::mutex send_mutex_;
  std::unordered_map<std::uint64_t, std::uint64_t> next_seq_;  // by destination
  std::vector<std::uint8_t> buffer_;

  mutable std::mutex m_;  // below
  std::unordered_map<std::uint64_t, std::uint64_t> last_seq_;  // by source
  std::set<std::uint64_t> dead_;
  channel_counters c_;
  subscription_id sub_;
  bool stopped_ = false;
  unique_function<void(remote_message&&)> deliver_;  // run only by the one inbox drain

  std::string subject_of(node_id id) const {
    return "quay.cluster." + o_.cluster + ".node." + to_string(id);
  }

  void on_message(message&& m) {
    detail::remote_header h;
    std::span<const std::uint8_t> payload;
    const auto fault = detail::decode(m.data, o_.max_payload, h, payload);
    remote_message out;
    {
      std::lock_guard lock(m_);
      if (stopped_) return;
      if (fault != detail::wire_fault::none) {
        if (log_this(++c_.bad_payloads)) {
          log_->warn("cluster: bad message on {} ({} bytes): {} [{} so far]", m.subject,
                     m.data.size(), detail::to_string(fault), c_.bad_payloads);
        }
        return;
      }
      if (h.to_node != self_ || h.from_node == self_) {
        if (log_this(++c_.misrouted)) {
          log_->warn("cluster: message for node {} from {} reached node {} [{} so far]",
                     to_string(h.to_node), to_string(h.from_node), to_string(self_), c_.misrouted);
        }
        return;
      }
      if (dead_.count(h.from_node.value)) {
        ++c_.from_dead;
        return;
      }
      auto& last = last_seq_[h.from_node.value];
      if (h.seq <= last) {
        ++c_.duplicates;
        return;
      }
      c_.lost += h.seq - last - 1;
      last = h.seq;
      ++c_.received;
      c_.received_bytes += payload.size();
    }
    out.from = {h.from_node, h.from_slot, h.from_generation};
    out.to = {h.to_node, h.to_slot, h.to_generation};
    out.wire_id = h.wire_id;
    out.payload.assign(payload.begin(), payload.end());
    if (deliver_) deliver_(std::move(out));
  }
};

node_channel::node_channel(port& p, transport& t, node_id self, channel_options options)
    : s_(std::make_shared<state>(p, t, self, std::move(options))) {}

node_channel::~node_channel() { stop(); }

void node_channel::start(unique_function<void(remote_message&&)> deliver) {
  s_->deliver_ = std::move(deliver);
  std::weak_ptr<state> w = s_;
  const auto sub = s_->t_.subscribe(s_->subject_of(s_->self_), [w](message&& m) {
    if (auto s = w.lock()) s->on_message(std::move(m));
  });
  std::lock_guard lock(s_->m_);
  s_->sub_ = sub;
}

std::error_code node_channel::send(const remote_address& from, const remote_address& to,
                                   std::uint16_t wire_id, std::span<const std::uint8_t> payload) {
  auto& s = *s_;
  if (payload.size() > s.o_.max_payload || !to.node || to.generation == 0) {
    std::lock_guard lock(s.m_);
    ++s.c_.send_refused;
    return errc::bad_payload;
  }
  std::error_code ec;
  {
    std::lock_guard lock(s.send_mutex_);
    auto& next = s.next_seq_[to.node.value];
    detail::remote_header h{wire_id, s.self_, to.node, to.slot, to.generation,
                            from.slot, from.generation, next + 1};
    detail::encode(h, payload, s.buffer_);
    ec = s.t_.publish(s.subject_of(to.node), s.buffer_);
    // A refused publish does not use up its number: the receiver sees no gap for it.
    if (!ec) ++next;
  }
  std::lock_guard lock(s.m_);
  if (ec) {
    ++s.c_.send_refused;
  } else {
    ++s.c_.sent;
    s.c_.sent_bytes += payload.size();
  }
  return ec;
}

void node_channel::peer_down(node_id id) {
  {
    std::lock_guard lock(s_->m_);
    s_->dead_.insert(id.value);
    s_->last_seq_.erase(id.value);
  }
  std::lock_guard lock(s_->send_mutex_);
  s_->next_seq_.erase(id.value);
}

void node_channel::stop() {
  subscription_id sub;
  {
    std::lock_guard lock(s_->m_);
    if (s_->stopped_) return;
    s_->stopped_ = true;
    sub = std::exchange(s_->sub_, {});
  }
  if (sub) s_->t_.unsubscribe(sub);
}

channel_counters node_channel::counters() const {
  std::lock_guard lock(s_->m_);
  return s_->c_;
}

std::string node_channel::subject_of(node_id id) const { return s_->subject_of(id); }

}  // namespace quay::cluster
