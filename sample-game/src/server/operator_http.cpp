// HTTP answers of the zone server (see operator_http.hpp).
#include "operator_http.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "quay/net/prometheus.hpp"

namespace quay::game::server {

namespace {

std::optional<std::string> content_type_of(const std::filesystem::path& p) {
  static const std::map<std::string, std::string, std::less<>> types = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".map", "application/json"},
      {".png", "image/png"},                 {".svg", "image/svg+xml"},
      {".ico", "image/x-icon"},              {".txt", "text/plain; charset=utf-8"}};
  const auto it = types.find(p.extension().string());
  if (it == types.end()) return std::nullopt;
  return it->second;
}

http_answer plain(int status, std::string body) {
  return http_answer{status, "text/plain; charset=utf-8", std::move(body)};
}

}  // namespace

std::string static_files::load_directory(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    const auto type = content_type_of(e.path());
    if (!type) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    // Built by appending: g++ 12 -O3 reports a false -Wrestrict on "literal" + std::string&&.
    if (!in) {
      std::string why = "cannot read ";
      why += e.path().string();
      return why;
    }
    std::string path = "/";
    path += e.path().filename().string();
    add(std::move(path), *type, body.str());
  }
  if (ec) return dir + ": " + ec.message();
  return {};
}

void static_files::add(std::string path, std::string content_type, std::string body) {
  files_[std::move(path)] = http_answer{200, std::move(content_type), std::move(body)};
}

const http_answer* static_files::find(std::string_view path) const {
  if (path == "/") path = "/index.html";
  const auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

std::string_view target_path(std::string_view target) noexcept {
  return target.substr(0, target.find_first_of("?#"));
}

std::optional<std::string_view> query_param(std::string_view target,
                                            std::string_view name) noexcept {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  rest = rest.substr(0, rest.find('#'));
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool token_matches(std::string_view given, std::string_view token) noexcept {
  // Every byte of the longer one is looked at, whatever differs first.
  const std::size_t n = std::max(given.size(), token.size());
  unsigned diff = given.size() == token.size() ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    const unsigned char b = i < token.size() ? static_cast<unsigned char>(token[i]) : 0;
    diff |= static_cast<unsigned>(a ^ b);
  }
  return diff == 0 && !token.empty();
}

operator_routes::operator_routes(std::string token, sources s, spdlog::logger* log)
    : token_(std::move(token)), src_(std::move(s)), log_(log) {}

bool operator_routes::authorized(std::string_view given) const noexcept {
  return token_matches(given, token_);
}

http_answer operator_routes::handle(
    std::string_view method, std::string_view target,
    const std::function<std::optional<std::string_view>(std::string_view)>& header,
    std::string_view peer) const {
  const std::string_view path = target_path(target);
  if (method != "GET") return plain(405, "only GET is served here\n");
  if (path == "/healthz") return plain(200, "ok\n");
  if (path == "/readyz") {
    return src_.ready && src_.ready() ? plain(200, "ready\n")
                                      : plain(503, "not ready (starting or draining)\n");
  }
  // The page and its script hold no figures (they read them with the token from the page's
  // own address), so they are served to anyone; every figure needs the token.
  if (src_.pages != nullptr) {
    const std::string_view page = path == "/" || path == "/admin" ? "/admin.html" : path;
    if (const http_answer* f = src_.pages->find(page)) return *f;
  }
  std::optional<std::string_view> given;
  if (auto a = header("authorization"); a && a->starts_with("Bearer ")) {
    given = a->substr(7);
  } else if (auto t = header("x-quay-token")) {
    given = *t;
  } else {
    given = query_param(target, "token");
  }
  if (!given || !authorized(*given)) {
    if (log_ != nullptr) {
      log_->warn("operator: refused {} {} from {}: {}", method, path, peer,
                 given ? "wrong token" : "no token");
    }
    return plain(401, "a token is required: Authorization: Bearer <token>, X-Quay-Token or "
                      "?token=\n");
  }
  if (path == "/metrics") {
    return http_answer{200, std::string(net::prometheus::content_type),
                       render_prometheus(src_.scrape())};
  }
  if (path == "/api/zones") {
    return http_answer{200, "application/json", render_zones_json(src_.scrape())};
  }
  return plain(404, "no such page\n");
}

}  // namespace quay::game::server
