// The framer: every way a byte stream can be split or merged decodes to the same frames.
#include "quay/net/framer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "quay/net/error.hpp"
#include "quay/net/frame.hpp"

namespace {

using bytes = std::vector<std::byte>;
using quay::net::decode_status;
using quay::net::framer;

bytes payload_of(std::size_t n, std::uint8_t seed) {
  bytes p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
  return p;
}

void append_frame(bytes& stream, const bytes& payload) {
  std::byte h[4];
  quay::net::write_frame_header(h, static_cast<std::uint32_t>(payload.size()));
  stream.insert(stream.end(), h, h + 4);
  stream.insert(stream.end(), payload.begin(), payload.end());
}

struct decoded {
  std::vector<bytes> frames;
  bool error = false;
};

// Feeds `stream` cut at `cuts` (sorted offsets), taking frames after every receive the way a
// session does.
decoded decode_chunks(framer& f, const bytes& stream, const std::vector<std::size_t>& cuts) {
  decoded out;
  std::size_t pos = 0;
  auto drain = [&] {
    std::span<const std::byte> p;
    for (;;) {
      auto st = f.next(p);
      if (st == decode_status::frame) {
        out.frames.emplace_back(p.begin(), p.end());
      } else {
        out.error = st == decode_status::error;
        return;
      }
    }
  };
  std::vector<std::size_t> ends = cuts;
  ends.push_back(stream.size());
  for (std::size_t end : ends) {
    while (pos < end && !out.error) {
      pos += f.feed(std::span(stream).subspan(pos, end - pos));
      drain();
    }
  }
  return out;
}

std::vector<bytes> sample_payloads() {
  return {payload_of(1, 1), payload_of(3, 2), payload_of(4, 3), payload_of(5, 4),
          payload_of(100, 5), payload_of(31, 6), payload_of(2, 7)};
}

bytes stream_of(const std::vector<bytes>& payloads) {
  bytes s;
  for (const auto& p : payloads) append_frame(s, p);
  return s;
}

TEST(framer, decodes_a_whole_frame_received_in_one_piece) {
  framer f(1024);
  auto p = payload_of(10, 9);
  bytes s;
  append_frame(s, p);
  auto d = decode_chunks(f, s, {});
  ASSERT_FALSE(d.error);
  ASSERT_EQ(d.frames.size(), 1u);
  EXPECT_EQ(d.frames[0], p);
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(framer, decodes_the_same_frames_when_the_stream_is_split_at_any_one_byte) {
  const auto payloads = sample_payloads();
  const auto s = stream_of(payloads);
  for (std::size_t i = 0; i <= s.size(); ++i) {
    framer f(1024);
    auto d = decode_chunks(f, s, {i});
    ASSERT_FALSE(d.error) << "split at " << i;
    ASSERT_EQ(d.frames, payloads) << "split at " << i;
  }
}

TEST(framer, decodes_the_same_frames_when_the_stream_is_split_at_any_two_bytes) {
  const auto payloads = sample_payloads();
  const auto s = stream_of(payloads);
  for (std::size_t i = 0; i <= s.size(); ++i) {
    for (std::size_t j = i; j <= s.size(); ++j) {
      framer f(1024);
      auto d = decode_chunks(f, s, {i, j});
      ASSERT_FALSE(d.error);
      ASSERT_EQ(d.frames, payloads) << "split at " << i << "," << j;
    }
  }
}

TEST(framer, decodes_a_stream_delivered_one_byte_at_a_time) {
  auto payloads = sample_payloads();
  payloads.push_back(payload_of(20000, 11));  // larger than a block
  payloads.push_back(payload_of(7, 12));
  const auto s = stream_of(payloads);
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < s.size(); ++i) cuts.push_back(i);
  framer f(64 * 1024);
  auto d = decode_chunks(f, s, cuts);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.frames, payloads);
}

TEST(framer, decodes_many_frames_merged_into_one_receive) {
  std::vector<bytes> payloads;
  for (int i = 0; i < 500; ++i) payloads.push_back(payload_of(1 + (i * 7) % 60, static_cast<std::uint8_t>(i)));
  const auto s = stream_of(payloads);
  framer f(1024);
  auto d = decode_chunks(f, s, {});
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.frames, payloads);
}

TEST(framer, decodes_the_same_frames_under_random_chunking) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::vector<bytes> payloads;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      const std::size_t size = (rng() % 10 == 0) ? 1 + rng() % 40000 : 1 + rng() % 300;
      payloads.push_back(payload_of(size, static_cast<std::uint8_t>(rng())));
    }
    const auto s = stream_of(payloads);
    std::vector<std::size_t> cuts;
    for (std::size_t pos = 0; pos < s.size();) {
      pos += 1 + rng() % 5000;
      if (pos < s.size()) cuts.push_back(pos);
    }
    framer f(40000, 1024 + rng() % 20000);
    auto d = decode_chunks(f, s, cuts);
    ASSERT_FALSE(d.error) << "round " << round;
    ASSERT_EQ(d.frames, payloads) << "round " << round;
  }
}

TEST(framer, takes_every_fed_byte_before_any_frame_is_taken_even_when_a_frame_fills_the_inline_area) {
  // One whole frame exactly the size of the inline area, then more bytes, all fed before a
  // frame is taken (the session does this with the bytes that decided its protocol): the space
  // prepare() gives is never empty, so nothing fed is dropped.
  bytes stream;
  append_frame(stream, payload_of(framer::inline_bytes - 4, 1));
  append_frame(stream, payload_of(8, 2));
  stream.insert(stream.end(), 4, std::byte{0});  // a zero-length header last
  framer f(1024);
  std::span<const std::byte> rest(stream);
  for (int round = 0; !rest.empty() && round < 100; ++round) {
    const std::size_t took = f.feed(rest);
    ASSERT_GT(took, 0u) << "round " << round << ": " << rest.size() << " bytes left untaken";
    rest = rest.subspan(took);
  }
  std::span<const std::byte> p;
  ASSERT_EQ(f.next(p), decode_status::frame);
  EXPECT_EQ(bytes(p.begin(), p.end()), payload_of(framer::inline_bytes - 4, 1));
  ASSERT_EQ(f.next(p), decode_status::frame);
  EXPECT_EQ(bytes(p.begin(), p.end()), payload_of(8, 2));
  EXPECT_EQ(f.next(p), decode_status::error);
  EXPECT_EQ(f.error(), quay::net::errc::zero_length_frame);
}

TEST(framer, rejects_a_zero_length_header_from_its_four_bytes_alone) {
  framer f(1024);
  bytes s = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{9}};
  auto d = decode_chunks(f, s, {4});
  EXPECT_TRUE(d.error);
  EXPECT_TRUE(d.frames.empty());
  EXPECT_EQ(f.error(), quay::net::errc::zero_length_frame);
}

TEST(framer, rejects_an_oversized_length_before_allocating_for_it) {
  framer f(1000, 4096);
  bytes s(4);
  quay::net::write_frame_header(s.data(), 0x7fffffffu);
  auto d = decode_chunks(f, s, {});
  EXPECT_TRUE(d.error);
  EXPECT_EQ(f.error(), quay::net::errc::frame_too_large);
  EXPECT_EQ(f.offending_length(), 0x7fffffffu);
  EXPECT_LE(f.heap_bytes(), 4096u);
  EXPECT_TRUE(f.prepare().empty()) << "a failed stream takes no more bytes";
}

TEST(framer, rejects_a_length_one_over_the_max_and_accepts_exactly_the_max) {
  {
    framer f(1000);
    bytes s;
    append_frame(s, payload_of(1001, 1));
    EXPECT_TRUE(decode_chunks(f, s, {}).error);
  }
  {
    framer f(1000);
    bytes s;
    append_frame(s, payload_of(1000, 1));
    auto d = decode_chunks(f, s, {});
    ASSERT_FALSE(d.error);
    ASSERT_EQ(d.frames.size(), 1u);
  }
}

TEST(framer, reports_frames_before_an_error_and_then_stays_failed) {
  framer f(1024);
  bytes s;
  append_frame(s, payload_of(5, 1));
  s.insert(s.end(), 4, std::byte{0});
  append_frame(s, payload_of(5, 2));
  auto d = decode_chunks(f, s, {});
  EXPECT_TRUE(d.error);
  ASSERT_EQ(d.frames.size(), 1u);
  std::span<const std::byte> p;
  EXPECT_EQ(f.next(p), decode_status::error);
}

TEST(framer, holds_no_heap_memory_while_idle) {
  framer f(1024);
  EXPECT_EQ(f.heap_bytes(), 0u);
  EXPECT_EQ(f.prepare().size(), framer::inline_bytes);
  bytes s;
  append_frame(s, payload_of(5, 1));  // a short receive: stays inline
  decode_chunks(f, s, {});
  f.prepare();
  EXPECT_EQ(f.heap_bytes(), 0u);
}

TEST(framer, uses_a_block_while_busy_and_releases_it_when_the_stream_goes_quiet) {
  framer f(64 * 1024, 4096);
  std::vector<bytes> payloads;
  for (int i = 0; i < 100; ++i) payloads.push_back(payload_of(60, static_cast<std::uint8_t>(i)));
  const auto s = stream_of(payloads);
  auto d = decode_chunks(f, s, {});
  ASSERT_EQ(d.frames, payloads);
  // The last receive was short, so the next prepare gives the memory back.
  f.prepare();
  EXPECT_EQ(f.heap_bytes(), 0u);
}

TEST(framer, gives_a_large_frame_a_buffer_of_its_size_then_shrinks_back) {
  framer f(100'000, 4096);
  bytes s;
  append_frame(s, payload_of(90'000, 3));
  std::size_t pos = 0;
  std::size_t peak = 0;
  std::span<const std::byte> p;
  while (pos < s.size()) {
    auto space = f.prepare();
    peak = std::max(peak, f.heap_bytes());
    const std::size_t n = std::min(space.size(), s.size() - pos);
    std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(pos), n, space.begin());
    f.commit(n);
    pos += n;
  }
  ASSERT_EQ(f.next(p), decode_status::frame);
  EXPECT_EQ(p.size(), 90'000u);
  EXPECT_EQ(peak, 90'004u);
  f.release_idle();
  EXPECT_EQ(f.heap_bytes(), 0u);
}

TEST(framer, keeps_its_block_between_receives_while_the_caller_says_the_stream_is_active) {
  framer f(64 * 1024, 4096);
  bytes s;
  for (int i = 0; i < 20; ++i) append_frame(s, payload_of(60, static_cast<std::uint8_t>(i)));
  decode_chunks(f, s, {});
  const auto block = f.prepare(true);
  EXPECT_EQ(f.heap_bytes(), 4096u);
  EXPECT_EQ(block.size(), 4096u);
  f.commit(0);
  f.prepare(false);
  EXPECT_EQ(f.heap_bytes(), 0u);
}

// Receives `stream` in pieces of at most `chunk` bytes the way an active session does
// (prepare(true)), taking every frame with next_frame().
std::vector<quay::net::frame> receive_frames(framer& f, const bytes& stream, std::size_t chunk) {
  std::vector<quay::net::frame> out;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    auto space = f.prepare(true);
    const std::size_t n = std::min({space.size(), stream.size() - pos, chunk});
    std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(pos), n, space.begin());
    f.commit(n);
    pos += n;
    quay::net::frame fr;
    while (f.next_frame(fr) == decode_status::frame) out.push_back(std::move(fr));
  }
  return out;
}

bytes payload_bytes(const quay::net::frame& f) { return {f.payload().begin(), f.payload().end()}; }

TEST(framer, delivers_frames_padded_to_eight_bytes_as_views_into_one_block) {
  framer f(64 * 1024, 4096);
  std::vector<bytes> payloads;
  for (int i = 0; i < 20; ++i) payloads.push_back(payload_of(60, static_cast<std::uint8_t>(i)));
  const auto frames = receive_frames(f, stream_of(payloads), 1 << 20);
  ASSERT_EQ(frames.size(), payloads.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(payload_bytes(frames[i]), payloads[i]);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(frames[i].payload().data()) % 8, 0u);
    if (i > 1) {
      EXPECT_EQ(frames[i].wire().data(), frames[i - 1].wire().data() + 64) << "no copy: frame " << i;
    }
  }
  EXPECT_GT(frames[5].use_count(), 10u) << "the frames share the read block";
}

TEST(framer, copies_frames_whose_payload_would_not_be_aligned_and_keeps_the_rest_aligned) {
  framer f(64 * 1024, 4096);
  std::vector<bytes> payloads;
  for (int i = 0; i < 200; ++i) {
    payloads.push_back(payload_of(1 + static_cast<std::size_t>(i * 7) % 90, static_cast<std::uint8_t>(i)));
  }
  const auto frames = receive_frames(f, stream_of(payloads), 700);
  ASSERT_EQ(frames.size(), payloads.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(payload_bytes(frames[i]), payloads[i]) << i;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(frames[i].payload().data()) % 8, 0u) << i;
  }
}

TEST(framer, never_writes_over_bytes_that_a_frame_taken_earlier_still_references) {
  std::mt19937 rng(11);
  for (int round = 0; round < 20; ++round) {
    framer f(20'000, 4096);
    std::vector<bytes> payloads;
    for (int i = 0; i < 300; ++i) {
      const std::size_t n = (rng() % 4 == 0) ? 1 + rng() % 20'000 : 4 + 8 * (rng() % 40);
      payloads.push_back(payload_of(n, static_cast<std::uint8_t>(rng())));
    }
    const auto s = stream_of(payloads);
    std::vector<quay::net::frame> kept;
    std::size_t pos = 0;
    while (pos < s.size()) {
      auto space = f.prepare(rng() % 2 == 0);
      const std::size_t n = std::min<std::size_t>({space.size(), s.size() - pos, 1 + rng() % 9000});
      std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(pos), n, space.begin());
      f.commit(n);
      pos += n;
      quay::net::frame fr;
      while (f.next_frame(fr) == decode_status::frame) {
        // Keep some, drop others, so blocks are sometimes shared and sometimes free again.
        if (rng() % 3 != 0) kept.push_back(fr);
        else kept.emplace_back();
      }
    }
    f.release_idle();
    ASSERT_EQ(kept.size(), payloads.size());
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (kept[i]) {
        EXPECT_EQ(payload_bytes(kept[i]), payloads[i]) << "round " << round << " frame " << i;
      }
    }
  }
}

TEST(framer, reads_a_stream_of_large_frames_several_frames_per_receive) {
  framer f(1 << 20);
  std::vector<bytes> payloads;
  for (int i = 0; i < 12; ++i) payloads.push_back(payload_of(16 * 1024 + 28, static_cast<std::uint8_t>(i)));
  const auto s = stream_of(payloads);
  std::vector<quay::net::frame> frames;
  std::size_t pos = 0;
  std::size_t receives = 0;
  while (pos < s.size()) {
    auto space = f.prepare(true);
    EXPECT_LE(f.heap_bytes(), 2 * framer::large_block_bytes) << "the block and the one before";
    const std::size_t n = std::min(space.size(), s.size() - pos);
    std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(pos), n, space.begin());
    f.commit(n);
    pos += n;
    ++receives;
    quay::net::frame fr;
    while (f.next_frame(fr) == decode_status::frame) frames.push_back(std::move(fr));
  }
  ASSERT_EQ(frames.size(), payloads.size());
  for (std::size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(payload_bytes(frames[i]), payloads[i]);
  EXPECT_LE(receives, 6u) << "about four frames per receive, not one receive per piece";
}

// Receives `s` in pieces of `chunk` bytes, holding each receive's frames until the next one
// (as a send queue holds echoed frames); returns the distinct places where a run of contiguous
// frames started (a block's start, or a frame after a gap).
std::set<const std::byte*> run_starts(framer& f, const bytes& s, const std::vector<bytes>& payloads,
                                      std::size_t chunk) {
  std::vector<quay::net::frame> held;
  std::set<const std::byte*> starts;
  const std::byte* contiguous = nullptr;
  std::size_t pos = 0;
  std::size_t count = 0;
  while (pos < s.size()) {
    auto space = f.prepare(true);
    const std::size_t n = std::min<std::size_t>({space.size(), s.size() - pos, chunk});
    std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(pos), n, space.begin());
    f.commit(n);
    pos += n;
    std::vector<quay::net::frame> now;
    quay::net::frame fr;
    while (f.next_frame(fr) == decode_status::frame) {
      EXPECT_EQ(payload_bytes(fr), payloads[count++]);
      if (fr.wire().data() != contiguous) starts.insert(fr.wire().data());
      contiguous = fr.wire().data() + fr.wire_size();
      now.push_back(std::move(fr));
    }
    held = std::move(now);
  }
  EXPECT_EQ(count, payloads.size());
  return starts;
}

TEST(framer, takes_the_large_block_before_again_once_its_frames_are_gone) {
  framer f(1 << 20);
  std::vector<bytes> payloads;
  for (int i = 0; i < 100; ++i) payloads.push_back(payload_of(8188, static_cast<std::uint8_t>(i)));
  const auto starts = run_starts(f, stream_of(payloads), payloads, 20'000);
  EXPECT_EQ(starts.size(), 2u) << "two blocks in turn, not a new one each time";
  EXPECT_LE(f.heap_bytes(), 2 * 4 * 8192u);
  f.release_idle();
  EXPECT_EQ(f.heap_bytes(), 0u);
}

TEST(framer, receives_into_two_blocks_in_turn_from_their_start_while_frames_hold_the_other) {
  framer f(64 * 1024, 4096);
  std::vector<bytes> payloads;
  for (int i = 0; i < 400; ++i) payloads.push_back(payload_of(60, static_cast<std::uint8_t>(i)));
  const auto starts = run_starts(f, stream_of(payloads), payloads, 1000);
  EXPECT_EQ(starts.size(), 2u) << "each receive starts one of two blocks over";
  EXPECT_EQ(f.heap_bytes(), 2 * 4096u);
  f.release_idle();
  EXPECT_EQ(f.heap_bytes(), 0u);
}

#if !defined(NDEBUG) && !defined(__SANITIZE_THREAD__)
TEST(framer_death, two_callers_at_once_fail_the_owner_only_assert_in_debug_builds) {
  // Two threads feed one framer without synchronisation until their calls overlap; the owner
  // check asserts at the first overlap. (Skipped under TSan, which reports the race itself, and
  // in release builds, which keep no check.)
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        framer f(1024);
        const std::byte b[1] = {std::byte{0}};
        auto hammer = [&] {
          for (;;) {
            f.feed(b);
            std::span<const std::byte> p;
            f.next(p);
          }
        };
        std::thread t(hammer);
        hammer();
      },
      "owner-only contract broken: 'framer::\\w+'");
}
#endif

}  // namespace
