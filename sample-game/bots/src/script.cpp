#include "quay/bots/script.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace quay::bots {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

script::script(std::string chunk_name, std::string source)
    : chunk_name_(std::move(chunk_name)), source_(std::move(source)) {
  // Directives live in the leading comment block only: the first line that is not a comment
  // ends it, so a `--!` deep inside the code is an ordinary comment.
  std::string_view rest = source_;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty()) continue;
    if (line.substr(0, 2) != "--") break;
    if (line.substr(0, 3) != "--!") continue;
    line.remove_prefix(3);
    while (!line.empty()) {
      line = trim(line);
      auto sp = line.find_first_of(" \t");
      std::string_view word = line.substr(0, sp);
      line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp);
      auto eq = word.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      directives_[std::string(word.substr(0, eq))] = std::string(word.substr(eq + 1));
    }
  }
}

std::optional<script> script::load_file(const std::string& path, std::error_code& ec) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ec = std::make_error_code(std::errc::no_such_file_or_directory);
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in && !in.eof()) {
    ec = std::make_error_code(std::errc::io_error);
    return std::nullopt;
  }
  // Error messages name the file as written in it, without the directories before it.
  auto slash = path.find_last_of("/\\");
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  ec.clear();
  return script(std::move(name), buf.str());
}

std::string script::directive(std::string_view key, std::string_view fallback) const {
  auto it = directives_.find(key);
  return it == directives_.end() ? std::string(fallback) : it->second;
}

long long script::directive_int(std::string_view key, long long fallback) const {
  auto it = directives_.find(key);
  if (it == directives_.end()) return fallback;
  long long v = 0;
  const auto& s = it->second;
  auto [p, err] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (err != std::errc{} || p != s.data() + s.size() || v <= 0) return fallback;
  return v;
}

}  // namespace quay::bots
