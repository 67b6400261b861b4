// The envelope: encode/decode round trips, and verification rejects what is not an envelope.
#include "quay/net/envelope.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "quay/net/error.hpp"

namespace {

using quay::net::decode_envelope;
using quay::net::encode_envelope;
using quay::net::envelope_view;
using quay::net::frame;

std::vector<std::byte> bytes_of(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(i * 13);
  return v;
}

TEST(envelope, round_trips_type_seq_and_payload) {
  const auto p = bytes_of(37);
  auto f = encode_envelope(42, 0xdeadbeef, p);
  ASSERT_TRUE(f);
  envelope_view env;
  ASSERT_FALSE(decode_envelope(f.payload(), env));
  EXPECT_EQ(env.type, 42);
  EXPECT_EQ(env.seq, 0xdeadbeefu);
  ASSERT_EQ(env.payload.size(), p.size());
  EXPECT_EQ(std::memcmp(env.payload.data(), p.data(), p.size()), 0);
}

TEST(envelope, places_the_nested_payload_eight_byte_aligned) {
  for (std::size_t n : {1u, 5u, 8u, 13u, 100u}) {
    auto f = encode_envelope(20, 1, bytes_of(n));
    envelope_view env;
    ASSERT_FALSE(decode_envelope(f.payload(), env));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(env.payload.data()) % 8, 0u) << n;
  }
}

TEST(envelope, ping_and_pong_carry_their_seq_and_no_payload) {
  envelope_view env;
  ASSERT_FALSE(decode_envelope(quay::net::encode_ping(7).payload(), env));
  EXPECT_EQ(env.type, quay::net::msg_type::ping);
  EXPECT_EQ(env.seq, 7u);
  EXPECT_TRUE(env.payload.empty());
  ASSERT_FALSE(decode_envelope(quay::net::encode_pong(7).payload(), env));
  EXPECT_EQ(env.type, quay::net::msg_type::pong);
}

TEST(envelope, rejects_type_zero) {
  auto f = encode_envelope(0, 1, bytes_of(4));
  envelope_view env;
  EXPECT_EQ(decode_envelope(f.payload(), env), quay::net::errc::invalid_envelope);
}

TEST(envelope, rejects_empty_and_garbage_bytes) {
  envelope_view env;
  EXPECT_EQ(decode_envelope({}, env), quay::net::errc::invalid_envelope);
  alignas(8) std::byte garbage[64];
  std::memset(garbage, 0xff, sizeof garbage);
  EXPECT_EQ(decode_envelope(garbage, env), quay::net::errc::invalid_envelope);
}

TEST(envelope, rejects_every_truncation_that_cuts_into_the_flatbuffer) {
  auto f = encode_envelope(99, 5, bytes_of(40));
  const auto full = f.payload();
  std::size_t accepted = 0;
  for (std::size_t n = 0; n < full.size(); ++n) {
    alignas(8) std::byte copy[256];
    std::memcpy(copy, full.data(), n);
    envelope_view env;
    if (decode_envelope(std::span(copy, n), env)) continue;
    // Only the zero padding after the flatbuffer may go (see the padding test below).
    ++accepted;
    EXPECT_LT(full.size() - n, 8u) << "truncated to " << n;
    for (std::size_t i = n; i < full.size(); ++i) EXPECT_EQ(full[i], std::byte{0});
  }
  EXPECT_LT(accepted, 8u);
}

TEST(envelope, pads_every_encoded_frame_to_a_wire_size_that_is_a_multiple_of_eight) {
  for (std::size_t n = 0; n < 80; ++n) {
    auto f = encode_envelope(99, 5, bytes_of(n));
    EXPECT_EQ(f.wire_size() % 8, 0u) << n << "-byte payload";
    envelope_view env;
    ASSERT_FALSE(decode_envelope(f.payload(), env));
    EXPECT_EQ(env.payload.size(), n);
  }
}

TEST(envelope, never_reads_out_of_bounds_under_random_byte_flips) {
  // Under ASan this is the proof that verification guards every read; without it, it still
  // checks that a decoded payload always lies inside the frame.
  std::mt19937 rng(99);
  auto f = encode_envelope(300, 9, bytes_of(64));
  const auto full = f.payload();
  for (int round = 0; round < 5000; ++round) {
    alignas(8) std::byte copy[512];
    std::memcpy(copy, full.data(), full.size());
    for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
      copy[rng() % full.size()] = static_cast<std::byte>(rng());
    }
    envelope_view env;
    if (!decode_envelope(std::span(copy, full.size()), env) && !env.payload.empty()) {
      ASSERT_GE(env.payload.data(), copy);
      ASSERT_LE(env.payload.data() + env.payload.size(), copy + full.size());
    }
  }
}

}  // namespace
