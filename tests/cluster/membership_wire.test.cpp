#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "membership_wire.hpp"
#include "quay/cluster/node_id.hpp"

namespace qc = quay::cluster;
using qc::detail::beat;
using qc::detail::wire_fault;

TEST(membership_wire, a_beat_survives_encode_and_decode) {
  beat b{qc::detail::beat_kind::announce, qc::node_id{0x1234'5678'9abc'def0ull}, 42, 1000};
  const auto bytes = qc::detail::encode(b);
  beat out;
  ASSERT_EQ(qc::detail::decode(bytes, out), wire_fault::none);
  EXPECT_EQ(out.kind, b.kind);
  EXPECT_EQ(out.from, b.from);
  EXPECT_EQ(out.seq, 42u);
  EXPECT_EQ(out.interval_ms, 1000u);
}

TEST(membership_wire, every_truncation_and_every_extension_is_refused) {
  const auto bytes = qc::detail::encode({qc::detail::beat_kind::heartbeat, qc::node_id{7}, 1, 10});
  beat out;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(qc::detail::decode(std::span(bytes.data(), n), out), wire_fault::truncated) << n;
  }
  std::vector<std::uint8_t> big(bytes.begin(), bytes.end());
  big.resize(1 << 20, 0xAB);
  EXPECT_EQ(qc::detail::decode(big, out), wire_fault::oversized);
}

TEST(membership_wire, a_wrong_magic_version_kind_or_zero_sender_is_named) {
  const auto good = qc::detail::encode({qc::detail::beat_kind::heartbeat, qc::node_id{7}, 1, 10});
  beat out;
  auto b = good;
  b[0] = 'X';
  EXPECT_EQ(qc::detail::decode(b, out), wire_fault::bad_magic);
  b = good;
  b[4] = 9;
  EXPECT_EQ(qc::detail::decode(b, out), wire_fault::bad_version);
  b = good;
  b[5] = 0;
  EXPECT_EQ(qc::detail::decode(b, out), wire_fault::bad_kind);
  b = good;
  b[5] = 4;
  EXPECT_EQ(qc::detail::decode(b, out), wire_fault::bad_kind);
  b = good;
  b[6] = 1;
  EXPECT_EQ(qc::detail::decode(b, out), wire_fault::bad_field);
  b = good;
  for (int i = 8; i < 16; ++i) b[static_cast<std::size_t>(i)] = 0;
  EXPECT_EQ(qc::detail::decode(b, out), wire_fault::bad_field);
}

TEST(membership_wire, random_garbage_of_any_length_never_decodes_and_never_crashes) {
  std::mt19937_64 rng(15);
  beat out;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> junk(rng() % 64);
    for (auto& x : junk) x = static_cast<std::uint8_t>(rng());
    EXPECT_NE(qc::detail::decode(junk, out), wire_fault::none);
  }
}

TEST(membership_wire, subjects_match_nats_wildcards_token_by_token) {
  using qc::detail::subject_matches;
  EXPECT_TRUE(subject_matches("a.b.c", "a.b.c"));
  EXPECT_FALSE(subject_matches("a.b.c", "a.b"));
  EXPECT_FALSE(subject_matches("a.b", "a.b.c"));
  EXPECT_TRUE(subject_matches("a.*.c", "a.x.c"));
  EXPECT_FALSE(subject_matches("a.*.c", "a.x.y.c"));
  EXPECT_TRUE(subject_matches("a.>", "a.x.y.c"));
  EXPECT_FALSE(subject_matches("a.>", "a"));
  EXPECT_TRUE(subject_matches("quay.cluster.x.beat.*", "quay.cluster.x.beat.0123456789abcdef"));
  EXPECT_FALSE(subject_matches("quay.cluster.x.beat.*", "quay.cluster.y.beat.0123456789abcdef"));
}

TEST(node_id, an_incarnation_prints_as_sixteen_hex_digits_and_parses_back) {
  const auto id = qc::make_incarnation(1'764'800'000'000ull, 0xABCDE);
  const auto text = qc::to_string(id);
  EXPECT_EQ(text.size(), 16u);
  EXPECT_EQ(qc::parse_node_id(text), id);
  EXPECT_FALSE(qc::parse_node_id("0000000000000000"));
  EXPECT_FALSE(qc::parse_node_id("123"));
  EXPECT_FALSE(qc::parse_node_id("ABCDEF0123456789"));  // upper case is not the printed form
  EXPECT_FALSE(qc::parse_node_id("0123456789abcdeg"));
}

TEST(node_id, incarnations_started_later_are_larger_and_fresh_ones_differ) {
  EXPECT_LT(qc::make_incarnation(1000, 0xFFFFF), qc::make_incarnation(1001, 0));
  EXPECT_NE(qc::new_incarnation(), qc::new_incarnation());
}

TEST(node_table, a_local_number_is_never_given_to_another_incarnation) {
  qc::node_table t;
  const auto a = t.index_of(qc::node_id{100});
  const auto b = t.index_of(qc::node_id{200});
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 2u);
  EXPECT_EQ(t.index_of(qc::node_id{100}), a);
  EXPECT_EQ(t.incarnation_of(a), qc::node_id{100});
  EXPECT_EQ(t.incarnation_of(b), qc::node_id{200});
  EXPECT_FALSE(t.incarnation_of(0));
  EXPECT_FALSE(t.incarnation_of(3));
  // A restarted process (a new incarnation) gets a new number; the old one still names the old.
  EXPECT_EQ(t.index_of(qc::node_id{300}), 3u);
  EXPECT_EQ(t.incarnation_of(a), qc::node_id{100});
}
