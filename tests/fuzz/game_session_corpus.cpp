// Writes the seed corpora of the game fuzz targets (game_session.fuzz.cpp) into
// <dir>/fuzz_game_<name>/: valid and nearly valid messages of each kind, so the fuzzer starts
// from inputs that reach deep into each handler instead of from noise.
//   fuzz_game_corpus tests/fuzz/corpus
// Input format (see game_session.fuzz.cpp): flags byte, then [ticks u8][size u16 LE][bytes].
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "quay/net/envelope.hpp"
#include "quay/schemas/chat_generated.h"
#include "quay/schemas/combat_generated.h"
#include "quay/schemas/login_generated.h"
#include "quay/schemas/message_ids_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/zone_generated.h"

namespace {

namespace wire = quay::game::wire;
using bytes = std::vector<std::uint8_t>;

bytes finish(flatbuffers::FlatBufferBuilder& fbb) {
  bytes b(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  fbb.Clear();
  return b;
}

bytes login(const char* name, const char* token, std::uint16_t version = 1) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateLoginRequestDirect(fbb, name, token, version));
  return finish(fbb);
}

bytes move(float x, float y) {
  flatbuffers::FlatBufferBuilder fbb;
  const wire::Vec2 p(x, y);
  fbb.Finish(wire::CreateMoveIntent(fbb, &p));
  return finish(fbb);
}

bytes move_without_position() {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateMoveIntent(fbb));
  return finish(fbb);
}

bytes attack(std::uint32_t target) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateAttack(fbb, target));
  return finish(fbb);
}

bytes portal() {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateUsePortal(fbb));
  return finish(fbb);
}

bytes logout() {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateLogout(fbb));
  return finish(fbb);
}

bytes chat(wire::ChatChannel channel, const std::string& text, const char* to = nullptr) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateChatSendDirect(fbb, channel, text.c_str(), to));
  return finish(fbb);
}

bytes envelope(std::uint16_t type, std::uint32_t seq, const bytes& payload) {
  const auto f = quay::net::encode_envelope(
      type, seq, std::as_bytes(std::span(payload.data(), payload.size())));
  const auto p = f.payload();
  const auto* b = reinterpret_cast<const std::uint8_t*>(p.data());
  return {b, b + p.size()};
}

bytes envelope(wire::MessageType type, std::uint32_t seq, const bytes& payload) {
  return envelope(static_cast<std::uint16_t>(type), seq, payload);
}

struct seed {
  std::uint8_t flags = 1;
  bytes data;
  seed& add(std::uint8_t ticks, const bytes& b) {
    data.push_back(ticks);
    data.push_back(static_cast<std::uint8_t>(b.size() & 0xffu));
    data.push_back(static_cast<std::uint8_t>(b.size() >> 8));
    data.insert(data.end(), b.begin(), b.end());
    return *this;
  }
};

bool write(const std::filesystem::path& dir, const std::string& name, const seed& s) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  out.put(static_cast<char>(s.flags));
  out.write(reinterpret_cast<const char*>(s.data.data()),
            static_cast<std::streamsize>(s.data.size()));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  bool ok = true;

  // Whole envelopes, logged in first (flags 1) or logging in through the input (flags 0).
  const auto env_dir = root / "fuzz_game_envelope";
  {
    seed s;
    s.add(1, envelope(wire::MessageType::MoveIntent, 2, move(20.5f, 20)))
        .add(1, envelope(wire::MessageType::Attack, 3, attack(1)))
        .add(0, envelope(wire::MessageType::ChatSend, 4, chat(wire::ChatChannel::Say, "hi")))
        .add(0, envelope(wire::MessageType::UsePortal, 5, portal()))
        .add(2, envelope(wire::MessageType::Logout, 6, logout()));
    ok = ok && write(env_dir, "play-then-logout", s);
  }
  {
    seed s;
    s.flags = 0;
    s.add(0, envelope(wire::MessageType::MoveIntent, 1, move(21, 20)))
        .add(0, envelope(wire::MessageType::LoginRequest, 2, login("fuzzed", "t")))
        .add(1, envelope(wire::MessageType::LoginRequest, 3, login("fuzzed", "t")))
        .add(1, envelope(wire::MessageType::MoveIntent, 4, move(21, 20)));
    ok = ok && write(env_dir, "move-before-login-then-login-twice", s);
  }
  {
    seed s;
    s.add(0, envelope(999, 2, attack(1)))
        .add(0, envelope(wire::MessageType::LoginResult, 3, login("x", "t")))
        .add(0, envelope(0, 4, {}))
        .add(0, envelope(wire::MessageType::Attack, 5, move(1, 1)));
    ok = ok && write(env_dir, "wrong-types", s);
  }

  // LoginRequest payloads (no prior login).
  const auto login_dir = root / "fuzz_game_login";
  {
    seed s;
    s.flags = 0;
    s.add(1, login("fuzzed", "t"));
    ok = ok && write(login_dir, "valid", s);
  }
  {
    seed s;
    s.flags = 0;
    s.add(0, login("bad name!", "t"))
        .add(0, login("", "t"))
        .add(0, login("abcdefghijklmnopqrstuvwxyz0123", "t"))
        .add(0, login("witness", "wrong-token"))
        .add(0, login("fuzzed", "t", 2))
        .add(1, login("fuzzed", "t"))
        .add(1, login("fuzzed", "t"));
    ok = ok && write(login_dir, "refusals-then-twice", s);
  }

  // UsePortal payloads (the spawn stands on Meadow's portal to Forest).
  {
    seed s;
    s.add(1, portal()).add(1, portal()).add(0, bytes{});
    ok = ok && write(root / "fuzz_game_portal", "through-and-again", s);
  }

  // MoveIntent payloads.
  const auto move_dir = root / "fuzz_game_move";
  {
    seed s;
    for (int i = 1; i <= 8; ++i) s.add(1, move(20.0f + 0.5f * static_cast<float>(i), 20));
    ok = ok && write(move_dir, "walk", s);
  }
  {
    seed s;
    s.add(0, move(80, 20))
        .add(0, move(-5, 20))
        .add(0, move(20, 1e9f))
        .add(0, move(nan, 20))
        .add(0, move(20, inf))
        .add(0, move_without_position())
        .add(1, move(30, 30));
    ok = ok && write(move_dir, "corrections", s);
  }

  // Attack payloads: nobody, the other player, the NPC (ids are small), self and far ids.
  {
    seed s;
    s.add(0, attack(0)).add(0, attack(1)).add(1, attack(2)).add(3, attack(3));
    s.add(3, attack(4)).add(0, attack(0xffffffffu));
    ok = ok && write(root / "fuzz_game_attack", "targets", s);
  }

  // ChatSend payloads.
  const auto chat_dir = root / "fuzz_game_chat";
  {
    seed s;
    s.add(0, chat(wire::ChatChannel::Say, "hello"))
        .add(0, chat(wire::ChatChannel::Zone, "to the zone"))
        .add(0, chat(wire::ChatChannel::Whisper, "psst", "witness"))
        .add(0, chat(wire::ChatChannel::Whisper, "psst", "nobody"));
    ok = ok && write(chat_dir, "channels", s);
  }
  {
    seed s;
    s.add(0, chat(wire::ChatChannel::Say, ""))
        .add(0, chat(wire::ChatChannel::Say, std::string(300, 'x')))
        .add(0, chat(wire::ChatChannel::Say, "\xc3\x28 bad utf-8"))
        .add(0, chat(wire::ChatChannel::Say, " \t\x01 controls \x7f "))
        .add(0, chat(static_cast<wire::ChatChannel>(9), "unknown channel"));
    for (int i = 0; i < 8; ++i) s.add(0, chat(wire::ChatChannel::Zone, "flood"));
    ok = ok && write(chat_dir, "refusals-and-flood", s);
  }

  if (!ok) {
    std::fprintf(stderr, "could not write the corpus under %s\n", argv[1]);
    return 1;
  }
  return 0;
}
