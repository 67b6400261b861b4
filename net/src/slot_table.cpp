// The slot table (chunks of sessions allocated on demand and never moved or freed, so lookups
// take no lock), and the network's lifetime: the sweep timer and the wait for in-flight work.
#include <chrono>
#include <cstdlib>
#include <thread>

#include "network_impl.hpp"
#include "quay/runtime/log.hpp"

namespace quay::net::detail {

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
  static const auto l = quay::log::get("net");
  return l;
}

}  // namespace

struct network_impl::chunk {
  explicit chunk(network_impl& n, std::uint32_t first) {
    for (std::uint32_t i = 0; i < chunk_size; ++i) {
      slots[i] = std::make_unique<session>(n, first + i);
    }
  }
  std::array<std::unique_ptr<session>, chunk_size> slots;
};

network_impl::network_impl(io_port& p, actor_system* a) : port(p), actors(a) {
  // The sweep timer counts until its last invocation, the one with an error (cancelled by the
  // destructor, or aborted when the port stops).
  in_flight.fetch_add(1, std::memory_order_relaxed);
  sweep_timer = port.start_timer(
      sweep_period,
      [this](std::error_code ec) {
        if (!ec) return sweep();
        leave();
      },
      sweep_period);
}

network_impl::~network_impl() {
  port.cancel_timer(sweep_timer);
  // Completions that refer to sessions, listeners or the sweep may still be queued on a running
  // port (a stopped one has run them all): wait for them. A port that cannot run them (this is
  // its only worker) or does not within the deadline is a shutdown order that cannot be made
  // safe, so it is refused loudly rather than left to touch freed memory.
  constexpr auto deadline = std::chrono::seconds(30);
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (in_flight.load(std::memory_order_acquire) != 0) {
    const bool stuck = port.in_worker() && port.concurrency() == 1;
    if (stuck || std::chrono::steady_clock::now() > until) {
      logger()->critical(
          "network destroyed with {} operations in flight that its port {}; aborting "
          "(destroy the network from outside the port's only worker, or stop the port first)",
          in_flight.load(), stuck ? "cannot run from this worker" : "did not finish in 30 s");
      std::abort();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& c : chunks_) delete c.load(std::memory_order_acquire);
}

session* network_impl::lookup(std::uint32_t slot) const noexcept {
  if ((slot >> chunk_bits) >= max_chunks) return nullptr;
  chunk* c = chunks_[slot >> chunk_bits].load(std::memory_order_acquire);
  return c == nullptr ? nullptr : c->slots[slot & (chunk_size - 1)].get();
}

session* network_impl::allocate() {
  std::uint32_t slot = 0;
  {
    std::lock_guard lk(table_mu_);
    if (free_.empty()) {
      const std::uint32_t first = high_water_.load(std::memory_order_relaxed);
      if ((first >> chunk_bits) >= max_chunks) return nullptr;
      chunks_[first >> chunk_bits].store(new chunk(*this, first), std::memory_order_release);
      for (std::uint32_t i = chunk_size; i > 0; --i) free_.push_back(first + i - 1);
      high_water_.store(first + chunk_size, std::memory_order_release);
    }
    slot = free_.back();
    free_.pop_back();
  }
  session* s = lookup(slot);
  std::lock_guard lk(s->mu);
  if (s->generation == 0) s->generation = 1;
  s->state = session_state::starting;
  stats.open.fetch_add(1, std::memory_order_relaxed);
  in_flight.fetch_add(1, std::memory_order_relaxed);  // dropped at the end of finish()
  return s;
}

void network_impl::release(std::uint32_t slot) {
  std::lock_guard lk(table_mu_);
  free_.push_back(slot);
}

}  // namespace quay::net::detail
