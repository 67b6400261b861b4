#pragma once
// The zone actor: owns one zone_world, forwards player requests to it, ticks it at a fixed
// rate, and sends each tick's batches (each encoded once) to the observers' sessions. Each zone
// runs under its own zone_supervisor, which restarts it when it fails.

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "messages.hpp"
#include "quay/actors/actor.hpp"

namespace quay::game::server {

/// Tick-time statistics over one logging interval.
struct tick_stats {
  std::vector<double> ms;      ///< durations of the ticks of the interval (wall clock)
  std::vector<double> cpu_ms;  ///< the CPU time of the same ticks (less than ms: preempted)
  std::uint64_t frames_out = 0;
  std::uint64_t messages_in = 0;
};

/// One zone. Thread contract: an actor — its state is touched only in its own turns.
class zone_actor final : public actor {
public:
  zone_actor(server_context ctx, zone_definition zone, std::uint64_t seed);

  static void define(handlers<zone_actor>& h);

  /// For tests: the world (owner only; tests on the deterministic fixture read it between steps).
  const zone_world& world() const { return world_; }

private:
  struct member {
    actor_ref player;
    net::session session;
  };

  void on_start() override;
  /// Stopping abnormally (a handler threw, or the supervisor gave up): every player's last
  /// state goes to persistence and back to its player actor, which re-enters the restarted zone.
  void on_stop(exit_reason reason) override;
  void on_join(zone_join_msg& m);
  void on_move(const zone_move_msg& m);
  void on_attack(const zone_attack_msg& m);
  void on_portal(const zone_portal_msg& m);
  void on_chat(zone_chat_msg& m);
  void on_leave(const zone_leave_msg& m);
  /// A resume: the member's character passes to the new player actor and session.
  void on_rebind(const zone_rebind_msg& m);
  void on_tick(const tick_msg&);
  void on_stats(const stats_msg&);
  void on_save_all(const save_all_msg&);
  void on_fault(const zone_fault_msg& m);
  void on_map_subscribe(const map_subscribe_msg& m);
  /// Sends one ZoneMap frame (encoded once) to every map subscriber.
  void publish_map();
  void count_in();
  struct player_gone_msg {
    actor_ref player;
  };
  /// A member's player actor stopped: the character leaves (and is saved) as on zone_leave_msg,
  /// after whatever the player sent before it stopped.
  void on_player_down(const down& d);
  void on_player_gone(const player_gone_msg& m);
  /// Takes `id` out of the world and out of members_; returns its record (nullopt: unknown).
  std::optional<player_record> remove_member(entity_id id);

  time_ms clock_ms() const;
  void send_to(entity_id id, const net::frame& f);
  void send_error(entity_id id, std::uint32_t seq, std::uint16_t type, game_errc e);
  void deliver(const tick_output& out);

  server_context ctx_;
  zone_world world_;
  std::unordered_map<entity_id, member> members_;
  // The same members by player actor (slot << 32 | generation): each is monitored while here,
  // so a player actor that stops without a zone_leave_msg (it was stopping when its join
  // arrived) never leaves its character behind.
  std::unordered_map<std::uint64_t, entity_id> by_player_;
  flatbuffers::FlatBufferBuilder fbb_;
  std::vector<net::frame> frames_;  // scratch: one tick batch's WorldUpdate frames
  std::uint32_t tick_ = 0;
  tick_stats stats_;
  struct zone_metrics* metrics_ = nullptr;  // this zone's figures (null: not recorded)
  struct map_view {
    net::session_handle session;
    frame_sink* sink;
  };
  std::vector<map_view> map_views_;
  std::vector<entity_view> map_scratch_;
};

}  // namespace quay::game::server
