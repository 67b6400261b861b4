// Writes the seed corpus of fuzz_net_frames into the directory given as argv[1]: streams of
// valid envelopes (Chat, Move, ping, unknown types), split and merged, plus hostile headers.
// Run once by hand when the target's input layout changes; the output is committed.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "quay/net/envelope.hpp"
#include "quay/test/test_messages_generated.h"

namespace {

using bytes = std::vector<std::uint8_t>;

bytes chat(const char* text, std::uint32_t channel) {
  flatbuffers::FlatBufferBuilder b;
  b.Finish(quay::test::CreateChat(b, b.CreateString(text), channel));
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

bytes move(float x) {
  flatbuffers::FlatBufferBuilder b;
  quay::test::Vec3 pos(x, 1, 2);
  std::vector<quay::test::Vec3> path{pos, pos, pos};
  b.Finish(quay::test::CreateMove(b, &pos, 3.25, b.CreateVectorOfStructs(path)));
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

void add_frame(bytes& out, std::uint16_t type, std::uint32_t seq, const bytes& payload) {
  auto f = quay::net::encode_envelope(type, seq, std::as_bytes(std::span(payload)));
  const auto* p = reinterpret_cast<const std::uint8_t*>(f.wire().data());
  out.insert(out.end(), p, p + f.wire_size());
}

void write(const std::string& dir, const std::string& name, std::uint8_t max_sel,
           std::uint8_t chunk_seed, const bytes& stream) {
  const std::string path = dir + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return;
  std::fputc(max_sel, f);
  std::fputc(chunk_seed, f);
  std::fwrite(stream.data(), 1, stream.size(), f);
  std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  bytes one;
  add_frame(one, 100, 1, chat("hello", 7));
  write(dir, "chat", 255, 1, one);

  bytes mixed;
  add_frame(mixed, 100, 1, chat("a", 1));
  add_frame(mixed, 101, 2, move(1.5f));
  add_frame(mixed, quay::net::msg_type::ping, 3, {});
  add_frame(mixed, 555, 4, chat("unknown type", 2));
  add_frame(mixed, 101, 5, move(-2.0f));
  write(dir, "mixed", 255, 7, mixed);
  write(dir, "mixed-small-max", 3, 200, mixed);

  bytes bad_payload;
  add_frame(bad_payload, 101, 1, chat("chat bytes where a move is expected", 1));
  write(dir, "wrong-root-type", 255, 3, bad_payload);

  write(dir, "zero-length", 255, 0, {0, 0, 0, 0, 1, 2, 3});
  write(dir, "oversized", 1, 0, {0xff, 0xff, 0xff, 0x7f, 1});
  write(dir, "truncated", 255, 9, bytes(one.begin(), one.end() - 3));
  return 0;
}
