// zone-server: the sample MMO zone server. Loads the zones, listens for clients, and runs the
// gateway, one actor per zone and one per player on a Quay io_port until SIGINT/SIGTERM; then
// stops accepting, saves and kicks every player with ServerShuttingDown, and exits 0.
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "accounts_command.hpp"
#include "config.hpp"
#include "zone_server.hpp"

#ifndef QUAY_GAME_DATA_DIR
#error "the build passes QUAY_GAME_DATA_DIR"
#endif

namespace {

using namespace quay;
using namespace quay::game;
using namespace quay::game::server;

std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) { g_signal.store(sig); }

std::shared_ptr<spdlog::logger> make_logger(const server_config& c) {
  std::filesystem::create_directories(c.data_dir);
  const std::string file =
      c.log_file.empty() ? (std::filesystem::path(c.data_dir) / "zone-server.log").string()
                         : c.log_file;
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto rotating = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(file, 10 << 20, 3);
  auto logger = std::make_shared<spdlog::logger>("zone-server",
                                                 spdlog::sinks_init_list{console, rotating});
  logger->set_level(spdlog::level::from_str(c.log_level));
  logger->flush_on(spdlog::level::info);
  return logger;
}

}  // namespace

int main(int argc, char** argv) {
  server_config config;
  config.zones_dir = std::string(QUAY_GAME_DATA_DIR) + "/zones";

  CLI::App app{"zone-server: the Quay sample MMO zone server (login, zones with area of "
               "interest, movement, chat, NPCs, combat, portals).\nSettings come from the "
               "defaults, then --config's TOML file, then the options below."};
  std::string config_file;
  app.add_option("-c,--config", config_file, "TOML configuration file (see sample-game/zone-server.toml)")
      ->check(CLI::ExistingFile);
  std::string host;
  std::uint16_t port = 0;
  std::size_t workers = 0;
  std::string zones_dir;
  std::string data_dir;
  std::string log_file;
  std::string log_level;
  std::uint16_t tick_rate = 0;
  std::size_t max_players = 0;
  std::uint32_t stats_interval = 0;
  std::uint32_t save_interval = 0;
  bool no_dev_accounts = false;
  bool dev_accounts = false;
  std::uint64_t hash_ops = 0;
  std::size_t hash_mem = 0;
  double connection_burst = 0;
  double connections_per_second = 0;
  std::size_t demo_clients = 0;
  std::uint32_t resume_grace = 0;
  std::string tls_cert;
  std::string tls_key;
  app.add_option("--host", host, "address to listen on (default 127.0.0.1)");
  app.add_option("-p,--port", port, "TCP port to listen on (default 7777; 0 picks a free one)");
  app.add_option("-w,--workers", workers, "worker threads of the completion port (default: one per core)");
  app.add_option("--zones", zones_dir, "directory of zone *.toml files (default: the shipped sample-game/data/zones)");
  app.add_option("--data-dir", data_dir, "directory for the log file and saved data (default ./zone-server-data)");
  app.add_option("--log-file", log_file, "rotating log file (default <data-dir>/zone-server.log)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error (default info)");
  app.add_option("--tick-rate", tick_rate, "zone ticks per second, 1-100 (default 10)");
  app.add_option("--max-players", max_players, "players online at once (default 10000)");
  app.add_option("--stats-interval", stats_interval, "seconds between per-zone CCU/tick statistics lines (default 10)");
  app.add_option("--save-interval", save_interval, "seconds between each zone's saves of everyone in it (default 30)");
  app.add_flag("--dev-accounts", dev_accounts, "development mode: unknown names create their account at their first login (off by default)");
  app.add_flag("--no-dev-accounts", no_dev_accounts, "refuse unknown names (the default; overrides the config file)");
  app.add_option("--hash-ops-limit", hash_ops, "argon2id passes per secret hash (default 2)");
  app.add_option("--connection-burst", connection_burst, "new connections one source address may open at once (default 20)");
  app.add_option("--connections-per-second", connections_per_second, "new connections per second and source address, sustained (default 5)");
  app.add_option("--hash-mem-limit", hash_mem, "argon2id memory per secret hash in bytes (default 64 MiB, minimum 8192)");
  app.add_option("--resume-grace", resume_grace, "seconds a dropped character stays in the world for a resume (default 20; 0: off)");
  app.add_option("--tls-cert", tls_cert, "PEM certificate: the client port speaks TLS only (with --tls-key; Linux builds)");
  app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert");
  app.add_option("--demo-clients", demo_clients, "start this many built-in demo clients that log in over TCP and wander (default 0)");
  accounts_request account;
  auto* accounts = app.add_subcommand(
      "accounts", "operator command on <data-dir>/characters.sqlite3 (run it while the server is "
                  "stopped): create|disable|enable|reset NAME; create and reset read the secret "
                  "from --secret or the first line of standard input");
  accounts->fallthrough();  // --data-dir, --config and the hash options may follow it
  accounts->add_option("action", account.action, "create, disable, enable or reset")->required();
  accounts->add_option("name", account.name, "the account's (character's) name")->required();
  accounts->add_option("--secret", account.secret,
                       "the secret (otherwise read from standard input; a flag shows in ps)");
  CLI11_PARSE(app, argc, argv);

  if (!config_file.empty()) {
    const auto errors = load_config_file(config_file, config);
    for (const auto& e : errors) {
      std::fprintf(stderr, "config: %s\n", e.c_str());
    }
    if (!errors.empty()) {
      return 2;
    }
  }
  // Command-line options override the file.
  if (app.count("--host")) config.host = host;
  if (app.count("--port")) config.port = port;
  if (app.count("--workers")) config.workers = workers;
  if (app.count("--zones")) config.zones_dir = zones_dir;
  if (app.count("--data-dir")) config.data_dir = data_dir;
  if (app.count("--log-file")) config.log_file = log_file;
  if (app.count("--log-level")) config.log_level = log_level;
  if (app.count("--tick-rate")) config.settings.tick_rate = tick_rate;
  if (app.count("--max-players")) config.settings.max_players = max_players;
  if (app.count("--stats-interval")) config.settings.stats_interval_s = stats_interval;
  if (app.count("--save-interval")) config.settings.save_interval_s = save_interval;
  if (dev_accounts) config.settings.dev_accounts = true;
  if (no_dev_accounts) config.settings.dev_accounts = false;
  if (app.count("--hash-ops-limit")) config.settings.hash.ops_limit = hash_ops;
  if (app.count("--hash-mem-limit")) config.settings.hash.mem_limit = hash_mem;
  if (app.count("--resume-grace")) config.settings.resume_grace_s = resume_grace;
  if (app.count("--connection-burst")) config.settings.login_limits.connections.burst = connection_burst;
  if (app.count("--connections-per-second")) {
    config.settings.login_limits.connections.per_second = connections_per_second;
  }
  if (app.count("--tls-cert")) config.tls_certificate_file = tls_cert;
  if (app.count("--tls-key")) config.tls_private_key_file = tls_key;
  if (!sodium_ready()) {
    std::fprintf(stderr, "libsodium could not be initialised\n");
    return 2;
  }
  if (accounts->parsed()) {
    std::filesystem::create_directories(config.data_dir);
    account.database = (std::filesystem::path(config.data_dir) / "characters.sqlite3").string();
    account.secret_given = accounts->count("--secret") != 0;
    account.start_zone = config.start_zone;
    account.hash = config.settings.hash;
    return run_accounts_command(account, std::cin, std::cout, std::cerr);
  }
  if (config.settings.tick_rate == 0 || config.settings.tick_rate > 100) {
    std::fprintf(stderr, "--tick-rate must be between 1 and 100\n");
    return 2;
  }

  if (demo_clients > 0 && !config.tls_certificate_file.empty()) {
    std::fprintf(stderr, "--demo-clients speak plain TCP: not with a TLS listener\n");
    return 2;
  }
  if (demo_clients > 0 && !config.settings.dev_accounts) {
    // The built-in demo clients make their names up and all connect from 127.0.0.1.
    std::fprintf(stderr, "--demo-clients needs development accounts: add --dev-accounts "
                         "(and --connection-burst/--connections-per-second above the count)\n");
    return 2;
  }
  auto logger = make_logger(config);
  zone_server server;
  const auto problems = server.start(config, logger.get());
  for (const auto& p : problems) {
    logger->error("{}", p);
  }
  if (!problems.empty()) {
    return 2;
  }
  logger->info("zone-server listening on {} (tick {} Hz, dev accounts {})",
               server.bound().to_string(), config.settings.tick_rate,
               config.settings.dev_accounts ? "on" : "off");

  if (demo_clients > 0) {
    logger->info("starting {} demo clients", demo_clients);
    server.start_demo_clients(demo_clients);
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  while (g_signal.load() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  logger->info("signal {}: stopping (saving and closing {} sessions)", g_signal.load(),
               server.online());
  server.begin_shutdown();
  const std::size_t left = server.stop(std::chrono::seconds(config.shutdown_grace_s));
  if (left != 0) {
    logger->warn("{} players still online after {} s; closed anyway", left,
                 config.shutdown_grace_s);
  }
  logger->info("stopped");
  return 0;
}
