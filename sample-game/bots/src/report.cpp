#include "quay/bots/report.hpp"

#include <cstdio>

namespace quay::bots {
namespace {

double ms(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1000.0; }

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// 1234 -> "1234", 12345 -> "12.3k", 1234567 -> "1.23M": progress lines stay short.
std::string si(double v) {
  if (v >= 1e6) return fmt("%.2fM", v / 1e6);
  if (v >= 1e4) return fmt("%.1fk", v / 1e3);
  return fmt("%.0f", v);
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string json_latency(const latency_summary& l) {
  return "{\"count\":" + std::to_string(l.count) + ",\"mean_ms\":" + fmt("%.3f", l.mean_ms) +
         ",\"p50_ms\":" + fmt("%.3f", l.p50_ms) + ",\"p99_ms\":" + fmt("%.3f", l.p99_ms) +
         ",\"p999_ms\":" + fmt("%.3f", l.p999_ms) + ",\"max_ms\":" + fmt("%.3f", l.max_ms) + "}";
}

std::string text_latency(const latency_summary& l) {
  if (l.count == 0) return "no samples";
  return "p50 " + fmt("%.2f", l.p50_ms) + " ms, p99 " + fmt("%.2f", l.p99_ms) + " ms, p99.9 " +
         fmt("%.2f", l.p999_ms) + " ms, max " + fmt("%.2f", l.max_ms) + " ms (" +
         std::to_string(l.count) + " samples)";
}

}  // namespace

latency_summary latency_summary::of(const latency_histogram& h) {
  latency_summary s;
  s.count = h.count();
  s.mean_ms = ms(h.mean());
  s.p50_ms = ms(h.quantile(0.50));
  s.p99_ms = ms(h.quantile(0.99));
  s.p999_ms = ms(h.quantile(0.999));
  s.max_ms = ms(h.max());
  return s;
}

run_report run_report::snapshot(const run_stats& s, std::uint64_t bots, double elapsed_s) {
  run_report r;
  r.elapsed_s = elapsed_s;
  r.bots = bots;
  constexpr auto relaxed = std::memory_order_relaxed;
  r.started = s.bots_started.load(relaxed);
  r.connected_now = s.connected_now.load(relaxed);
  r.connects = s.connects.load(relaxed);
  r.connect_failures = s.connect_failures.load(relaxed);
  r.disconnects = s.disconnects.load(relaxed);
  r.ok = s.bots_ok.load(relaxed);
  r.failed = s.bots_failed.load(relaxed);
  r.stopped = s.bots_stopped.load(relaxed);
  r.msgs_out = s.msgs_out.load(relaxed);
  r.msgs_in = s.msgs_in.load(relaxed);
  r.bytes_out = s.bytes_out.load(relaxed);
  r.bytes_in = s.bytes_in.load(relaxed);
  r.events_dropped = s.events_dropped.load(relaxed);
  r.rtt = latency_summary::of(s.rtt);
  r.aoi_staleness = latency_summary::of(s.aoi_staleness);
  r.errors = s.errors();
  return r;
}

std::string run_report::to_text() const {
  std::string t;
  t += "bots: " + std::to_string(bots) + " asked, " + std::to_string(started) + " started, " +
       std::to_string(ok) + " finished ok, " + std::to_string(stopped) +
       " stopped at the end, " + std::to_string(failed) + " failed\n";
  t += "connections: " + std::to_string(connects) + " made, " +
       std::to_string(connect_failures) + " failed to connect, " + std::to_string(disconnects) +
       " ended by the server or network\n";
  t += "messages: " + std::to_string(msgs_out) + " out (" + fmt("%.0f", msgs_out_per_s()) +
       "/s), " + std::to_string(msgs_in) + " in (" + fmt("%.0f", msgs_in_per_s()) + "/s) over " +
       fmt("%.1f", elapsed_s) + " s" +
       (warmup_s > 0 ? " after a warm-up of " + fmt("%.1f", warmup_s) + " s" : std::string()) +
       "\n";
  t += "round trip (ping): " + text_latency(rtt) + "\n";
  t += "AOI staleness: " + text_latency(aoi_staleness) + "\n";
  if (events_dropped != 0) {
    t += "events dropped by full inboxes: " + std::to_string(events_dropped) + "\n";
  }
  if (errors.empty()) {
    t += "errors: none\n";
  } else {
    t += "errors:\n";
    for (const auto& [kind, n] : errors) t += "  " + std::to_string(n) + " x " + kind + "\n";
  }
  for (const auto& f : failures) {
    t += "\nFAILED " + f.bot + ": " + f.message + "\n";
    if (!f.traceback.empty()) t += f.traceback + "\n";
    if (!f.last_events.empty()) {
      t += "  last events received (oldest first):\n";
      for (const auto& e : f.last_events) t += "    " + e + "\n";
    }
  }
  if (interrupted) t += "the run was interrupted before it ended\n";
  return t;
}

std::string run_report::to_json() const {
  std::string j = "{";
  auto num = [&j](const char* k, std::uint64_t v) {
    j += std::string("\"") + k + "\":" + std::to_string(v) + ",";
  };
  j += "\"elapsed_s\":" + fmt("%.3f", elapsed_s) + ",";
  j += "\"warmup_s\":" + fmt("%.3f", warmup_s) + ",";
  num("bots", bots);
  num("started", started);
  num("ok", ok);
  num("stopped", stopped);
  num("failed", failed);
  num("connects", connects);
  num("connect_failures", connect_failures);
  num("disconnects", disconnects);
  num("msgs_out", msgs_out);
  num("msgs_in", msgs_in);
  num("bytes_out", bytes_out);
  num("bytes_in", bytes_in);
  num("events_dropped", events_dropped);
  j += "\"msgs_out_per_s\":" + fmt("%.1f", msgs_out_per_s()) + ",";
  j += "\"msgs_in_per_s\":" + fmt("%.1f", msgs_in_per_s()) + ",";
  j += "\"rtt\":" + json_latency(rtt) + ",";
  j += "\"aoi_staleness\":" + json_latency(aoi_staleness) + ",";
  j += "\"errors\":{";
  bool first = true;
  for (const auto& [kind, n] : errors) {
    // Appended piecewise: GCC 12 at -O3 warns falsely (-Wrestrict) on `"," + string&&`.
    if (!first) j += ',';
    j += json_string(kind);
    j += ':';
    j += std::to_string(n);
    first = false;
  }
  j += "},\"failures\":[";
  first = true;
  for (const auto& f : failures) {
    j += (first ? "" : ",");
    j += "{\"bot\":" + json_string(f.bot) + ",\"message\":" + json_string(f.message) +
         ",\"traceback\":" + json_string(f.traceback) + ",\"last_events\":[";
    for (std::size_t i = 0; i < f.last_events.size(); ++i) {
      if (i != 0) j += ',';
      j += json_string(f.last_events[i]);
    }
    j += "]}";
    first = false;
  }
  j += "],\"interrupted\":";
  j += interrupted ? "true" : "false";
  j += ",\"passed\":";
  j += all_passed() ? "true" : "false";
  j += "}";
  return j;
}

std::string progress_line(const run_report& now, const run_report& before) {
  const double dt = now.elapsed_s - before.elapsed_s;
  // Counters restart at the end of a warm-up: a sample across it counts what came after.
  const auto delta = [](std::uint64_t a, std::uint64_t b) { return a >= b ? a - b : a; };
  const double out_rate = dt > 0 ? static_cast<double>(delta(now.msgs_out, before.msgs_out)) / dt : 0;
  const double in_rate = dt > 0 ? static_cast<double>(delta(now.msgs_in, before.msgs_in)) / dt : 0;
  std::uint64_t errors = 0;
  for (const auto& [k, n] : now.errors) errors += n;
  std::string l = fmt("%6.1fs", now.elapsed_s);
  l += " | bots " + std::to_string(now.started) + "/" + std::to_string(now.bots) + ", online " +
       std::to_string(now.connected_now);
  l += " | msgs/s out " + si(out_rate) + " in " + si(in_rate);
  if (now.rtt.count != 0) {
    l += " | rtt p50 " + fmt("%.2f", now.rtt.p50_ms) + " p99 " + fmt("%.2f", now.rtt.p99_ms) +
         " ms";
  }
  if (now.aoi_staleness.count != 0) {
    l += " | aoi p99 " + fmt("%.0f", now.aoi_staleness.p99_ms) + " ms";
  }
  l += " | ok " + std::to_string(now.ok) + " failed " + std::to_string(now.failed) + " errors " +
       std::to_string(errors);
  return l;
}

}  // namespace quay::bots
