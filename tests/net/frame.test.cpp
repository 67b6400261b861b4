// Shared frames: layout, alignment and the reference count under concurrent copies.
#include "quay/net/frame.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

namespace {

using quay::net::frame;

TEST(frame, puts_a_little_endian_length_header_right_before_the_payload) {
  const char text[] = "hello";
  auto f = frame::copy_of(std::as_bytes(std::span(text, 5)));
  ASSERT_TRUE(f);
  auto w = f.wire();
  ASSERT_EQ(w.size(), 9u);
  EXPECT_EQ(w[0], std::byte{5});
  EXPECT_EQ(w[1], std::byte{0});
  EXPECT_EQ(w[3], std::byte{0});
  EXPECT_EQ(std::memcmp(w.data() + 4, text, 5), 0);
  EXPECT_EQ(f.payload().data(), w.data() + 4);
  EXPECT_EQ(f.payload_size(), 5u);
}

TEST(frame, header_round_trips_every_byte_position) {
  std::byte h[4];
  for (std::uint32_t v : {1u, 0xffu, 0x100u, 0x12345678u, 0xffffffffu}) {
    quay::net::write_frame_header(h, v);
    EXPECT_EQ(quay::net::read_frame_header(h), v);
  }
}

TEST(frame, starts_the_payload_eight_byte_aligned) {
  for (std::size_t n : {1u, 3u, 8u, 100u}) {
    auto f = frame::make(n, [](std::span<std::byte>) {});
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.payload().data()) % 8, 0u);
  }
}

TEST(frame, refuses_an_empty_or_oversized_payload) {
  EXPECT_FALSE(frame::copy_of({}));
  EXPECT_FALSE(frame::make(quay::net::frame_size_cap + 1, [](std::span<std::byte>) {}));
}

TEST(frame, copies_share_the_bytes_and_count_references) {
  auto a = frame::make(10, [](std::span<std::byte> s) { s[0] = std::byte{1}; });
  auto b = a;
  EXPECT_EQ(a.wire().data(), b.wire().data());
  EXPECT_EQ(a.use_count(), 2u);
  frame c = std::move(b);
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move): moved-from frames are empty by contract
  EXPECT_EQ(a.use_count(), 2u);
  c = frame{};
  EXPECT_EQ(a.use_count(), 1u);
}

TEST(frame, survives_copies_and_releases_racing_on_many_threads) {
  auto f = frame::make(32, [](std::span<std::byte> s) { std::memset(s.data(), 7, s.size()); });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([f] {
      for (int i = 0; i < 20000; ++i) {
        frame copy = f;
        ASSERT_EQ(copy.payload()[31], std::byte{7});
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.use_count(), 1u);
}

}  // namespace
