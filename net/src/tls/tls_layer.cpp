// The TLS stream layer: a tls::engine under a session's framing (net/src/stream_layer.hpp),
// and the public factories of quay/net/tls.hpp that make one per session.
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "quay/net/tls.hpp"
#include "stream_layer.hpp"
#include "tls_engine.hpp"

namespace quay::net {

namespace {

// The socket receives this much ciphertext at a time into the layer (a TLS record is up to
// 16 KiB + 5; game traffic is small records, so a smaller buffer keeps idle sessions cheap).
constexpr std::size_t recv_bytes = 8 * 1024;
// Plaintext is gathered into records of up to this much (one SSL_write each): small frames share
// a record instead of paying one record each.
constexpr std::size_t record_plaintext = 16 * 1024;
// write() takes nothing while this much ciphertext waits to be sent: the send queue (and its
// high-water mark) holds the rest.
constexpr std::size_t output_bound = 256 * 1024;

tls_errc to_errc(tls::failure f) {
  switch (f) {
    case tls::failure::none: return tls_errc::ok;
    case tls::failure::plaintext_client: return tls_errc::plaintext_client;
    case tls::failure::bad_handshake: return tls_errc::handshake_failed;
    case tls::failure::peer_alert: return tls_errc::peer_alert;
    case tls::failure::renegotiation_refused: return tls_errc::renegotiation_refused;
    case tls::failure::bad_record: return tls_errc::bad_record;
    case tls::failure::reset_mid_record: return tls_errc::reset_mid_record;
  }
  return tls_errc::bad_record;
}

// Thread contract (stream_layer's): owner only, under the session's mutex.
class tls_layer final : public detail::stream_layer {
 public:
  tls_layer(std::shared_ptr<const tls::context> ctx, std::chrono::milliseconds handshake_timeout)
      : ctx_(std::move(ctx)), engine_(*ctx_), timeout_(handshake_timeout) {}

  std::span<std::byte> recv_space() override {
    if (in_.empty()) in_.resize(recv_bytes);
    return in_;
  }
  void received(std::size_t n) override { engine_.feed(std::span(in_).first(n)); }
  std::size_t read(std::span<std::byte> plain) override { return engine_.read(plain); }
  bool readable() const noexcept override { return engine_.readable(); }

  std::size_t write(std::span<const const_buffer> plain) override {
    if (!engine_.handshake_done() || engine_.failed() || engine_.output().size() >= output_bound)
      return 0;
    // One big buffer goes as it is; small ones are gathered into one record's worth.
    if (!plain.empty() && plain[0].size >= record_plaintext) {
      const auto* p = static_cast<const std::byte*>(plain[0].data);
      return engine_.write(std::span(p, record_plaintext)) ? record_plaintext : 0;
    }
    stage_.clear();
    for (const const_buffer& b : plain) {
      const std::size_t take = std::min(b.size, record_plaintext - stage_.size());
      const auto* p = static_cast<const std::byte*>(b.data);
      stage_.insert(stage_.end(), p, p + take);
      if (stage_.size() == record_plaintext) break;
    }
    if (stage_.empty()) return 0;
    return engine_.write(stage_) ? stage_.size() : 0;
  }
  std::span<const std::byte> output() const noexcept override { return engine_.output(); }
  void consume_output(std::size_t n) noexcept override { engine_.consume_output(n); }

  void shutdown() override { engine_.close(); }
  std::error_code failure() const noexcept override {
    if (expired_) return make_error_code(tls_errc::handshake_timeout);
    return engine_.failed() ? make_error_code(to_errc(engine_.why())) : std::error_code{};
  }

  std::error_code transport_ended(std::error_code transport) noexcept override {
    return engine_.transport_ended() == tls::failure::reset_mid_record
               ? make_error_code(tls_errc::reset_mid_record)
               : transport;
  }
  bool negotiating() const noexcept override {
    return !engine_.handshake_done() && !engine_.failed() && !expired_;
  }
  std::chrono::milliseconds negotiation_timeout() const noexcept override { return timeout_; }
  std::error_code negotiation_expired() noexcept override {
    expired_ = true;
    return make_error_code(tls_errc::handshake_timeout);
  }

 private:
  std::shared_ptr<const tls::context> ctx_;  // shared with the factory and every other session
  tls::engine engine_;
  std::chrono::milliseconds timeout_;
  std::vector<std::byte> in_;
  std::vector<std::byte> stage_;
  bool expired_ = false;
};

stream_layer_factory factory_for(std::shared_ptr<const tls::context> ctx,
                                 std::chrono::milliseconds handshake_timeout) {
  return [ctx = std::move(ctx), handshake_timeout]() -> std::unique_ptr<detail::stream_layer> {
    return std::make_unique<tls_layer>(ctx, handshake_timeout);
  };
}

}  // namespace

bool tls_available() noexcept { return true; }

stream_layer_factory make_tls_server_layer(const tls_server_config& config, std::string& error) {
  auto ctx = tls::context::make_server({config.certificate_file, config.private_key_file}, error);
  if (!ctx) return {};
  return factory_for(std::make_shared<const tls::context>(std::move(ctx)), config.handshake_timeout);
}

stream_layer_factory make_tls_client_layer(const tls_client_config& config, std::string& error) {
  tls::context::client_options o;
  o.ca_file = config.ca_file;
  o.server_name = config.server_name;
  o.verify_peer = config.verify_peer;
  if (config.tls12_only) o.max_version = tls::version::tls1_2;
  auto ctx = tls::context::make_client(o, error);
  if (!ctx) return {};
  return factory_for(std::make_shared<const tls::context>(std::move(ctx)), config.handshake_timeout);
}

}  // namespace quay::net
