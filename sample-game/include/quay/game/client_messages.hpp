#pragma once
// The client-to-server messages of the game protocol as C++ messages with wire forms
// (quay/actors/wire.hpp): the player actor handles each with an ordinary on<> handler, whether
// it came from the client's session (verified and decoded by net::deliver) or from a local send
// (tests, a bot in the same process). The tables are in schemas/*.fbs, the ids in
// schemas/message_ids.fbs.
//
// Thread contract: values; the codec functions are pure.

#include <cstdint>
#include <string>

#include <flatbuffers/flatbuffers.h>

#include "quay/actors/wire.hpp"
#include "quay/game/types.hpp"
#include "quay/schemas/chat_generated.h"
#include "quay/schemas/combat_generated.h"
#include "quay/schemas/login_generated.h"
#include "quay/schemas/message_ids_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/server_info_generated.h"
#include "quay/schemas/zone_generated.h"

namespace quay::game {

/// LoginRequest: the first message of a session.
struct login_request {
  std::string name;
  std::string token;
  std::uint16_t protocol_version = 1;
  std::string session_token;
  std::string resume_token;
};
/// Logout.
struct logout_request {};
/// ServerInfoRequest.
struct server_info_request {};
/// MoveIntent: a missing position decodes as NaN (refused by the zone with a correction).
struct move_intent {
  vec2 position;
};
/// Attack.
struct attack_request {
  entity_id target = 0;
};
/// UsePortal.
struct use_portal_request {};
/// ChatSend (channel as wire::ChatChannel's value).
struct chat_send_request {
  std::uint8_t channel = 0;
  std::string text;
  std::string to;
};

namespace detail {
template <wire::MessageType Id, class Table>
struct client_wire {
  static constexpr std::uint16_t id = static_cast<std::uint16_t>(Id);
  using table = Table;
};
}  // namespace detail

}  // namespace quay::game

template <>
struct quay::wire_form<quay::game::login_request>
    : quay::game::detail::client_wire<quay::game::wire::MessageType::LoginRequest,
                                      quay::game::wire::LoginRequest> {
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b,
                                           const quay::game::login_request& m);
  static quay::game::login_request decode(const table& t);
};
template <>
struct quay::wire_form<quay::game::logout_request>
    : quay::game::detail::client_wire<quay::game::wire::MessageType::Logout,
                                      quay::game::wire::Logout> {
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b,
                                           const quay::game::logout_request& m);
  static quay::game::logout_request decode(const table& t);
};
template <>
struct quay::wire_form<quay::game::server_info_request>
    : quay::game::detail::client_wire<quay::game::wire::MessageType::ServerInfoRequest,
                                      quay::game::wire::ServerInfoRequest> {
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b,
                                           const quay::game::server_info_request& m);
  static quay::game::server_info_request decode(const table& t);
};
template <>
struct quay::wire_form<quay::game::move_intent>
    : quay::game::detail::client_wire<quay::game::wire::MessageType::MoveIntent,
                                      quay::game::wire::MoveIntent> {
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b,
                                           const quay::game::move_intent& m);
  static quay::game::move_intent decode(const table& t);
};
template <>
struct quay::wire_form<quay::game::attack_request>
    : quay::game::detail::client_wire<quay::game::wire::MessageType::Attack,
                                      quay::game::wire::Attack> {
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b,
                                           const quay::game::attack_request& m);
  static quay::game::attack_request decode(const table& t);
};
template <>
struct quay::wire_form<quay::game::use_portal_request>
    : quay::game::detail::client_wire<quay::game::wire::MessageType::UsePortal,
                                      quay::game::wire::UsePortal> {
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b,
                                           const quay::game::use_portal_request& m);
  static quay::game::use_portal_request decode(const table& t);
};
template <>
struct quay::wire_form<quay::game::chat_send_request>
    : quay::game::detail::client_wire<quay::game::wire::MessageType::ChatSend,
                                      quay::game::wire::ChatSend> {
  static flatbuffers::Offset<table> encode(flatbuffers::FlatBufferBuilder& b,
                                           const quay::game::chat_send_request& m);
  static quay::game::chat_send_request decode(const table& t);
};
