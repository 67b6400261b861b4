// The built-in demo client (see demo_client.hpp).
#include "demo_client.hpp"

#include <cmath>

#include "quay/game/codec.hpp"
#include "quay/net/envelope.hpp"
#include "quay/schemas/chat_generated.h"
#include "quay/schemas/login_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/zone_generated.h"

namespace quay::game::server {

namespace {
constexpr millis step_period{100};  // moves at the zone's tick rate
constexpr float walk_speed = 5.0f;  // m/s, below the server's limit
}  // namespace

demo_client::demo_client(net::network* network, endpoint server, std::string name,
                         std::uint64_t seed)
    : network_(network), server_(server), name_(std::move(name)), random_(seed) {}

void demo_client::define(handlers<demo_client>& h) {
  h.on<&demo_client::on_accepted>()
      .on<&demo_client::on_frame>()
      .on<&demo_client::on_closed>()
      .on<&demo_client::on_step>();
}

void demo_client::on_start() {
  session_ = network_->session(network_->connect(server_, self()));
  heading_ = random_.uniform_float(0.0f, 6.2831853f);
}

void demo_client::on_accepted(const net::session_accepted&) {
  (void)session_.send(login_request{name_, "demo"}, ++seq_);
}

void demo_client::on_frame(const net::session_frame& m) {
  const auto* buf = m.envelope.payload.data();
  if (m.envelope.type == type_id(wire::MessageType::EnterZone)) {
    flatbuffers::Verifier v(reinterpret_cast<const std::uint8_t*>(buf), m.envelope.payload.size());
    if (!v.VerifyBuffer<wire::EnterZone>(nullptr)) {
      return;
    }
    const auto* z = flatbuffers::GetRoot<wire::EnterZone>(buf);
    if (z->position() != nullptr) {
      pos_ = {z->position()->x(), z->position()->y()};
    }
    bounds_ = {z->width(), z->height()};
    if (!in_world_) {
      every(step_period, step_msg{});
    }
    in_world_ = true;
  } else if (m.envelope.type == type_id(wire::MessageType::MoveCorrection)) {
    flatbuffers::Verifier v(reinterpret_cast<const std::uint8_t*>(buf), m.envelope.payload.size());
    if (v.VerifyBuffer<wire::MoveCorrection>(nullptr)) {
      const auto* c = flatbuffers::GetRoot<wire::MoveCorrection>(buf);
      if (c->position() != nullptr) {
        pos_ = {c->position()->x(), c->position()->y()};  // the server is authoritative
      }
    }
  }
}

void demo_client::on_closed(const net::session_closed&) { stop(); }

void demo_client::on_step(const step_msg&) {
  heading_ += random_.uniform_float(-0.4f, 0.4f);
  const float d = walk_speed * static_cast<float>(step_period.count()) / 1000.0f;
  vec2 next{pos_.x + std::cos(heading_) * d, pos_.y + std::sin(heading_) * d};
  if (!bounds_.contains(next)) {
    heading_ += 3.14159f;  // turn back at the edge
    next = bounds_.clamp(next);
  }
  pos_ = next;
  (void)session_.send(move_intent{pos_}, ++seq_);
  if (++steps_ % 100 == 0) {  // every ~10 s
    (void)session_.send(chat_send_request{static_cast<std::uint8_t>(wire::ChatChannel::Say),
                                          "hello from a demo client", {}},
                        ++seq_);
  }
}

}  // namespace quay::game::server
