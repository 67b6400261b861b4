// Anchor: a minimal hand-written epoll framed echo, one thread, level-triggered. Reads what is
// there, echoes every complete frame with one send, keeps the remainder.
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
  struct conn {
    std::vector<std::uint8_t> in;
    std::vector<std::uint8_t> out;
  };

  void add(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
  }
  void set(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
  }
  void drop(int fd) {
    ::close(fd);
    conns_.erase(fd);
    open_.fetch_sub(1);
  }
  // Sends `out` as far as the kernel takes it; false if the connection failed.
  bool flush(int fd, conn& c) {
    while (!c.out.empty()) {
      const ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        c.out.erase(c.out.begin(), c.out.begin() + n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        set(fd, EPOLLIN | EPOLLOUT);
        return true;
      } else {
        return false;
      }
    }
    set(fd, EPOLLIN);
    return true;
  }

  void run() {
    std::vector<epoll_event> events(256);
    std::uint8_t buf[64 * 1024];
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
            add(c, EPOLLIN);
          }
          continue;
        }
        auto it = conns_.find(fd);
        if (it == conns_.end()) continue;
        conn& c = it->second;
        if (events[i].events & EPOLLOUT) {
          if (!flush(fd, c)) {
            drop(fd);
            continue;
          }
        }
        if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
        const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
        if (got <= 0) {
          if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
          drop(fd);
          continue;
        }
        c.in.insert(c.in.end(), buf, buf + got);
        std::size_t pos = 0;
        while (c.in.size() - pos >= 4) {
          std::uint32_t len = 0;
          std::memcpy(&len, c.in.data() + pos, 4);
          if (c.in.size() - pos - 4 < len) break;
          pos += 4 + len;
        }
        if (pos > 0) {
          c.out.insert(c.out.end(), c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(pos));
          c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(pos));
          if (!flush(fd, c)) drop(fd);
        }
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
