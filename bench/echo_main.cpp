// bench_echo: framed echo servers under the project's epoll load generator, in one process.
// The server's threads are pinned to CPU 0 and the load generator to CPU 1 (the machine has two
// cores); server CPU time = process CPU minus the load generator thread's CPU.
//
//   bench_echo [--impls=quay-session,quay-actor,quay-ws,quay-ws-actor,asio,epoll] [--seconds=2]
//              [--idle=9000]
//
// quay-ws and quay-ws-actor are the Quay servers with the load generator speaking WebSocket
// (one binary message per envelope), to compare with quay-session and quay-actor in the same
// run (issue 17); they have no idle case (an idle WebSocket is closed at its handshake deadline).
//
// Prints per case and impl: frames/s, p50/p99/p99.9 round trip (us), server CPU per frame (us),
// and for the idle case the server's heap per idle connection (bytes; malloc'd memory in use,
// so kernel socket buffers are not counted, for any impl). Every echoed frame is checked byte
// for byte against the one sent (loadgen.hpp); a server that echoes anything else gets a DNF
// line with the difference, a WRONG ECHO line on stderr, and the bench exits with status 1.
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "echo_servers.hpp"
#include "loadgen.hpp"

namespace {

using namespace quay::bench;

void pin_self(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// Heap bytes in use (malloc'd, including mmapped blocks). Unlike RSS this is not hidden by
// memory an earlier case freed but malloc kept, so cases can run in any order.
std::size_t heap_in_use() {
  const struct mallinfo2 m = ::mallinfo2();
  return m.uordblks + m.hblkhd;
}

struct echo_case {
  const char* name;
  std::size_t conns, depth, bytes;
};

using factory = std::function<std::unique_ptr<echo_server>()>;

std::map<std::string, factory> all_impls() {
  return {{"quay-session", make_quay_session_echo},
          {"quay-actor", make_quay_actor_echo},
          {"quay-ws", make_quay_ws_session_echo},
          {"quay-ws-actor", make_quay_ws_actor_echo},
          {"asio", make_asio_echo},
          {"epoll", make_epoll_echo}};
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

// Creates the server on a thread pinned to CPU 0 (its threads inherit the mask).
std::unique_ptr<echo_server> start_pinned(const factory& f) {
  std::unique_ptr<echo_server> s;
  std::thread([&] {
    pin_self(0);
    s = f();
  }).join();
  return s;
}

// Returns false when the server echoed something other than what was sent (the load generator
// checks every reply byte for byte); a wrong echo is a failed bench, not a slow one.
bool run_case(const echo_case& c, const std::string& impl, const factory& f, double seconds) {
  auto server = start_pinned(f);
  loadgen_result r;
  std::thread gen([&] {
    pin_self(1);
    loadgen_config cfg;
    cfg.port = server->port();
    cfg.connections = c.conns;
    cfg.depth = c.depth;
    cfg.payload_bytes = c.bytes;
    cfg.measure_s = seconds;
    cfg.websocket = impl.rfind("quay-ws", 0) == 0;
    r = run_loadgen(cfg);
  });
  gen.join();
  if (!r.ok) {
    print_dnf(c.name, impl, "frames/s", seconds, r.error);
    const bool wrong_echo = r.error.rfind("echo:", 0) == 0;
    if (wrong_echo) {
      std::fprintf(stderr, "bench_echo: %s %s: WRONG ECHO: %s\n", c.name, impl.c_str(),
                   r.error.c_str());
    }
    return !wrong_echo;
  }
  const double fps = static_cast<double>(r.frames) / r.seconds;
  const double server_cpu = r.process_cpu_s - r.thread_cpu_s;
  auto lat = r.latencies_us;
  print_bench(c.name, impl, fps, "frames/s");
  print_bench(std::string(c.name) + "-p50", impl, percentile(lat, 0.50), "us");
  print_bench(std::string(c.name) + "-p99", impl, percentile(lat, 0.99), "us");
  print_bench(std::string(c.name) + "-p99.9", impl, percentile(lat, 0.999), "us");
  print_bench(std::string(c.name) + "-server-cpu", impl,
              r.frames ? server_cpu * 1e6 / static_cast<double>(r.frames) : 0, "us/frame");
  return true;
}

void run_idle(const std::string& impl, const factory& f, std::size_t n) {
  auto server = start_pinned(f);
  const std::size_t before = heap_in_use();
  auto fds = open_idle(server->port(), n);
  const auto start = bench_clock::now();
  while (server->open_sessions() < fds.size() && seconds_since(start) < 30) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::size_t after = heap_in_use();
  const std::size_t held = server->open_sessions();
  close_all(fds);
  if (held == 0) {
    print_dnf("idle-conns", impl, "bytes/conn", 30, "no connection held");
    return;
  }
  const double per = static_cast<double>(after > before ? after - before : 0) /
                     static_cast<double>(held);
  print_bench("idle-conns", impl, per, "bytes/conn", "conns=" + std::to_string(held));
}

}  // namespace

int main(int argc, char** argv) {
  // glibc raises its trim and mmap thresholds the first time a large mmapped chunk is freed (the
  // load generator's latency vector at the end of the first case), after which a heap top that
  // grows and shrinks is no longer trimmed. Left dynamic, the first case of a run measured a
  // fresh process and the later ones a warmed-up one (the actor echo at 16 KiB: 0.6x when run
  // first). Setting the thresholds to glibc's defaults explicitly turns the adjustment off, so
  // every case runs as a fresh server process would, whatever ran before it.
  ::mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  args a(argc, argv);
  const auto impls = split(a.get("impls", "epoll,asio,quay-session,quay-actor,quay-ws,quay-ws-actor"));
  const double seconds = a.get_double("seconds", 2.0);
  const std::size_t idle = a.get_u64("idle", 9000);
  const auto cases_filter = a.get("cases", "");
  if (!a.unknown().empty()) {
    std::fprintf(stderr, "bench_echo: unknown argument %s\n", a.unknown().front().c_str());
    return 2;
  }
  const std::vector<echo_case> cases = {
      {"echo-100x1x64B", 100, 1, 64},
      {"echo-100x16x64B", 100, 16, 64},
      {"echo-1000x4x256B", 1000, 4, 256},
      {"echo-10x8x16KiB", 10, 8, 16 * 1024},
  };
  const auto known = all_impls();
  bool echoed_right = true;
  // A hard bound for the whole run: every case is bounded by its own timing, this catches hangs.
  time_bound bound(static_cast<double>(cases.size() * impls.size()) * (seconds + 10) + 120,
                   [] { print_dnf("echo", "all", "frames/s", 0, "run exceeded its bound"); });
  for (const auto& c : cases) {
    if (!cases_filter.empty() && cases_filter.find(c.name) == std::string::npos) continue;
    for (const auto& impl : impls) {
      auto it = known.find(impl);
      if (it == known.end()) {
        std::fprintf(stderr, "bench_echo: unknown impl %s\n", impl.c_str());
        return 2;
      }
      echoed_right = run_case(c, impl, it->second, seconds) && echoed_right;
    }
  }
  if (idle > 0) {
    for (const auto& impl : impls) {
      if (impl.rfind("quay-ws", 0) != 0) run_idle(impl, known.at(impl), idle);
    }
  }
  bound.disarm();
  return echoed_right ? 0 : 1;
}
