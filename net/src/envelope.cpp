#include "quay/net/envelope.hpp"

#include <cstring>
#include <cstdint>

#include "quay/net/error.hpp"
#include "quay/schemas/envelope_generated.h"

namespace quay::net {

namespace {

// Bounds the verifier's work per frame: an envelope is one table and a byte vector.
flatbuffers::Verifier::Options envelope_verifier_options() {
  flatbuffers::Verifier::Options o;
  o.max_depth = 4;
  o.max_tables = 8;
  o.check_alignment = true;
  o.check_nested_flatbuffers = false;
  return o;
}

}  // namespace

std::error_code decode_envelope(std::span<const std::byte> bytes, envelope_view& out) noexcept {
  out.verified_ = false;
  if (bytes.empty() || bytes.size() > frame_size_cap) return errc::invalid_envelope;
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  flatbuffers::Verifier v(data, bytes.size(), envelope_verifier_options());
  if (!quay::wire::VerifyEnvelopeBuffer(v)) return errc::invalid_envelope;
  const auto* env = quay::wire::GetEnvelope(data);
  if (env->type() == msg_type::invalid) return errc::invalid_envelope;
  out.type = env->type();
  out.seq = env->seq();
  if (const auto* p = env->payload(); p != nullptr && p->size() > 0) {
    out.payload = {reinterpret_cast<const std::byte*>(p->data()), p->size()};
  } else {
    out.payload = {};
  }
  out.checked_ = out.payload;
  out.verified_ = true;
  return {};
}

namespace {
// Encoding is on the hot send path: the builder starts in a buffer on the stack and goes to
// the heap only for frames that outgrow it (the frame is copied out at the end anyway). No
// thread_local builder: a thread_local with a destructor is unsafe on mingw (emulated TLS is
// freed before thread_local destructors run).
class stack_first_allocator final : public flatbuffers::Allocator {
 public:
  std::uint8_t* allocate(std::size_t size) override {
    if (!in_use_ && size <= sizeof(buf_)) {
      in_use_ = true;
      return buf_;
    }
    return new std::uint8_t[size];
  }
  void deallocate(std::uint8_t* p, std::size_t /*size*/) override {
    if (p == buf_) {
      in_use_ = false;
    } else {
      delete[] p;
    }
  }

 private:
  alignas(8) std::uint8_t buf_[1024];
  bool in_use_ = false;
};
}  // namespace

frame encode_envelope(std::uint16_t type, std::uint32_t seq, std::span<const std::byte> payload) {
  stack_first_allocator alloc;
  flatbuffers::FlatBufferBuilder fbb(1024, &alloc);
  flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> vec;
  if (!payload.empty()) {
    fbb.ForceVectorAlignment(payload.size(), 1, 8);
    vec = fbb.CreateVector(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
  }
  quay::wire::EnvelopeBuilder eb(fbb);
  if (!payload.empty()) eb.add_payload(vec);
  eb.add_seq(seq);
  eb.add_type(type);
  fbb.Finish(eb.Finish());
  const auto out = fbb.GetBufferSpan();
  // Zero padding after the flatbuffer (which ignores trailing bytes) makes the frame's wire
  // size a multiple of 8, so a receiver that reads a stream of such frames finds every payload
  // 8-aligned in its read buffer and delivers it without a copy (docs/protocol.md, Frames).
  const std::size_t size = out.size();
  const std::size_t padded = size + (12 - size % 8) % 8;  // padded + 4 header bytes = 0 mod 8
  return frame::make(padded, [&](std::span<std::byte> dst) {
    std::memcpy(dst.data(), out.data(), size);
    std::memset(dst.data() + size, 0, padded - size);
  });
}

frame encode_ping(std::uint32_t seq) { return encode_envelope(msg_type::ping, seq, {}); }
frame encode_pong(std::uint32_t seq) { return encode_envelope(msg_type::pong, seq, {}); }

}  // namespace quay::net
