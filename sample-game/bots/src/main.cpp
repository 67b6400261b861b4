// quay-bots: runs a Lua scenario script on bots connected to a zone server.
//
//   quay-bots tests/scenarios/chat.lua --server 127.0.0.1:7777            (test mode)
//   quay-bots scripts/wander.lua --bots 2000 --ramp 200 --duration 60     (load mode)
//
// Test mode (the default) runs the script's `--! bots=N` bots (or --bots), prints what the
// scripts log, and exits 0 only if every bot ran its script to the end with every expectation
// held. Load mode (--duration, or --load) starts bots at the ramp rate, shows live figures, stops
// the bots when the duration ends, and prints the final report (or JSON with --json).

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <string>

#include "quay/bots/game_protocol.hpp"
#include "quay/bots/runner.hpp"
#include "quay/net/tls.hpp"

namespace {

std::atomic<bool> g_interrupt{false};

extern "C" void on_sigint(int) { g_interrupt.store(true, std::memory_order_relaxed); }

bool parse_server(const std::string& text, quay::endpoint& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  unsigned long port = 0;
  try {
    port = std::stoul(text.substr(colon + 1));
  } catch (...) {
    return false;
  }
  if (port == 0 || port > 65535) return false;
  auto ep = quay::endpoint::parse(host, static_cast<std::uint16_t>(port));
  if (!ep) return false;
  out = *ep;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "quay-bots: scripted game clients for the Quay zone server. One Lua scenario is both an "
      "integration test (test mode, the default) and a load test (--duration / --load)."};
  std::string script_path;
  std::string server = "127.0.0.1:7777";
  std::size_t bots = 0;
  double ramp = 0;
  double duration_s = 0;
  double warmup_s = 0;
  double timeout_s = 0;
  bool load = false;
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  std::size_t workers = 0;
  std::uint64_t seed = 1;
  std::string prefix = "bot";
  std::vector<std::string> args;
  double progress_s = 1.0;
  std::string tls_ca;
  std::string tls_name = "localhost";
  bool tls = false;

  app.add_option("script", script_path, "the Lua scenario to run (see sample-game/bots/README.md)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("-s,--server", server, "the zone server, HOST:PORT (numeric address)")
      ->capture_default_str();
  app.add_option("-n,--bots", bots,
                 "how many bots run the script (default: the script's `--! bots=N`, else 1)");
  app.add_option("-r,--ramp", ramp, "bots started per second (default: all at once)");
  app.add_option("-d,--duration", duration_s,
                 "load mode: seconds to run; bots still running then are stopped, not failed");
  app.add_option("--warmup", warmup_s,
                 "load mode: seconds after which the figures restart, so rates, round trips "
                 "and staleness cover only the steady state after the ramp");
  app.add_flag("--load", load, "load mode even without --duration (runs until scripts end)");
  app.add_option("-t,--timeout", timeout_s,
                 "test mode: seconds before bots still running fail (default: the script's "
                 "`--! timeout=S`, else 60)");
  app.add_flag("--json", json, "print the final report as one JSON object");
  app.add_flag("-q,--quiet", quiet, "do not print what scripts log");
  app.add_flag("-v,--verbose", verbose, "print what scripts log also in load mode");
  app.add_option("-w,--workers", workers, "worker threads of the bots' port (default: cores)");
  app.add_option("--seed", seed, "seeds every bot's math.random (with its index)")
      ->capture_default_str();
  app.add_option("--name-prefix", prefix, "bot names are PREFIX1, PREFIX2, ...")
      ->capture_default_str();
  app.add_option("-a,--arg", args, "KEY=VALUE passed to scripts as bot.args.KEY (repeatable)");
  app.add_option("--progress", progress_s, "seconds between progress lines in load mode")
      ->capture_default_str();
  app.add_flag("--tls", tls, "speak TLS to the server, trusting the system's CAs (Linux builds)");
  app.add_option("--tls-ca", tls_ca, "speak TLS, trusting this PEM CA or self-signed certificate")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-name", tls_name, "the name the server's certificate must carry (SNI)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::error_code ec;
  auto source = quay::bots::script::load_file(script_path, ec);
  if (!source) {
    std::fprintf(stderr, "quay-bots: cannot read %s: %s\n", script_path.c_str(),
                 ec.message().c_str());
    return 2;
  }

  quay::bots::run_options o;
  if (!parse_server(server, o.server)) {
    std::fprintf(stderr, "quay-bots: --server wants HOST:PORT with a numeric host, got '%s'\n",
                 server.c_str());
    return 2;
  }
  load = load || duration_s > 0;
  o.bots = bots != 0 ? bots : static_cast<std::size_t>(source->directive_int("bots", 1));
  o.ramp_per_s = ramp;
  o.duration = quay::millis{static_cast<long long>(duration_s * 1000)};
  o.warmup = quay::millis{static_cast<long long>(warmup_s * 1000)};
  if (!load) {
    const double t = timeout_s > 0 ? timeout_s
                                   : static_cast<double>(source->directive_int("timeout", 60));
    o.deadline = quay::millis{static_cast<long long>(t * 1000)};
  }
  o.workers = workers;
  o.seed = seed;
  o.name_prefix = prefix;
  for (const auto& kv : args) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "quay-bots: --arg wants KEY=VALUE, got '%s'\n", kv.c_str());
      return 2;
    }
    o.args[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  // TLS: every bot's session gets a client layer (raw connections stay plain: they play
  // broken clients). A scenario that needs TLS says so with `--! tls=1`.
  tls = tls || !tls_ca.empty();
  if (source->directive_int("tls", 0) != 0 && !tls) {
    std::fprintf(stderr, "quay-bots: %s speaks TLS (--! tls=1): give --tls-ca or --tls\n",
                 script_path.c_str());
    return 2;
  }
  if (tls) {
    std::string error;
    quay::net::tls_client_config t;
    t.ca_file = tls_ca;
    t.server_name = tls_name;
    o.session.layer = quay::net::make_tls_client_layer(t, error);
    if (!o.session.layer) {
      std::fprintf(stderr, "quay-bots: TLS: %s\n", error.c_str());
      return 2;
    }
  }
  o.protocol = &quay::bots::make_game_protocol;
  o.interrupt = &g_interrupt;
  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);

  std::mutex out_mu;
  if (!quiet && (!load || verbose)) {
    o.on_log = [&out_mu](std::string_view bot, std::string_view line) {
      std::lock_guard lock(out_mu);
      std::fprintf(stdout, "[%.*s] %.*s\n", static_cast<int>(bot.size()), bot.data(),
                   static_cast<int>(line.size()), line.data());
      std::fflush(stdout);
    };
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  quay::bots::run_report previous;
  if (load) {
    o.progress_every = quay::millis{static_cast<long long>(progress_s * 1000)};
    o.on_progress = [&](const quay::bots::run_report& now) {
      const auto line = quay::bots::progress_line(now, previous);
      previous = now;
      std::lock_guard lock(out_mu);
      // On a terminal the line rewrites itself; in a pipe or a log each sample is a line.
      if (tty) {
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
      } else {
        std::fprintf(stderr, "%s\n", line.c_str());
      }
      std::fflush(stderr);
    };
  }

  if (!json) {
    std::fprintf(stderr, "quay-bots: %s mode, %zu bot%s on %s%s\n", load ? "load" : "test",
                 o.bots, o.bots == 1 ? "" : "s", o.server.to_string().c_str(),
                 load && o.duration.count() > 0
                     ? (", for " + std::to_string(o.duration.count() / 1000) + " s").c_str()
                     : "");
  }
  const auto report = quay::bots::run(*source, o);
  if (load && tty) std::fprintf(stderr, "\n");
  if (json) {
    std::printf("%s\n", report.to_json().c_str());
  } else {
    std::printf("%s", report.to_text().c_str());
    std::printf("%s\n", load ? (report.no_failures() ? "load run: no failures" : "load run: FAILURES")
                             : (report.all_passed() ? "PASSED" : "FAILED"));
  }
  std::fflush(stdout);
  return (load ? report.no_failures() : report.all_passed()) ? 0 : 1;
}
