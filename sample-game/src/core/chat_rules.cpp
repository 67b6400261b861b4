// Chat rules: token bucket and text normalisation.
#include "quay/game/chat_rules.hpp"

#include <algorithm>

namespace quay::game {

chat_limiter::chat_limiter(const chat_rules& rules, time_ms now)
    : burst_(std::max(rules.burst, 1.0)),
      per_ms_(std::max(rules.per_second, 0.0) / 1000.0),
      tokens_(burst_),
      last_ms_(now) {}

bool chat_limiter::admit(time_ms now) {
  if (now > last_ms_) {
    tokens_ = std::min(burst_, tokens_ + per_ms_ * static_cast<double>(now - last_ms_));
    last_ms_ = now;
  }
  if (tokens_ < 1.0) {
    return false;
  }
  tokens_ -= 1.0;
  return true;
}

namespace {

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not well formed
// (overlong forms and surrogates included, so every accepted message is valid UTF-8).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) {
    return 1;
  }
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  static constexpr std::uint32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_length[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

}  // namespace

game_errc sanitize_chat(std::string& text, const chat_rules& rules) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0) {
      return game_errc::malformed_message;
    }
    if (n == 1 && (static_cast<unsigned char>(text[i]) < 0x20 || text[i] == 0x7f)) {
      text[i] = ' ';  // no control characters reach another player's screen
    }
    i += n;
  }
  const auto first = text.find_first_not_of(' ');
  if (first == std::string::npos) {
    return game_errc::chat_empty;
  }
  const auto last = text.find_last_not_of(' ');
  text = text.substr(first, last - first + 1);
  if (text.size() > rules.max_length) {
    return game_errc::chat_too_long;
  }
  return game_errc::ok;
}

}  // namespace quay::game
