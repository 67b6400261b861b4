// Anchor: standalone Asio framed echo on one io_context thread. Each session reads what is
// there, writes back every complete frame, then reads again.
#include <asio.hpp>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "echo_servers.hpp"

namespace quay::bench {

namespace {

class asio_session : public std::enable_shared_from_this<asio_session> {
 public:
  asio_session(asio::ip::tcp::socket s, std::atomic<std::size_t>& open)
      : sock_(std::move(s)), open_(open) {
    open_.fetch_add(1);
  }
  ~asio_session() { open_.fetch_sub(1); }
  void start() {
    sock_.set_option(asio::ip::tcp::no_delay(true));
    read();
  }

 private:
  void read() {
    auto self = shared_from_this();
    sock_.async_read_some(asio::buffer(buf_), [this, self](std::error_code ec, std::size_t n) {
      if (ec) return;
      in_.insert(in_.end(), buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(n));
      std::size_t pos = 0;
      while (in_.size() - pos >= 4) {
        std::uint32_t len = 0;
        std::memcpy(&len, in_.data() + pos, 4);
        if (in_.size() - pos - 4 < len) break;
        pos += 4 + len;
      }
      if (pos == 0) return read();
      out_.assign(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(pos));
      in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(pos));
      asio::async_write(sock_, asio::buffer(out_), [this, self](std::error_code wec, std::size_t) {
        if (!wec) read();
      });
    });
  }

  asio::ip::tcp::socket sock_;
  std::atomic<std::size_t>& open_;
  std::array<std::uint8_t, 64 * 1024> buf_{};
  std::vector<std::uint8_t> in_, out_;
};

class asio_echo final : public echo_server {
 public:
  asio_echo()
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
        guard_(asio::make_work_guard(io_)) {
    acceptor_.listen(4096);
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~asio_echo() override {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const override { return acceptor_.local_endpoint().port(); }
  std::size_t open_sessions() const override { return open_.load(); }

 private:
  void accept() {
    acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket s) {
      if (!ec) std::make_shared<asio_session>(std::move(s), open_)->start();
      accept();
    });
  }

  asio::io_context io_{1};
  asio::ip::tcp::acceptor acceptor_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::atomic<std::size_t> open_{0};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<echo_server> make_asio_echo() { return std::make_unique<asio_echo>(); }

}  // namespace quay::bench
