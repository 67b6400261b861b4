// libFuzzer target over the whole receive path of a session without I/O: the framer fed in
// input-chosen chunks, envelope verification, and the wire-form step of a typed delivery
// (payload verification, then decoding into the message type, as wire::deliver does).
//
// Input layout: byte 0 picks the max frame size, byte 1 seeds the chunk sizes, the rest is the
// byte stream a peer sends. Besides memory errors (ASan/UBSan), the target checks three
// invariants and aborts when they break:
//   1. chunked decoding yields exactly the frames (and error) of a one-shot reference decoder;
//   2. a handler only ever sees a payload that verifies for its root type;
//   3. frames taken earlier keep their bytes (the framer never writes over a shared block).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "quay/actors/wire.hpp"
#include "quay/net/envelope.hpp"
#include "quay/net/frame.hpp"
#include "quay/net/framer.hpp"
#include "quay/test/test_messages_generated.h"

namespace {

// Two message types with wire forms; decoding touches every byte a handler could read.
struct fuzz_chat {
  std::size_t chars = 0;
};
struct fuzz_move {
  float sum = 0;
};

}  // namespace

template <>
struct quay::wire_form<fuzz_chat> {
  static constexpr std::uint16_t id = 100;
  using table = quay::test::Chat;
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b, const fuzz_chat&) {
    return quay::test::CreateChat(b);
  }
  static fuzz_chat decode(const table& m) {
    fuzz_chat c;
    if (m.text() != nullptr) {
      for (char ch : m.text()->string_view()) c.chars += static_cast<unsigned char>(ch) & 1u;
    }
    c.chars += m.channel() & 1u;
    return c;
  }
};

template <>
struct quay::wire_form<fuzz_move> {
  static constexpr std::uint16_t id = 101;
  using table = quay::test::Move;
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b, const fuzz_move&) {
    return quay::test::CreateMove(b);
  }
  static fuzz_move decode(const table& m) {
    fuzz_move v;
    if (m.pos() != nullptr) v.sum += m.pos()->x();
    if (m.path() != nullptr) {
      for (const auto* p : *m.path()) v.sum += p->y();
    }
    v.sum += static_cast<float>(m.speed());
    return v;
  }
};

namespace {

struct sink {
  std::size_t chars = 0;
  float sum = 0;
};

template <class M>
void verify_and_decode(std::span<const std::byte> payload, sink& s) {
  if (!quay::wire::verify<M>(payload)) return;
  const M m = quay::wire_form<M>::decode(
      *flatbuffers::GetRoot<typename quay::wire_form<M>::table>(payload.data()));
  if constexpr (std::is_same_v<M, fuzz_chat>) {
    s.chars += m.chars;
  } else {
    s.sum += m.sum;
  }
}

// What net::deliver does to a session frame, short of running an actor.
void deliver(std::span<const std::byte> frame_payload, sink& s) {
  quay::net::envelope_view env;
  if (quay::net::decode_envelope(frame_payload, env)) return;
  if (env.type == quay::wire_form<fuzz_chat>::id) verify_and_decode<fuzz_chat>(env.payload, s);
  if (env.type == quay::wire_form<fuzz_move>::id) verify_and_decode<fuzz_move>(env.payload, s);
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

  const std::size_t block = 64 + (data[1] & 0x3f) * 16;
  quay::net::framer f(max_frame, block);
  std::vector<std::vector<std::byte>> got;
  // Frames held on after they were taken (as a handler or a send queue does), checked at the
  // end: the framer must never write over bytes a frame still references.
  std::vector<std::pair<quay::net::frame, std::size_t>> kept;
  bool error = false;
  std::size_t pos = 0;
  sink s;
  while (!error) {
    // As the session does: a shared frame, a view into the read block or a copy.
    quay::net::frame fr;
    auto st = f.next_frame(fr);
    if (st == quay::net::decode_status::frame) {
      if ((reinterpret_cast<std::uintptr_t>(fr.payload().data()) & 7u) != 0) std::abort();
      got.emplace_back(fr.payload().begin(), fr.payload().end());
      deliver(fr.payload(), s);
      rng = rng * 1664525u + 1013904223u;
      if ((rng >> 20) & 1u) kept.emplace_back(std::move(fr), got.size() - 1);
      continue;
    }
    if (st == quay::net::decode_status::error) {
      error = true;
      break;
    }
    if (pos == stream.size()) break;
    rng = rng * 1664525u + 1013904223u;
    const std::size_t chunk = 1 + (rng >> 16) % 97;
    auto space = f.prepare(((rng >> 8) & 1u) != 0);
    if (space.empty()) std::abort();
    const std::size_t n = std::min({chunk, space.size(), stream.size() - pos});
    std::memcpy(space.data(), stream.data() + pos, n);
    f.commit(n);
    pos += n;
  }

  if (error != expected.error || got != expected.frames) std::abort();
  for (const auto& [fr, i] : kept) {
    const auto p = fr.payload();
    if (!std::equal(p.begin(), p.end(), got[i].begin(), got[i].end())) std::abort();
  }
  // Memory stays bounded by the limits, whatever the input: a block for a frame of the max
  // size, or a large block, plus one block, plus the block kept for reuse.
  if (f.heap_bytes() > std::max(quay::net::framer::large_block_bytes, max_frame + 4) + block +
                           quay::net::framer::large_block_bytes) {
    std::abort();
  }
  return 0;
}
