// libFuzzer targets over the zone server's game logic: a player actor fed client frames on the
// deterministic actor fixture, with the real gateway, persistence (in memory), chat and zone
// actors behind it and a second, well-behaved player in the same zone. One source, several
// targets (tests/fuzz/CMakeLists.txt), chosen by QUAY_FUZZ_MESSAGE_TYPE:
//   0      the envelope: each record is a whole frame payload (an Envelope as a client would
//          send it); what does not decode is dropped, as the session layer would close first.
//   16..   one message handler: each record is the payload of that type (LoginRequest,
//          UsePortal, MoveIntent, Attack, ChatSend), wrapped in a correct envelope.
//
// Input: byte 0 = flags (bit 0: log in with a valid LoginRequest first; always for handler
// targets other than LoginRequest's); then records [ticks: u8][size: u16 LE][bytes], at most
// 64. After each record the zone time moves by (ticks % 4) ticks of 100 ms.
//
// Besides ASan/UBSan findings, the target aborts when an invariant breaks:
//   1. every frame the server sends to either player is an Envelope of a server-to-client type
//      whose payload verifies as that type's table;
//   2. the well-behaved player is never disconnected, and after the fuzzed input its legal step
//      still yields a world update (its zone still ticks and serves it).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include <spdlog/spdlog.h>

// The same harness as the sample game's actor tests (one fixture for both).
#include "../sample-game/game_harness.hpp"
#include "quay/schemas/chat_generated.h"
#include "quay/schemas/combat_generated.h"
#include "quay/schemas/error_generated.h"
#include "quay/schemas/login_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/server_info_generated.h"
#include "quay/schemas/zone_generated.h"

#ifndef QUAY_FUZZ_MESSAGE_TYPE
#error "QUAY_FUZZ_MESSAGE_TYPE selects the target (0: envelope, else a client message type)"
#endif

namespace {

using namespace quay;
using namespace quay::game;
using namespace quay::game::server;
// The game's flatbuffers namespace, not quay::wire (the SDK's wire forms): both are visible here.
namespace wire = quay::game::wire;
using MT = wire::MessageType;

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "game_session fuzz invariant broken: %s\n", what);
  std::abort();
}

using test::game_harness;
using test::recording_sink;

// The fuzz targets' zones: the tests' Meadow and Forest, but the spawn stands on the portal (so
// the transfer path runs) and a wolf lives nearby (a target for Attack).
constexpr const char* fuzz_meadow = R"(
id = 1
name = "Meadow"
width = 200
height = 200
cell_size = 20
[[spawn]]
name = "start"
x = 20
y = 20
[[portal]]
x = 22
y = 20
radius = 3
target_zone = 2
target_spawn = "gate"
[npc_types.wolf]
name = "Wolf"
level = 1
hp = 30
damage_min = 1
damage_max = 3
attack_range = 2.0
cooldown_ms = 1000
respawn_ms = 2000
aggro_radius = 4.0
leash_radius = 10.0
wander_radius = 2.0
speed = 2.0
[[npc]]
type = "wolf"
x = 30
y = 30
)";

constexpr const char* fuzz_forest = R"(
id = 2
name = "Forest"
width = 100
height = 100
[[spawn]]
name = "gate"
x = 50
y = 50
)";

const std::vector<zone_definition>& zones() {
  static const std::vector<zone_definition> z = [] {
    auto a = parse_zone(fuzz_meadow, "meadow");
    auto b = parse_zone(fuzz_forest, "forest");
    if (!a.zone || !b.zone) broken("the fuzz target's zones do not parse");
    return std::vector<zone_definition>{*a.zone, *b.zone};
  }();
  return z;
}

// Invariant 1: a verifier per server-to-client type.
template <class T>
bool verifies(std::span<const std::byte> payload) {
  flatbuffers::Verifier v(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
  return v.VerifyBuffer<T>(nullptr);
}

bool server_message_ok(const net::frame& f, bool& world_update) {
  net::envelope_view env;
  if (net::decode_envelope(f.payload(), env)) return false;
  switch (static_cast<MT>(env.type)) {
    case MT::LoginResult: return verifies<wire::LoginResult>(env.payload);
    case MT::Kicked: return verifies<wire::Kicked>(env.payload);
    case MT::LoggedOut: return verifies<wire::LoggedOut>(env.payload);
    case MT::ServerInfo: return verifies<wire::ServerInfo>(env.payload);
    case MT::Error: return verifies<wire::Error>(env.payload);
    case MT::EnterZone: return verifies<wire::EnterZone>(env.payload);
    case MT::MoveCorrection: return verifies<wire::MoveCorrection>(env.payload);
    case MT::WorldUpdate:
      world_update = true;
      return verifies<wire::WorldUpdate>(env.payload);
    case MT::CombatEvents: return verifies<wire::CombatEvents>(env.payload);
    case MT::Progress: return verifies<wire::Progress>(env.payload);
    case MT::ChatMessage: return verifies<wire::ChatMessage>(env.payload);
    default: return false;
  }
}

// Reads the input's records.
struct reader {
  const std::uint8_t* p;
  std::size_t left;
  bool next(std::uint8_t& ticks, std::span<const std::byte>& bytes) {
    if (left < 3) return false;
    ticks = p[0];
    std::size_t n = static_cast<std::size_t>(p[1]) | (static_cast<std::size_t>(p[2]) << 8);
    p += 3;
    left -= 3;
    if (n > left) n = left;
    bytes = {reinterpret_cast<const std::byte*>(p), n};
    p += n;
    left -= n;
    return true;
  }
};

struct session_under_test : game_harness {
  session_under_test() { start_with(zones()); }

  void login(actor_ref player, net::session_handle s, const char* name) {
    fbb.Clear();
    fbb.Finish(wire::CreateLoginRequestDirect(fbb, name, "t", 1));
    deliver(player, s, client_envelope(MT::LoginRequest, 1));
  }
};

// Checks invariant 1 on what `s` received; returns whether a WorldUpdate was among it.
bool check_output(recording_sink& sink, net::session_handle s) {
  bool world_update = false;
  for (const auto& f : sink.take(s)) {
    if (!server_message_ok(f, world_update)) broken("the server sent a malformed message");
  }
  return world_update;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The actors log kicks and dead letters; a fuzzer makes millions of them.
  spdlog::set_level(spdlog::level::off);
  (void)zones();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  constexpr std::uint16_t target_type = QUAY_FUZZ_MESSAGE_TYPE;
  const bool login_first = target_type == 0 ? (data[0] & 1u) != 0
                                            : target_type != type_id(MT::LoginRequest);
  session_under_test t;
  const net::session_handle witness_s{1, 1};
  const net::session_handle fuzz_s{2, 1};
  const actor_ref witness = t.connect_player(witness_s);
  t.login(witness, witness_s, "witness");
  const actor_ref fuzzed = t.connect_player(fuzz_s);
  if (login_first) t.login(fuzzed, fuzz_s, "fuzzed");
  t.ticks(1);

  reader in{data + 1, size - 1};
  std::uint8_t ticks = 0;
  std::span<const std::byte> bytes;
  std::uint32_t seq = 2;
  for (int records = 0; records < 64 && in.next(ticks, bytes); ++records) {
    if (t.sink.closed(fuzz_s)) break;  // the network would deliver nothing more
    if (target_type == 0) {
      if (auto f = net::frame::copy_of(bytes)) t.deliver(fuzzed, fuzz_s, std::move(f));
    } else {
      t.deliver(fuzzed, fuzz_s, net::encode_envelope(target_type, seq++, bytes));
    }
    t.ticks(ticks % 4);
    check_output(t.sink, fuzz_s);
    check_output(t.sink, witness_s);
    if (t.sink.closed(witness_s)) broken("the well-behaved player was disconnected");
  }

  // Invariant 2: the well-behaved player keeps playing. A legal step changes the world in its
  // view, so a WorldUpdate must follow.
  {
    t.fbb.Clear();
    const quay::game::wire::Vec2 to(20.0f, 20.5f);
    t.fbb.Finish(quay::game::wire::CreateMoveIntent(t.fbb, &to));
    const auto* p = reinterpret_cast<const std::byte*>(t.fbb.GetBufferPointer());
    t.ticks(10);  // a full second of movement budget
    check_output(t.sink, witness_s);
    check_output(t.sink, fuzz_s);
    t.deliver(witness, witness_s,
              net::encode_envelope(type_id(MT::MoveIntent), 1000, {p, t.fbb.GetSize()}));
    t.ticks(2);
    check_output(t.sink, fuzz_s);
    if (!check_output(t.sink, witness_s)) broken("the well-behaved player stopped receiving updates");
    if (t.sink.closed(witness_s)) broken("the well-behaved player was disconnected");
  }
  return 0;
}
