#include "quay/cluster/membership.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "membership_wire.hpp"
#include "quay/runtime/log.hpp"

namespace quay::cluster {

const char* to_string(peer_event e) noexcept {
  switch (e) {
    case peer_event::up: return "up";
    case peer_event::suspected: return "suspected";
    case peer_event::cleared: return "cleared";
    case peer_event::down: return "down";
  }
  return "?";
}

namespace {
constexpr std::string_view key_prefix = "node.";
constexpr std::size_t max_verifying = 16;  // bounds the kv reads a flood of forged ids can cause
bool is_dead_value(std::string_view v) { return v.substr(0, 4) == "dead"; }
bool is_alive_value(std::string_view v) { return v.substr(0, 5) == "alive"; }
std::uint64_t draw_nonce(std::uint64_t given) {
  if (given) return given;
  std::random_device rd;
  return ((std::uint64_t{rd()} << 32) ^ rd()) | 1;
}
// Logs the 1st, 2nd, 4th, 8th... occurrence (a hostile flood does not flood the log).
bool log_this(std::uint64_t count) { return (count & (count - 1)) == 0; }
}  // namespace

struct membership::state : std::enable_shared_from_this<membership::state> {
  struct peer_info {
    port_time last_heard;
    bool suspected = false;
    bool declaring = false;
  };

  state(port& p, transport& t, kv_store& kv, node_id self, membership_options o)
      : port_(p), t_(t), kv_(kv), self_(self), o_(std::move(o)),
        beat_pattern_("quay.cluster." + o_.cluster + ".beat.*"),
        beat_subject_("quay.cluster." + o_.cluster + ".beat." + to_string(self)),
        my_key_(std::string(key_prefix) + to_string(self)),
        alive_value_("alive " + to_string(node_id{draw_nonce(o_.nonce)})),
        log_(log::get("cluster")) {}

  port& port_;
  transport& t_;
  kv_store& kv_;
  const node_id self_;
  const membership_options o_;
  const std::string beat_pattern_, beat_subject_, my_key_, alive_value_;
  std::shared_ptr<spdlog::logger> log_;

  mutable std::mutex m_;
  bool started_ = false, stopped_ = false, fenced_ = false;
  std::map<std::uint64_t, peer_info> peers_;
  std::set<std::uint64_t> dead_, verifying_;
  std::uint64_t seq_ = 0, ticks_ = 0;
  bool link_down_ = false;
  port_time last_tick_{};
  timer_id timer_;
  subscription_id sub_;
  membership_counters c_;

  // Handlers and the events waiting for them. Only the one flush() in progress calls them.
  unique_function<void(node_id, peer_event)> on_peer_;
  unique_function<void()> on_fenced_;
  std::deque<std::pair<node_id, peer_event>> events_;
  bool fence_pending_ = false, dispatching_ = false;

  static std::string key_of(node_id id) { return std::string(key_prefix) + to_string(id); }

  // Runs queued events one at a time, outside the lock; a second caller leaves them to the first.
  void flush() {
    {
      std::lock_guard lock(m_);
      if (dispatching_) return;
      dispatching_ = true;
    }
    for (;;) {
      std::pair<node_id, peer_event> ev;
      bool fence = false;
      subscription_id sub;
      timer_id timer;
      {
        std::lock_guard lock(m_);
        if (fence_pending_) {
          fence_pending_ = false;
          fence = true;
          sub = std::exchange(sub_, {});
          timer = std::exchange(timer_, {});
        } else if (!events_.empty()) {
          ev = events_.front();
          events_.pop_front();
        } else {
          dispatching_ = false;
          return;
        }
      }
      if (fence) {
        if (sub) t_.unsubscribe(sub);
        if (timer) port_.cancel_timer(timer);
        if (on_fenced_) on_fenced_();
      } else if (on_peer_) {
        on_peer_(ev.first, ev.second);
      }
    }
  }

  // Locked helpers: change state and queue events for flush().
  void add_peer_locked(node_id id) {
    if (id == self_ || dead_.count(id.value) || peers_.count(id.value)) return;
    peers_[id.value] = peer_info{port_.now()};
    ++c_.peers_up;
    events_.emplace_back(id, peer_event::up);
  }
  void mark_dead_locked(node_id id) {
    if (!dead_.insert(id.value).second) return;
    if (peers_.erase(id.value)) {
      ++c_.peers_down;
      events_.emplace_back(id, peer_event::down);
    }
  }
  void fence_locked() {
    if (fenced_ || stopped_) return;
    fenced_ = true;
    fence_pending_ = true;
    log_->warn("cluster: node {} was declared dead: fencing itself", to_string(self_));
  }

  void on_kv(kv_entry&& e) {
    if (e.key.substr(0, key_prefix.size()) != key_prefix) return;
    const auto id = parse_node_id(std::string_view(e.key).substr(key_prefix.size()));
    if (!id) return;
    {
      std::lock_guard lock(m_);
      if (stopped_ || fenced_) return;
      if (e.deleted) {
        // A removed key is an incarnation that is gone for good.
        if (*id == self_) fence_locked(); else mark_dead_locked(*id);
      } else if (is_dead_value(e.value)) {
        if (*id == self_) fence_locked(); else mark_dead_locked(*id);
      } else if (is_alive_value(e.value)) {
        add_peer_locked(*id);
      }
    }
    flush();
  }

  void on_beat(message&& m) {
    detail::beat b;
    const auto fault = detail::decode(m.data, b);
    std::unique_lock lock(m_);
    if (stopped_ || fenced_) return;
    if (fault != detail::wire_fault::none) {
      if (log_this(++c_.bad_payloads)) {
        log_->warn("cluster: bad beat on {} ({} bytes): {} [{} so far]", m.subject,
                   m.data.size(), detail::to_string(fault), c_.bad_payloads);
      }
      return;
    }
    const auto dot = m.subject.rfind('.');
    const auto named = parse_node_id(std::string_view(m.subject).substr(dot + 1));
    if (!named || *named != b.from || b.from == self_) {
      if (log_this(++c_.forged)) {
        log_->warn("cluster: forged beat on {} claiming node {} [{} so far]", m.subject,
                   to_string(b.from), c_.forged);
      }
      return;
    }
    if (dead_.count(b.from.value)) {
      ++c_.stale;
      return;
    }
    ++c_.beats_received;
    auto it = peers_.find(b.from.value);
    if (it != peers_.end()) {
      it->second.last_heard = port_.now();
      if (it->second.suspected) {
        it->second.suspected = false;
        events_.emplace_back(b.from, peer_event::cleared);
      }
      lock.unlock();
      flush();
      return;
    }
    // Unknown sender: believe it only once its key says "alive" (a forged id has no key).
    if (verifying_.size() >= max_verifying || !verifying_.insert(b.from.value).second) return;
    lock.unlock();
    kv_.get(key_of(b.from), [s = shared_from_this(), from = b.from](std::error_code ec,
                                                                    kv_entry&& e) {
      {
        std::lock_guard l(s->m_);
        s->verifying_.erase(from.value);
        if (s->stopped_ || s->fenced_) return;
        if (!ec && is_alive_value(e.value) && !e.deleted) {
          s->add_peer_locked(from);
        } else if (!ec && is_dead_value(e.value)) {
          s->mark_dead_locked(from);
        } else if (ec == errc::key_not_found) {
          if (log_this(++s->c_.forged)) {
            s->log_->warn("cluster: beat from unregistered node {} [{} forged so far]",
                          to_string(from), s->c_.forged);
          }
        }
      }
      s->flush();
    });
  }

  void beat_now(detail::beat_kind kind) {
    detail::beat b;
    {
      std::lock_guard lock(m_);
      b.kind = kind;
      b.from = self_;
      b.seq = ++seq_;
      b.interval_ms = static_cast<std::uint32_t>(o_.heartbeat.count());
      ++c_.beats_sent;
    }
    const auto bytes = detail::encode(b);
    t_.publish(beat_subject_, bytes);
  }

  void tick() {
    std::vector<node_id> declare;
    bool self_check = false;
    {
      std::lock_guard lock(m_);
      if (stopped_ || fenced_) return;
      ++ticks_;
      const auto now = port_.now();
      const bool paused = ticks_ > 1 && now - last_tick_ > 2 * o_.heartbeat;
      last_tick_ = now;
      if (link_down_ || paused) {
        // Our own silence, not theirs: while cut off from the server (or after this process
        // stood still) the peers' beats could not reach us. Judge nobody; start afresh.
        for (auto& [id, p] : peers_) p.last_heard = now;
      }
      for (auto& [id, p] : peers_) {
        if (link_down_) break;
        const auto missed = static_cast<std::uint64_t>((now - p.last_heard) / o_.heartbeat);
        if (missed >= o_.suspect_after && !p.suspected) {
          p.suspected = true;
          events_.emplace_back(node_id{id}, peer_event::suspected);
        }
        if (missed >= o_.declare_after && !p.declaring) {
          p.declaring = true;
          declare.push_back(node_id{id});
        }
      }
      self_check = o_.self_check_every != 0 && ticks_ % o_.self_check_every == 0;
    }
    beat_now(detail::beat_kind::heartbeat);
    flush();
    for (node_id id : declare) declare_dead(id);
    if (self_check) this->self_check();
  }

  void on_link(link_state st) {
    {
      std::lock_guard lock(m_);
      if (st == link_state::disconnected) {
        link_down_ = true;
      } else if (st == link_state::connected || st == link_state::reconnected) {
        link_down_ = false;
        const auto now = port_.now();
        for (auto& [id, p] : peers_) p.last_heard = now;
      }
    }
    if (st == link_state::reconnected) self_check();
  }

  void self_check() {
    kv_.get(my_key_, [s = shared_from_this()](std::error_code ec, kv_entry&& e) {
      if (ec || !is_dead_value(e.value)) return;
      {
        std::lock_guard lock(s->m_);
        s->fence_locked();
      }
      s->flush();
    });
  }

  void retry_later(node_id id) {
    std::lock_guard lock(m_);
    auto it = peers_.find(id.value);
    if (it != peers_.end()) it->second.declaring = false;
  }

  // First reads its own key (a node declared dead itself fences instead of judging others: it
  // is the one that was cut off), then reads the peer's key and moves it from its "alive"
  // revision to "dead": one compare-and-set, one winner.
  void declare_dead(node_id id) {
    kv_.get(my_key_, [s = shared_from_this(), id](std::error_code ec, kv_entry&& e) {
      if (ec) {
        s->retry_later(id);
        return;
      }
      if (is_dead_value(e.value) || e.deleted) {
        {
          std::lock_guard lock(s->m_);
          s->fence_locked();
        }
        s->flush();
        return;
      }
      s->declare_peer(id);
    });
  }

  void declare_peer(node_id id) {
    kv_.get(key_of(id), [s = shared_from_this(), id](std::error_code ec, kv_entry&& e) {
      if (ec) {
        s->retry_later(id);
        return;
      }
      if (is_dead_value(e.value) || e.deleted) {
        {
          std::lock_guard lock(s->m_);
          s->mark_dead_locked(id);
        }
        s->flush();
        return;
      }
      const std::string value = "dead by " + to_string(s->self_);
      s->kv_.update(key_of(id), value, e.revision,
                    [s, id](std::error_code uec, kv_entry&&) {
                      {
                        std::lock_guard lock(s->m_);
                        if (!uec) {
                          ++s->c_.declared;
                          s->log_->warn("cluster: node {} declared node {} dead",
                                        to_string(s->self_), to_string(id));
                          s->mark_dead_locked(id);
                        } else if (uec == errc::wrong_revision) {
                          ++s->c_.cas_lost;
                        }
                      }
                      if (uec) s->retry_later(id);  // the next tick reads the winner's value
                      s->flush();
                    });
    });
  }
};

membership::membership(port& p, transport& t, kv_store& kv, node_id self,
                       membership_options options)
    : s_(std::make_shared<state>(p, t, kv, self, std::move(options))) {}

membership::~membership() { stop(); }

void membership::on_peer(unique_function<void(node_id, peer_event)> handler) {
  s_->on_peer_ = std::move(handler);
}

void membership::on_fenced(unique_function<void()> handler) {
  s_->on_fenced_ = std::move(handler);
}

namespace {
// Creates the node's key; when the reply is lost (timed out), reads the key to learn whether
// the create applied (then it is ours: nobody else holds this incarnation), else tries again.
void register_self(const std::shared_ptr<membership::state>& s, int attempts_left,
                   unique_function<void(std::error_code)> done);
}  // namespace

void membership::start(unique_function<void(std::error_code)> ready) {
  auto s = s_;
  register_self(s, 5, [s, ready = std::move(ready)](std::error_code ec) mutable {
    if (!ec) {
      std::lock_guard lock(s->m_);
      if (s->stopped_) ec = errc::closed;
      else s->started_ = true;
    }
    if (ec) {
      ready(ec);
      return;
    }
    std::weak_ptr<state> w = s;
    s->kv_.watch(key_prefix, [w](kv_entry&& e) {
      if (auto st = w.lock()) st->on_kv(std::move(e));
    });
    const auto sub = s->t_.subscribe(s->beat_pattern_, [w](message&& m) {
      if (auto st = w.lock()) st->on_beat(std::move(m));
    });
    const auto timer = s->port_.start_timer(
        s->o_.heartbeat,
        [w](std::error_code tec) {
          if (tec) return;
          if (auto st = w.lock()) st->tick();
        },
        s->o_.heartbeat);
    bool undo = false;
    {
      std::lock_guard lock(s->m_);
      if (s->stopped_ || s->fenced_) {
        undo = true;
      } else {
        s->sub_ = sub;
        s->timer_ = timer;
      }
    }
    if (undo) {
      s->t_.unsubscribe(sub);
      s->port_.cancel_timer(timer);
      ready(errc::closed);
      return;
    }
    s->t_.on_state([w](link_state st) {
      if (auto ss = w.lock()) ss->on_link(st);
    });
    s->beat_now(detail::beat_kind::announce);
    ready({});
  });
}

namespace {
void register_self(const std::shared_ptr<membership::state>& s, int attempts_left,
                   unique_function<void(std::error_code)> done) {
  s->kv_.create(s->my_key_, s->alive_value_, [s, attempts_left, done = std::move(done)](
                                                 std::error_code ec, kv_entry&&) mutable {
    // key_exists after a lost reply may be our own earlier create: the nonce tells.
    const bool retried = attempts_left < 5;
    if (!((ec == errc::timed_out || (ec == errc::key_exists && retried)) && attempts_left > 1)) {
      done(ec);
      return;
    }
    s->kv_.get(s->my_key_, [s, attempts_left, done = std::move(done)](std::error_code gec,
                                                                      kv_entry&& e) mutable {
      if (!gec && e.value == s->alive_value_) {
        done({});
      } else if (gec == errc::key_not_found || gec == errc::timed_out) {
        register_self(s, attempts_left - 1, std::move(done));
      } else {
        done(gec ? gec : std::error_code(errc::key_exists));
      }
    });
  });
}
}  // namespace

void membership::stop() {
  subscription_id sub;
  timer_id timer;
  {
    std::lock_guard lock(s_->m_);
    if (s_->stopped_) return;
    s_->stopped_ = true;
    sub = std::exchange(s_->sub_, {});
    timer = std::exchange(s_->timer_, {});
  }
  if (sub) s_->t_.unsubscribe(sub);
  if (timer) s_->port_.cancel_timer(timer);
}

node_id membership::self() const noexcept { return s_->self_; }

std::vector<node_id> membership::peers() const {
  std::lock_guard lock(s_->m_);
  std::vector<node_id> out;
  for (const auto& [id, p] : s_->peers_) out.push_back(node_id{id});
  return out;
}

bool membership::fenced() const {
  std::lock_guard lock(s_->m_);
  return s_->fenced_;
}

membership_counters membership::counters() const {
  std::lock_guard lock(s_->m_);
  return s_->c_;
}

}  // namespace quay::cluster
