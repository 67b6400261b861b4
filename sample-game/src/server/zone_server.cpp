// zone_server: the wiring of port, actors, network and game actors (see zone_server.hpp).
#include "zone_server.hpp"

#include <filesystem>
#include <thread>

#include "demo_client.hpp"
#include "gateway_actor.hpp"
#include "player_actor.hpp"
#include "quay/actors/system.hpp"
#include "quay/net/network.hpp"
#include "quay/runtime/io_port.hpp"
#include "zone_actor.hpp"

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

std::vector<std::string> zone_server::start(const server_config& config, spdlog::logger* log) {
  config_ = config;
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
  p.ctx.gateway = p.actors.spawn<gateway_actor>(p.ctx, config_.start_zone, &online_, &p.store,
                                                std::move(stored), &pending_writes_);
  p.actors.register_name("gateway", p.ctx.gateway);
  std::uint64_t seed = 1;
  for (auto& zone : world.zones) {
    const std::uint32_t id = zone.id;
    if (log != nullptr) {
      log->info("zone {} '{}': {}x{} m, {} NPC groups, {} portals", id, zone.name,
                zone.bounds.width, zone.bounds.height, zone.npcs.size(), zone.portals.size());
    }
    p.actors.register_name(zone_actor_name(id),
                           p.actors.spawn<zone_actor>(p.ctx, std::move(zone), seed++));
  }

  net::listen_options lo;
  lo.at = *at;
  lo.max_connections = config_.settings.max_players + 64;
  const server_context ctx = p.ctx;
  actor_system* actors = &p.actors;
  const std::error_code ec = p.network.listen(
      lo,
      [actors, ctx](net::session_handle s, const endpoint&) {
        return actors->spawn<player_actor>(ctx, s);
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
    // From here on the gateway refuses logins (ServerShuttingDown): the listener still accepts
    // TCP connections until stop(), but no new player enters the world.
    (void)parts_->actors.send(parts_->ctx.gateway, shutdown_msg{});
  }
}

std::size_t zone_server::stop(std::chrono::milliseconds grace) {
  if (!parts_ || parts_->stopped) {
    return 0;
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  // Bounded wait: every player's kick, final save and release go through the gateway.
  const auto busy = [&] {
    return online() != 0 || pending_writes_.load(std::memory_order_acquire) != 0;
  };
  while (busy() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::size_t left = online() + pending_writes_.load(std::memory_order_acquire);
  parts_->network.shutdown();
  parts_->io.stop();
  parts_->stopped = true;
  parts_.reset();
  return left;
}

}  // namespace quay::game::server
