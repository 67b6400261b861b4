#pragma once
// The zone server's actors on the deterministic actor fixture, without a test framework: the
// sample game's actor tests (game_fixture.hpp) and the game_session fuzz targets
// (tests/fuzz/game_session.fuzz.cpp) both drive the server through it. Frames go in as
// session_frame messages and come out into a recording sink; time moves by hand.
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "game_actors.hpp"
#include "player_actor.hpp"
#include "quay/actors/system.hpp"
#include "quay/actors/testing.hpp"
#include "quay/game/codec.hpp"
#include "quay/game/zone_definition.hpp"
#include "quay/net/envelope.hpp"
#include "quay/schemas/message_ids_generated.h"

namespace quay::game::server::test {

using MT = wire::MessageType;

// Records what the actors send, per session.
class recording_sink final : public frame_sink {
public:
  std::error_code send(net::session_handle s, net::frame f) override {
    std::lock_guard lock(mu_);
    sent_[s.slot].push_back(std::move(f));
    return {};
  }
  std::error_code close(net::session_handle s, std::error_code) override {
    std::lock_guard lock(mu_);
    closed_[s.slot] = true;
    return {};
  }
  std::vector<net::frame> take(net::session_handle s) {
    std::lock_guard lock(mu_);
    return std::exchange(sent_[s.slot], {});
  }
  bool closed(net::session_handle s) {
    std::lock_guard lock(mu_);
    return closed_[s.slot];
  }

private:
  std::mutex mu_;
  std::map<std::uint32_t, std::vector<net::frame>> sent_;
  std::map<std::uint32_t, bool> closed_;
};

inline constexpr const char* meadow = R"(
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
x = 25
y = 20
radius = 3
target_zone = 2
target_spawn = "gate"
)";

inline constexpr const char* forest = R"(
id = 2
name = "Forest"
width = 100
height = 100
[[spawn]]
name = "gate"
x = 50
y = 50
)";

template <class T>
const T* as(const net::frame& f, MT type) {
  net::envelope_view env;
  if (net::decode_envelope(f.payload(), env) || env.type != type_id(type)) {
    return nullptr;
  }
  return flatbuffers::GetRoot<T>(env.payload.data());
}

template <class T>
const T* find(const std::vector<net::frame>& frames, MT type) {
  for (const auto& f : frames) {
    if (const T* m = as<T>(f, type)) {
      return m;
    }
  }
  return nullptr;
}

/// How many frames of `type` are in `frames`.
inline std::size_t count(const std::vector<net::frame>& frames, MT type) {
  std::size_t n = 0;
  for (const auto& f : frames) {
    net::envelope_view env;
    n += !net::decode_envelope(f.payload(), env) && env.type == type_id(type) ? 1 : 0;
  }
  return n;
}

/// The server's actors (persistence in memory unless `setup.store`, chat, gateway, zones) on a
/// deterministic actor fixture. Thread contract: single-threaded, like the fixture.
struct game_harness {
  // Declared before the fixture: actors still alive at teardown stop in fx's destructor, and
  // their on_stop may read the settings and send to the sink.
  recording_sink sink;
  server_settings settings;
  testing::actor_fixture fx;
  server_context ctx;
  flatbuffers::FlatBufferBuilder fbb;
  game_actors actors;
  std::unique_ptr<connection_limiter> conn_rate;

  // Tests hash secrets with libsodium's cheapest argon2id parameters, so they stay fast, and
  // most log in with names they make up: development accounts on (tests of accounts without
  // it turn it off).
  game_harness() {
    settings.hash = hash_params::minimum();
    settings.dev_accounts = true;
    settings.session = {random_session_key(), std::nullopt, true};
  }

  /// Spawns the actors with these zones (settings.zones and start_zone follow them) and runs
  /// their first turns.
  void start_with(std::vector<zone_definition> zones, game_setup setup = {}) {
    ctx.sink = &sink;
    ctx.settings = &settings;
    conn_rate = std::make_unique<connection_limiter>(settings.login_limits);
    ctx.connection_rate = conn_rate.get();
    settings.zones.clear();
    for (const auto& z : zones) {
      settings.zones.emplace_back(z.id, z.name);
    }
    settings.start_zone = setup.start_zone;
    setup.zones = std::move(zones);
    actors = spawn_game_actors(fx.sys, ctx, std::move(setup));
    fx.run();
  }

  /// A player actor for session `s`, started.
  actor_ref connect_player(net::session_handle s) {
    const actor_ref a = fx.spawn<player_actor>(ctx, s);
    fx.run();
    return a;
  }

  /// Hands `data` to `player` as the network would, and runs. False (nothing delivered) when
  /// it is no envelope: the session layer closes such a session before any owner sees it.
  bool deliver(actor_ref player, net::session_handle s, net::frame data) {
    net::session_frame m;
    m.session = s;
    m.data = std::move(data);
    if (net::decode_envelope(m.data.payload(), m.envelope)) {
      return false;
    }
    fx.send(player, std::move(m));
    fx.run();
    return true;
  }

  /// The finished table in fbb as a client frame of `type` (fbb is cleared).
  net::frame client_envelope(MT type, std::uint32_t seq) {
    const auto* p = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
    net::frame f = net::encode_envelope(type_id(type), seq, {p, fbb.GetSize()});
    fbb.Clear();
    return f;
  }

  /// Moves zone time by n ticks of 100 ms.
  void ticks(int n) {
    for (int i = 0; i < n; ++i) {
      fx.advance(millis(100));
    }
  }
};

}  // namespace quay::game::server::test
