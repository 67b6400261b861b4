#include "quay/net/envelope.hpp"

#include <cstring>

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
  return {};
}

frame encode_envelope(std::uint16_t type, std::uint32_t seq, std::span<const std::byte> payload) {
  // One builder per thread: encoding is on the hot send path, and a reused builder keeps its
  // buffer instead of allocating per frame.
  thread_local flatbuffers::FlatBufferBuilder fbb(256);
  fbb.Clear();
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
  frame f = frame::copy_of(std::as_bytes(std::span(out.data(), out.size())));
  if (fbb.GetSize() > 64 * 1024) fbb.Reset();  // do not keep a huge buffer per thread
  return f;
}

frame encode_ping(std::uint32_t seq) { return encode_envelope(msg_type::ping, seq, {}); }
frame encode_pong(std::uint32_t seq) { return encode_envelope(msg_type::pong, seq, {}); }

}  // namespace quay::net
