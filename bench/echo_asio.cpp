// Anchor: standalone Asio framed echo on one io_context thread, the best version of itself.
// Each session reads what is there, writes every complete frame back straight from its read
// buffer (the next read waits for the write, so those bytes stay put), then reads again.
// Buffers are sized like Quay's framer: a session that has received nothing yet waits with a
// 32-byte inline area, so an idle connection holds no read block; once data flows it reads into
// a block of 8 KiB, or four times a large frame (at most 60 KiB), or one frame larger than that.
// Asio registers each socket with its reactor once (edge-triggered), so the data path makes no
// epoll_ctl unless a write would block.
#include <asio.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <thread>

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
  static constexpr std::size_t inline_bytes = 32;
  static constexpr std::size_t block_bytes = 8 * 1024;
  static constexpr std::size_t large_block_bytes = 60 * 1024;

  std::uint8_t* data() { return block_ ? block_.get() : small_.data(); }
  std::size_t capacity() const { return block_ ? block_capacity_ : small_.size(); }

  // Moves to a block big enough for the frame at the head (if its header is in) once the
  // inline area has been filled or the head frame outgrows the current block.
  void make_room() {
    std::size_t head = 0;
    if (used_ >= 4) {
      std::uint32_t len = 0;
      std::memcpy(&len, data(), 4);
      head = std::size_t{4} + len;
    }
    if (block_ && head <= block_capacity_ && used_ < block_capacity_) return;
    if (!block_ && used_ < small_.size()) return;
    std::size_t want = std::max(block_bytes, std::min(4 * head, large_block_bytes));
    want = std::max(want, head);
    if (block_ && want <= block_capacity_) return;
    auto fresh = std::make_unique_for_overwrite<std::uint8_t[]>(want);
    std::memcpy(fresh.get(), data(), used_);
    block_ = std::move(fresh);
    block_capacity_ = want;
  }

  void read() {
    make_room();
    auto self = shared_from_this();
    sock_.async_read_some(asio::buffer(data() + used_, capacity() - used_),
                          [this, self](std::error_code ec, std::size_t n) {
                            if (!ec) on_read(n);
                          });
  }

  void on_read(std::size_t n) {
    used_ += n;
    std::size_t pos = 0;
    while (used_ - pos >= 4) {
      std::uint32_t len = 0;
      std::memcpy(&len, data() + pos, 4);
      if (used_ - pos - 4 < len) break;
      pos += 4 + len;
    }
    if (pos == 0) return read();
    auto self = shared_from_this();
    asio::async_write(sock_, asio::buffer(data(), pos),
                      [this, self, pos](std::error_code ec, std::size_t) {
                        if (ec) return;
                        std::memmove(data(), data() + pos, used_ - pos);
                        used_ -= pos;
                        read();
                      });
  }

  asio::ip::tcp::socket sock_;
  std::atomic<std::size_t>& open_;
  std::array<std::uint8_t, inline_bytes> small_;
  std::unique_ptr<std::uint8_t[]> block_;
  std::size_t block_capacity_ = 0;
  std::size_t used_ = 0;  // bytes in data(): the unfinished frame at the head
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
