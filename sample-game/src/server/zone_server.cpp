// zone_server: the wiring of port, actors, network and game actors (see zone_server.hpp).
#include "zone_server.hpp"

#include "quay/net/tls.hpp"

#include "session_token.hpp"

#include <filesystem>
#include <future>

#include <sodium.h>
#include <thread>

#include "demo_client.hpp"
#include "game_actors.hpp"
#include "operator_session.hpp"
#include "player_actor.hpp"
#include "quay/actors/system.hpp"
#include "quay/net/network.hpp"
#include "quay/runtime/io_port.hpp"

namespace quay::game::server {

namespace {

// Tells a waiting thread, once, that every name in its list is bound (the zone actors register
// theirs in their supervisors' first turns), then stops.
class names_watcher final : public actor {
 public:
  names_watcher(std::vector<std::string> names, std::shared_ptr<std::promise<void>> done)
      : pending_(std::move(names)), done_(std::move(done)) {}
  static void define(handlers<names_watcher>& h) { h.on<&names_watcher::on_bound>(); }

  void on_start() override {
    for (const std::string& n : pending_) watch_name(n);
  }

 private:
  void on_bound(const name_bound& m) {
    std::erase(pending_, m.name);
    unwatch_name(m.name);
    if (pending_.empty()) {
      done_->set_value();
      stop();
    }
  }

  std::vector<std::string> pending_;
  std::shared_ptr<std::promise<void>> done_;
};

}  // namespace

// Destruction order matters: network before actors before port (see network's lifetime rule,
// which stop() follows explicitly).
struct zone_server::parts {
  character_store store;  // outlives the port: blocking jobs use it until io.stop() joins them
  explicit parts(const io_port_options& o)
      : io(o), actors(io), network(io, &actors), operator_network(io, &actors) {}
  io_port io;
  actor_system actors;
  net::network network;  // the actors' frame_sink: send and close are thread-safe there
  // The operator listener has its own network: begin_shutdown stops the game port's listener
  // while /readyz must go on answering (503) until the server is gone.
  net::network operator_network;
  std::unique_ptr<operator_routes> routes;
  server_context ctx;
  bool stopped = false;
};

zone_server::zone_server() = default;

zone_server::~zone_server() { stop(std::chrono::milliseconds(0)); }

std::string zone_server::load_session_keys() {
  // The key signs session tokens: from the configuration (hex), else from the key file,
  // generated (mode 0600) on first start. A previous key keeps its tokens valid (rotation).
  auto& keys = config_.settings.session;
  if (!config_.session_key.empty()) {
    const auto k = parse_session_key(config_.session_key);
    if (!k) {
      return "accounts.session_key: not 64 hex digits";
    }
    keys.current = *k;
  } else {
    const std::string file =
        config_.session_key_file.empty()
            ? (std::filesystem::path(config_.data_dir) / "session.key").string()
            : config_.session_key_file;
    if (auto e = load_or_create_key_file(file, keys.current); !e.empty()) {
      return "session key: " + e;
    }
  }
  if (!config_.previous_session_key.empty()) {
    const auto k = parse_session_key(config_.previous_session_key);
    if (!k) {
      return "accounts.previous_session_key: not 64 hex digits";
    }
    keys.previous = *k;
  }
  keys.ready = true;
  return {};
}

std::vector<std::string> zone_server::start(const server_config& config, spdlog::logger* log) {
  config_ = config;
  connection_rate_ = std::make_unique<connection_limiter>(config_.settings.login_limits);
  std::vector<std::string> problems;
  auto world = load_zone_directory(config_.zones_dir);
  for (const auto& e : world.errors) {
    problems.push_back("zone data: " + e.where + ": " + e.message);
  }
  if (!problems.empty()) {
    return problems;
  }
  std::optional<endpoint> at = endpoint::parse(config_.host, config_.port);
  if (!at) {
    return {"host '" + config_.host + "' is not a numeric IPv4/IPv6 address"};
  }

  io_port_options po;
  po.workers = config_.workers;
  po.name = "zone";
  parts_ = std::make_unique<parts>(po);
  parts& p = *parts_;
  std::error_code dir_ec;
  std::filesystem::create_directories(config_.data_dir, dir_ec);
  if (auto e = load_session_keys(); !e.empty()) {
    stop(std::chrono::milliseconds(0));
    return {e};
  }
  const std::string db = (std::filesystem::path(config_.data_dir) / "characters.sqlite3").string();
  std::string load_error = p.store.open(db);
  std::vector<stored_character> stored;
  if (load_error.empty()) {
    // At startup, on the controlling thread, before any game code runs: the one blocking read.
    stored = p.store.load_all(load_error);
  }
  if (!load_error.empty()) {
    parts_.reset();
    return {"database: " + load_error};
  }
  if (log != nullptr) {
    log->info("database {}: {} characters (schema v{})", db, stored.size(), p.store.version());
  }
  p.ctx.sink = &p.network;
  p.ctx.settings = &config_.settings;
  p.ctx.log = log;
  std::vector<std::uint32_t> zone_ids;
  config_.settings.start_zone = config_.start_zone;
  config_.settings.zones.clear();
  config_.settings.max_frame_size =
      static_cast<std::uint32_t>(net::session_options{}.max_frame_size);
  for (const auto& zone : world.zones) {
    zone_ids.push_back(zone.id);
    config_.settings.zones.emplace_back(zone.id, zone.name);
    if (log != nullptr) {
      log->info("zone {} '{}': {}x{} m, {} NPC groups, {} portals", zone.id, zone.name,
                zone.bounds.width, zone.bounds.height, zone.npcs.size(), zone.portals.size());
    }
  }
  for (const auto& zone : world.zones) {
    metrics_.add_zone(zone.id, zone.name);
  }
  p.ctx.metrics = &metrics_;
  if (auto e = load_web_files(log); !e.empty()) {
    stop(std::chrono::milliseconds(0));
    return {e};
  }
  p.ctx.web = &web_;
  game_setup setup;
  setup.start_zone = config_.start_zone;
  setup.zones = std::move(world.zones);
  setup.store = &p.store;
  setup.stored = std::move(stored);
  setup.online = &online_;
  setup.counters = &persistence_;
  const game_actors services = spawn_game_actors(p.actors, p.ctx, std::move(setup));
  metrics_.track("gateway", services.gateway);
  metrics_.track("chat", services.chat);
  metrics_.track("persistence", services.persistence);
  for (const actor_ref z : services.zone_supervisors) {
    metrics_.track("zone_supervisor", z);
  }
  // Each zone actor registers its name in its supervisor's first turn: wait (bounded) until a
  // watcher actor has seen every zone name bound, so no login finds its zone missing.
  std::vector<std::string> zone_names;
  for (const std::uint32_t id : zone_ids) zone_names.push_back(zone_actor_name(id));
  auto all_bound = std::make_shared<std::promise<void>>();
  std::future<void> bound = all_bound->get_future();
  const actor_ref watcher = p.actors.spawn<names_watcher>(zone_names, all_bound);
  if (bound.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    (void)p.actors.kill(watcher);
    std::string missing;
    for (const std::uint32_t id : zone_ids) {
      if (!p.actors.whereis(zone_actor_name(id))) {
        if (!missing.empty()) missing += ", ";
        missing += std::to_string(id);
      }
    }
    stop(std::chrono::milliseconds(0));
    std::string why = "zones did not start: ";
    why += missing;
    return {why};
  }

  net::listen_options lo;
  lo.at = *at;
  // Up to max_players + slack connections are served; the next ones up to twice the slack get
  // Kicked{ServerFull} from their player actor (see player_actor's constructor); past those the
  // listener itself closes them bare (a flood of connections costs no actor).
  lo.max_connections = config_.settings.max_players + 2 * config_.settings.connection_slack;
  // With web.enabled, one port for every client: Quay over TCP, WebSocket (the web client) and
  // plain GETs for the web client's files (docs/protocol.md).
  lo.protocols.quay = true;
  lo.protocols.websocket = config_.web_enabled;
  lo.protocols.http = config_.web_enabled;
  // TLS: a port with a certificate is TLS-only (a plain-text client is refused and logged).
  if (!config_.tls_certificate_file.empty() || !config_.tls_private_key_file.empty()) {
    if (config_.tls_certificate_file.empty() || config_.tls_private_key_file.empty()) {
      stop(std::chrono::milliseconds(0));
      return {"TLS needs both tls.certificate_file and tls.private_key_file"};
    }
    std::string error;
    lo.session.layer = net::make_tls_server_layer(
        {config_.tls_certificate_file, config_.tls_private_key_file,
         std::chrono::milliseconds(config_.tls_handshake_timeout_ms)},
        error);
    if (!lo.session.layer) {
      stop(std::chrono::milliseconds(0));
      return {"TLS: " + error};
    }
    if (log != nullptr) {
      log->info("client port speaks TLS only (certificate {})", config_.tls_certificate_file);
    }
  }
  p.ctx.connections = &connections_;
  p.ctx.connection_rate = connection_rate_.get();
  actor_system* actors = &p.actors;
  const auto make_factory = [actors](const server_context& ctx) {
    return [actors, ctx](net::session_handle s, const endpoint& peer) {
      ctx.metrics->sessions_accepted.fetch_add(1, std::memory_order_relaxed);
      // The address without its port: limits and logs are per source address.
      std::string address = peer.to_string();
      if (const auto colon = address.rfind(':'); colon != std::string::npos) {
        address.resize(colon);
      }
      return actors->spawn<player_actor>(ctx, s, std::move(address));
    };
  };
  p.ctx.defer_refusals = config_.web_enabled;
  std::error_code ec = p.network.listen(lo, make_factory(p.ctx), &bound_);
  if (ec == std::errc::protocol_not_supported) {
    // A build without the WebSocket core (the Windows cross-build): Quay over TCP only.
    if (log != nullptr) log->warn("WebSocket and HTTP not built here: the game port serves TCP only");
    lo.protocols.websocket = false;
    lo.protocols.http = false;
    p.ctx.defer_refusals = false;
    ec = p.network.listen(lo, make_factory(p.ctx), &bound_);
  }
  if (ec) {
    stop(std::chrono::milliseconds(0));
    return {"listen on " + at->to_string() + ": " + ec.message()};
  }
  started_ = std::chrono::steady_clock::now();
  start_run_queue_probe();
  if (auto e = start_operator_listener(log); !e.empty()) {
    stop(std::chrono::milliseconds(0));
    return {e};
  }
  ready_.store(true, std::memory_order_release);
  return {};
}

std::string zone_server::load_web_files(spdlog::logger* log) {
  std::string dir = config_.web_dir;
#ifdef QUAY_WEB_SITE_DIR
  if (dir.empty()) dir = QUAY_WEB_SITE_DIR;
#endif
  if (dir.empty() || !std::filesystem::is_directory(dir)) {
    if (!config_.web_dir.empty()) return "web.dir: " + config_.web_dir + " is not a directory";
    if (log != nullptr) {
      log->warn("the web client is not built (needs node and `npm ci` in web/): GET / answers 404");
    }
    return {};
  }
  if (auto e = web_.load_directory(dir); !e.empty()) return "web files: " + e;
  return {};
}

std::string zone_server::start_operator_listener(spdlog::logger* log) {
  if (!config_.operator_enabled) {
    return {};
  }
  parts& p = *parts_;
  operator_token_ = config_.operator_token;
  if (operator_token_.empty()) {
    // No token configured: a fresh random one for this run, printed once in the log (the
    // operator copies the admin URL from there; scripts/run.sh prints it).
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    static constexpr char hex[] = "0123456789abcdef";
    for (const unsigned char b : raw) {
      operator_token_ += hex[b >> 4];
      operator_token_ += hex[b & 15];
    }
  }
  const std::optional<endpoint> at = endpoint::parse(config_.operator_host, config_.operator_port);
  if (!at) {
    return "operator.host '" + config_.operator_host + "' is not a numeric IPv4/IPv6 address";
  }
  operator_routes::sources src;
  src.scrape = [this] { return scrape(); };
  src.ready = [this] { return ready(); };
  src.pages = &web_;
  p.routes = std::make_unique<operator_routes>(operator_token_, std::move(src), log);
  net::listen_options lo;
  lo.at = *at;
  lo.max_connections = 64;
  lo.protocols.quay = false;
  lo.protocols.websocket = true;
  lo.protocols.http = true;
  actor_system* actors = &p.actors;
  const operator_routes* routes = p.routes.get();
  frame_sink* sink = &p.operator_network;
  const std::error_code ec = p.operator_network.listen(
      lo,
      [actors, routes, sink, log](net::session_handle s, const endpoint& peer) {
        return actors->spawn<operator_session>(routes, sink, s, peer.to_string(), log);
      },
      &operator_bound_);
  if (ec == std::errc::protocol_not_supported) {
    if (log != nullptr) log->warn("no operator listener: HTTP is not built here");
    return {};
  }
  if (ec) {
    return "operator listener on " + at->to_string() + ": " + ec.message();
  }
  return {};
}

void zone_server::start_run_queue_probe() {
  // Every 250 ms a completion is posted and the time until a worker runs it is recorded: the
  // run queue's delay as a completion sees it, which is what a player's message waits too.
  // metrics_ outlives the port (declared before parts_), so the callbacks may name it.
  io_port* io = &parts_->io;
  server_metrics* m = &metrics_;
  (void)io->start_timer(
      millis(250),
      [io, m](std::error_code ec) {
        if (ec) return;
        const auto posted = std::chrono::steady_clock::now();
        io->post_fn([m, posted] {
          m->run_queue_delay.observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - posted).count());
        });
      },
      millis(250));
}

metrics_scrape zone_server::scrape() {
  metrics_scrape s;
  s.ready = ready();
  s.players_online = online();
  s.sessions_open = connections_.load(std::memory_order_acquire);
  s.sessions_accepted = metrics_.sessions_accepted.load(std::memory_order_relaxed);
  s.persistence_pending = persistence_.pending.load(std::memory_order_relaxed);
  s.persistence_batches = persistence_.batches_written.load(std::memory_order_relaxed);
  s.persistence_characters = persistence_.characters_written.load(std::memory_order_relaxed);
  s.persistence_failures = persistence_.write_failures.load(std::memory_order_relaxed);
  s.persistence_retries = persistence_.retries.load(std::memory_order_relaxed);
  if (started_ != std::chrono::steady_clock::time_point{}) {
    s.uptime_s = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                         started_)
            .count());
  }
  // parts_ is set and reset only by the controlling thread (start/stop); scrapes come from
  // the operator listener, which stop() shuts down before it resets parts_.
  if (parts_ && !parts_->stopped) {
    metrics_.collect(parts_->actors, s);
  }
  return s;
}

void zone_server::start_demo_clients(std::size_t n) {
  if (!parts_) {
    return;
  }
  for (std::size_t i = 1; i <= n; ++i) {
    parts_->actors.spawn<demo_client>(&parts_->network, bound_, "demo" + std::to_string(i),
                                      std::uint64_t{1000} + i);
  }
}

void zone_server::begin_shutdown() {
  ready_.store(false, std::memory_order_release);  // /readyz answers 503 from now on
  if (parts_ && !parts_->stopped) {
    // Stop accepting first: a connection from now on is refused by the OS. A session accepted
    // just before is refused at login by the gateway (ServerShuttingDown).
    parts_->network.stop_listening();
    (void)parts_->actors.send(parts_->ctx.gateway, shutdown_msg{});
  }
}

bool zone_server::inject_zone_fault(std::uint32_t id) {
  if (!parts_ || parts_->stopped) {
    return false;
  }
  const auto zone = parts_->actors.whereis(zone_actor_name(id));
  return zone && !parts_->actors.send(*zone, zone_fault_msg{"requested by the operator"});
}

std::size_t zone_server::stop(std::chrono::milliseconds grace) {
  if (!parts_ || parts_->stopped) {
    return 0;
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  // Bounded wait: every player's kick, final save and release go through the gateway.
  const auto busy = [&] {
    return online() != 0 || persistence_.pending.load(std::memory_order_acquire) != 0;
  };
  while (busy() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::size_t left = online() + persistence_.pending.load(std::memory_order_acquire);
  // The operator listener goes first: its scrapes read parts_, which is reset below.
  parts_->operator_network.shutdown();
  parts_->network.shutdown();
  parts_->io.stop();
  parts_->stopped = true;
  parts_.reset();
  return left;
}

}  // namespace quay::game::server
