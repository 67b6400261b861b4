#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace quay::bots {

/// A scenario script: its Lua source and the directives in its header.
///
/// Directives are comment lines at the top of the file, before any code, of the form
/// `--! key=value [key=value ...]`; the runner reads `bots` (how many bots a test run starts)
/// and `timeout` (seconds a test run may take). Other keys are passed to scripts as
/// `bot.args`. Thread contract: immutable after loading; safe to share between threads.
class script {
 public:
  /// Builds a script from source text; `chunk_name` is what error messages show ("chat.lua").
  script(std::string chunk_name, std::string source);

  /// Reads a script file. An error value when it cannot be read.
  static std::optional<script> load_file(const std::string& path, std::error_code& ec);

  const std::string& chunk_name() const noexcept { return chunk_name_; }
  const std::string& source() const noexcept { return source_; }
  /// Every `--!` directive, in the order given (a later key overrides an earlier one).
  const std::map<std::string, std::string, std::less<>>& directives() const noexcept {
    return directives_;
  }
  /// A directive's value, or `fallback` when absent.
  std::string directive(std::string_view key, std::string_view fallback = {}) const;
  /// A directive read as a positive integer, or `fallback` when absent or not a number.
  long long directive_int(std::string_view key, long long fallback) const;

 private:
  std::string chunk_name_;
  std::string source_;
  std::map<std::string, std::string, std::less<>> directives_;
};

}  // namespace quay::bots
