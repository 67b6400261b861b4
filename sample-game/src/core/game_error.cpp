// Names for the game's error codes, and their std::error_category.
#include "quay/game/game_error.hpp"

#include <string>

namespace quay::game {

std::string_view to_string(game_errc e) noexcept {
  switch (e) {
    case game_errc::ok: return "ok";
    case game_errc::malformed_message: return "malformed_message";
    case game_errc::unexpected_message: return "unexpected_message";
    case game_errc::message_flood: return "message_flood";
    case game_errc::unsupported_protocol_version: return "unsupported_protocol_version";
    case game_errc::login_busy: return "login_busy";
    case game_errc::session_token_invalid: return "session_token_invalid";
    case game_errc::session_token_expired: return "session_token_expired";
    case game_errc::resume_token_used: return "resume_token_used";
    case game_errc::resume_unavailable: return "resume_unavailable";
    case game_errc::account_disabled: return "account_disabled";
    case game_errc::login_throttled: return "login_throttled";
    case game_errc::connection_rate_limited: return "connection_rate_limited";
    case game_errc::invalid_credentials: return "invalid_credentials";
    case game_errc::invalid_name: return "invalid_name";
    case game_errc::replaced_by_new_login: return "replaced_by_new_login";
    case game_errc::server_full: return "server_full";
    case game_errc::server_shutting_down: return "server_shutting_down";
    case game_errc::unknown_target: return "unknown_target";
    case game_errc::out_of_range: return "out_of_range";
    case game_errc::on_cooldown: return "on_cooldown";
    case game_errc::target_dead: return "target_dead";
    case game_errc::self_dead: return "self_dead";
    case game_errc::invalid_target: return "invalid_target";
    case game_errc::chat_empty: return "chat_empty";
    case game_errc::chat_too_long: return "chat_too_long";
    case game_errc::chat_rate_limited: return "chat_rate_limited";
    case game_errc::unknown_recipient: return "unknown_recipient";
    case game_errc::not_on_portal: return "not_on_portal";
    case game_errc::unknown_zone: return "unknown_zone";
    case game_errc::zone_unavailable: return "zone_unavailable";
    case game_errc::internal_error: return "internal_error";
  }
  return "unknown_error";
}

namespace {

class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "quay.game"; }
  std::string message(int value) const override {
    return std::string(to_string(static_cast<game_errc>(value)));
  }
};

}  // namespace

const std::error_category& game_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace quay::game
