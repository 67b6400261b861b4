// The key-value store over JetStream (libnats kvStore). libnats's kv calls block (each is a
// request to the server), so they run on the port's blocking-work pool and their results are
// posted back; the watch runs on a thread of its own that only moves entries into a serial
// queue drained on a worker.
#include <chrono>

#include "nats_impl.hpp"

namespace quay::cluster {

namespace {

class nats_kv final : public kv_store {
 public:
  struct core {
    std::shared_ptr<nats_transport::impl> t;  // keeps the connection alive
    jsCtx* js = nullptr;
    kvStore* kv = nullptr;
    std::atomic<bool> closed{false};
    ~core() {
      if (kv) kvStore_Destroy(kv);
      if (js) jsCtx_Destroy(js);
    }
  };

  explicit nats_kv(std::shared_ptr<core> c) : c_(std::move(c)) {}
  ~nats_kv() override { close(); }

  void get(std::string_view key, kv_done done) override {
    run(std::string(key), std::move(done), [](kvStore* kv, const std::string& k, kv_entry& out) {
      kvEntry* e = nullptr;
      const natsStatus st = kvStore_Get(&e, kv, k.c_str());
      if (st != NATS_OK) return from_nats(st);
      out = to_entry(e);
      kvEntry_Destroy(e);
      return std::error_code{};
    });
  }

  void create(std::string_view key, std::string_view value, kv_done done) override {
    run(std::string(key), std::move(done),
        [v = std::string(value)](kvStore* kv, const std::string& k, kv_entry& out) {
          std::uint64_t rev = 0;
          const natsStatus st = kvStore_Create(&rev, kv, k.c_str(), v.data(), static_cast<int>(v.size()));
          if (st == NATS_OK) {
            out = {k, v, rev, false};
            return std::error_code{};
          }
          // libnats reports a refused create as a generic error: read the key to tell
          // "exists" from a real failure.
          kvEntry* e = nullptr;
          if (kvStore_Get(&e, kv, k.c_str()) == NATS_OK) {
            kvEntry_Destroy(e);
            return std::error_code(errc::key_exists);
          }
          return from_nats(st);
        });
  }

  void update(std::string_view key, std::string_view value, std::uint64_t expected,
              kv_done done) override {
    run(std::string(key), std::move(done),
        [v = std::string(value), expected](kvStore* kv, const std::string& k, kv_entry& out) {
          std::uint64_t rev = 0;
          const natsStatus st =
              kvStore_Update(&rev, kv, k.c_str(), v.data(), static_cast<int>(v.size()), expected);
          if (st == NATS_OK) {
            out = {k, v, rev, false};
            return std::error_code{};
          }
          // Same for a lost compare-and-set: the key's revision says whether someone was first.
          kvEntry* e = nullptr;
          if (kvStore_Get(&e, kv, k.c_str()) == NATS_OK) {
            const auto current = kvEntry_Revision(e);
            kvEntry_Destroy(e);
            if (current != expected) return std::error_code(errc::wrong_revision);
          }
          return from_nats(st);
        });
  }

  void watch(std::string_view prefix, kv_watch_handler handler) override {
    stop_watch();
    if (c_->closed.load()) return;
    auto& p = c_->t->port_;
    queue_ = std::make_shared<detail::serial_queue<kv_entry>>(p, std::move(handler), 65536);
    kvWatcher* w = nullptr;
    const std::string keys = std::string(prefix) + ">";
    const natsStatus st = kvStore_Watch(&w, c_->kv, keys.c_str(), nullptr);
    if (st != NATS_OK) {
      c_->t->log_->warn("cluster: kv watch of {} failed: {}", keys, natsStatus_GetText(st));
      return;
    }
    watcher_ = w;
    watch_stop_.store(false);
    watch_thread_ = std::thread([w, q = queue_, core = c_, this] {
      while (!watch_stop_.load()) {
        kvEntry* e = nullptr;
        const natsStatus s = kvWatcher_Next(&e, w, 250);
        if (s == NATS_OK) {
          if (e) {  // a null entry marks the end of the initial values
            q->push(to_entry(e));
            kvEntry_Destroy(e);
          }
        } else if (s != NATS_TIMEOUT) {
          // Stopped, or the connection is down: back off, bounded, and try again.
          std::unique_lock lock(watch_mutex_);
          watch_cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return watch_stop_.load(); });
        }
      }
    });
  }

  void close() override {
    if (c_->closed.exchange(true)) return;
    stop_watch();
  }

 private:
  static kv_entry to_entry(kvEntry* e) {
    kv_entry out;
    out.key = kvEntry_Key(e);
    const auto* v = static_cast<const char*>(kvEntry_Value(e));
    out.value.assign(v ? v : "", static_cast<std::size_t>(kvEntry_ValueLen(e)));
    out.revision = kvEntry_Revision(e);
    out.deleted = kvEntry_Operation(e) != kvOp_Put;
    return out;
  }

  template <class Op>
  void run(std::string key, kv_done done, Op op) {
    auto& p = c_->t->port_;
    if (c_->closed.load()) {
      p.post_fn([d = std::move(done)]() mutable { d(errc::closed, {}); });
      return;
    }
    struct result {
      std::error_code ec;
      kv_entry entry;
    };
    auto r = std::make_shared<result>();
    p.run_blocking(
        [core = c_, r, key = std::move(key), op = std::move(op)]() mutable {
          r->ec = op(core->kv, key, r->entry);
        },
        [r, d = std::move(done)](std::error_code ec) mutable {
          if (ec) r->ec = errc::closed;
          d(r->ec, std::move(r->entry));
        });
  }

  void stop_watch() {
    if (!watcher_) return;
    {
      std::lock_guard lock(watch_mutex_);
      watch_stop_.store(true);
    }
    watch_cv_.notify_all();
    kvWatcher_Stop(watcher_);
    if (watch_thread_.joinable()) watch_thread_.join();
    kvWatcher_Destroy(watcher_);
    watcher_ = nullptr;
    if (queue_) queue_->close();
  }

  std::shared_ptr<core> c_;
  std::shared_ptr<detail::serial_queue<kv_entry>> queue_;
  kvWatcher* watcher_ = nullptr;
  std::thread watch_thread_;
  std::atomic<bool> watch_stop_{false};
  std::mutex watch_mutex_;
  std::condition_variable watch_cv_;
};

}  // namespace

std::unique_ptr<kv_store> nats_transport::open_kv(const std::string& bucket, std::error_code& ec) {
  auto c = std::make_shared<nats_kv::core>();
  c->t = impl_;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 2000;  // ms: a kv call gives up after this (the server is gone)
  natsStatus st = natsConnection_JetStream(&c->js, impl_->nc_, &jo);
  if (st == NATS_OK) {
    st = js_KeyValue(&c->kv, c->js, bucket.c_str());
    if (st != NATS_OK) {
      kvConfig cfg;
      kvConfig_Init(&cfg);
      cfg.Bucket = bucket.c_str();
      cfg.History = 1;
      st = js_CreateKeyValue(&c->kv, c->js, &cfg);
      if (st != NATS_OK) st = js_KeyValue(&c->kv, c->js, bucket.c_str());  // lost a create race
    }
  }
  if (st != NATS_OK) {
    impl_->log_->warn("cluster: cannot open kv bucket {}: {} ({})", bucket, natsStatus_GetText(st),
                      nats_GetLastError(nullptr) ? nats_GetLastError(nullptr) : "");
    ec = from_nats(st);
    if (!ec) ec = errc::server_error;
    return nullptr;
  }
  ec = {};
  return std::make_unique<nats_kv>(std::move(c));
}

}  // namespace quay::cluster
