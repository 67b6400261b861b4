// The read blocks' per-thread cache: a released block is handed out again on the thread that
// released it, never while a frame still references it, and the cache stays bounded. The last
// test passes frames between threads while every thread's framer recycles blocks (run it under
// ThreadSanitizer): a block reused too early shows up as a corrupted payload, or as a race.
#include "block_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "quay/net/frame.hpp"
#include "quay/net/framer.hpp"
#include "quay/runtime/thread_exit.hpp"

namespace {

using namespace quay::net;
using bytes = std::vector<std::byte>;

struct cache_reset {
  cache_reset() { detail::drain_block_cache(); }
  ~cache_reset() { detail::drain_block_cache(); }
};

void release(detail::shared_bytes* b) { detail::release_shared_bytes(b); }

// A frame whose payload is `n` bytes derived from `seed` (the seed in its first 4 bytes).
bytes wire_frame(std::uint32_t n, std::uint32_t seed) {
  bytes w(4 + n);
  write_frame_header(w.data(), n);
  for (std::uint32_t i = 0; i < n; ++i) {
    w[4 + i] = static_cast<std::byte>(i < 4 ? (seed >> (8 * i)) & 0xffu : (seed * 131 + i) & 0xffu);
  }
  return w;
}

// True when the payload is what wire_frame wrote for the seed in its first bytes.
bool intact(const frame& f) {
  const auto p = f.payload();
  if (p.size() < 4) return false;
  std::uint32_t seed = 0;
  for (int i = 0; i < 4; ++i) seed |= std::to_integer<std::uint32_t>(p[i]) << (8 * i);
  for (std::size_t i = 4; i < p.size(); ++i) {
    if (p[i] != static_cast<std::byte>((seed * 131 + i) & 0xffu)) return false;
  }
  return true;
}

TEST(block_cache, a_released_block_is_taken_again_by_the_next_request_of_its_size) {
  cache_reset reset;
  detail::shared_bytes* a = detail::take_block(8192);
  EXPECT_EQ(detail::block_capacity(a), 8192u);
  release(a);
  EXPECT_EQ(detail::cached_blocks(), 1u);
  EXPECT_EQ(detail::cached_block_bytes(), 8192u);

  detail::shared_bytes* other = detail::take_block(4096);  // another size: not that block
  EXPECT_NE(other, a);
  EXPECT_EQ(detail::cached_blocks(), 1u);
  detail::shared_bytes* again = detail::take_block(8192);
  EXPECT_EQ(again, a);
  EXPECT_EQ(detail::cached_blocks(), 0u);
  EXPECT_EQ(again->refs.load() & detail::ref_mask, 1u);
  release(again);
  release(other);
}

// The cache is emptied through the runtime's at_thread_exit. A cleanup registered before the
// thread's first block runs after the cache's (last in, first out) and drops a block there: it
// is freed at once, not put back into a cache that is gone (ASan would report either a leak
// or a use after free).
TEST(block_cache, a_block_released_after_its_threads_cache_has_gone_is_freed) {
  struct seen {
    std::size_t cached_at_release = 99;
  } out;
  struct held {
    detail::shared_bytes* block = nullptr;
    seen* out = nullptr;
  } h;
  h.out = &out;
  std::thread t([&] {
    quay::detail::at_thread_exit(
        [](void* p) {
          auto* hp = static_cast<held*>(p);
          detail::release_shared_bytes(hp->block);
          hp->out->cached_at_release = detail::cached_blocks();
        },
        &h);
    h.block = detail::take_block(8192);  // makes this thread's cache, registered after
  });
  t.join();
  EXPECT_EQ(out.cached_at_release, 0u) << "the block went into a cache its thread had emptied";
}

TEST(block_cache, stays_bounded_and_frees_what_does_not_fit) {
  cache_reset reset;
  std::vector<detail::shared_bytes*> taken;
  for (int i = 0; i < 100; ++i) taken.push_back(detail::take_block(8192));
  for (auto* b : taken) release(b);
  EXPECT_LE(detail::cached_blocks(), detail::max_cached_blocks);
  EXPECT_LE(detail::cached_block_bytes(), detail::max_cached_bytes);
  EXPECT_GT(detail::cached_blocks(), 0u);

  detail::drain_block_cache();
  release(detail::take_block(detail::max_cached_block_bytes + 8));  // too large to keep
  EXPECT_EQ(detail::cached_blocks(), 0u);
}

TEST(block_cache, a_frame_viewing_a_block_keeps_it_out_of_the_cache_until_the_frame_is_gone) {
  cache_reset reset;
  frame held;
  {
    framer f(1 << 20);
    // Large enough that the framer moves from its inline area to a heap block.
    const bytes w = wire_frame(4000, 7);
    std::size_t fed = 0;
    decode_status st = decode_status::need_more;
    while (st == decode_status::need_more && fed < w.size()) {
      fed += f.feed(std::span(w).subspan(fed));
      st = f.next_frame(held);
    }
    ASSERT_EQ(st, decode_status::frame);
    ASSERT_EQ(held.use_count(), 2u);  // the framer's block and the frame: a view, no copy
  }
  EXPECT_EQ(detail::cached_blocks(), 0u);  // the framer let go, the frame still holds it
  EXPECT_EQ(held.use_count(), 1u);
  EXPECT_TRUE(intact(held));
  held = frame{};
  EXPECT_EQ(detail::cached_blocks(), 1u);
}

// Each thread decodes its own stream with its own framer and hands every frame to the next
// thread, which checks the payload and drops it (recycling blocks into its own cache, from
// which its framer takes them again). Every payload must arrive intact.
TEST(block_cache, frames_dropped_on_other_threads_never_see_their_block_reused_early) {
  constexpr int threads = 4;
  constexpr int frames_per_thread = 6000;
  struct inbox {
    std::mutex m;
    std::condition_variable cv;
    std::deque<frame> q;
    int senders_done = 0;
  };
  std::vector<inbox> boxes(threads);
  std::atomic<int> bad{0};
  std::atomic<int> received{0};
  std::atomic<int> views{0};

  auto run = [&](int me) {
    inbox& out = boxes[(me + 1) % threads];
    inbox& in = boxes[me];
    framer f(1 << 20);
    std::uint32_t seed = static_cast<std::uint32_t>(me) * 1'000'003u;
    bytes pending;
    std::size_t pos = 0;
    auto drain_inbox = [&](bool wait) {
      std::deque<frame> got;
      {
        std::unique_lock lock(in.m);
        if (wait) in.cv.wait_for(lock, std::chrono::milliseconds(20), [&] { return !in.q.empty(); });
        got.swap(in.q);
      }
      for (auto& fr : got) {
        if (!intact(fr)) bad.fetch_add(1);
        received.fetch_add(1);
      }
    };
    for (int sent = 0; sent < frames_per_thread;) {
      if (pos == pending.size()) {
        // Sizes from small to larger than the normal block, so blocks of several sizes cycle;
        // wire sizes a multiple of 8, as senders pad them, so frames are views, not copies.
        const std::uint32_t n = 12 + (seed % 5) * 3000 + (seed % 7) * 8;
        pending = wire_frame(n, ++seed);
        pos = 0;
      }
      // Feed in uneven pieces so frames straddle receives and blocks.
      const std::size_t piece = 1 + (seed * 2654435761u) % 9000;
      const std::size_t n = std::min(piece, pending.size() - pos);
      pos += f.feed(std::span(pending).subspan(pos, n));
      frame fr;
      while (f.next_frame(fr) == decode_status::frame) {
        if (fr.use_count() > 1) views.fetch_add(1);
        {
          std::lock_guard lock(out.m);
          out.q.push_back(std::move(fr));
        }
        out.cv.notify_one();
        ++sent;
      }
      if (sent % 64 == 0) drain_inbox(false);
    }
    {
      std::lock_guard lock(out.m);
      ++out.senders_done;
    }
    out.cv.notify_one();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      bool done = false;
      {
        std::lock_guard lock(in.m);
        done = in.senders_done == 1 && in.q.empty();
      }
      if (done || std::chrono::steady_clock::now() > deadline) break;
      drain_inbox(true);
    }
    detail::drain_block_cache();
  };
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) ts.emplace_back(run, i);
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(received.load(), threads * frames_per_thread);
  EXPECT_GT(views.load(), threads * frames_per_thread / 2);  // the blocks were really shared
}

}  // namespace
