#include "quay/bots/runner.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "bot_actor.hpp"
#include "quay/actors/system.hpp"
#include "quay/runtime/io_port.hpp"
#include "run_context.hpp"

namespace quay::bots {
namespace detail {
namespace {

// Paces the run: starts bots at the ramp rate, forwards signals between bots, and stops (load
// runs) or fails (test runs) the bots still running when the duration or deadline passes.
class director final : public actor {
 public:
  explicit director(run_context& run) : run_(run) {}

  static void define(handlers<director>& h) {
    h.on<&director::on_tick>().on<&director::on_signal>().on<&director::on_stop_all>();
  }

 private:
  // Bots started per tick at most, so one turn never spawns thousands at once and connection
  // attempts reach the server's accept queue in waves it can take.
  static constexpr std::size_t max_spawn_per_tick = 100;
  static constexpr millis tick_period{10};

  void on_start() override {
    started_at_ = now();
    bots_.reserve(run_.options.bots);
    spawn_due();
    every(tick_period, director_tick{});
  }

  void on_tick(const director_tick&) {
    spawn_due();
    const auto elapsed = now() - started_at_;
    const auto& o = run_.options;
    if (!ending_ && o.duration.count() > 0 && elapsed >= o.duration) {
      ending_ = true;
      for (const auto& b : bots_) send(b, bot_stop_msg{});
    }
    if (!ending_ && o.deadline.count() > 0 && elapsed >= o.deadline) {
      ending_ = true;
      const std::string why = "the run's deadline of " +
                              std::to_string(o.deadline.count() / 1000) + " s passed";
      for (const auto& b : bots_) send(b, bot_fail_msg{why});
    }
  }

  void on_signal(const director_signal& m) {
    for (std::size_t i = 0; i < bots_.size(); ++i) {
      if (i + 1 != m.from) send(bots_[i], bot_signal_msg{m.key, m.value});
    }
  }

  void on_stop_all(const director_stop_all&) {
    ending_ = true;
    for (const auto& b : bots_) send(b, bot_stop_msg{});
    // Bots never started count as stopped, so the run can end.
    for (std::size_t i = bots_.size(); i < run_.options.bots; ++i) {
      bot_result r;
      r.bot = run_.options.name_prefix + std::to_string(i + 1);
      r.ok = true;
      r.stopped = true;
      run_.bot_ended(r);
    }
    never_spawn_ = true;
  }

  void spawn_due() {
    if (ending_ || never_spawn_) return;
    const auto& o = run_.options;
    std::size_t due = o.bots;
    if (o.ramp_per_s > 0) {
      const double secs = std::chrono::duration<double>(now() - started_at_).count();
      due = std::min<std::size_t>(o.bots, 1 + static_cast<std::size_t>(secs * o.ramp_per_s));
    }
    due = std::min(due, bots_.size() + max_spawn_per_tick);
    while (bots_.size() < due) {
      const std::size_t index = bots_.size() + 1;
      bots_.push_back(spawn<bot_actor>(run_, self(), index));
    }
  }

  run_context& run_;
  port_time started_at_{};
  std::vector<actor_ref> bots_;
  bool ending_ = false;
  bool never_spawn_ = false;
};

}  // namespace
}  // namespace detail

run_report run(const script& source, const run_options& options) {
  using clock = std::chrono::steady_clock;
  detail::run_context ctx(source, options);
  const auto t0 = clock::now();
  auto elapsed = [&t0] { return std::chrono::duration<double>(clock::now() - t0).count(); };

  io_port_options po;
  po.workers = options.workers;
  po.blocking_threads = 1;
  po.name = "bots";
  io_port port(po);
  bool interrupted = false;
  std::optional<clock::time_point> window_from;  // when the warm-up ended, if it did
  {
    actor_system actors(port);
    net::network network(port, &actors);
    ctx.network = &network;
    ctx.port = &port;
    const actor_ref dir = actors.spawn<detail::director>(ctx);

    run_report last = run_report::snapshot(ctx.stats, options.bots, 0);
    auto next_progress = clock::now() + options.progress_every;
    bool stop_sent = false;
    clock::time_point give_up{};
    for (;;) {
      {
        std::unique_lock lock(ctx.mu);
        ctx.changed.wait_until(lock, std::min(next_progress, clock::now() + millis{100}), [&] {
          return ctx.stats.bots_done() >= options.bots;
        });
      }
      if (ctx.stats.bots_done() >= options.bots) break;
      if (!window_from && options.warmup.count() > 0 && clock::now() - t0 >= options.warmup) {
        ctx.stats.restart_window();
        window_from = clock::now();
      }
      if (!stop_sent && options.interrupt != nullptr &&
          options.interrupt->load(std::memory_order_relaxed)) {
        stop_sent = true;
        interrupted = true;
        actors.send(dir, detail::director_stop_all{});
        give_up = clock::now() + std::chrono::seconds(5);
      }
      // A bot stuck past an interrupt must not hold the process: after a bound, give up.
      if (stop_sent && clock::now() >= give_up) break;
      if (clock::now() >= next_progress) {
        next_progress += options.progress_every;
        if (options.on_progress) {
          run_report now = run_report::snapshot(ctx.stats, options.bots, elapsed());
          options.on_progress(now);
          last = std::move(now);
        }
      }
    }
    network.shutdown();
    port.stop();
  }
  run_report report = run_report::snapshot(
      ctx.stats, options.bots,
      window_from ? std::chrono::duration<double>(clock::now() - *window_from).count()
                        : elapsed());
  if (window_from) {
    report.warmup_s = std::chrono::duration<double>(*window_from - t0).count();
  }
  {
    std::lock_guard lock(ctx.mu);
    report.failures = ctx.failures;
  }
  report.interrupted = interrupted;
  return report;
}

}  // namespace quay::bots
