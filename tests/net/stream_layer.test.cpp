// The session's transport-layer seam (net/src/stream_layer.hpp), exercised with a trivial layer
// that XORs every byte: frames go through it both ways, a layer failure closes the session with
// the layer's reason after its alert is sent, a graceful close sends the layer's own end before
// the FIN, and a plain TCP bystander is served throughout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "net_test_support.hpp"
#include "stream_layer.hpp"

namespace quay::net::test {
namespace {

constexpr std::byte key{0x5a};
constexpr std::string_view alert = "ALRT";
constexpr std::string_view goodbye = "BYE!";
constexpr std::string_view poison = "BAD!";  // as ciphertext: the layer fails on it

bytes xored(std::span<const std::byte> in) {
  bytes out(in.begin(), in.end());
  for (auto& b : out) b ^= key;
  return out;
}
bytes raw(std::string_view s) { return bytes(reinterpret_cast<const std::byte*>(s.data()),
                                             reinterpret_cast<const std::byte*>(s.data()) + s.size()); }

class xor_layer final : public detail::stream_layer {
 public:
  std::span<std::byte> recv_space() override { return recv_; }
  void received(std::size_t n) override {
    if (n >= poison.size() && std::memcmp(recv_.data(), poison.data(), poison.size()) == 0) {
      failure_ = std::make_error_code(std::errc::protocol_error);
      const auto a = raw(alert);
      out_.insert(out_.end(), a.begin(), a.end());
      return;
    }
    in_.insert(in_.end(), recv_.begin(), recv_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  std::size_t read(std::span<std::byte> plain) override {
    const std::size_t n = std::min(plain.size(), in_.size() - in_head_);
    for (std::size_t i = 0; i < n; ++i) plain[i] = in_[in_head_ + i] ^ key;
    in_head_ += n;
    if (in_head_ == in_.size()) in_.clear(), in_head_ = 0;
    return n;
  }
  bool readable() const noexcept override { return in_head_ < in_.size(); }
  std::size_t write(std::span<const const_buffer> plain) override {
    if (failure_) return 0;
    std::size_t taken = 0;
    for (const auto& b : plain) {
      // Bounded like a real layer: at most 16 KiB of output waiting.
      const std::size_t room = out_.size() < 16384 ? 16384 - out_.size() : 0;
      const std::size_t n = std::min(room, b.size);
      const auto* p = static_cast<const std::byte*>(b.data);
      for (std::size_t i = 0; i < n; ++i) out_.push_back(p[i] ^ key);
      taken += n;
      if (n < b.size) break;
    }
    return taken;
  }
  std::span<const std::byte> output() const noexcept override { return out_; }
  void consume_output(std::size_t n) noexcept override {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  void shutdown() override {
    const auto g = raw(goodbye);
    out_.insert(out_.end(), g.begin(), g.end());
  }
  std::error_code failure() const noexcept override { return failure_; }

 private:
  std::array<std::byte, 1024> recv_{};
  bytes in_;
  std::size_t in_head_ = 0;
  bytes out_;
  std::error_code failure_;
};

listen_options xor_listener() {
  listen_options o;
  o.session.layer = [] { return std::make_unique<xor_layer>(); };
  return o;
}

// Reads `n` raw bytes from the client and XORs them back.
std::optional<bytes> read_plain(raw_client& c, std::size_t n) {
  auto b = c.read_bytes(n);
  if (!b) return std::nullopt;
  return xored(*b);
}

using stream_layer_test = net_fixture;

TEST_F(stream_layer_test, frames_pass_through_the_layer_both_ways_while_a_plain_bystander_is_served) {
  const auto at = listen_echo(xor_listener());
  const auto plain_at = listen_echo();
  raw_client c(port_, at);
  raw_client bystander(port_, plain_at);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 50; ++i) {
    const frame f = text_frame(100, static_cast<std::uint32_t>(i), "through the layer " + std::to_string(i));
    ASSERT_TRUE(c.send(xored(f.wire())));
    auto back = read_plain(c, f.wire_size());
    ASSERT_TRUE(back.has_value()) << i;
    EXPECT_TRUE(std::equal(back->begin(), back->end(), f.wire().begin(), f.wire().end())) << i;
    ASSERT_TRUE(bystander.send_frame(f));
    auto p = bystander.read_frame();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(decode(*p).seq, static_cast<std::uint32_t>(i));
  }
}

TEST_F(stream_layer_test, a_layer_failure_sends_its_alert_and_closes_with_the_layers_reason) {
  const auto at = listen_echo(xor_listener());
  const auto plain_at = listen_echo();
  raw_client c(port_, at);
  raw_client bystander(port_, plain_at);
  ASSERT_TRUE(c.send(raw(poison)));
  auto a = c.read_bytes(alert.size());
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, raw(alert));
  auto end = c.wait_closed();
  ASSERT_TRUE(end.has_value());
  c.shutdown_send();
  auto reason = rec_.wait_closed();
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, std::make_error_code(std::errc::protocol_error));
  ASSERT_TRUE(bystander.send_frame(text_frame(100, 7, "still here")));
  auto p = bystander.read_frame();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(decode(*p).text, "still here");
}

TEST_F(stream_layer_test, a_graceful_close_flushes_frames_then_the_layers_end_then_the_fin) {
  const auto at = listen_echo(xor_listener());
  raw_client c(port_, at);
  ASSERT_TRUE(rec_.wait_accepted(1));
  session_handle h;
  {
    std::lock_guard lk(rec_.mu);
    h = rec_.accepted[0];
  }
  const frame f = text_frame(100, 1, "last words");
  ASSERT_FALSE(net_.send(h, f));
  ASSERT_FALSE(net_.close(h));
  auto back = read_plain(c, f.wire_size());
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(std::equal(back->begin(), back->end(), f.wire().begin(), f.wire().end()));
  auto g = c.read_bytes(goodbye.size());
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(*g, raw(goodbye));
  auto end = c.wait_closed();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(*end, quay::errc::end_of_stream);
}

}  // namespace
}  // namespace quay::net::test
