// The persistence actor (see persistence_actor.hpp).
#include "persistence_actor.hpp"

#include <chrono>

#include "server_metrics.hpp"

#include <algorithm>
#include <memory>

#include "quay/actors/system.hpp"
#include "quay/runtime/log.hpp"

namespace quay::game::server {

namespace {
spdlog::logger& logger(const server_context& ctx) {
  return ctx.log != nullptr ? *ctx.log : *log::get("game");
}
}  // namespace

persistence_actor::persistence_actor(server_context ctx, character_store* store,
                                     std::vector<stored_character> stored,
                                     persistence_counters* counters)
    : ctx_(ctx), store_(store), counters_(counters) {
  for (auto& c : stored) {
    next_character_id_ = std::max(next_character_id_, c.record.character_id + 1);
    std::string key = name_key(c.record.name);
    if (const auto it = characters_.find(key); it != characters_.end()) {
      // Stored before names were unique regardless of case: the first one keeps the name.
      logger(ctx_).warn("character '{}' (id {}) shadowed by '{}' (id {}): names are unique "
                        "regardless of case", c.record.name, c.record.character_id,
                        it->second.record.name, it->second.record.character_id);
      continue;
    }
    characters_.emplace(std::move(key), std::move(c));
  }
}

void persistence_actor::define(handlers<persistence_actor>& h) {
  h.on<&persistence_actor::on_load>()
      .on<&persistence_actor::on_save>()
      .on<&persistence_actor::on_set_secret>()
      .on<&persistence_actor::on_write_done>()
      .on<&persistence_actor::on_retry>();
}

const stored_character* persistence_actor::find(const std::string& name) const {
  const auto it = characters_.find(name_key(name));
  return it == characters_.end() ? nullptr : &it->second;
}

load_character_reply persistence_actor::on_load(load_character_msg& m) {
  load_character_reply r;
  const std::string key = name_key(m.name);
  auto it = characters_.find(key);
  if (it == characters_.end()) {
    if (!m.create) {
      return r;
    }
    stored_character c;
    c.secret = std::move(m.secret);
    c.record.character_id = next_character_id_++;
    c.record.name = m.name;
    c.record.zone_id = m.start_zone;
    it = characters_.emplace(key, std::move(c)).first;
    r.created = true;
    mark_dirty(key);
  }
  r.found = true;
  r.character = it->second;
  return r;
}

void persistence_actor::on_save(save_msg& m) {
  const std::string key = name_key(m.record.name);
  const auto it = characters_.find(key);
  if (it == characters_.end()) {
    logger(ctx_).warn("save of unknown character '{}' ignored", m.record.name);
    return;
  }
  it->second.record = m.record;
  mark_dirty(key);
  if (m.final && m.release_to) {
    // Stored before the gateway hears of it: a login it lets in loads this record.
    send(m.release_to, character_released_msg{m.record.name});
  }
}

void persistence_actor::on_set_secret(set_secret_msg& m) {
  const std::string key = name_key(m.name);
  const auto it = characters_.find(key);
  if (it == characters_.end() || m.secret.empty()) {
    return;
  }
  it->second.secret = std::move(m.secret);
  it->second.token.clear();  // the plain legacy token leaves memory and, at the next batch, disk
  mark_dirty(key);
}

void persistence_actor::publish() {
  if (counters_ != nullptr) {
    // A name may be both in the batch being written and dirty again; counting it twice only
    // makes the shutdown wait a little more careful.
    counters_->pending.store(dirty_.size() + writing_.size(), std::memory_order_release);
  }
}

void persistence_actor::mark_dirty(const std::string& name) {
  if (store_ == nullptr) {
    return;
  }
  // A set beside the ordered list: a save wave marks every player of a zone at once, and a
  // linear search per mark made each wave quadratic in the zone's population.
  if (dirty_names_.insert(name).second) {
    dirty_.push_back(name);
  }
  flush();
}

void persistence_actor::flush() {
  // One batch in flight at a time: the blocking pool has several threads, and two batches
  // holding the same character could commit in the wrong order. A failed batch waits for its
  // backoff timer instead of hammering a locked or full database.
  if (store_ == nullptr || !writing_.empty() || waiting_retry_ || dirty_.empty()) {
    publish();
    return;
  }
  auto batch = std::make_shared<std::vector<stored_character>>();
  batch->reserve(dirty_.size());
  for (const auto& name : dirty_) {
    batch->push_back(characters_.at(name));
  }
  writing_ = std::move(dirty_);
  dirty_.clear();
  dirty_names_.clear();
  publish();
  auto error = std::make_shared<std::string>();
  character_store* store = store_;
  actor_system* sys = &system();
  const actor_ref me = self();
  server_metrics* metrics = ctx_.metrics;  // thread-safe, outlives the port
  system().get_port().run_blocking(
      [store, batch, error, metrics] {
        const auto start = std::chrono::steady_clock::now();
        *error = store->save(*batch);
        if (metrics != nullptr) {
          metrics->persistence_write.observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
      },
      [sys, me, batch, error](std::error_code ec) {
        // On a worker, outside this actor's turns: only a message may reach its state.
        std::string e = ec ? "blocking pool: " + ec.message() : *error;
        (void)sys->send(me, write_done_msg{std::move(e), batch->size()});
      });
}

void persistence_actor::on_write_done(const write_done_msg& m) {
  std::vector<std::string> written = std::move(writing_);
  writing_.clear();
  if (m.error.empty()) {
    if (backoff_ms_ != 0) {
      logger(ctx_).info("database writes recovered: {} characters saved", m.count);
    }
    backoff_ms_ = 0;
    if (counters_ != nullptr) {
      counters_->batches_written.fetch_add(1, std::memory_order_relaxed);
      counters_->characters_written.fetch_add(m.count, std::memory_order_relaxed);
    }
    flush();
    return;
  }
  // The transaction was rolled back: the batch's characters are dirty again, ahead of those
  // changed since (their latest record is what the retry writes).
  std::vector<std::string> again;
  again.reserve(written.size() + dirty_.size());
  for (auto& name : written) {
    if (dirty_names_.insert(name).second) {
      again.push_back(std::move(name));
    }
  }
  for (auto& name : dirty_) {
    again.push_back(std::move(name));
  }
  dirty_ = std::move(again);
  const std::uint32_t first = std::max<std::uint32_t>(ctx_.settings->save_retry_ms, 1);
  backoff_ms_ = backoff_ms_ == 0 ? first
                                 : std::min(backoff_ms_ * 2,
                                            std::max(ctx_.settings->save_retry_max_ms, first));
  if (counters_ != nullptr) {
    counters_->write_failures.fetch_add(1, std::memory_order_relaxed);
  }
  logger(ctx_).error("saving {} characters failed: {}; {} characters kept dirty, retry in {} ms",
                     m.count, m.error, dirty_.size(), backoff_ms_);
  waiting_retry_ = true;
  after(millis(backoff_ms_), retry_msg{});
  publish();
}

void persistence_actor::on_retry(const retry_msg&) {
  waiting_retry_ = false;
  if (counters_ != nullptr) {
    counters_->retries.fetch_add(1, std::memory_order_relaxed);
  }
  flush();
}

}  // namespace quay::game::server
