// Anchor: a minimal hand-written epoll framed echo on one thread, the best version of itself:
// each connection is registered once, edge-triggered for input and output
// (EPOLLIN | EPOLLOUT | EPOLLET), and never modified on the data path; whether a connection has
// bytes waiting to go out is a flag in user space (its `out` buffer is not empty). A readable
// connection is read into one buffer of the thread until a receive comes back short, complete
// frames are sent back straight from that buffer, and only what the kernel did not take (and an
// unfinished frame) is kept per connection, so an idle connection holds no buffer at all.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <unordered_map>
#include <vector>

#include "echo_servers.hpp"

namespace quay::bench {

namespace {

class epoll_echo final : public echo_server {
 public:
  epoll_echo() {
    lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(lfd_, 4096);
    socklen_t len = sizeof a;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    add(lfd_, EPOLLIN);
    add(wake_, EPOLLIN);
    thread_ = std::thread([this] { run(); });
  }
  ~epoll_echo() override {
    stop_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_, &one, sizeof one);
    thread_.join();
    for (auto& [fd, c] : conns_) ::close(fd);
    ::close(lfd_);
    ::close(wake_);
    ::close(ep_);
  }
  std::uint16_t port() const override { return port_; }
  std::size_t open_sessions() const override { return open_.load(); }

 private:
  static constexpr std::size_t read_bytes = 64 * 1024;

  struct conn {
    std::vector<std::uint8_t> in;   // an unfinished frame at the head of the stream
    std::vector<std::uint8_t> out;  // echoed bytes the kernel has not taken yet
  };

  // Registration happens here only, once per descriptor.
  void add(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
  }
  void drop(int fd) {
    ::close(fd);
    conns_.erase(fd);
    open_.fetch_sub(1);
  }
  // Sends `out` as far as the kernel takes it; false if the connection failed. What is left
  // waits for the next EPOLLOUT edge (the socket is registered for it from the start).
  static bool flush(int fd, conn& c) {
    std::size_t sent = 0;
    while (sent < c.out.size()) {
      const ssize_t n = ::send(fd, c.out.data() + sent, c.out.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return false;
      }
    }
    c.out.erase(c.out.begin(), c.out.begin() + static_cast<std::ptrdiff_t>(sent));
    return true;
  }
  // Echoes the complete frames of `data` (the connection's unfinished frame, if any, comes
  // first) and keeps the rest; false if the connection failed.
  static bool echo(int fd, conn& c, const std::uint8_t* data, std::size_t n) {
    if (!c.in.empty()) {
      c.in.insert(c.in.end(), data, data + n);
      data = c.in.data();
      n = c.in.size();
    }
    std::size_t pos = 0;
    while (n - pos >= 4) {
      std::uint32_t len = 0;
      std::memcpy(&len, data + pos, 4);
      if (n - pos - 4 < len) break;
      pos += 4 + len;
    }
    std::size_t sent = 0;
    if (c.out.empty()) {  // nothing queued before these bytes: send them straight away
      while (sent < pos) {
        const ssize_t k = ::send(fd, data + sent, pos - sent, MSG_NOSIGNAL);
        if (k > 0) {
          sent += static_cast<std::size_t>(k);
        } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          break;
        } else if (k < 0 && errno == EINTR) {
          continue;
        } else {
          return false;
        }
      }
    }
    c.out.insert(c.out.end(), data + sent, data + pos);
    if (data == c.in.data()) {
      c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(pos));
    } else {
      c.in.assign(data + pos, data + n);
    }
    return true;
  }
  // Reads until a receive comes back short: with EPOLLET a later arrival raises a new edge, so
  // a short receive means the socket is drained without paying for the receive that fails
  // with EAGAIN. False when the peer closed or the connection failed.
  bool read_all(int fd, conn& c, std::uint8_t* buf) {
    for (;;) {
      const ssize_t got = ::recv(fd, buf, read_bytes, 0);
      if (got == 0) return false;
      if (got < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
      }
      if (!echo(fd, c, buf, static_cast<std::size_t>(got))) return false;
      if (static_cast<std::size_t>(got) < read_bytes) return true;
    }
  }

  void run() {
    std::vector<epoll_event> events(256);
    std::vector<std::uint8_t> buf(read_bytes);  // the thread's one read buffer
    while (!stop_) {
      const int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), -1);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wake_) continue;
        if (fd == lfd_) {
          for (;;) {
            const int c = ::accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c < 0) break;
            const int one = 1;
            ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            conns_[c];
            open_.fetch_add(1);
            add(c, EPOLLIN | EPOLLOUT | EPOLLET);
          }
          continue;
        }
        auto it = conns_.find(fd);
        if (it == conns_.end()) continue;
        conn& c = it->second;
        const std::uint32_t e = events[i].events;
        // The want-write flag is `out` not being empty: an EPOLLOUT edge with nothing to send
        // costs nothing.
        if ((e & EPOLLOUT) && !c.out.empty() && !flush(fd, c)) {
          drop(fd);
          continue;
        }
        if ((e & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !read_all(fd, c, buf.data())) drop(fd);
      }
    }
  }

  int lfd_ = -1, ep_ = -1, wake_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> open_{0};
  std::unordered_map<int, conn> conns_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<echo_server> make_epoll_echo() { return std::make_unique<epoll_echo>(); }

}  // namespace quay::bench
