// zone_server: the wiring of port, actors, network and game actors (see zone_server.hpp).
#include "zone_server.hpp"

#include "quay/net/tls.hpp"

#include "session_token.hpp"

#include <filesystem>
#include <thread>

#include "demo_client.hpp"
#include "game_actors.hpp"
#include "player_actor.hpp"
#include "quay/actors/system.hpp"
#include "quay/net/network.hpp"
#include "quay/runtime/io_port.hpp"

namespace quay::game::server {

namespace {

// Frames go straight to the network: send and close are thread-safe there.
class network_sink final : public frame_sink {
public:
  explicit network_sink(net::network& n) : net_(n) {}
  void send(net::session_handle s, net::frame f) override { (void)net_.send(s, std::move(f)); }
  void close(net::session_handle s, std::error_code reason) override {
    (void)net_.close(s, reason);
  }

private:
  net::network& net_;
};

}  // namespace

// Destruction order matters: network before actors before port (see network's lifetime rule,
// which stop() follows explicitly).
struct zone_server::parts {
  character_store store;  // outlives the port: blocking jobs use it until io.stop() joins them
  explicit parts(const io_port_options& o) : io(o), actors(io), network(io, &actors), sink(network) {}
  io_port io;
  actor_system actors;
  net::network network;
  network_sink sink;
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
  p.ctx.sink = &p.sink;
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
  game_setup setup;
  setup.start_zone = config_.start_zone;
  setup.zones = std::move(world.zones);
  setup.store = &p.store;
  setup.stored = std::move(stored);
  setup.online = &online_;
  setup.counters = &persistence_;
  spawn_game_actors(p.actors, p.ctx, std::move(setup));
  // Each zone actor registers its name in its supervisor's first turn: wait (bounded) for all
  // of them before letting players in, so no login finds its zone missing.
  const auto zones_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (const std::uint32_t id : zone_ids) {
    while (!p.actors.whereis(zone_actor_name(id)) &&
           std::chrono::steady_clock::now() < zones_deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!p.actors.whereis(zone_actor_name(id))) {
      stop(std::chrono::milliseconds(0));
      return {"zone " + std::to_string(id) + " did not start"};
    }
  }

  net::listen_options lo;
  lo.at = *at;
  // Up to max_players + slack connections are served; the next ones up to twice the slack get
  // Kicked{ServerFull} from their player actor (see player_actor's constructor); past those the
  // listener itself closes them bare (a flood of connections costs no actor).
  lo.max_connections = config_.settings.max_players + 2 * config_.settings.connection_slack;
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
  const server_context ctx = p.ctx;  // with the connection count (players only)
  actor_system* actors = &p.actors;
  const std::error_code ec = p.network.listen(
      lo,
      [actors, ctx](net::session_handle s, const endpoint& peer) {
        // The address without its port: limits and logs are per source address.
        std::string address = peer.to_string();
        if (const auto colon = address.rfind(':'); colon != std::string::npos) {
          address.resize(colon);
        }
        return actors->spawn<player_actor>(ctx, s, std::move(address));
      },
      &bound_);
  if (ec) {
    stop(std::chrono::milliseconds(0));
    return {"listen on " + at->to_string() + ": " + ec.message()};
  }
  return {};
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
  parts_->network.shutdown();
  parts_->io.stop();
  parts_->stopped = true;
  parts_.reset();
  return left;
}

}  // namespace quay::game::server
