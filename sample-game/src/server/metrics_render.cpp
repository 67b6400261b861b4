// A scrape as Prometheus text and as the admin page's JSON (see server_metrics.hpp). Every
// metric name written here is listed in docs/operations.md.
#include <cstdio>
#include <string>

#include "quay/net/prometheus.hpp"
#include "server_metrics.hpp"

namespace quay::game::server {

namespace {

namespace prom = net::prometheus;
using prom::metric_type;

double d(std::uint64_t v) { return static_cast<double>(v); }

void histogram(prom::writer& w, std::string_view name, prom::labels l,
               const live_histogram::snapshot& h) {
  (void)w.histogram(name, l, h.bounds, h.counts, h.overflow, h.sum);
}

void write_zones(prom::writer& w, const metrics_scrape& s) {
  struct gauge {
    const char* name;
    metric_type type;
    const char* help;
    std::uint64_t metrics_scrape::zone::*field;
  };
  static constexpr gauge per_zone[] = {
      {"quay_zone_players", metric_type::gauge, "Players in the zone.",
       &metrics_scrape::zone::players},
      {"quay_zone_npcs", metric_type::gauge, "NPCs alive in the zone.",
       &metrics_scrape::zone::npcs},
      {"quay_zone_ticks_total", metric_type::counter, "Ticks the zone has run.",
       &metrics_scrape::zone::ticks},
      {"quay_zone_messages_in_total", metric_type::counter,
       "Player requests the zone handled (moves, attacks, chat, portals, joins, leaves).",
       &metrics_scrape::zone::messages_in},
      {"quay_zone_frames_out_total", metric_type::counter,
       "Frames the zone queued on player sessions (one per session per frame).",
       &metrics_scrape::zone::frames_out},
      {"quay_zone_map_subscribers", metric_type::gauge,
       "Admin map views subscribed to the zone.", &metrics_scrape::zone::map_subscribers},
  };
  for (const gauge& g : per_zone) {
    (void)w.family(g.name, g.type, g.help);
    for (const auto& z : s.zones) {
      const std::string id = std::to_string(z.id);
      (void)w.sample(g.name, {{"zone", id}, {"zone_name", z.name}}, d(z.*g.field));
    }
  }
  (void)w.family("quay_zone_tick_seconds", metric_type::histogram,
                 "Wall time of one zone tick (simulation, AOI, encoding and queueing frames).");
  for (const auto& z : s.zones) {
    histogram(w, "quay_zone_tick_seconds", {{"zone", std::to_string(z.id)}, {"zone_name", z.name}},
              z.tick);
  }
  (void)w.family("quay_zone_tick_cpu_seconds", metric_type::histogram,
                 "CPU time of the worker thread during one zone tick (wall minus preemption).");
  for (const auto& z : s.zones) {
    histogram(w, "quay_zone_tick_cpu_seconds",
              {{"zone", std::to_string(z.id)}, {"zone_name", z.name}}, z.tick_cpu);
  }
}

void write_actors(prom::writer& w, const metrics_scrape& s) {
  (void)w.family("quay_actors", metric_type::gauge, "Live actors of the type.");
  for (const auto& t : s.actor_types) (void)w.sample("quay_actors", {{"type", t.type}}, d(t.actors));
  (void)w.family("quay_actor_mailbox_depth", metric_type::gauge,
                 "Messages waiting in the mailboxes of the type's actors, summed.");
  for (const auto& t : s.actor_types) {
    (void)w.sample("quay_actor_mailbox_depth", {{"type", t.type}}, d(t.depth));
  }
  (void)w.family("quay_actor_mailbox_depth_max", metric_type::gauge,
                 "The deepest mailbox among the type's actors.");
  for (const auto& t : s.actor_types) {
    (void)w.sample("quay_actor_mailbox_depth_max", {{"type", t.type}}, d(t.depth_max));
  }
  (void)w.family("quay_actor_mailbox_wait_mean_seconds", metric_type::gauge,
                 "Mean time a message waited in the mailbox (sampled messages of the live "
                 "actors of the type, over their lives).");
  for (const auto& t : s.actor_types) {
    (void)w.sample("quay_actor_mailbox_wait_mean_seconds", {{"type", t.type}}, t.mean_wait_s);
  }
  (void)w.family("quay_actor_messages_handled", metric_type::gauge,
                 "Messages handled by the live actors of the type (a gauge: actors that "
                 "stopped take their count with them).");
  for (const auto& t : s.actor_types) {
    (void)w.sample("quay_actor_messages_handled", {{"type", t.type}}, d(t.handled));
  }
  (void)w.family("quay_actor_dead_letters_total", metric_type::counter,
                 "Messages sent to actors that no longer exist.");
  (void)w.sample("quay_actor_dead_letters_total", {}, d(s.dead_letters));
}

}  // namespace

std::string render_prometheus(const metrics_scrape& s) {
  prom::writer w;
  (void)w.family("quay_up", metric_type::gauge, "1 while the zone server runs.");
  (void)w.sample("quay_up", {}, 1);
  (void)w.family("quay_ready", metric_type::gauge,
                 "1 while the server accepts players; 0 while it starts or drains.");
  (void)w.sample("quay_ready", {}, s.ready ? 1 : 0);
  (void)w.family("quay_uptime_seconds", metric_type::gauge, "Seconds since the server started.");
  (void)w.sample("quay_uptime_seconds", {}, d(s.uptime_s));
  (void)w.family("quay_players_online", metric_type::gauge, "Players in the world.");
  (void)w.sample("quay_players_online", {}, d(s.players_online));
  write_zones(w, s);

  (void)w.family("quay_sessions_open", metric_type::gauge, "Player sessions open on the game port.");
  (void)w.sample("quay_sessions_open", {}, d(s.sessions_open));
  (void)w.family("quay_sessions_accepted_total", metric_type::counter,
                 "Player sessions accepted on the game port.");
  (void)w.sample("quay_sessions_accepted_total", {}, d(s.sessions_accepted));
  (void)w.family("quay_sessions_closed_total", metric_type::counter,
                 "Player sessions ended, by reason.");
  for (const auto& [reason, n] : s.close_reasons) {
    (void)w.sample("quay_sessions_closed_total", {{"reason", reason}}, d(n));
  }

  write_actors(w, s);
  (void)w.family("quay_run_queue_delay_seconds", metric_type::histogram,
                 "Time from a post to the port until a worker runs it (a probe every 250 ms).");
  histogram(w, "quay_run_queue_delay_seconds", {}, s.run_queue_delay);

  (void)w.family("quay_persistence_pending_characters", metric_type::gauge,
                 "Characters changed and not yet in the database.");
  (void)w.sample("quay_persistence_pending_characters", {}, d(s.persistence_pending));
  (void)w.family("quay_persistence_batches_total", metric_type::counter,
                 "Database write batches committed.");
  (void)w.sample("quay_persistence_batches_total", {}, d(s.persistence_batches));
  (void)w.family("quay_persistence_characters_written_total", metric_type::counter,
                 "Character records written to the database.");
  (void)w.sample("quay_persistence_characters_written_total", {}, d(s.persistence_characters));
  (void)w.family("quay_persistence_failures_total", metric_type::counter,
                 "Database write batches that failed (each is retried).");
  (void)w.sample("quay_persistence_failures_total", {}, d(s.persistence_failures));
  (void)w.family("quay_persistence_retries_total", metric_type::counter,
                 "Database write batches started again after a failure.");
  (void)w.sample("quay_persistence_retries_total", {}, d(s.persistence_retries));
  (void)w.family("quay_persistence_write_seconds", metric_type::histogram,
                 "Time of one database write batch on the blocking pool, failed ones included.");
  histogram(w, "quay_persistence_write_seconds", {}, s.persistence_write);
  return w.take();
}

namespace {

void json_string(std::string& out, std::string_view v) {
  out += '"';
  for (const char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

void json_number(std::string& out, double v) { prom::append_value(out, v); }

}  // namespace

std::string render_zones_json(const metrics_scrape& s) {
  std::string out = "{\"ready\":";
  out += s.ready ? "true" : "false";
  out += ",\"players\":" + std::to_string(s.players_online);
  out += ",\"sessions\":" + std::to_string(s.sessions_open);
  out += ",\"uptime_s\":" + std::to_string(s.uptime_s);
  out += ",\"zones\":[";
  bool first = true;
  for (const auto& z : s.zones) {
    if (!first) out += ',';
    first = false;
    out += "{\"id\":" + std::to_string(z.id) + ",\"name\":";
    json_string(out, z.name);
    out += ",\"players\":" + std::to_string(z.players);
    out += ",\"npcs\":" + std::to_string(z.npcs);
    out += ",\"ticks\":" + std::to_string(z.ticks);
    out += ",\"messages_in\":" + std::to_string(z.messages_in);
    out += ",\"frames_out\":" + std::to_string(z.frames_out);
    out += ",\"tick_seconds_sum\":";
    json_number(out, z.tick.sum);
    out += ",\"tick_p99_bound_s\":";
    json_number(out, z.tick.quantile_bound(0.99));
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace quay::game::server
