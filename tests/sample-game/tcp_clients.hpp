#pragma once
// Real TCP clients of a zone_server for the end-to-end tests: frames collected per session,
// waits with deadlines, and builders of the client messages the tests send.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "quay/game/codec.hpp"
#include "quay/net/network.hpp"
#include "quay/schemas/error_generated.h"
#include "quay/schemas/login_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/zone_generated.h"
#include "zone_server.hpp"

#ifndef QUAY_GAME_DATA_DIR
#error "the build passes QUAY_GAME_DATA_DIR"
#endif

namespace quay::game::server::tcp_test {

using MT = wire::MessageType;
using namespace std::chrono_literals;

// Collects every frame the server sends, per client session.
class clients final : public net::session_handler {
public:
  void on_accepted(net::session_handle, const endpoint&) override {}
  void on_frame(net::session_handle s, const net::frame& data, const net::envelope_view& env) override {
    std::lock_guard lock(mu_);
    got_[key(s)].push_back({env.type, data});
    cv_.notify_all();
  }
  void on_closed(net::session_handle s, std::error_code reason) override {
    std::lock_guard lock(mu_);
    closed_[key(s)] = true;
    reasons_[key(s)] = reason;
    cv_.notify_all();
  }

  /// Waits until `pred(frames of s)` holds; false after the deadline.
  bool wait(net::session_handle s,
            const std::function<bool(const std::vector<std::pair<std::uint16_t, net::frame>>&)>& pred,
            std::chrono::milliseconds deadline = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return pred(got_[key(s)]); });
  }
  bool wait_closed(net::session_handle s, std::chrono::milliseconds deadline = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return closed_[key(s)]; });
  }
  std::error_code close_reason(net::session_handle s) {
    std::lock_guard lock(mu_);
    return reasons_[key(s)];
  }
  std::size_t frames(net::session_handle s) {
    std::lock_guard lock(mu_);
    return got_[key(s)].size();
  }
  /// How many frames of `type` `s` received so far.
  std::size_t count(net::session_handle s, std::uint16_t type) {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& [t, f] : got_[key(s)]) {
      n += t == type ? 1 : 0;
    }
    return n;
  }

private:
  // Slots are reused by later sessions; the generation tells them apart.
  static std::uint64_t key(net::session_handle s) {
    return (std::uint64_t{s.slot} << 32) | s.generation;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint64_t, std::vector<std::pair<std::uint16_t, net::frame>>> got_;
  std::map<std::uint64_t, bool> closed_;
  std::map<std::uint64_t, std::error_code> reasons_;
};

template <class T>
const T* payload(const net::frame& f) {
  net::envelope_view env;
  if (net::decode_envelope(f.payload(), env)) {
    return nullptr;
  }
  return flatbuffers::GetRoot<T>(env.payload.data());
}

inline bool has_type(const std::vector<std::pair<std::uint16_t, net::frame>>& v, MT t) {
  for (const auto& [type, f] : v) {
    if (type == type_id(t)) {
      return true;
    }
  }
  return false;
}

inline net::frame login_frame(const char* name) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateLoginRequestDirect(fbb, name, "token"));
  return net::encode_envelope(type_id(MT::LoginRequest), 1,
                              {reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()), fbb.GetSize()});
}

struct temp_dir {
  std::filesystem::path path;
  explicit temp_dir(const char* name)
      : path(std::filesystem::temp_directory_path() / (std::string("quay-zs-") + name)) {
    std::filesystem::remove_all(path);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

inline server_config test_config(const temp_dir& dir) {
  server_config config;
  config.port = 0;
  config.workers = 2;
  config.zones_dir = std::string(QUAY_GAME_DATA_DIR) + "/zones";
  config.data_dir = dir.path.string();
  config.settings.hash = hash_params::minimum();  // fast logins in tests
  config.settings.dev_accounts = true;            // the tests make names up
  // Every test client connects from 127.0.0.1: no per-address connection rate.
  config.settings.login_limits.connections = {1e9, 1e9};
  return config;
}

inline net::frame move_frame(float x, float y, std::uint32_t seq) {
  flatbuffers::FlatBufferBuilder fbb;
  const wire::Vec2 p(x, y);
  fbb.Finish(wire::CreateMoveIntent(fbb, &p));
  return net::encode_envelope(type_id(MT::MoveIntent), seq,
                              {reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()), fbb.GetSize()});
}

inline net::frame logout_frame() {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateLogout(fbb));
  return net::encode_envelope(type_id(MT::Logout), 9,
                              {reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()), fbb.GetSize()});
}

inline bool kicked_with(const std::vector<std::pair<std::uint16_t, net::frame>>& v, wire::ErrorCode code) {
  for (const auto& [type, f] : v) {
    if (type == type_id(MT::Kicked) && payload<wire::Kicked>(f)->reason() == code) {
      return true;
    }
  }
  return false;
}

}  // namespace quay::game::server::tcp_test
