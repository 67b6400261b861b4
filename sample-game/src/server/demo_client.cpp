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
  session_ = network_->connect(server_, self());
  heading_ = random_.uniform_float(0.0f, 6.2831853f);
}

void demo_client::send_frame(std::uint16_t type) {
  const auto* p = reinterpret_cast<const std::byte*>(fbb_.GetBufferPointer());
  (void)network_->send(session_, net::encode_envelope(type, ++seq_, {p, fbb_.GetSize()}));
  fbb_.Clear();
}

void demo_client::on_accepted(const net::session_accepted&) {
  fbb_.Finish(wire::CreateLoginRequestDirect(fbb_, name_.c_str(), "demo"));
  send_frame(type_id(wire::MessageType::LoginRequest));
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
  const wire::Vec2 p(pos_.x, pos_.y);
  fbb_.Finish(wire::CreateMoveIntent(fbb_, &p));
  send_frame(type_id(wire::MessageType::MoveIntent));
  if (++steps_ % 100 == 0) {  // every ~10 s
    fbb_.Finish(wire::CreateChatSendDirect(fbb_, wire::ChatChannel::Say, "hello from a demo client"));
    send_frame(type_id(wire::MessageType::ChatSend));
  }
}

}  // namespace quay::game::server
