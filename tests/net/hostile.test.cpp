// Hostile peers: each case closes (or throttles) only the offending session, with the right
// reason, while a witness session on the same listener keeps being served.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "net_test_support.hpp"
#include "quay/net/session_ref.hpp"
#include "quay/net/framer.hpp"
#include "quay/test/test_messages_generated.h"

// This test binary's global operator new counts the allocations of at least `large_bytes` made
// while `counting_large` is set, so a test can assert that a length a peer announced never
// became an allocation. (Aligned new is left alone: the SDK's buffers use plain new.)
namespace {
constexpr std::size_t large_bytes = std::size_t{1} << 20;
std::atomic<bool> counting_large{false};
std::atomic<std::size_t> large_allocs{0};
}  // namespace

// Not inlined: at -O2 g++ would otherwise pair the inlined new with std::free in delete and
// report -Wmismatched-new-delete (the pairing is right: both sides use malloc/free).
[[gnu::noinline]] void* operator new(std::size_t n) {
  if (n >= large_bytes && counting_large.load(std::memory_order_relaxed)) {
    large_allocs.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t n) { return ::operator new(n); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace quay::net::test {
namespace {

constexpr std::uint16_t text_type = 100;
constexpr std::uint16_t chat_type = 101;

void expect_echo(raw_client& c, int n, const std::string& tag) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(c.send_frame(text_frame(text_type, static_cast<std::uint32_t>(i), tag)));
  }
  for (int i = 0; i < n; ++i) {
    auto p = c.read_frame();
    ASSERT_TRUE(p.has_value()) << tag << " " << i;
    EXPECT_EQ(decode(*p).text, tag);
  }
}

bytes header_only(std::uint32_t len) {
  bytes b(4);
  write_frame_header(b.data(), len);
  return b;
}

class hostile_test : public net_fixture {
 protected:
  // Sends `data` from a fresh client, expects the session closed with `reason`, and checks the
  // witness is still served.
  void expect_rejected(std::span<const std::byte> data, std::error_code reason) {
    const auto at = listen_echo();
    raw_client witness(port_, at);
    expect_echo(witness, 1, "before");
    raw_client bad(port_, at);
    ASSERT_TRUE(bad.send(data));
    auto got = rec_.wait_closed();
    ASSERT_TRUE(got.has_value()) << "the hostile session was not closed";
    EXPECT_EQ(*got, reason) << got->message();
    EXPECT_TRUE(bad.wait_closed().has_value()) << "the hostile peer sees its connection end";
    expect_echo(witness, 20, "after");
  }
};

TEST_F(hostile_test, an_oversized_length_closes_the_session_without_allocating_for_it) {
  // The peer announces 2 GiB. Nothing in the exchange needs 1 MiB at once (frames here are
  // at most 64 KiB), so any allocation that large was made for the announced length.
  large_allocs = 0;
  counting_large = true;
  expect_rejected(header_only(0x7fffffffu), errc::frame_too_large);
  counting_large = false;
  EXPECT_EQ(large_allocs.load(), 0u) << "an allocation of 1 MiB or more was made";
}

TEST_F(hostile_test, the_allocation_counter_sees_a_large_allocation) {
  // The counter the test above relies on can fail: it counts what it should.
  large_allocs = 0;
  counting_large = true;
  auto big = std::make_unique<std::byte[]>(large_bytes);
  // Escapes, so the optimiser cannot elide the allocation.
  static std::atomic<std::byte*> sink;
  sink.store(big.get());
  counting_large = false;
  EXPECT_NE(sink.load(), nullptr);
  EXPECT_EQ(large_allocs.load(), 1u);
}

TEST_F(hostile_test, a_length_one_over_the_max_closes_the_session) {
  expect_rejected(header_only(64 * 1024 + 1), errc::frame_too_large);
}

TEST_F(hostile_test, a_zero_length_frame_closes_the_session) {
  expect_rejected(header_only(0), errc::zero_length_frame);
}

TEST_F(hostile_test, garbage_bytes_close_the_session) {
  const std::string http = "GET / HTTP/1.1\r\nHost: quay\r\n\r\n";
  expect_rejected(std::as_bytes(std::span(http.data(), http.size())), errc::frame_too_large);
}

TEST_F(hostile_test, a_well_framed_payload_that_is_not_an_envelope_is_rejected_by_the_verifier) {
  bytes b = header_only(24);
  for (int i = 0; i < 24; ++i) b.push_back(static_cast<std::byte>(0xa5 ^ (i * 7)));
  expect_rejected(b, errc::invalid_envelope);
}

TEST_F(hostile_test, a_truncated_frame_then_silence_ends_at_the_idle_timeout) {
  listen_options o;
  o.session.idle_timeout = 300ms;
  o.session.heartbeat_interval = 0ms;
  const auto at = listen_echo(o);
  raw_client witness(port_, at);
  raw_client bad(port_, at);
  auto f = text_frame(text_type, 1, std::string(100, 'x'));
  ASSERT_TRUE(bad.send(f.wire().first(50)));
  // The witness stays busy (so it is not idle) while the hostile session waits out its timeout.
  const auto start = clock::now();
  std::optional<std::error_code> got;
  while (!(got = rec_.wait_closed(1, 50ms)) && clock::now() - start < 5s) {
    expect_echo(witness, 1, "busy");
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, errc::idle_timeout);
  EXPECT_GE(clock::now() - start, 250ms);
  expect_echo(witness, 5, "after");
}

TEST_F(hostile_test, a_client_that_never_reads_is_disconnected_at_the_high_water_mark) {
  listen_options o;
  o.session.send_high_water = 256 * 1024;
  const auto at = listen_echo(o);
  raw_client witness(port_, at);
  expect_echo(witness, 1, "w");
  raw_client sink(port_, at);  // never reads
  ASSERT_TRUE(rec_.wait_accepted(2));
  session_handle h;
  {
    std::lock_guard lk(rec_.mu);
    h = rec_.accepted[1];
  }
  auto big = frame::make(16 * 1024, [](std::span<std::byte> s) {
    std::fill(s.begin(), s.end(), std::byte{1});
  });
  std::error_code last;
  std::size_t max_queued = 0;
  const auto start = clock::now();
  for (int i = 0; i < 100'000 && clock::now() - start < 20s; ++i) {
    last = net_.send(h, big);
    if (last) break;
    if (auto inf = net_.info(h)) max_queued = std::max(max_queued, inf->queued_bytes);
  }
  EXPECT_EQ(last, errc::slow_reader);
  EXPECT_LE(max_queued, o.session.send_high_water) << "server memory stays bounded";
  auto got = rec_.wait_closed();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, errc::slow_reader);
  EXPECT_EQ(big.use_count(), 1u) << "the closed session released every queued frame";
  expect_echo(witness, 20, "after");
}

// The first session gets a gated owner (net_test_support.hpp) that blocks in its first frame
// handler until released, so its mailbox fills; later sessions get echo owners.
TEST_F(hostile_test, a_flood_pauses_reading_while_the_owner_is_behind_then_delivers_everything) {
  listen_options o;
  o.session.mailbox_high_water = 64;
  o.session.mailbox_low_water = 16;
  o.session.idle_timeout = 0ms;
  gated_owner::gate g;
  std::atomic<int> n{0};
  actor_ref flooded_owner;
  endpoint at;
  ASSERT_FALSE(net_.listen(
      o,
      [&](session_handle, const endpoint&) {
        if (n.fetch_add(1) == 0) return flooded_owner = system_.spawn<gated_owner>(g);
        return system_.spawn<echo_owner>(net_, rec_);
      },
      &at));
  raw_client flood(port_, at);
  ASSERT_TRUE(flood.connected());
  ASSERT_TRUE(poll_until([&] { return n.load() == 1; }));
  raw_client witness(port_, at);

  constexpr int frames = 5000;
  bytes blob;
  for (int i = 0; i < frames; ++i) {
    auto f = text_frame(text_type, static_cast<std::uint32_t>(i), "flood");
    blob.insert(blob.end(), f.wire().begin(), f.wire().end());
  }
  ASSERT_TRUE(flood.send(blob));
  session_handle h{0, 1};
  ASSERT_TRUE(poll_until([&] {
    auto inf = net_.info(h);
    return inf && inf->reading_paused;
  })) << "reads pause";
  const auto depth = system_.mailbox_depth(flooded_owner);
  ASSERT_TRUE(depth.has_value());
  EXPECT_LE(*depth, 64u + 16u) << "the mailbox stays near its high-water mark";
  EXPECT_LE(net_.info(h)->read_heap_bytes, framer::default_block_bytes);
  EXPECT_GE(net_.stats().read_pauses, 1u);
  expect_echo(witness, 20, "served while the flood is paused");
  g.release();
  EXPECT_TRUE(poll_until([&] { return g.frames.load() == frames; }))
      << "got " << g.frames.load() << " of " << frames;
}

// A Chat with a wire form, for the typed owner.
struct hostile_chat {
  std::uint32_t channel = 0;
};

}  // namespace
}  // namespace quay::net::test

template <>
struct quay::wire_form<quay::net::test::hostile_chat> {
  static constexpr std::uint16_t id = quay::net::test::chat_type;
  using table = quay::test::Chat;
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b,
                                           const quay::net::test::hostile_chat& m) {
    return quay::test::CreateChat(b, 0, m.channel);
  }
  static quay::net::test::hostile_chat decode(const table& t) { return {t.channel()}; }
};

namespace quay::net::test {
namespace {

// An owner whose typed handler serves Chat frames (net::deliver) and that closes the session
// on any error.
class typed_owner : public actor {
 public:
  typed_owner(network& n, recorder& r, std::atomic<int>& handled)
      : net_(n), rec_(r), handled_(handled) {}
  static void define(handlers<typed_owner>& h) {
    h.on<&typed_owner::on_frame>().on<&typed_owner::on_closed>().on<&typed_owner::on_chat>();
  }

 private:
  void on_frame(const session_frame& m) {
    if (auto ec = deliver(*this, m)) net_.abort(m.session, ec);
  }
  void on_chat(const hostile_chat&) { handled_++; }
  void on_closed(const session_closed& m) {
    rec_.on_closed(m.session, m.reason);
    stop();
  }
  network& net_;
  recorder& rec_;
  std::atomic<int>& handled_;
};

TEST_F(hostile_test, a_payload_that_fails_verification_never_reaches_a_handler) {
  std::atomic<int> handled{0};
  std::atomic<int> n{0};
  endpoint at;
  ASSERT_FALSE(net_.listen(
      {},
      [&](session_handle, const endpoint&) {
        if (n.fetch_add(1) == 0) return system_.spawn<typed_owner>(net_, rec_, handled);
        return system_.spawn<echo_owner>(net_, rec_);
      },
      &at));
  raw_client bad(port_, at);
  ASSERT_TRUE(poll_until([&] { return n.load() == 1; }));
  raw_client witness(port_, at);

  // A valid Chat first (handled), then bytes that are not a Chat under the Chat type id.
  flatbuffers::FlatBufferBuilder b;
  b.Finish(quay::test::CreateChat(b, b.CreateString("ok"), 1));
  auto ok = encode_envelope(chat_type, 1, std::as_bytes(std::span(b.GetBufferPointer(), b.GetSize())));
  ASSERT_TRUE(bad.send_frame(ok));
  ASSERT_TRUE(poll_until([&] { return handled.load() == 1; }));
  bytes junk(40, std::byte{0x7f});
  ASSERT_TRUE(bad.send_frame(encode_envelope(chat_type, 2, junk)));
  auto got = rec_.wait_closed();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, errc::invalid_payload);
  EXPECT_EQ(handled.load(), 1);
  expect_echo(witness, 10, "after");
}

}  // namespace
}  // namespace quay::net::test
