// One operator connection (see operator_session.hpp).
#include "operator_session.hpp"

#include <spdlog/spdlog.h>

#include "quay/actors/system.hpp"
#include "quay/net/error.hpp"
#include "quay/schemas/admin_generated.h"
#include "quay/schemas/message_ids_generated.h"

namespace quay::game::server {

operator_session::operator_session(const operator_routes* routes, frame_sink* sink,
                                   net::session_handle session, std::string peer,
                                   spdlog::logger* log)
    : routes_(routes), sink_(sink), session_(session), peer_(std::move(peer)), log_(log) {}

void operator_session::define(handlers<operator_session>& h) {
  h.on<&operator_session::on_accepted>()
      .on<&operator_session::on_request>()
      .on<&operator_session::on_frame>()
      .on<&operator_session::on_closed>();
}

void operator_session::on_accepted(const net::session_accepted&) {}

void operator_session::on_request(const net::http_request& r) {
  const http_answer a = routes_->handle(
      r.method, r.target,
      [&r](std::string_view name) -> std::optional<std::string_view> {
        if (name == "authorization" && !r.authorization.empty()) return r.authorization;
        return std::nullopt;
      },
      peer_);
  net::http_response out;
  out.status = a.status;
  out.content_type = a.content_type;
  out.body = a.body;
  out.headers.emplace_back("Cache-Control", "no-store");
  sink_->respond(session_, out);
}

void operator_session::on_frame(const net::session_frame& m) {
  if (zone_ || m.envelope.type != static_cast<std::uint16_t>(wire::MessageType::MapSubscribe)) {
    return;  // one subscription per view; anything else from an admin page is ignored
  }
  const auto payload = m.envelope.payload;
  flatbuffers::Verifier v(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
  if (!v.VerifyBuffer<wire::MapSubscribe>(nullptr)) {
    sink_->close(session_, net::errc::closed_by_owner);
    return;
  }
  const auto* sub = flatbuffers::GetRoot<wire::MapSubscribe>(payload.data());
  const std::string_view token = sub->token() ? sub->token()->string_view() : std::string_view{};
  if (!routes_->authorized(token)) {
    if (log_ != nullptr) log_->warn("operator: refused a map view from {}: wrong token", peer_);
    sink_->close(session_, net::errc::closed_by_owner);
    return;
  }
  const auto zone = system().whereis(zone_actor_name(sub->zone_id()));
  if (!zone) {
    sink_->close(session_, net::errc::closed_by_owner);
    return;
  }
  zone_ = *zone;
  send(zone_, map_subscribe_msg{session_, true, sink_});
}

void operator_session::on_closed(const net::session_closed&) { stop(); }

void operator_session::on_stop(exit_reason) {
  if (zone_) {
    send(zone_, map_subscribe_msg{session_, false, sink_});
  }
}

}  // namespace quay::game::server
