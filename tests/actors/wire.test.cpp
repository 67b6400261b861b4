// Wire forms (quay/actors/wire.hpp): a message type with a wire form is handled by the same
// on<> handler whether it was sent locally or decoded from bytes, a local send of it stays free
// of heap allocation, and bytes that do not verify reach no handler.

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "quay/actors/testing.hpp"
#include "quay/actors/wire.hpp"
#include "quay/test/test_messages_generated.h"

namespace {
std::atomic<long long> g_allocs{0};
}  // namespace

// Counts every operator new in the process (the model: tests/actors/footprint.test.cpp).
// The replacements pair malloc with free, which is correct; g++ 12 at -O3 sees free() on a
// pointer from "operator new" once both are inlined and warns (-Wmismatched-new-delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) {
    throw std::bad_alloc();
  }
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using quay::actor_ref;
using quay::message_origin;

// A small message with a wire form (quay.test.Chat: channel and text).
struct tell_msg {
  std::uint32_t channel = 0;
  std::uint32_t count = 0;
};

}  // namespace

template <>
struct quay::wire_form<tell_msg> {
  static constexpr std::uint16_t id = 200;
  using table = quay::test::Chat;
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b, const tell_msg& m) {
    return quay::test::CreateChat(b, b.CreateString(std::to_string(m.count)), m.channel);
  }
  static tell_msg decode(const table& t) {
    return {t.channel(), t.text() != nullptr ? static_cast<std::uint32_t>(std::stoul(t.text()->str()))
                                             : 0u};
  }
};

namespace {

// Three more wire-form types, for the table's order.
template <int N>
struct numbered {
  std::uint32_t n = 0;
};

}  // namespace

template <int N>
struct quay::wire_form<numbered<N>> {
  static constexpr std::uint16_t id = static_cast<std::uint16_t>(300 + N);
  using table = quay::test::Chat;
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b, const numbered<N>& m) {
    return quay::test::CreateChat(b, 0, m.n);
  }
  static numbered<N> decode(const table& t) { return {t.channel()}; }
};

namespace {

struct seen {
  tell_msg msg;
  message_origin origin;
  actor_ref sender;
};

class listener final : public quay::actor {
 public:
  explicit listener(std::vector<seen>* out) : out_(out) {}
  static void define(quay::handlers<listener>& h) { h.on<&listener::on_tell>(); }

 private:
  void on_tell(const tell_msg& m) { out_->push_back({m, origin(), sender()}); }
  std::vector<seen>* out_;
};

// The same shape as tell_msg, without a wire form.
struct plain {
  std::uint32_t count = 0;
  std::uint32_t pad = 0;
};

// Counts local tells without storing them (no allocation in the handler).
class counter final : public quay::actor {
 public:
  explicit counter(std::uint64_t* n) : n_(n) {}
  static void define(quay::handlers<counter>& h) {
    h.on<&counter::on_tell>().on<&counter::on_plain>();
  }

 private:
  void on_tell(const tell_msg& m) { *n_ += m.count; }
  void on_plain(const plain& m) { *n_ += m.count; }
  std::uint64_t* n_;
};

std::vector<std::byte> encoded(const tell_msg& m) {
  flatbuffers::FlatBufferBuilder b;
  const auto bytes = quay::wire::encode(b, m);
  return {bytes.begin(), bytes.end()};
}

TEST(wire, a_local_send_of_a_wire_form_message_reaches_its_handler_with_a_local_origin) {
  quay::testing::actor_fixture f;
  std::vector<seen> out;
  const actor_ref a = f.spawn<listener>(&out);
  f.send(a, tell_msg{7, 3});
  f.run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].msg.channel, 7u);
  EXPECT_EQ(out[0].msg.count, 3u);
  EXPECT_EQ(out[0].origin.from, message_origin::source::local);
  EXPECT_EQ(out[0].origin.wire_id, 0u);
}

TEST(wire, bytes_decoded_for_a_registered_wire_id_reach_the_same_handler_with_their_sender) {
  quay::testing::actor_fixture f;
  std::vector<seen> out;
  const actor_ref a = f.spawn<listener>(&out);
  f.run();
  const actor_ref remote{5, 9, 42};  // a remote actor's ref (node 42), as the cluster gives it
  const auto bytes = encoded(tell_msg{2, 11});
  EXPECT_FALSE(quay::wire::send_decoded(f.sys, a, remote, 200, bytes));
  f.run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].msg.channel, 2u);
  EXPECT_EQ(out[0].msg.count, 11u);
  EXPECT_EQ(out[0].sender, remote);
}

TEST(wire, bytes_that_do_not_verify_are_refused_and_reach_no_handler) {
  quay::testing::actor_fixture f;
  std::vector<seen> out;
  const actor_ref a = f.spawn<listener>(&out);
  f.run();
  alignas(8) std::byte garbage[32];
  for (std::size_t i = 0; i < sizeof garbage; ++i) {
    garbage[i] = static_cast<std::byte>(0xA5 ^ i);
  }
  const auto before = quay::wire::stats().rejected;
  EXPECT_EQ(quay::wire::send_decoded(f.sys, a, {}, 200, garbage), quay::wire_errc::invalid_payload);
  f.run();
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(quay::wire::stats().rejected, before + 1);
}

TEST(wire, an_unregistered_wire_id_is_refused_and_counted) {
  quay::testing::actor_fixture f;
  const auto bytes = encoded(tell_msg{1, 1});
  const auto before = quay::wire::stats().unknown;
  std::error_code ec;
  EXPECT_EQ(quay::wire::decode_envelope(4321, bytes, ec), nullptr);
  EXPECT_EQ(ec, quay::wire_errc::unknown_wire_id);
  EXPECT_EQ(quay::wire::stats().unknown, before + 1);
}

// Registers wire types out of id order (0, 2, 1). Hands bytes to the host's wire::deliver in the host's own turn.
struct deliver_bytes {
  std::uint16_t id = 0;
  std::vector<std::byte> bytes;
  std::size_t offset = 0;  // where the payload starts in 8-aligned storage (4: misaligned)
};

class sorter_host final : public quay::actor {
 public:
  explicit sorter_host(std::vector<int>* out, std::vector<std::error_code>* results)
      : out_(out), results_(results) {}
  static void define(quay::handlers<sorter_host>& h) {
    h.on<&sorter_host::on_deliver>()
        .on<&sorter_host::on_0>()
        .on<&sorter_host::on_2>()
        .on<&sorter_host::on_1>();
  }

 private:
  void on_deliver(deliver_bytes& d) {
    // 8-aligned storage, the payload placed at `offset` in it.
    std::vector<std::uint64_t> storage(d.bytes.size() / 8 + 2);
    auto* base = reinterpret_cast<std::byte*>(storage.data()) + d.offset;
    std::copy(d.bytes.begin(), d.bytes.end(), base);
    results_->push_back(quay::wire::deliver(*this, d.id, {base, d.bytes.size()}, {}));
  }
  void on_0(const numbered<0>& m) { out_->push_back(static_cast<int>(m.n)); }
  void on_1(const numbered<1>& m) { out_->push_back(100 + static_cast<int>(m.n)); }
  void on_2(const numbered<2>& m) { out_->push_back(200 + static_cast<int>(m.n)); }
  std::vector<int>* out_;
  std::vector<std::error_code>* results_;
};

template <class M>
std::vector<std::byte> encoded_as(const M& m) {
  flatbuffers::FlatBufferBuilder b;
  const auto bytes = quay::wire::encode(b, m);
  return {bytes.begin(), bytes.end()};
}

TEST(wire, every_wire_id_of_a_table_is_found_whatever_the_registration_order) {
  quay::testing::actor_fixture f;
  std::vector<int> out;
  std::vector<std::error_code> results;
  const actor_ref a = f.spawn<sorter_host>(&out, &results);
  f.send(a, deliver_bytes{301, encoded_as(numbered<1>{5}), 0});
  f.send(a, deliver_bytes{302, encoded_as(numbered<2>{6}), 0});
  f.send(a, deliver_bytes{300, encoded_as(numbered<0>{7}), 0});
  f.run();
  ASSERT_EQ(results.size(), 3u);
  for (const auto& ec : results) {
    EXPECT_FALSE(ec) << ec.message();
  }
  EXPECT_EQ(out, (std::vector<int>{105, 206, 7}));
}

TEST(wire, a_payload_that_is_not_8_byte_aligned_reaches_no_handler) {
  quay::testing::actor_fixture f;
  std::vector<int> out;
  std::vector<std::error_code> results;
  const actor_ref a = f.spawn<sorter_host>(&out, &results);
  f.send(a, deliver_bytes{300, encoded_as(numbered<0>{1}), 4});
  f.run();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], quay::wire_errc::invalid_payload);
  EXPECT_TRUE(out.empty());
}

// Allocations over `n` sends of `m` from outside to `a`, each handled at once.
template <class M>
long long allocations_for(quay::testing::actor_fixture& f, actor_ref a, const M& m, int n) {
  const long long start = g_allocs.load();
  for (int i = 0; i < n; ++i) {
    f.send(a, m);
    f.run();
  }
  return g_allocs.load() - start;
}

TEST(wire, a_local_send_of_a_wire_form_message_costs_no_more_allocation_than_a_plain_one) {
  quay::testing::actor_fixture f;
  std::uint64_t total = 0;
  const actor_ref a = f.spawn<counter>(&total);
  // Warm-up: the envelope pools and the manual port's queue fill.
  allocations_for(f, a, tell_msg{0, 1}, 2'000);
  allocations_for(f, a, plain{1}, 2'000);
  constexpr int n = 20'000;
  const long long wire_form = allocations_for(f, a, tell_msg{0, 1}, n);
  const long long plain_sends = allocations_for(f, a, plain{1}, n);
  EXPECT_EQ(total, 2u * (2'000u + n));
  // The fixture itself allocates now and then (its queue, metrics samples: ~1 in 60 here); a
  // wire form must add nothing to a local send (encoding would cost a builder and a frame per
  // message).
  EXPECT_LE(wire_form, plain_sends + 2) << wire_form << " vs " << plain_sends;
  EXPECT_LT(wire_form, n / 20) << wire_form << " allocations over " << n << " local sends";
}

}  // namespace
