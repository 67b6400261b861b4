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
#include <cstdio>
#include <cstring>
#include <deque>
#include <span>
#include <string>

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
  std::uint64_t sent = 0;      // frames queued on this connection so far
  std::uint64_t received = 0;  // replies checked so far
  bool want_out = false;
};

// The frames of one run: an Envelope encoded once, whose payload bytes are rewritten for every
// frame, so that frame k of connection c is unlike any other frame of the run. The payload
// starts with a stamp (c as 4 bytes, k as 8, as far as the payload is long) followed by a slice
// of a fixed pseudo-random pattern whose start depends on c and k.
class frame_source {
 public:
  explicit frame_source(std::size_t payload_bytes) : payload_len_(payload_bytes) {
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    pattern_.resize(pattern_starts + payload_bytes);
    for (auto& b : pattern_) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      b = static_cast<std::uint8_t>(x >> 24);
    }
    std::vector<std::byte> payload(payload_bytes, std::byte{0x5a});
    const auto fr = quay::net::encode_envelope(16, 1, payload);
    const auto wire = fr.wire();
    wire_.assign(reinterpret_cast<const std::uint8_t*>(wire.data()),
                 reinterpret_cast<const std::uint8_t*>(wire.data()) + wire.size());
    quay::net::envelope_view view;
    if (wire.empty() || quay::net::decode_envelope(fr.payload(), view) ||
        view.payload.size() != payload_bytes) {
      return;  // ok() stays false
    }
    payload_at_ = static_cast<std::size_t>(view.payload.data() - wire.data());
    ok_ = true;
  }
  bool ok() const { return ok_; }
  std::size_t wire_size() const { return wire_.size(); }

  /// Appends the wire bytes of frame `k` of connection `c` to `out`.
  void append(std::size_t c, std::uint64_t k, std::vector<std::uint8_t>& out) const {
    const std::size_t at = out.size();
    out.insert(out.end(), wire_.begin(), wire_.end());
    std::uint8_t stamp[stamp_bytes];
    stamp_of(c, k, stamp);
    const std::size_t s = std::min(stamp_bytes, payload_len_);
    std::memcpy(out.data() + at + payload_at_, stamp, s);
    std::memcpy(out.data() + at + payload_at_ + s, pattern_.data() + start_of(c, k),
                payload_len_ - s);
  }

  /// Offset of the first byte of `got` (wire_size() bytes) that differs from frame `k` of
  /// connection `c`, or -1 when they are the same.
  /// `from`: `got` starts at that wire byte (4 over WebSocket: no Quay header).
  std::ptrdiff_t mismatch(std::size_t c, std::uint64_t k, const std::uint8_t* got,
                          std::size_t from = 0) const {
    std::uint8_t stamp[stamp_bytes];
    stamp_of(c, k, stamp);
    const std::size_t s = std::min(stamp_bytes, payload_len_);
    const std::size_t tail = payload_at_ + payload_len_;
    const std::uint8_t* g = got;
    auto at = [&](std::size_t wire_offset) { return g + (wire_offset - from); };
    if (std::memcmp(g, wire_.data() + from, payload_at_ - from) == 0 &&
        std::memcmp(at(payload_at_), stamp, s) == 0 &&
        std::memcmp(at(payload_at_ + s), pattern_.data() + start_of(c, k), payload_len_ - s) ==
            0 &&
        std::memcmp(at(tail), wire_.data() + tail, wire_.size() - tail) == 0) {
      return -1;
    }
    std::vector<std::uint8_t> expected;  // the slow path, only to name the byte
    append(c, k, expected);
    std::size_t i = from;
    while (i < expected.size() && expected[i] == got[i - from]) ++i;
    return static_cast<std::ptrdiff_t>(i);
  }

 private:
  static constexpr std::size_t stamp_bytes = 12;
  static constexpr std::size_t pattern_starts = 251;  // a prime: c and k spread the start

  static void stamp_of(std::size_t c, std::uint64_t k, std::uint8_t* out) {
    const auto c32 = static_cast<std::uint32_t>(c);
    std::memcpy(out, &c32, 4);
    std::memcpy(out + 4, &k, 8);
  }
  static std::size_t start_of(std::size_t c, std::uint64_t k) {
    return static_cast<std::size_t>((c * 131 + k * 17) % pattern_starts);
  }

  std::vector<std::uint8_t> wire_;  // the encoded envelope; its payload is rewritten per frame
  std::vector<std::uint8_t> pattern_;
  std::size_t payload_at_ = 0;      // offset of the payload in wire_
  std::size_t payload_len_ = 0;
  bool ok_ = false;
};

// "echo: reply <k> on connection <c> <what> <detail>", for loadgen_result::error.
std::string describe(std::size_t c, std::uint64_t k, const char* what, long long detail) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "echo: reply %llu on connection %zu %s %lld",
                static_cast<unsigned long long>(k), c, what, detail);
  return buf;
}

// Rewrites the Quay frame just appended at `at` (4-byte header + envelope) as one masked binary
// WebSocket frame with mask key 0 (the XOR changes nothing, the server unmasks all the same).
void to_websocket(std::vector<std::uint8_t>& out, std::size_t at) {
  const std::size_t n = out.size() - at - 4;
  std::uint8_t h[14];
  std::size_t hl = 0;
  h[hl++] = 0x82;
  if (n < 126) {
    h[hl++] = static_cast<std::uint8_t>(0x80 | n);
  } else if (n < 65536) {
    h[hl++] = 0x80 | 126;
    h[hl++] = static_cast<std::uint8_t>(n >> 8);
    h[hl++] = static_cast<std::uint8_t>(n & 0xff);
  } else {
    h[hl++] = 0x80 | 127;
    for (int i = 7; i >= 0; --i) h[hl++] = static_cast<std::uint8_t>((n >> (8 * i)) & 0xff);
  }
  for (int i = 0; i < 4; ++i) h[hl++] = 0;
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), hl - 4, 0);
  std::memcpy(out.data() + at, h, hl);
}

}  // namespace

bool websocket_upgrade(int fd) {
  static constexpr char request[] =
      "GET /bench HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  if (::send(fd, request, sizeof request - 1, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof request - 1)) {
    return false;
  }
  // The answer is read one byte at a time so that nothing after it is consumed (the server
  // sends nothing more before the first frame, but this does not rely on it).
  std::string head;
  while (head.size() < 4096 && (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0)) {
    char ch = 0;
    if (::recv(fd, &ch, 1, 0) != 1) return false;
    head.push_back(ch);
  }
  return head.rfind("HTTP/1.1 101 ", 0) == 0;
}

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
  const frame_source frames(c.payload_bytes);
  if (!frames.ok()) {
    r.error = "could not encode the test frame";
    return r;
  }
  const std::size_t wire_size = frames.wire_size();

  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<conn> conns(c.connections);
  for (std::size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = connect_blocking(c.port);
    if (conns[i].fd < 0 || (c.websocket && !websocket_upgrade(conns[i].fd))) {
      r.error = conns[i].fd < 0 ? "connect failed" : "websocket upgrade failed";
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
    const std::size_t at = k.out.size();
    frames.append(i, k.sent++, k.out);
    if (c.websocket) to_websocket(k.out, at);
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
      while (c.websocket && k.in.size() - pos >= 2) {
        // A server frame: FIN + binary, unmasked, 7/16/64-bit length, then the envelope.
        const std::uint8_t* p = k.in.data() + pos;
        const std::size_t avail = k.in.size() - pos;
        std::uint64_t len = p[1] & 0x7f;
        std::size_t hl = 2;
        if (len == 126) hl = 4;
        if (len == 127) hl = 10;
        if (avail < hl) break;
        if (hl == 4) len = (std::uint64_t{p[2]} << 8) | p[3];
        if (hl == 10) {
          len = 0;
          for (int b = 2; b < 10; ++b) len = (len << 8) | p[b];
        }
        if (k.in_flight.empty()) {
          r.error = describe(i, k.received, "came with no frame in flight, its length",
                             static_cast<long long>(len));
        } else if (p[0] != 0x82 || (p[1] & 0x80) != 0) {
          r.error = describe(i, k.received, "is not an unmasked final binary frame, byte 0 is", p[0]);
        } else if (len + 4 != wire_size) {
          r.error = describe(i, k.received, "has the wrong length: its header says",
                             static_cast<long long>(len));
        } else if (avail - hl < len) {
          break;
        } else if (const auto d = frames.mismatch(i, k.received, p + hl, 4); d >= 0) {
          r.error = describe(i, k.received, "differs from the frame sent at wire byte", d);
        }
        if (!r.error.empty()) {
          failed = true;
          break;
        }
        pos += hl + static_cast<std::size_t>(len);
        ++k.received;
        if (measuring) {
          r.latencies_us.push_back(
              std::chrono::duration<double, std::micro>(t - k.in_flight.front()).count());
          ++r.frames;
        }
        k.in_flight.pop_front();
        ++replies;
      }
      while (!c.websocket && k.in.size() - pos >= 4) {
        std::uint32_t len = 0;
        std::memcpy(&len, k.in.data() + pos, 4);  // little-endian host
        // Reply number `received` must be that frame, byte for byte. The header alone shows a
        // reply nobody asked for or one of the wrong length (no waiting for its bytes).
        if (k.in_flight.empty()) {
          r.error = describe(i, k.received, "came with no frame in flight, its length", len);
        } else if (std::size_t{4} + len != wire_size) {
          r.error = describe(i, k.received, "has the wrong length: its header says", len);
        } else if (k.in.size() - pos - 4 < len) {
          break;  // the rest of it has not arrived yet
        } else if (const auto at = frames.mismatch(i, k.received, k.in.data() + pos); at >= 0) {
          r.error = describe(i, k.received, "differs from the frame sent at wire byte", at);
        }
        if (!r.error.empty()) {
          failed = true;
          break;
        }
        pos += 4 + len;
        ++k.received;
        if (measuring) {
          r.latencies_us.push_back(
              std::chrono::duration<double, std::micro>(t - k.in_flight.front()).count());
          ++r.frames;
        }
        k.in_flight.pop_front();
        ++replies;
      }
      if (failed) break;
      k.in.erase(k.in.begin(), k.in.begin() + static_cast<std::ptrdiff_t>(pos));
      for (std::size_t j = 0; j < replies; ++j) send_one(i);
      if (replies > 0) failed = !flush(i);
    }
  }
  r.seconds = std::chrono::duration<double>(clk::now() - t0).count();
  r.thread_cpu_s = thread_cpu() - cpu0;
  r.process_cpu_s = process_cpu() - proc0;
  r.ok = !failed && measuring;
  if (failed && r.error.empty()) r.error = "send failed";
  for (auto& k : conns) ::close(k.fd);
  ::close(ep);
  return r;
}

}  // namespace quay::bench
