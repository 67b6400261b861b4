// The send queue: gather writes, partial sends, the high-water mark, shared frames.
#include "quay/net/send_queue.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "quay/net/framer.hpp"

namespace {

using quay::const_buffer;
using quay::net::frame;
using quay::net::send_queue;

frame frame_of(std::size_t n, std::uint8_t fill) {
  return frame::make(n, [&](std::span<std::byte> out) {
    std::memset(out.data(), fill, out.size());
  });
}

// Concatenates what a gather write would put on the wire.
std::vector<std::byte> flatten(std::span<const const_buffer> bufs) {
  std::vector<std::byte> out;
  for (const auto& b : bufs) {
    const auto* p = static_cast<const std::byte*>(b.data);
    out.insert(out.end(), p, p + b.size);
  }
  return out;
}

TEST(send_queue, gathers_queued_frames_in_order_one_buffer_each) {
  send_queue q(1 << 20);
  std::vector<std::byte> expected;
  for (int i = 0; i < 10; ++i) {
    auto f = frame_of(10 + i, static_cast<std::uint8_t>(i));
    expected.insert(expected.end(), f.wire().begin(), f.wire().end());
    ASSERT_TRUE(q.push(f));
  }
  std::array<const_buffer, quay::max_send_buffers> bufs;
  const auto n = q.gather(bufs);
  ASSERT_EQ(n, 10u);
  EXPECT_EQ(flatten(std::span(bufs.data(), n)), expected);
  EXPECT_EQ(q.queued_bytes(), expected.size());
}

TEST(send_queue, gathers_at_most_the_buffers_offered) {
  send_queue q(1 << 20);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(q.push(frame_of(8, 1)));
  std::array<const_buffer, quay::max_send_buffers> bufs;
  EXPECT_EQ(q.gather(bufs), quay::max_send_buffers);
}

TEST(send_queue, continues_a_partial_send_from_the_exact_byte) {
  std::mt19937 rng(7);
  for (int round = 0; round < 100; ++round) {
    send_queue q(1 << 20);
    std::vector<std::byte> expected;
    const int frames = 1 + static_cast<int>(rng() % 100);
    for (int i = 0; i < frames; ++i) {
      auto f = frame_of(1 + rng() % 200, static_cast<std::uint8_t>(rng()));
      expected.insert(expected.end(), f.wire().begin(), f.wire().end());
      ASSERT_TRUE(q.push(std::move(f)));
    }
    // Simulate a socket that writes a random prefix of each gather.
    std::vector<std::byte> sent;
    std::array<const_buffer, quay::max_send_buffers> bufs;
    for (int guard = 0; !q.empty() && guard < 100000; ++guard) {
      const auto n = q.gather(bufs);
      auto all = flatten(std::span(bufs.data(), n));
      const std::size_t take = std::min<std::size_t>(all.size(), 1 + rng() % 700);
      sent.insert(sent.end(), all.begin(), all.begin() + static_cast<std::ptrdiff_t>(take));
      q.consume(take);
    }
    ASSERT_TRUE(q.empty());
    EXPECT_EQ(q.queued_bytes(), 0u);
    EXPECT_EQ(sent, expected) << "round " << round;
  }
}

TEST(send_queue, refuses_a_frame_that_would_pass_the_high_water_mark) {
  send_queue q(100);
  ASSERT_TRUE(q.push(frame_of(40, 1)));  // 44 bytes on the wire
  ASSERT_TRUE(q.push(frame_of(40, 2)));  // 88
  EXPECT_FALSE(q.push(frame_of(40, 3)));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.queued_bytes(), 88u);
  q.consume(44);
  EXPECT_TRUE(q.push(frame_of(40, 3)));
}

TEST(send_queue, takes_one_frame_larger_than_the_mark_when_empty) {
  send_queue q(100);
  EXPECT_TRUE(q.push(frame_of(1000, 1)));
  EXPECT_FALSE(q.push(frame_of(1, 1)));
}

TEST(send_queue, refuses_an_empty_frame) {
  send_queue q(100);
  EXPECT_FALSE(q.push(frame{}));
  EXPECT_TRUE(q.empty());
}

TEST(send_queue, shares_one_frame_between_many_queues_without_copying) {
  auto f = frame_of(64, 9);
  std::vector<send_queue> queues;
  for (int i = 0; i < 50; ++i) queues.emplace_back(1 << 20);
  for (auto& q : queues) ASSERT_TRUE(q.push(f));
  EXPECT_EQ(f.use_count(), 51u);
  std::array<const_buffer, 1> b;
  for (auto& q : queues) {
    ASSERT_EQ(q.gather(b), 1u);
    EXPECT_EQ(b[0].data, f.wire().data()) << "the queue points at the shared bytes";
  }
  for (auto& q : queues) q.consume(f.wire_size());
  EXPECT_EQ(f.use_count(), 1u) << "sent frames are released";
}

TEST(send_queue, clear_drops_every_frame) {
  auto f = frame_of(64, 9);
  send_queue q(1 << 20);
  q.push(f);
  q.push(f);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.queued_bytes(), 0u);
  EXPECT_EQ(f.use_count(), 1u);
}

TEST(send_queue, gathers_frames_that_lie_back_to_back_in_memory_into_one_buffer) {
  // Received frames padded to eight bytes are views of one read block, in stream order.
  quay::net::framer reader(1024);
  std::vector<std::byte> stream;
  for (int i = 0; i < 10; ++i) {
    const auto f = frame_of(60, static_cast<std::uint8_t>(i));
    stream.insert(stream.end(), f.wire().begin(), f.wire().end());
  }
  send_queue q(1 << 20);
  std::size_t pos = 0;
  while (pos < stream.size()) {
    auto space = reader.prepare(true);
    const std::size_t n = std::min(space.size(), stream.size() - pos);
    std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(pos), n, space.begin());
    reader.commit(n);
    pos += n;
    frame f;
    while (reader.next_frame(f) == quay::net::decode_status::frame) ASSERT_TRUE(q.push(f));
  }
  std::array<const_buffer, 4> bufs;
  const auto n = q.gather(bufs);
  EXPECT_LE(n, 2u) << "the first frame may have been copied out of the inline area";
  EXPECT_EQ(flatten(std::span(bufs.data(), n)), stream);
  q.consume(stream.size());
  EXPECT_TRUE(q.empty());
}

// Sends `frames` one-byte-payload frames through `q` and consumes them all, as one burst.
void burst(send_queue& q, std::size_t frames) {
  const auto f = frame_of(4, 1);
  for (std::size_t i = 0; i < frames; ++i) ASSERT_TRUE(q.push(f));
  q.consume(q.queued_bytes());
  ASSERT_TRUE(q.empty());
}

TEST(send_queue, keeps_its_capacity_across_bursts_of_more_than_64_frames) {
  send_queue q(1 << 20);
  burst(q, 200);
  const std::size_t grown = q.capacity();
  ASSERT_GE(grown, 200u);
  for (int i = 0; i < 1000; ++i) {
    burst(q, 200);
    ASSERT_EQ(q.capacity(), grown) << "reallocated on burst " << i;
  }
}

TEST(send_queue, gives_back_a_storms_capacity_after_many_small_bursts) {
  send_queue q(1 << 30);
  burst(q, 10'000);
  ASSERT_GE(q.capacity(), 10'000u);
  for (int i = 0; i < 1000; ++i) burst(q, 3);
  EXPECT_LE(q.capacity(), 64u);
}

TEST(send_queue, a_trimmed_queue_does_not_thrash_under_alternating_burst_sizes) {
  // Big and small bursts in turn: the small ones never add up to a trim, so the big ones never
  // reallocate after the first.
  send_queue q(1 << 20);
  burst(q, 500);
  const std::size_t grown = q.capacity();
  for (int i = 0; i < 2000; ++i) {
    burst(q, i % 100 == 0 ? 500 : 3);
    ASSERT_EQ(q.capacity(), grown) << "reallocated on burst " << i;
  }
}

}  // namespace

namespace {

// A test prefix: one byte holding the payload size (payloads under 256 bytes), then 0xAA.
std::size_t two_byte_prefix(std::size_t n, std::byte* out) noexcept {
  out[0] = static_cast<std::byte>(n);
  out[1] = std::byte{0xAA};
  return 2;
}

std::vector<std::byte> expected_prefixed(const std::vector<std::pair<frame, bool>>& items) {
  std::vector<std::byte> out;
  for (const auto& [f, raw] : items) {
    if (!raw) {
      out.push_back(static_cast<std::byte>(f.payload_size()));
      out.push_back(std::byte{0xAA});
    }
    out.insert(out.end(), f.payload().begin(), f.payload().end());
  }
  return out;
}

TEST(send_queue, in_prefixed_mode_sends_each_frame_as_prefix_and_payload_and_raw_frames_bare) {
  send_queue q(1 << 20);
  q.use_prefix(&two_byte_prefix);
  std::vector<std::pair<frame, bool>> items;
  for (int i = 0; i < 20; ++i) {
    frame f = frame_of(static_cast<std::size_t>(3 + i * 7), static_cast<std::uint8_t>(i));
    const bool raw = i % 5 == 0;
    ASSERT_TRUE(raw ? q.push_raw(f) : q.push(f));
    items.emplace_back(f, raw);
  }
  const auto want = expected_prefixed(items);
  EXPECT_EQ(q.queued_bytes(), want.size());
  // Sends in odd-sized pieces; every gather continues from the exact byte, prefix or payload.
  std::vector<std::byte> wire;
  std::array<std::byte, 32 * send_queue::max_prefix_bytes> scratch{};
  for (int round = 0; round < 10'000 && !q.empty(); ++round) {
    std::array<const_buffer, 7> bufs{};
    const std::size_t n = q.gather(bufs, scratch);
    ASSERT_GT(n, 0u);
    auto flat = flatten(std::span<const const_buffer>(bufs.data(), n));
    const std::size_t take = std::min<std::size_t>(flat.size(), 5 + static_cast<std::size_t>(round % 11));
    wire.insert(wire.end(), flat.begin(), flat.begin() + static_cast<std::ptrdiff_t>(take));
    q.consume(take);
  }
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.queued_bytes(), 0u);
  EXPECT_EQ(wire, want);
}

}  // namespace
