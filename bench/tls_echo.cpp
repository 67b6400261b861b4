// bench_tls_echo: TLS echo against plain echo in the same run (issue 20). One Quay echo server
// (a session_handler on one worker) listens twice, plain TCP and TLS (a throwaway self-signed
// EC P-256 certificate written at start); a Quay client on its own one-worker port measures
// both the same way, alternating:
//   frames:     C connections keep D frames of S bytes in flight each; round trips per second;
//   handshakes: K connect loops: connect, (TLS handshake,) one echoed frame, close, again;
//               completed connections per second (the client's handshake and certificate check
//               run on the same machine: both ends' cost is in the figure).
// Prints `BENCH name=... impl=plain|tls value=... unit=...` lines (scripts/bench.sh records
// them) and the ratios tls/plain.
//
//   bench_tls_echo [--connections=C] [--depth=D] [--payload=S] [--loops=K] [--seconds=T]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include "quay/net/envelope.hpp"
#include "quay/net/network.hpp"
#include "quay/net/tls.hpp"
#include "quay/runtime/io_port.hpp"
#include "self_signed.hpp"

namespace {

using namespace quay;
using clock_type = std::chrono::steady_clock;

struct config {
  std::size_t connections = 50;
  std::size_t depth = 4;
  std::size_t payload = 64;
  std::size_t loops = 4;
  double seconds = 1.0;
};

io_port_options one_worker(const char* name) {
  io_port_options o;
  o.workers = 1;
  o.blocking_threads = 1;
  o.name = name;
  return o;
}

net::session_options quiet_sessions() {
  net::session_options o;
  o.idle_timeout = std::chrono::milliseconds(0);
  o.heartbeat_interval = std::chrono::milliseconds(0);
  o.send_high_water = 64 << 20;
  return o;
}

double process_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The server: echoes every frame on the worker that read it.
class echo_server final : private net::session_handler {
 public:
  explicit echo_server(const net::stream_layer_factory& tls) : port_(one_worker("echo")), net_(port_, nullptr) {
    net::listen_options plain;
    plain.max_connections = 100'000;
    plain.session = quiet_sessions();
    net::listen_options secure = plain;
    secure.session.layer = tls;
    endpoint at;
    if (net_.listen(plain, *this, &at)) std::abort();
    plain_ = at;
    if (net_.listen(secure, *this, &at)) std::abort();
    tls_ = at;
  }
  ~echo_server() {
    net_.shutdown();
    port_.stop();
  }
  endpoint plain_at() const { return plain_; }
  endpoint tls_at() const { return tls_; }

 private:
  void on_accepted(net::session_handle, const endpoint&) override {}
  void on_frame(net::session_handle s, const net::frame& f, const net::envelope_view&) override {
    net_.send(s, f);
  }
  void on_closed(net::session_handle, std::error_code) override {}

  io_port port_;
  net::network net_;
  endpoint plain_, tls_;
};

// The client of one phase: its own port and network, torn down at the end of the phase.
class client final : private net::session_handler {
 public:
  enum class mode { frames, handshakes };
  client(mode m, const config& c, endpoint target, net::stream_layer_factory layer)
      : mode_(m), cfg_(c), target_(target), port_(one_worker("client")), net_(port_, nullptr) {
    options_ = quiet_sessions();
    options_.layer = std::move(layer);
    const std::string payload(c.payload, 'q');
    frame_ = net::encode_envelope(100, 1, std::as_bytes(std::span(payload.data(), payload.size())));
  }
  ~client() {
    net_.shutdown();
    port_.stop();
  }

  // Runs the phase: a warm-up of a quarter of the window, then the window. Returns per second.
  double run() {
    const std::size_t n = mode_ == mode::frames ? cfg_.connections : cfg_.loops;
    for (std::size_t i = 0; i < n; ++i) net_.connect(target_, *this, options_);
    std::this_thread::sleep_for(std::chrono::duration<double>(cfg_.seconds / 4));
    const std::uint64_t before = done_.load();
    const auto t0 = clock_type::now();
    const double cpu0 = process_cpu_s();
    std::this_thread::sleep_for(std::chrono::duration<double>(cfg_.seconds));
    const std::uint64_t after = done_.load();
    const double cpu = process_cpu_s() - cpu0;
    cpu_us_per_op_ = after > before ? cpu * 1e6 / static_cast<double>(after - before) : 0;
    const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
    stopping_ = true;
    if (failures_.load() != 0) {
      std::fprintf(stderr, "bench_tls_echo: %llu sessions failed (last: %s)\n",
                   static_cast<unsigned long long>(failures_.load()), last_error().c_str());
    }
    return static_cast<double>(after - before) / s;
  }

 private:
  void on_accepted(net::session_handle s, const endpoint&) override {
    const std::size_t d = mode_ == mode::frames ? cfg_.depth : 1;
    for (std::size_t i = 0; i < d; ++i) net_.send(s, frame_);
  }
  void on_frame(net::session_handle s, const net::frame& f, const net::envelope_view&) override {
    if (f.wire_size() != frame_.wire_size()) failures_.fetch_add(1);
    done_.fetch_add(1, std::memory_order_relaxed);
    if (stopping_) return;
    if (mode_ == mode::frames) {
      net_.send(s, frame_);
    } else {
      net_.close(s);
    }
  }
  void on_closed(net::session_handle, std::error_code reason) override {
    if (mode_ == mode::handshakes) {
      if (reason && reason != net::errc::closed_by_owner && reason != net::errc::closed_by_peer &&
          reason != net::errc::shutting_down) {
        failures_.fetch_add(1);
        std::lock_guard lk(mu_);
        error_ = reason.message();
      }
      if (!stopping_) net_.connect(target_, *this, options_);
    }
  }
  std::string last_error() {
    std::lock_guard lk(mu_);
    return error_;
  }


 public:
  /// CPU time of the whole process (server and client) per completed operation in the window.
  double cpu_us_per_op() const { return cpu_us_per_op_; }

 private:
  double cpu_us_per_op_ = 0;
  mode mode_;
  config cfg_;
  endpoint target_;
  io_port port_;
  net::network net_;
  net::session_options options_;
  net::frame frame_;
  std::atomic<std::uint64_t> done_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::string error_;
};

bool flag(std::string_view arg, std::string_view name, double& out) {
  if (arg.substr(0, name.size()) != name) return false;
  out = std::atof(std::string(arg.substr(name.size())).c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  config c;
  for (int i = 1; i < argc; ++i) {
    double v = 0;
    const std::string_view a = argv[i];
    if (flag(a, "--connections=", v)) c.connections = static_cast<std::size_t>(v);
    else if (flag(a, "--depth=", v)) c.depth = static_cast<std::size_t>(v);
    else if (flag(a, "--payload=", v)) c.payload = static_cast<std::size_t>(v);
    else if (flag(a, "--loops=", v)) c.loops = static_cast<std::size_t>(v);
    else if (flag(a, "--seconds=", v)) c.seconds = v;
    else {
      std::fprintf(stderr, "usage: bench_tls_echo [--connections=C] [--depth=D] [--payload=S] "
                           "[--loops=K] [--seconds=T]\n");
      return 2;
    }
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("quay-bench-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string error;
  const auto files = net::tls::write_self_signed(dir.string(), "bench", error);
  auto server_layer = net::make_tls_server_layer({files.certificate_file, files.private_key_file}, error);
  net::tls_client_config cc;
  cc.ca_file = files.certificate_file;
  auto client_layer = net::make_tls_client_layer(cc, error);
  if (!server_layer || !client_layer) {
    std::fprintf(stderr, "bench_tls_echo: %s\n", error.c_str());
    return 1;
  }
  struct figure {
    double per_s = 0, cpu_us = 0;
  };
  auto measure = [&](client::mode m, endpoint at, const net::stream_layer_factory& layer) {
    client cl(m, c, at, layer);
    figure f;
    f.per_s = cl.run();
    f.cpu_us = cl.cpu_us_per_op();
    return f;
  };
  figure frames_plain, frames_tls, hs_plain, hs_tls;
  {
    echo_server server(server_layer);
    frames_plain = measure(client::mode::frames, server.plain_at(), {});
    frames_tls = measure(client::mode::frames, server.tls_at(), client_layer);
    hs_plain = measure(client::mode::handshakes, server.plain_at(), {});
    hs_tls = measure(client::mode::handshakes, server.tls_at(), client_layer);
  }
  std::filesystem::remove_all(dir);
  const std::string shape = "connections=" + std::to_string(c.connections) +
                            " depth=" + std::to_string(c.depth) +
                            " payload=" + std::to_string(c.payload);
  auto line = [](const char* name, const char* impl, const figure& f, const char* unit,
                 const std::string& extra) {
    std::printf("BENCH name=%s impl=%s value=%.4g unit=%s cpu_us_per_op=%.3g %s\n", name, impl,
                f.per_s, unit, f.cpu_us, extra.c_str());
  };
  const std::string loops = "loops=" + std::to_string(c.loops);
  line("tls_echo_frames", "plain", frames_plain, "frames/s", shape);
  line("tls_echo_frames", "tls", frames_tls, "frames/s", shape);
  line("tls_echo_connections", "plain", hs_plain, "connections/s", loops);
  line("tls_echo_connections", "tls", hs_tls, "connections/s", loops + " handshake=full_tls1.3");
  std::printf("BENCH name=tls_echo_frames_ratio impl=tls/plain value=%.3g unit=x\n",
              frames_plain.per_s > 0 ? frames_tls.per_s / frames_plain.per_s : 0.0);
  std::printf("BENCH name=tls_echo_connections_ratio impl=tls/plain value=%.3g unit=x\n",
              hs_plain.per_s > 0 ? hs_tls.per_s / hs_plain.per_s : 0.0);
  return 0;
}
