// The actor side of sessions (quay/net/session_ref.hpp): a session's frames reach the owner's
// typed on<> handlers (verified, decoded, with the session as origin), the same handlers that
// serve local sends; what does not verify or has no handler reaches none; an owner sends typed
// messages and shared frames through a session value.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "net_test_support.hpp"
#include "quay/actors/testing.hpp"
#include "quay/net/session_ref.hpp"
#include "quay/test/test_messages_generated.h"

namespace quay::net::test {
namespace {

// A message with a wire form: quay.test.Chat under wire id 100.
struct chat_line {
  std::string text;
  std::uint32_t channel = 0;
};

}  // namespace
}  // namespace quay::net::test

template <>
struct quay::wire_form<quay::net::test::chat_line> {
  static constexpr std::uint16_t id = 100;
  using table = quay::test::Chat;
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b,
                                           const quay::net::test::chat_line& m) {
    return quay::test::CreateChat(b, b.CreateString(m.text), m.channel);
  }
  static quay::net::test::chat_line decode(const table& t) {
    return {t.text() != nullptr ? t.text()->str() : std::string(), t.channel()};
  }
};

namespace quay::net::test {
namespace {

struct heard {
  chat_line line;
  message_origin origin;
  session_handle from;
};

// One handler table: on_chat serves session frames (through net::deliver) and local sends.
class chat_owner final : public actor {
 public:
  chat_owner(std::vector<heard>* out, std::vector<std::error_code>* errors)
      : out_(out), errors_(errors) {}
  static void define(handlers<chat_owner>& h) {
    h.on<&chat_owner::on_frame>().on<&chat_owner::on_chat>();
  }

 private:
  void on_frame(const session_frame& f) { errors_->push_back(deliver(*this, f)); }
  void on_chat(const chat_line& m) { out_->push_back({m, origin(), session_of(origin())}); }
  std::vector<heard>* out_;
  std::vector<std::error_code>* errors_;
};

// Records what is sent per session, as the network would queue it.
class recording_port final : public session_port {
 public:
  std::error_code send(session_handle s, frame f) override {
    std::lock_guard lk(mu_);
    sent_[s.slot].push_back(std::move(f));
    return {};
  }
  std::error_code close(session_handle s, std::error_code) override {
    std::lock_guard lk(mu_);
    closed_[s.slot] = true;
    return {};
  }
  std::vector<frame> sent(session_handle s) {
    std::lock_guard lk(mu_);
    return sent_[s.slot];
  }

 private:
  std::mutex mu_;
  std::map<std::uint32_t, std::vector<frame>> sent_;
  std::map<std::uint32_t, bool> closed_;
};

std::vector<std::byte> chat_bytes(std::string_view text, std::uint32_t channel) {
  flatbuffers::FlatBufferBuilder b;
  b.Finish(quay::test::CreateChat(b, b.CreateString(text), channel));
  const auto* p = reinterpret_cast<const std::byte*>(b.GetBufferPointer());
  return {p, p + b.GetSize()};
}

// A session_frame as the session layer makes it: the envelope verified by decode_envelope.
session_frame frame_from(session_handle s, std::uint16_t type, std::uint32_t seq,
                         std::span<const std::byte> payload) {
  session_frame m;
  m.session = s;
  m.data = encode_envelope(type, seq, payload);
  EXPECT_FALSE(decode_envelope(m.data.payload(), m.envelope));
  return m;
}

struct owner_fixture {
  quay::testing::actor_fixture f;
  std::vector<heard> out;
  std::vector<std::error_code> errors;
  actor_ref owner = f.spawn<chat_owner>(&out, &errors);
};

constexpr session_handle client{3, 7};

TEST(session_ref, a_session_frame_reaches_the_typed_handler_with_the_session_as_its_origin) {
  owner_fixture t;
  t.f.send(t.owner, frame_from(client, 100, 42, chat_bytes("hello", 5)));
  t.f.run();
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_FALSE(t.errors[0]) << t.errors[0].message();
  ASSERT_EQ(t.out.size(), 1u);
  EXPECT_EQ(t.out[0].line.text, "hello");
  EXPECT_EQ(t.out[0].line.channel, 5u);
  EXPECT_EQ(t.out[0].origin.from, message_origin::source::session);
  EXPECT_EQ(t.out[0].origin.wire_id, 100u);
  EXPECT_EQ(t.out[0].origin.seq, 42u);
  EXPECT_EQ(t.out[0].from, client);
}

TEST(session_ref, the_same_handler_serves_a_local_send_with_a_local_origin) {
  owner_fixture t;
  t.f.send(t.owner, chat_line{"local", 1});
  t.f.run();
  ASSERT_EQ(t.out.size(), 1u);
  EXPECT_EQ(t.out[0].line.text, "local");
  EXPECT_EQ(t.out[0].origin.from, message_origin::source::local);
  EXPECT_FALSE(t.out[0].from);
}

TEST(session_ref, a_payload_that_does_not_verify_reaches_no_handler_and_is_counted) {
  owner_fixture t;
  const auto before = wire::stats().rejected;
  const std::vector<std::byte> junk(40, std::byte{0x7f});
  t.f.send(t.owner, frame_from(client, 100, 1, junk));
  // A valid Chat whose string runs past the buffer's end.
  auto cut = chat_bytes("a string that will be cut short", 2);
  cut.resize(cut.size() - 12);
  t.f.send(t.owner, frame_from(client, 100, 2, cut));
  t.f.run();
  ASSERT_EQ(t.errors.size(), 2u);
  EXPECT_EQ(t.errors[0], errc::invalid_payload);
  EXPECT_EQ(t.errors[1], errc::invalid_payload);
  EXPECT_TRUE(t.out.empty());
  EXPECT_EQ(wire::stats().rejected, before + 2);
}

TEST(session_ref, a_wire_id_without_a_handler_is_counted_as_unhandled_and_reaches_no_handler) {
  owner_fixture t;
  t.f.run();
  const auto unhandled = t.f.sys.unhandled();
  const auto unknown = wire::stats().unknown;
  t.f.send(t.owner, frame_from(client, 777, 1, chat_bytes("x", 0)));
  t.f.run();
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_EQ(t.errors[0], errc::unknown_message_type);
  EXPECT_TRUE(t.out.empty());
  EXPECT_EQ(t.f.sys.unhandled(), unhandled + 1);
  EXPECT_EQ(wire::stats().unknown, unknown + 1);
}

TEST(session_ref, an_envelope_view_not_made_by_decode_envelope_never_reaches_a_handler) {
  owner_fixture t;
  const auto payload = chat_bytes("forged", 1);
  const frame copy = frame::copy_of(payload);
  session_frame forged;
  forged.session = client;
  forged.envelope.type = 100;
  forged.envelope.payload = copy.payload();
  forged.data = copy;
  t.f.send(t.owner, forged);
  // A verified view re-pointed at other bytes is not verified any more.
  session_frame repointed = frame_from(client, 100, 1, chat_bytes("ok", 1));
  repointed.envelope.payload = copy.payload();
  t.f.send(t.owner, repointed);
  t.f.run();
  ASSERT_EQ(t.errors.size(), 2u);
  EXPECT_EQ(t.errors[0], errc::invalid_envelope);
  EXPECT_EQ(t.errors[1], errc::invalid_envelope);
  EXPECT_TRUE(t.out.empty());
}

TEST(session_ref, session_send_of_a_message_queues_it_encoded_with_its_wire_id_and_seq) {
  recording_port port;
  const session s(port, client);
  EXPECT_FALSE(s.send(chat_line{"to the client", 4}, 9));
  const auto sent = port.sent(client);
  ASSERT_EQ(sent.size(), 1u);
  envelope_view env;
  ASSERT_FALSE(decode_envelope(sent[0].payload(), env));
  EXPECT_EQ(env.type, 100u);
  EXPECT_EQ(env.seq, 9u);
  ASSERT_TRUE(wire::verify<chat_line>(env.payload));
  const auto* chat = flatbuffers::GetRoot<quay::test::Chat>(env.payload.data());
  EXPECT_EQ(chat->text()->str(), "to the client");
  EXPECT_EQ(chat->channel(), 4u);
}

TEST(session_ref, one_encoded_frame_sent_to_many_sessions_shares_its_bytes) {
  recording_port port;
  const frame once = encode_frame(chat_line{"broadcast", 0});
  constexpr std::uint32_t n = 64;
  for (std::uint32_t i = 1; i <= n; ++i) {
    ASSERT_FALSE(session(port, {i, 1}).send(once));
  }
  for (std::uint32_t i = 1; i <= n; ++i) {
    const auto sent = port.sent({i, 1});
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].wire().data(), once.wire().data()) << "session " << i << " got a copy";
  }
  EXPECT_EQ(once.use_count(), n + 1);
}

TEST(session_ref, a_session_without_a_port_fails_cleanly) {
  const session none;
  EXPECT_FALSE(none);
  EXPECT_EQ(none.send(chat_line{"x", 0}), errc::session_gone);
  EXPECT_EQ(none.close(), errc::session_gone);
}

// Over 127.0.0.1: the owner gets a session value (no network&) and greets its client.
class greeter final : public actor {
 public:
  explicit greeter(session s) : s_(s) {}
  static void define(handlers<greeter>& h) {
    h.on<&greeter::on_accepted>().on<&greeter::on_closed>();
  }

 private:
  void on_accepted(const session_accepted&) { s_.send(chat_line{"welcome", 7}, 3); }
  void on_closed(const session_closed&) { stop(); }
  session s_;
};

using session_ref_test = net_fixture;

TEST_F(session_ref_test, session_send_of_a_message_arrives_encoded_at_a_client) {
  endpoint at;
  ASSERT_FALSE(net_.listen(
      {}, [this](session_handle h, const endpoint&) { return system_.spawn<greeter>(net_.session(h)); },
      &at));
  raw_client c(port_, at);
  ASSERT_TRUE(c.connected());
  auto p = c.read_frame();
  ASSERT_TRUE(p.has_value());
  const frame f = frame::copy_of(*p);
  envelope_view env;
  ASSERT_FALSE(decode_envelope(f.payload(), env));
  EXPECT_EQ(env.type, 100u);
  EXPECT_EQ(env.seq, 3u);
  ASSERT_TRUE(wire::verify<chat_line>(env.payload));
  const auto* chat = flatbuffers::GetRoot<quay::test::Chat>(env.payload.data());
  EXPECT_EQ(chat->text()->str(), "welcome");
  EXPECT_EQ(chat->channel(), 7u);
}

}  // namespace
}  // namespace quay::net::test
