// libFuzzer target over the whole receive path of a session without I/O: the framer fed in
// input-chosen chunks, envelope verification, and typed dispatch with payload verification.
//
// Input layout: byte 0 picks the max frame size, byte 1 seeds the chunk sizes, the rest is the
// byte stream a peer sends. Besides memory errors (ASan/UBSan), the target checks two
// invariants and aborts when they break:
//   1. chunked decoding yields exactly the frames (and error) of a one-shot reference decoder;
//   2. a handler only ever sees a payload that verifies for its root type.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "quay/net/dispatcher.hpp"
#include "quay/net/envelope.hpp"
#include "quay/net/frame.hpp"
#include "quay/net/framer.hpp"
#include "quay/test/test_messages_generated.h"

namespace {

struct sink {
  std::size_t chars = 0;
  float sum = 0;
};

quay::net::dispatcher<sink>& the_dispatcher() {
  static quay::net::dispatcher<sink> d = [] {
    quay::net::dispatcher<sink> x;
    x.on<quay::test::Chat>(100, [](sink& s, const quay::test::Chat& m,
                                   const quay::net::envelope_view&) {
      // Touch every byte a handler could read.
      if (m.text() != nullptr) {
        for (char c : m.text()->string_view()) s.chars += static_cast<unsigned char>(c) & 1u;
      }
      s.chars += m.channel() & 1u;
    });
    x.on<quay::test::Move>(101, [](sink& s, const quay::test::Move& m,
                                   const quay::net::envelope_view&) {
      if (m.pos() != nullptr) s.sum += m.pos()->x();
      if (m.path() != nullptr) {
        for (const auto* v : *m.path()) s.sum += v->y();
      }
      s.sum += static_cast<float>(m.speed());
    });
    return x;
  }();
  return d;
}

struct reference_result {
  std::vector<std::vector<std::byte>> frames;
  bool error = false;
};

// The obvious decoder over the whole stream at once.
reference_result reference_decode(std::span<const std::byte> s, std::size_t max_frame) {
  reference_result r;
  std::size_t pos = 0;
  while (s.size() - pos >= 4) {
    const std::uint32_t len = quay::net::read_frame_header(s.data() + pos);
    if (len == 0 || len > max_frame) {
      r.error = true;
      return r;
    }
    if (s.size() - pos - 4 < len) return r;
    r.frames.emplace_back(s.begin() + static_cast<std::ptrdiff_t>(pos + 4),
                          s.begin() + static_cast<std::ptrdiff_t>(pos + 4 + len));
    pos += 4 + len;
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max_frame = 1 + static_cast<std::size_t>(data[0]) * 16;
  std::uint32_t rng = 0x9e3779b9u ^ data[1];
  const std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data) + 2, size - 2);

  const auto expected = reference_decode(stream, max_frame);

  quay::net::framer f(max_frame, 64 + (data[1] & 0x3f) * 16);
  std::vector<std::vector<std::byte>> got;
  bool error = false;
  std::size_t pos = 0;
  sink s;
  while (!error) {
    std::span<const std::byte> payload;
    auto st = f.next(payload);
    if (st == quay::net::decode_status::frame) {
      got.emplace_back(payload.begin(), payload.end());
      // The session copies each frame into a shared (8-byte aligned) frame before dispatch.
      auto fr = quay::net::frame::copy_of(payload);
      (void)the_dispatcher().dispatch_frame(s, fr.payload());
      continue;
    }
    if (st == quay::net::decode_status::error) {
      error = true;
      break;
    }
    if (pos == stream.size()) break;
    rng = rng * 1664525u + 1013904223u;
    const std::size_t chunk = 1 + (rng >> 16) % 97;
    auto space = f.prepare();
    if (space.empty()) std::abort();
    const std::size_t n = std::min({chunk, space.size(), stream.size() - pos});
    std::memcpy(space.data(), stream.data() + pos, n);
    f.commit(n);
    pos += n;
  }

  if (error != expected.error || got != expected.frames) std::abort();
  if (f.heap_bytes() > max_frame + 4 + quay::net::framer::default_block_bytes) std::abort();
  return 0;
}
