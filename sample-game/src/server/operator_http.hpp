#pragma once
// What the zone server answers to plain HTTP GETs (docs/operations.md): the operator's
// endpoints (/metrics, /healthz, /readyz, the admin page and its JSON, behind a token) and the
// web client's files on the game port. Pure routing: the request comes in as values, the
// answer goes out as a value; the sessions that carry them are the network's.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "server_metrics.hpp"

namespace spdlog {
class logger;
}

namespace quay::game::server {

/// One answer: status, content type and body.
struct http_answer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// Files served as they are, loaded into memory once (the web client's bundle, the admin page).
/// Thread contract: load before serving; lookups are thread-safe (read-only afterwards).
class static_files {
public:
  /// Loads every regular file directly in `dir` (not recursive) whose extension is known
  /// (.html .js .css .map .png .svg .ico .txt). Returns the problems ("" = none).
  std::string load_directory(const std::string& dir);
  /// Adds one file by hand (tests).
  void add(std::string path, std::string content_type, std::string body);
  /// The file served at `path` ("/", then "/index.html"); null if none.
  const http_answer* find(std::string_view path) const;
  std::size_t size() const noexcept { return files_.size(); }

private:
  std::map<std::string, http_answer, std::less<>> files_;
};

/// The path of a request target without its query ("/metrics?token=x" -> "/metrics").
std::string_view target_path(std::string_view target) noexcept;
/// The value of query parameter `name` in `target` (no percent-decoding: tokens are
/// [A-Za-z0-9_-]); nullopt if absent.
std::optional<std::string_view> query_param(std::string_view target, std::string_view name) noexcept;
/// True when `given` equals `token`, in time independent of where they differ.
bool token_matches(std::string_view given, std::string_view token) noexcept;

/// The operator listener's routes. Thread contract: immutable after construction; handle() is
/// thread-safe (the sources it calls must be).
class operator_routes {
public:
  struct sources {
    std::function<metrics_scrape()> scrape;  ///< thread-safe
    std::function<bool()> ready;             ///< thread-safe
    const static_files* pages = nullptr;     ///< admin.html, admin.js
  };
  /// `token` empty refuses every protected request (the server refuses to start without one
  /// unless the listener is off).
  operator_routes(std::string token, sources s, spdlog::logger* log);

  /// Answers GET `target` from `peer`. `header` looks a request header up by lower-case name.
  /// /healthz, /readyz and the admin page's files need no token (probes; files without
  /// figures); /metrics and /api/zones need it, as `Authorization: Bearer <token>`, `X-Quay-Token: <token>` or
  /// `?token=<token>`; a refusal is a 401 and a log line with the peer and path.
  http_answer handle(std::string_view method, std::string_view target,
                     const std::function<std::optional<std::string_view>(std::string_view)>& header,
                     std::string_view peer) const;

  /// True when `given` is the token (for the map subscription, which carries it in its first
  /// message). Thread-safe.
  bool authorized(std::string_view given) const noexcept;

private:
  std::string token_;
  sources src_;
  spdlog::logger* log_;
};

}  // namespace quay::game::server
