#include "quay/cluster/sim_network.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "membership_wire.hpp"
#include "serial_inbox.hpp"

namespace quay::cluster {

namespace {
constexpr std::size_t server = std::numeric_limits<std::size_t>::max();
constexpr std::size_t inbox_limit = 4096;

class sim_transport;
class sim_kv;
}  // namespace

struct sim_network::impl {
  struct node {
    std::unique_ptr<manual_port> port;  // first: destroyed last
    std::unique_ptr<sim_transport> t;
    std::unique_ptr<sim_kv> kv;
    bool crashed = false;
    bool cut = false;
  };
  struct sub {
    std::size_t node;
    std::uint64_t id;
    std::string pattern;
    std::shared_ptr<detail::serial_inbox> inbox;
  };
  struct kv_value {
    std::string value;
    std::uint64_t revision = 0;
    bool deleted = false;
  };

  impl(std::uint64_t seed, sim_faults f) : rng_state(seed ? seed : 0x9E3779B97F4A7C15ull), faults(f) {}

  std::uint64_t rng_state;
  sim_faults faults;
  millis now{0};
  std::uint64_t seq = 0;
  std::map<std::pair<std::int64_t, std::uint64_t>, unique_function<void()>> events;
  std::vector<sub> subs;
  std::uint64_t next_sub = 0;
  std::map<std::pair<std::size_t, std::size_t>, millis> lane_last;
  std::map<std::string, kv_value> bucket;
  std::uint64_t kv_revision = 0;
  std::vector<std::unique_ptr<node>> nodes;
  std::vector<std::string> trace;
  std::uint64_t hash = 0xcbf29ce484222325ull;
  bool keep = true;

  // splitmix64: fully specified, so a seed replays on every standard library.
  std::uint64_t next() {
    std::uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t bound) { return bound ? next() % bound : 0; }
  bool drop() {
    return faults.drop > 0 && static_cast<double>(next() >> 11) * 0x1.0p-53 < faults.drop;
  }
  millis delay() {
    const auto lo = faults.min_delay.count(), hi = std::max(faults.max_delay.count(), lo);
    return millis{lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)))};
  }
  // The arrival time of the next hop from `from` to `to`: a fresh random delay, but never
  // before the previous hop on the same lane (one connection stays FIFO).
  millis lane(std::size_t from, std::size_t to) {
    millis at = now + delay();
    auto& last = lane_last[{from, to}];
    if (at < last) at = last;
    last = at;
    return at;
  }
  void schedule(millis at, unique_function<void()> fn) {
    events.emplace(std::make_pair(at.count(), ++seq), std::move(fn));
  }
  void record(std::string line) {
    if (keep) line = std::to_string(now.count()) + " " + line;
    hash = (hash ^ static_cast<std::uint64_t>(now.count())) * 0x100000001b3ull;
    for (unsigned char ch : line) hash = (hash ^ ch) * 0x100000001b3ull;
    hash = (hash ^ '\n') * 0x100000001b3ull;
    if (keep) trace.push_back(std::move(line));
  }
  // The hot path (one per message hop): hashes the fields, formats only when the trace is kept.
  void record_hop(char kind, std::size_t from, std::size_t to, std::string_view subject,
                  std::size_t bytes, millis at) {
    const std::uint64_t fields[] = {static_cast<std::uint64_t>(now.count()), std::uint64_t(kind), from, to,
                                    bytes, static_cast<std::uint64_t>(at.count())};
    for (auto f : fields) hash = (hash ^ f) * 0x100000001b3ull;
    for (unsigned char ch : subject) hash = (hash ^ ch) * 0x100000001b3ull;
    if (!keep) return;
    static constexpr const char* kinds[] = {"drop", "send", "lost", "recv"};
    const char* k = kind == 'd' ? kinds[0] : kind == 's' ? kinds[1] : kind == 'l' ? kinds[2] : kinds[3];
    std::string line = std::to_string(now.count());
    line += ' ';
    line += k;
    line += ' ';
    line += name(from);
    line += "->";
    line += name(to);
    line += ' ';
    line += subject;
    line += ' ';
    line += std::to_string(bytes);
    line += 'B';
    if (kind == 's') {
      line += " @";
      line += std::to_string(at.count());
    }
    trace.push_back(std::move(line));
  }
  bool live(std::size_t n) const { return n < nodes.size() && !nodes[n]->crashed && !nodes[n]->cut; }
  static std::string name(std::size_t n) {
    // Appended, not "n" + to_string(n): g++ 12 -O3 reports a false -Wrestrict on the latter.
    std::string s = n == server ? "srv" : "n";
    if (n != server) s += std::to_string(n);
    return s;
  }

  void run_ready() {
    std::vector<std::size_t> ready;
    for (std::size_t guard = 0; guard < 1'000'000; ++guard) {
      ready.clear();
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (!nodes[i]->crashed && nodes[i]->port->ready() > 0) ready.push_back(i);
      }
      if (ready.empty()) return;
      nodes[ready[below(ready.size())]]->port->run_one();
    }
    throw std::runtime_error("sim_network: a node never went idle (1,000,000 completions)");
  }
};

namespace {

class sim_transport final : public transport {
 public:
  sim_transport(sim_network::impl& net, std::size_t self) : net_(net), self_(self) {
    reply_sub_ = subscribe((std::string("_INBOX.") += std::to_string(self)) + ".*", [this](message&& m) {
      const auto dot = m.subject.rfind('.');
      complete(std::stoull(m.subject.substr(dot + 1)), {}, std::move(m));
    });
  }

  std::error_code publish(std::string_view subject, std::span<const std::uint8_t> data,
                          std::string_view reply) override {
    if (closed_ || net_.nodes[self_]->crashed) return errc::closed;
    if (net_.nodes[self_]->cut) {
      ++c_.outbound_dropped;
      return errc::disconnected;
    }
    ++c_.published;
    c_.published_bytes += data.size();
    for (const auto& s : net_.subs) {
      if (s.node == self_ || !net_.live(s.node) || !detail::subject_matches(s.pattern, subject)) {
        continue;
      }
      if (net_.drop()) {
        net_.record_hop('d', self_, s.node, subject, data.size(), net_.now);
        continue;
      }
      const millis at = net_.lane(self_, s.node);
      net_.record_hop('s', self_, s.node, subject, data.size(), at);
      message m{std::string(subject), std::string(reply), {data.begin(), data.end()}};
      net_.schedule(at, [&net = net_, from = self_, to = s.node, inbox = s.inbox,
                         m = std::move(m)]() mutable {
        if (!net.live(to) || inbox->closed()) {
          net.record_hop('l', from, to, m.subject, m.data.size(), net.now);
          return;
        }
        net.record_hop('r', from, to, m.subject, m.data.size(), net.now);
        deliver(net, to, inbox, std::move(m));
      });
    }
    return {};
  }

  static void deliver(sim_network::impl& net, std::size_t to,
                      const std::shared_ptr<detail::serial_inbox>& inbox, message&& m);

  subscription_id subscribe(std::string_view subject, message_handler handler) override {
    const std::uint64_t id = ++net_.next_sub;
    net_.subs.push_back({self_, id, std::string(subject),
                         std::make_shared<detail::serial_inbox>(*net_.nodes[self_]->port,
                                                                std::move(handler),
                                                                inbox_limit)});
    return subscription_id{id};
  }

  void unsubscribe(subscription_id id) override {
    auto& subs = net_.subs;
    for (auto it = subs.begin(); it != subs.end(); ++it) {
      if (it->node == self_ && it->id == id.value) {
        it->inbox->close();
        subs.erase(it);
        return;
      }
    }
  }

  void request(std::string_view subject, std::span<const std::uint8_t> data, millis timeout,
               reply_handler done) override {
    auto& p = *net_.nodes[self_]->port;
    if (closed_) {
      p.post_fn([d = std::move(done)]() mutable { d(errc::closed, {}); });
      return;
    }
    if (net_.nodes[self_]->cut) {
      p.post_fn([d = std::move(done)]() mutable { d(errc::disconnected, {}); });
      return;
    }
    bool anyone = false;
    for (const auto& s : net_.subs) {
      if (s.node != self_ && net_.live(s.node) && detail::subject_matches(s.pattern, subject)) {
        anyone = true;
      }
    }
    if (!anyone) {
      // The server answers at once: one hop there and one back.
      net_.record("no-responders " + std::string(subject) + " from " + sim_network::impl::name(self_));
      net_.lane(self_, server);
      net_.schedule(net_.lane(server, self_), [&p, d = std::move(done)]() mutable {
        p.post_fn([d = std::move(d)]() mutable { d(errc::no_responders, {}); });
      });
      return;
    }
    const std::uint64_t token = ++next_token_;
    const auto timer = p.start_timer(timeout, [this, token](std::error_code ec) {
      if (!ec) complete(token, errc::timed_out, {});
    });
    pending_.emplace(token, pending{std::move(done), timer});
    publish(subject, data, (std::string("_INBOX.") += std::to_string(self_)) + (std::string(".") += std::to_string(token)));
  }

  void on_state(state_handler handler) override { state_ = std::move(handler); }
  bool connected() const noexcept override { return !closed_ && !net_.nodes[self_]->cut; }
  transport_counters counters() const noexcept override { return c_; }

  void close() override {
    if (closed_) return;
    closed_ = true;
    auto& subs = net_.subs;
    for (auto it = subs.begin(); it != subs.end();) {
      if (it->node == self_) {
        it->inbox->close();
        it = subs.erase(it);
      } else {
        ++it;
      }
    }
    auto waiting = std::move(pending_);
    for (auto& [token, w] : waiting) {
      net_.nodes[self_]->port->cancel_timer(w.timer);
      net_.nodes[self_]->port->post_fn([d = std::move(w.done)]() mutable { d(errc::closed, {}); });
    }
  }

  // Called by the network on the scheduler's thread.
  void set_link(bool up) {
    if (up) ++c_.reconnects; else ++c_.disconnects;
    net_.nodes[self_]->port->post_fn([this, up] {
      if (state_) state_(up ? link_state::reconnected : link_state::disconnected);
    });
  }
  void count_received(std::size_t bytes, bool ok) {
    if (ok) {
      ++c_.received;
      c_.received_bytes += bytes;
    } else {
      ++c_.inbound_dropped;
    }
  }

 private:
  struct pending {
    reply_handler done;
    timer_id timer;
  };
  void complete(std::uint64_t token, std::error_code ec, message&& m) {
    auto it = pending_.find(token);
    if (it == pending_.end()) return;  // a late reply after the timeout: dropped
    auto w = std::move(it->second);
    pending_.erase(it);
    if (ec != errc::timed_out) net_.nodes[self_]->port->cancel_timer(w.timer);
    w.done(ec, std::move(m));
  }

  sim_network::impl& net_;
  const std::size_t self_;
  bool closed_ = false;
  transport_counters c_;
  state_handler state_;
  subscription_id reply_sub_;
  std::uint64_t next_token_ = 0;
  std::unordered_map<std::uint64_t, pending> pending_;
};

void sim_transport::deliver(sim_network::impl& net, std::size_t to,
                            const std::shared_ptr<detail::serial_inbox>& inbox, message&& m) {
  const auto bytes = m.data.size();
  const bool ok = inbox->push(std::move(m));
  net.nodes[to]->t->count_received(bytes, ok);
}

class sim_kv final : public kv_store {
 public:
  sim_kv(sim_network::impl& net, std::size_t self) : net_(net), self_(self) {}

  void get(std::string_view key, kv_done done) override {
    op("get", std::string(key), [key = std::string(key)](sim_network::impl& net, kv_entry& out) {
      auto it = net.bucket.find(key);
      if (it == net.bucket.end() || it->second.deleted) return std::error_code(errc::key_not_found);
      out = {key, it->second.value, it->second.revision, false};
      return std::error_code{};
    }, std::move(done));
  }

  void create(std::string_view key, std::string_view value, kv_done done) override {
    op("create", std::string(key),
       [key = std::string(key), value = std::string(value)](sim_network::impl& net, kv_entry& out) {
         auto it = net.bucket.find(key);
         if (it != net.bucket.end() && !it->second.deleted) return std::error_code(errc::key_exists);
         return put(net, key, value, out);
       }, std::move(done));
  }

  void update(std::string_view key, std::string_view value, std::uint64_t expected,
              kv_done done) override {
    op("update", std::string(key),
       [key = std::string(key), value = std::string(value), expected](sim_network::impl& net,
                                                                      kv_entry& out) {
         auto it = net.bucket.find(key);
         if (it == net.bucket.end()) return std::error_code(errc::key_not_found);
         if (it->second.revision != expected) return std::error_code(errc::wrong_revision);
         return put(net, key, value, out);
       }, std::move(done));
  }

  void watch(std::string_view prefix, kv_watch_handler handler) override {
    if (closed_) return;
    prefix_ = std::string(prefix);
    handler_ = std::make_shared<kv_watch_handler>(std::move(handler));
    // The current values first, as one batch from the server.
    std::vector<kv_entry> now;
    for (const auto& [k, v] : net_.bucket) {
      if (k.compare(0, prefix_.size(), prefix_) == 0) now.push_back({k, v.value, v.revision, v.deleted});
    }
    net_.schedule(net_.lane(server, self_), [this, h = handler_, now = std::move(now)]() mutable {
      if (!net_.live(self_)) return;
      for (auto& e : now) tell(h, std::move(e));
    });
  }

  void close() override {
    closed_ = true;
    handler_.reset();
  }

  // A change applied at the server reaches each watching, live node after a delay.
  void notify(const kv_entry& e) {
    if (!handler_ || closed_ || e.key.compare(0, prefix_.size(), prefix_) != 0) return;
    if (!net_.live(self_)) {
      net_.record("watch-lost " + e.key + " for " + sim_network::impl::name(self_));
      return;
    }
    net_.schedule(net_.lane(server, self_), [this, h = std::weak_ptr(handler_), e = kv_entry(e)]() mutable {
      auto handler = h.lock();
      if (!handler || !net_.live(self_)) return;
      net_.record("watch " + e.key + "=" + e.value + " at " + sim_network::impl::name(self_));
      tell(handler, std::move(e));
    });
  }

 private:
  template <class Apply>
  void op(const char* what, std::string key, Apply apply, kv_done done) {
    auto& p = *net_.nodes[self_]->port;
    if (closed_) {
      p.post_fn([d = std::move(done)]() mutable { d(errc::closed, {}); });
      return;
    }
    if (net_.nodes[self_]->cut) {
      p.post_fn([d = std::move(done)]() mutable { d(errc::disconnected, {}); });
      return;
    }
    net_.schedule(net_.lane(self_, server), [this, what, key = std::move(key), apply = std::move(apply),
                                             d = std::move(done)]() mutable {
      kv_entry out;
      const std::error_code ec = apply(net_, out);
      net_.record(std::string("kv ") + what + " " + key + " by " + sim_network::impl::name(self_) +
                  ": " + (ec ? ec.message() : (std::string("ok rev ") += std::to_string(out.revision))));
      auto& port = *net_.nodes[self_]->port;
      if (net_.drop()) {
        // The reply is lost; the client gives up later, not knowing whether the op applied.
        net_.record("kv reply lost for " + sim_network::impl::name(self_));
        net_.schedule(net_.now + net_.faults.max_delay * 4 + millis{1}, [&port, d = std::move(d)]() mutable {
          port.post_fn([d = std::move(d)]() mutable { d(errc::timed_out, {}); });
        });
        return;
      }
      net_.schedule(net_.lane(server, self_), [this, &port, ec, out = std::move(out),
                                               d = std::move(d)]() mutable {
        if (net_.nodes[self_]->crashed) return;
        std::error_code result = net_.nodes[self_]->cut ? std::error_code(errc::timed_out) : ec;
        port.post_fn([d = std::move(d), result, out = std::move(out)]() mutable {
          d(result, std::move(out));
        });
      });
    });
  }

  static std::error_code put(sim_network::impl& net, const std::string& key,
                             const std::string& value, kv_entry& out) {
    auto& v = net.bucket[key];
    v = {value, ++net.kv_revision, false};
    out = {key, value, v.revision, false};
    for (auto& n : net.nodes) n->kv->notify(out);
    return {};
  }

  void tell(const std::shared_ptr<kv_watch_handler>& h, kv_entry&& e) {
    net_.nodes[self_]->port->post_fn([h, e = std::move(e)]() mutable {
      if (*h) (*h)(std::move(e));
    });
  }

  sim_network::impl& net_;
  const std::size_t self_;
  bool closed_ = false;
  std::string prefix_;
  std::shared_ptr<kv_watch_handler> handler_;
};

}  // namespace

sim_network::sim_network(std::uint64_t seed, sim_faults faults)
    : impl_(std::make_unique<impl>(seed, faults)) {}

sim_network::~sim_network() {
  // Shut every port down first, while transports and stores still exist: callbacks told
  // errc::aborted may still reach them.
  for (auto& n : impl_->nodes) n->port->shutdown();
  impl_->events.clear();
  for (auto& s : impl_->subs) s.inbox->close();
  impl_->subs.clear();
}

std::size_t sim_network::add_node() {
  const std::size_t i = impl_->nodes.size();
  auto n = std::make_unique<impl::node>();
  n->port = std::make_unique<manual_port>();
  // Every port's clock starts at the network's now: advance the fresh port to catch up is not
  // needed, each node only measures intervals on its own clock.
  impl_->nodes.push_back(std::move(n));
  impl_->nodes[i]->t = std::make_unique<sim_transport>(*impl_, i);
  impl_->nodes[i]->kv = std::make_unique<sim_kv>(*impl_, i);
  impl_->record("add " + impl::name(i));
  return i;
}

std::size_t sim_network::size() const noexcept { return impl_->nodes.size(); }
manual_port& sim_network::port(std::size_t n) { return *impl_->nodes.at(n)->port; }
cluster::transport& sim_network::transport(std::size_t n) { return *impl_->nodes.at(n)->t; }
kv_store& sim_network::kv(std::size_t n) { return *impl_->nodes.at(n)->kv; }

void sim_network::crash(std::size_t n) {
  auto& node = *impl_->nodes.at(n);
  if (node.crashed) return;
  node.crashed = true;
  impl_->record("crash " + impl::name(n));
  auto& subs = impl_->subs;
  for (auto it = subs.begin(); it != subs.end();) {
    if (it->node == n) {
      it->inbox->close();
      it = subs.erase(it);
    } else {
      ++it;
    }
  }
}

bool sim_network::crashed(std::size_t n) const { return impl_->nodes.at(n)->crashed; }

void sim_network::isolate(std::size_t n, bool cut) {
  auto& node = *impl_->nodes.at(n);
  if (node.crashed || node.cut == cut) return;
  node.cut = cut;
  impl_->record((cut ? "cut " : "heal ") + impl::name(n));
  static_cast<sim_transport&>(*node.t).set_link(!cut);
}

void sim_network::run_for(millis d) {
  auto& s = *impl_;
  const millis end = s.now + d;
  while (true) {
    while (!s.events.empty() && s.events.begin()->first.first <= s.now.count()) {
      auto fn = std::move(s.events.begin()->second);
      s.events.erase(s.events.begin());
      fn();
    }
    s.run_ready();
    if (s.now >= end) return;
    s.now += millis{1};
    for (auto& n : s.nodes) {
      if (!n->crashed) n->port->advance(millis{1});
    }
  }
}

millis sim_network::now() const noexcept { return impl_->now; }
std::uint64_t sim_network::random(std::uint64_t bound) { return impl_->below(bound); }
const std::vector<std::string>& sim_network::trace() const noexcept { return impl_->trace; }
std::uint64_t sim_network::trace_hash() const noexcept { return impl_->hash; }
void sim_network::keep_trace(bool keep) noexcept { impl_->keep = keep; }

}  // namespace quay::cluster
