// Envelopes: which class a message travels in, where its payload lives, and that the pool
// destroys each payload exactly once.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "quay/actors/detail/envelope.hpp"

namespace {

using quay::detail::envelope;
using quay::detail::flag_large;
using quay::detail::free_envelope;
using quay::detail::make_envelope;

struct empty_msg {};
struct eight_bytes {
  std::uint64_t v = 0;
};
struct nine_bytes {
  std::array<unsigned char, 9> b{};
};
struct alignas(16) sixteen_aligned {
  std::uint64_t a = 0;
};
struct big_msg {
  std::array<std::uint64_t, 16> words{};
};

int live_counted = 0;
struct counted {
  counted() { ++live_counted; }
  counted(const counted&) { ++live_counted; }
  counted(counted&&) noexcept { ++live_counted; }
  ~counted() { --live_counted; }
  std::uint32_t v = 7;
};

TEST(envelope, messages_of_at_most_eight_bytes_travel_in_a_small_envelope) {
  static_assert(sizeof(envelope) == 64);
  static_assert(envelope::fits_small<empty_msg> && envelope::fits_small<eight_bytes>);
  static_assert(envelope::needs_large<nine_bytes> && envelope::needs_large<sixteen_aligned>);
  static_assert(!envelope::fits_inline<big_msg> && !envelope::needs_large<big_msg>);
  envelope* e = make_envelope(eight_bytes{42});
  EXPECT_EQ(e->flags & flag_large, 0);
  EXPECT_EQ(e->get<eight_bytes>().v, 42u);
  free_envelope(e);
}

TEST(envelope, messages_of_nine_to_sixty_four_bytes_travel_in_a_large_envelope) {
  nine_bytes n;
  n.b[8] = 9;
  envelope* e = make_envelope(n);
  EXPECT_NE(e->flags & flag_large, 0);
  EXPECT_EQ(e->get<nine_bytes>().b[8], 9);
  free_envelope(e);
  envelope* a = make_envelope(sixteen_aligned{5});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&a->get<sixteen_aligned>()) % 16, 0u);
  EXPECT_EQ(a->get<sixteen_aligned>().a, 5u);
  free_envelope(a);
}

TEST(envelope, larger_messages_go_to_the_heap_behind_a_small_envelope) {
  big_msg m;
  m.words[15] = 99;
  envelope* e = make_envelope(m);
  EXPECT_EQ(e->flags & flag_large, 0);
  EXPECT_EQ(e->get<big_msg>().words[15], 99u);
  free_envelope(e);
  envelope* s = make_envelope(std::string(100, 'x'));
  static_assert(sizeof(std::string) > quay::detail::small_message_bytes);
  EXPECT_EQ(s->get<std::string>(), std::string(100, 'x'));
  free_envelope(s);
}

TEST(envelope, the_pool_destroys_each_payload_exactly_once_in_either_class) {
  struct counted_large {
    counted c;
    std::array<std::uint32_t, 6> pad{};
  };
  static_assert(envelope::fits_small<counted> && envelope::needs_large<counted_large>);
  std::vector<envelope*> held;
  for (int i = 0; i < 1000; ++i) {
    held.push_back(make_envelope(counted{}));
    held.push_back(make_envelope(counted_large{}));
  }
  EXPECT_EQ(live_counted, 2000);
  for (envelope* e : held) free_envelope(e);
  EXPECT_EQ(live_counted, 0);
}

TEST(envelope, a_freed_envelope_is_reused_before_fresh_memory_is_carved) {
  envelope* a = make_envelope(eight_bytes{1});
  free_envelope(a);
  envelope* b = make_envelope(eight_bytes{2});
  EXPECT_EQ(a, b);
  free_envelope(b);
}

}  // namespace
