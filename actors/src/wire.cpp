// Wire forms: the process-wide registry of wire ids, and delivery of verified wire bytes to an
// actor's typed handlers (see quay/actors/wire.hpp).
#include "quay/actors/wire.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>

#include "actors_log.hpp"
#include "quay/actors/system.hpp"
#include "system_impl.hpp"

namespace quay {

namespace {
class wire_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "quay.wire"; }
  std::string message(int c) const override {
    switch (static_cast<wire_errc>(c)) {
      case wire_errc::unknown_wire_id:
        return "no handler for the wire id";
      case wire_errc::invalid_payload:
        return "payload does not verify for its wire id";
    }
    return "unknown wire error";
  }
};

// The registry is written while handler tables are built (once per actor type, usually at
// start-up) and read by transports; a mutex is enough (decode_envelope is off the local path).
struct registry {
  std::mutex mu;
  std::unordered_map<std::uint16_t, detail::wire_entry> by_id;
};
registry& the_registry() {
  static registry r;
  return r;
}

std::atomic<std::uint64_t> unknown_count{0};
std::atomic<std::uint64_t> rejected_count{0};

// Set while wire::deliver runs a handler on this thread; otherwise the origin is local.
// A plain pointer: the thread_local stays trivially destructible.
thread_local const message_origin* current = nullptr;
const message_origin local_origin{};

const char* source_name(message_origin::source s) noexcept {
  switch (s) {
    case message_origin::source::local:
      return "local";
    case message_origin::source::session:
      return "session";
    case message_origin::source::node:
      return "node";
  }
  return "?";
}
}  // namespace

const std::error_category& wire_category() noexcept {
  static const wire_category_impl c;
  return c;
}

namespace detail {

const message_origin& current_origin() noexcept {
  return current != nullptr ? *current : local_origin;
}

void register_wire_entry(const wire_entry& e) {
  registry& r = the_registry();
  std::lock_guard lock(r.mu);
  const auto [it, fresh] = r.by_id.emplace(e.wire_id, e);
  if (!fresh && it->second.type_id != e.type_id) {
    // Two message types claim one wire id: bytes of one would decode as the other.
    detail::actors_log().critical("wire id {} is declared by two message types (type ids {} and {})",
                          e.wire_id, it->second.type_id, e.type_id);
    std::abort();
  }
}

/// Friend of actor: the wire delivery's view of its internals.
struct wire_access {
  static const handler_table* table(const actor& a) noexcept { return a.table_; }
};

}  // namespace detail

namespace wire {

detail::envelope* decode_envelope(std::uint16_t wire_id, std::span<const std::byte> bytes,
                                  std::error_code& ec) {
  detail::wire_entry w;
  {
    registry& r = the_registry();
    std::lock_guard lock(r.mu);
    const auto it = r.by_id.find(wire_id);
    if (it == r.by_id.end()) {
      unknown_count.fetch_add(1, std::memory_order_relaxed);
      ec = wire_errc::unknown_wire_id;
      return nullptr;
    }
    w = it->second;
  }
  if (!w.verify(bytes)) {
    rejected_count.fetch_add(1, std::memory_order_relaxed);
    ec = wire_errc::invalid_payload;
    return nullptr;
  }
  ec.clear();
  return w.decode(bytes);
}

std::error_code send_decoded(actor_system& sys, actor_ref to, actor_ref sender,
                             std::uint16_t wire_id, std::span<const std::byte> bytes) {
  std::error_code ec;
  detail::envelope* e = decode_envelope(wire_id, bytes, ec);
  if (e == nullptr) {
    return ec;
  }
  e->sender = sender;
  return sys.deliver(to, e);
}

std::error_code deliver(actor& self, std::uint16_t wire_id, std::span<const std::byte> bytes,
                        const message_origin& from) {
  const detail::handler_table* t = detail::wire_access::table(self);
  const detail::wire_entry* w = t != nullptr ? t->find_wire(wire_id) : nullptr;
  const actor_ref me = detail::actor_access::self_of(self);
  if (w == nullptr) {
    unknown_count.fetch_add(1, std::memory_order_relaxed);
    detail::actor_access::sys(self).unhandled.fetch_add(1, std::memory_order_relaxed);
    detail::actors_log().info("actor {}:{} has no handler for wire id {} (from a {}, seq {})", me.slot,
                      me.generation, wire_id, source_name(from.from), from.seq);
    return wire_errc::unknown_wire_id;
  }
  if (!w->verify(bytes)) {
    rejected_count.fetch_add(1, std::memory_order_relaxed);
    detail::actors_log().info("actor {}:{}: a payload for wire id {} ({} bytes, from a {}, seq {}) does "
                      "not verify; no handler ran",
                      me.slot, me.generation, wire_id, bytes.size(), source_name(from.from),
                      from.seq);
    return wire_errc::invalid_payload;
  }
  detail::envelope* e = w->decode(bytes);
  struct release {
    detail::envelope* e;
    const message_origin* prev;
    ~release() {
      current = prev;
      detail::free_envelope(e);
    }
  } guard{e, current};
  message_origin o = from;
  o.wire_id = wire_id;
  current = &o;
  // The table that listed the wire id has its type's handler (on<> registered both).
  t->find(w->type_id)(self, *e);
  return {};
}

counters stats() noexcept {
  return {unknown_count.load(std::memory_order_relaxed),
          rejected_count.load(std::memory_order_relaxed)};
}

}  // namespace wire
}  // namespace quay
