// Wire forms of the client-to-server messages (see client_messages.hpp).
#include "quay/game/client_messages.hpp"

#include <limits>

namespace {
std::string str(const flatbuffers::String* s) { return s != nullptr ? s->str() : std::string(); }
}  // namespace

namespace quay {

using namespace game;
using wf_login = wire_form<login_request>;
using wf_logout = wire_form<logout_request>;
using wf_info = wire_form<server_info_request>;
using wf_move = wire_form<move_intent>;
using wf_attack = wire_form<attack_request>;
using wf_portal = wire_form<use_portal_request>;
using wf_chat = wire_form<chat_send_request>;

flatbuffers::Offset<wf_login::table> wf_login::encode(flatbuffers::FlatBufferBuilder& b,
                                                      const login_request& m) {
  return game::wire::CreateLoginRequestDirect(
      b, m.name.c_str(), m.token.c_str(), m.protocol_version,
      m.session_token.empty() ? nullptr : m.session_token.c_str(),
      m.resume_token.empty() ? nullptr : m.resume_token.c_str());
}
login_request wf_login::decode(const table& t) {
  return {str(t.name()), str(t.token()), t.protocol_version(), str(t.session_token()),
          str(t.resume_token())};
}

flatbuffers::Offset<wf_logout::table> wf_logout::encode(flatbuffers::FlatBufferBuilder& b,
                                                        const logout_request&) {
  return game::wire::CreateLogout(b);
}
logout_request wf_logout::decode(const table&) { return {}; }

flatbuffers::Offset<wf_info::table> wf_info::encode(flatbuffers::FlatBufferBuilder& b,
                                                    const server_info_request&) {
  return game::wire::CreateServerInfoRequest(b);
}
server_info_request wf_info::decode(const table&) { return {}; }

flatbuffers::Offset<wf_move::table> wf_move::encode(flatbuffers::FlatBufferBuilder& b,
                                                    const move_intent& m) {
  const game::wire::Vec2 pos(m.position.x, m.position.y);
  return game::wire::CreateMoveIntent(b, &pos);
}
move_intent wf_move::decode(const table& t) {
  // A missing position is read as NaN, which the zone refuses with a correction.
  if (t.position() == nullptr) {
    return {vec2{std::numeric_limits<float>::quiet_NaN(), 0.0f}};
  }
  return {vec2{t.position()->x(), t.position()->y()}};
}

flatbuffers::Offset<wf_attack::table> wf_attack::encode(flatbuffers::FlatBufferBuilder& b,
                                                        const attack_request& m) {
  return game::wire::CreateAttack(b, m.target);
}
attack_request wf_attack::decode(const table& t) { return {t.target()}; }

flatbuffers::Offset<wf_portal::table> wf_portal::encode(flatbuffers::FlatBufferBuilder& b,
                                                        const use_portal_request&) {
  return game::wire::CreateUsePortal(b);
}
use_portal_request wf_portal::decode(const table&) { return {}; }

flatbuffers::Offset<wf_chat::table> wf_chat::encode(flatbuffers::FlatBufferBuilder& b,
                                                    const chat_send_request& m) {
  return game::wire::CreateChatSendDirect(b, static_cast<game::wire::ChatChannel>(m.channel),
                                          m.text.c_str(), m.to.empty() ? nullptr : m.to.c_str());
}
chat_send_request wf_chat::decode(const table& t) {
  return {static_cast<std::uint8_t>(t.channel()), str(t.text()), str(t.to())};
}

}  // namespace quay
