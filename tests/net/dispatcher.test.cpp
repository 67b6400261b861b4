// Typed dispatch: handlers see only payloads verified for their registered root type.
#include "quay/net/dispatcher.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "quay/test/test_messages_generated.h"

namespace {

using quay::net::dispatcher;
using quay::net::encode_envelope;
using quay::net::envelope_view;
using quay::net::errc;

constexpr std::uint16_t chat_type = 100;
constexpr std::uint16_t move_type = 101;

struct ctx {
  std::vector<std::string> chats;
  std::vector<float> xs;
  std::vector<std::uint32_t> seqs;
};

std::vector<std::byte> chat_bytes(const std::string& text, std::uint32_t channel) {
  flatbuffers::FlatBufferBuilder b;
  b.Finish(quay::test::CreateChat(b, b.CreateString(text), channel));
  auto s = b.GetBufferSpan();
  return {reinterpret_cast<const std::byte*>(s.data()),
          reinterpret_cast<const std::byte*>(s.data()) + s.size()};
}

std::vector<std::byte> move_bytes(float x) {
  flatbuffers::FlatBufferBuilder b;
  quay::test::Vec3 pos(x, 2, 3);
  std::vector<quay::test::Vec3> path{pos, pos};
  b.Finish(quay::test::CreateMove(b, &pos, 1.5, b.CreateVectorOfStructs(path)));
  auto s = b.GetBufferSpan();
  return {reinterpret_cast<const std::byte*>(s.data()),
          reinterpret_cast<const std::byte*>(s.data()) + s.size()};
}

dispatcher<ctx> make_dispatcher() {
  dispatcher<ctx> d;
  EXPECT_TRUE(d.on<quay::test::Chat>(chat_type, [](ctx& c, const quay::test::Chat& m,
                                                   const envelope_view& env) {
    c.chats.emplace_back(m.text() ? m.text()->str() : "");
    c.seqs.push_back(env.seq);
  }));
  EXPECT_TRUE(d.on<quay::test::Move>(move_type, [](ctx& c, const quay::test::Move& m,
                                                   const envelope_view&) -> std::error_code {
    if (m.pos() == nullptr) return quay::net::errc::invalid_payload;
    c.xs.push_back(m.pos()->x());
    return {};
  }));
  return d;
}

TEST(dispatcher, calls_the_typed_handler_registered_for_the_type) {
  auto d = make_dispatcher();
  ctx c;
  auto f1 = encode_envelope(chat_type, 11, chat_bytes("hi", 1));
  auto f2 = encode_envelope(move_type, 12, move_bytes(4.5f));
  EXPECT_FALSE(d.dispatch_frame(c, f1.payload()));
  EXPECT_FALSE(d.dispatch_frame(c, f2.payload()));
  ASSERT_EQ(c.chats.size(), 1u);
  EXPECT_EQ(c.chats[0], "hi");
  EXPECT_EQ(c.seqs[0], 11u);
  ASSERT_EQ(c.xs.size(), 1u);
  EXPECT_FLOAT_EQ(c.xs[0], 4.5f);
}

TEST(dispatcher, reports_an_unknown_type_without_calling_any_handler) {
  auto d = make_dispatcher();
  ctx c;
  auto f = encode_envelope(555, 1, chat_bytes("x", 1));
  EXPECT_EQ(d.dispatch_frame(c, f.payload()), errc::unknown_message_type);
  EXPECT_TRUE(c.chats.empty());
}

TEST(dispatcher, rejects_a_payload_that_fails_verification_for_its_root_type) {
  auto d = make_dispatcher();
  ctx c;
  auto good = chat_bytes("hello world", 1);
  // Break the string's length so it points past the buffer.
  std::vector<std::byte> bad = good;
  for (std::size_t i = 0; i + 4 <= bad.size(); ++i) {
    if (std::memcmp(bad.data() + i, "hello", 5) == 0) {
      bad[i - 4] = std::byte{0xff};
      bad[i - 3] = std::byte{0xff};
      break;
    }
  }
  ASSERT_NE(bad, good);
  EXPECT_EQ(d.dispatch_frame(c, encode_envelope(chat_type, 1, bad).payload()),
            errc::invalid_payload);
  std::vector<std::byte> junk(24, std::byte{0xab});
  EXPECT_EQ(d.dispatch_frame(c, encode_envelope(move_type, 1, junk).payload()),
            errc::invalid_payload);
  EXPECT_EQ(d.dispatch_frame(c, encode_envelope(chat_type, 1, {}).payload()),
            errc::invalid_payload);
  EXPECT_TRUE(c.chats.empty());
  EXPECT_TRUE(c.xs.empty());
}

TEST(dispatcher, rejects_a_frame_that_is_not_an_envelope) {
  auto d = make_dispatcher();
  ctx c;
  alignas(8) std::byte junk[16] = {};
  EXPECT_EQ(d.dispatch_frame(c, junk), errc::invalid_envelope);
}

TEST(dispatcher, passes_on_the_error_a_handler_returns) {
  auto d = make_dispatcher();
  ctx c;
  flatbuffers::FlatBufferBuilder b;
  b.Finish(quay::test::CreateMove(b, nullptr, 1.0));
  auto s = b.GetBufferSpan();
  std::vector<std::byte> no_pos(reinterpret_cast<const std::byte*>(s.data()),
                                reinterpret_cast<const std::byte*>(s.data()) + s.size());
  EXPECT_EQ(d.dispatch_frame(c, encode_envelope(move_type, 1, no_pos).payload()),
            errc::invalid_payload);
}

TEST(dispatcher, refuses_reserved_and_duplicate_type_ids) {
  dispatcher<ctx> d;
  auto h = [](ctx&, const quay::test::Chat&, const envelope_view&) {};
  EXPECT_FALSE(d.on<quay::test::Chat>(quay::net::msg_type::ping, h));
  EXPECT_FALSE(d.on<quay::test::Chat>(0, h));
  EXPECT_TRUE(d.on<quay::test::Chat>(16, h));
  EXPECT_FALSE(d.on<quay::test::Chat>(16, h));
  EXPECT_TRUE(d.handles(16));
  EXPECT_FALSE(d.handles(17));
}

TEST(dispatcher, keeps_handlers_sorted_whatever_the_registration_order) {
  dispatcher<ctx> d;
  std::vector<int> hits;
  for (std::uint16_t t : {300, 20, 1000, 17, 500}) {
    d.on<quay::test::Chat>(t, [&hits, t](ctx&, const quay::test::Chat&, const envelope_view&) {
      hits.push_back(t);
    });
  }
  ctx c;
  for (std::uint16_t t : {17, 20, 300, 500, 1000}) {
    EXPECT_FALSE(d.dispatch_frame(c, encode_envelope(t, 0, chat_bytes("a", 0)).payload()));
  }
  EXPECT_EQ(hits, (std::vector<int>{17, 20, 300, 500, 1000}));
}

TEST(dispatcher, an_envelope_view_not_made_by_decode_envelope_never_reaches_a_handler) {
  auto d = make_dispatcher();
  ctx c;
  // A well-formed Chat payload in an 8-aligned buffer, in a view built by hand (as a forged
  // session_frame would carry it): nothing vouches for it, so it is refused.
  const auto bytes = chat_bytes("forged", 1);
  std::vector<std::uint64_t> aligned((bytes.size() + 7) / 8);
  std::memcpy(aligned.data(), bytes.data(), bytes.size());
  envelope_view forged;
  forged.type = chat_type;
  forged.payload = {reinterpret_cast<const std::byte*>(aligned.data()), bytes.size()};
  EXPECT_FALSE(forged.verified());
  EXPECT_EQ(d.dispatch(c, forged), errc::invalid_envelope);
  EXPECT_TRUE(c.chats.empty());
}

TEST(dispatcher, a_decoded_view_whose_payload_was_repointed_never_reaches_a_handler) {
  auto d = make_dispatcher();
  ctx c;
  const auto f = encode_envelope(chat_type, 7, chat_bytes("real", 1));
  envelope_view env;
  ASSERT_FALSE(quay::net::decode_envelope(f.payload(), env));
  EXPECT_TRUE(env.verified());
  const auto other = encode_envelope(chat_type, 8, chat_bytes("swapped in", 1));
  envelope_view other_env;
  ASSERT_FALSE(quay::net::decode_envelope(other.payload(), other_env));
  env.payload = other_env.payload;  // a payload the verifier never saw under this view
  EXPECT_FALSE(env.verified());
  EXPECT_EQ(d.dispatch(c, env), errc::invalid_envelope);
  EXPECT_TRUE(c.chats.empty());
  EXPECT_FALSE(d.dispatch(c, other_env));
  ASSERT_EQ(c.chats.size(), 1u);
  EXPECT_EQ(c.chats[0], "swapped in");
}

}  // namespace
