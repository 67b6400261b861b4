// The epoll load generator (see loadgen.hpp).
#include "loadgen.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>

#include "quay/net/envelope.hpp"

namespace quay::bench {

namespace {

using clk = std::chrono::steady_clock;

double process_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int connect_blocking(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

struct conn {
  int fd = -1;
  std::vector<std::uint8_t> in;
  std::vector<std::uint8_t> out;  // bytes not yet accepted by the kernel
  std::deque<clk::time_point> in_flight;
  bool want_out = false;
};

}  // namespace

std::vector<int> open_idle(std::uint16_t port, std::size_t n) {
  std::vector<int> fds;
  fds.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = connect_blocking(port);
    if (fd < 0) break;
    fds.push_back(fd);
  }
  return fds;
}

void close_all(std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
  fds.clear();
}

loadgen_result run_loadgen(const loadgen_config& c) {
  loadgen_result r;
  std::vector<std::byte> payload(c.payload_bytes, std::byte{0x5a});
  const auto fr = quay::net::encode_envelope(16, 1, payload);
  const auto* wire = reinterpret_cast<const std::uint8_t*>(fr.wire().data());
  const std::size_t wire_size = fr.wire_size();

  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<conn> conns(c.connections);
  for (std::size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = connect_blocking(c.port);
    if (conns[i].fd < 0) {
      r.error = "connect failed";
      for (auto& k : conns) if (k.fd >= 0) ::close(k.fd);
      ::close(ep);
      return r;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }

  auto flush = [&](std::size_t i) {
    conn& k = conns[i];
    while (!k.out.empty()) {
      const ssize_t n = ::send(k.fd, k.out.data(), k.out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        k.out.erase(k.out.begin(), k.out.begin() + n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return false;
    }
    const bool want = !k.out.empty();
    if (want != k.want_out) {
      epoll_event ev{};
      ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
      ev.data.u64 = i;
      ::epoll_ctl(ep, EPOLL_CTL_MOD, k.fd, &ev);
      k.want_out = want;
    }
    return true;
  };
  auto send_one = [&](std::size_t i) {
    conn& k = conns[i];
    k.out.insert(k.out.end(), wire, wire + wire_size);
    k.in_flight.push_back(clk::now());
  };

  for (std::size_t i = 0; i < conns.size(); ++i) {
    for (std::size_t d = 0; d < c.depth; ++d) send_one(i);
    flush(i);
  }

  const auto start = clk::now();
  const auto measure_from = start + std::chrono::duration<double>(c.warmup_s);
  const auto end = measure_from + std::chrono::duration<double>(c.measure_s);
  bool measuring = false;
  double cpu0 = 0;
  double proc0 = 0;
  clk::time_point t0{};
  r.latencies_us.reserve(1 << 20);
  std::vector<epoll_event> events(256);
  std::uint8_t buf[64 * 1024];
  bool failed = false;

  while (!failed) {
    const auto now = clk::now();
    if (!measuring && now >= measure_from) {
      measuring = true;
      cpu0 = thread_cpu();
      proc0 = process_cpu();
      t0 = now;
    }
    if (now >= end) break;
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 10);
    for (int e = 0; e < n && !failed; ++e) {
      const std::size_t i = events[e].data.u64;
      conn& k = conns[i];
      if (events[e].events & EPOLLOUT) failed = !flush(i);
      if (!(events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      const ssize_t got = ::recv(k.fd, buf, sizeof buf, 0);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        failed = true;
        r.error = "server closed a connection";
        break;
      }
      k.in.insert(k.in.end(), buf, buf + got);
      std::size_t pos = 0;
      std::size_t replies = 0;
      const auto t = clk::now();
      while (k.in.size() - pos >= 4) {
        std::uint32_t len = 0;
        std::memcpy(&len, k.in.data() + pos, 4);  // little-endian host
        if (k.in.size() - pos - 4 < len) break;
        pos += 4 + len;
        if (!k.in_flight.empty()) {
          if (measuring) {
            r.latencies_us.push_back(
                std::chrono::duration<double, std::micro>(t - k.in_flight.front()).count());
            ++r.frames;
          }
          k.in_flight.pop_front();
        }
        ++replies;
      }
      k.in.erase(k.in.begin(), k.in.begin() + static_cast<std::ptrdiff_t>(pos));
      for (std::size_t j = 0; j < replies; ++j) send_one(i);
      if (replies > 0) failed = !flush(i);
    }
  }
  r.seconds = std::chrono::duration<double>(clk::now() - t0).count();
  r.thread_cpu_s = thread_cpu() - cpu0;
  r.process_cpu_s = process_cpu() - proc0;
  r.ok = !failed && measuring;
  if (failed && r.error[0] == '\0') r.error = "send failed";
  for (auto& k : conns) ::close(k.fd);
  ::close(ep);
  return r;
}

}  // namespace quay::bench
