#include "tls_engine.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

namespace quay::net::tls {

std::string_view describe(failure f) noexcept {
  switch (f) {
    case failure::none: return "none";
    case failure::plaintext_client: return "plain-text client on a TLS listener";
    case failure::bad_handshake: return "TLS handshake refused";
    case failure::peer_alert: return "peer sent a fatal TLS alert";
    case failure::renegotiation_refused: return "TLS renegotiation refused";
    case failure::bad_record: return "TLS record refused";
    case failure::reset_mid_record: return "connection ended inside a TLS record";
  }
  return "unknown";
}

namespace {

int openssl_version(version v) { return v == version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION; }

// Takes every queued OpenSSL error of this thread (the queue is thread-local: a worker must not
// leave one behind for the next engine it runs) and returns the first as text.
std::string take_errors() {
  std::string first;
  while (const unsigned long e = ERR_get_error()) {
    if (first.empty()) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      first = buf;
    }
  }
  return first;
}

// Settings both roles share: TLS 1.2 at least, no compression, no renegotiation (a TLS 1.2
// peer that asks gets a no_renegotiation alert and the engine ends the stream), no session
// tickets (no client resumes, and each ticket is a record per connection for nothing), and
// read/write buffers released while a connection is idle (thousands of idle sessions).
bool common_setup(SSL_CTX* c, version min, version max) {
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  return SSL_CTX_set_min_proto_version(c, openssl_version(min)) == 1 &&
         SSL_CTX_set_max_proto_version(c, openssl_version(max)) == 1;
}

}  // namespace

context::context(context&& o) noexcept
    : ctx_(std::exchange(o.ctx_, nullptr)), server_(o.server_),
      server_name_(std::move(o.server_name_)) {}

context& context::operator=(context&& o) noexcept {
  if (this != &o) {
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    ctx_ = std::exchange(o.ctx_, nullptr);
    server_ = o.server_;
    server_name_ = std::move(o.server_name_);
  }
  return *this;
}

context::~context() {
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

context context::make_server(const server_options& o, std::string& error) {
  ERR_clear_error();
  context c;
  c.server_ = true;
  c.ctx_ = SSL_CTX_new(TLS_server_method());
  if (c.ctx_ == nullptr || !common_setup(c.ctx_, o.min_version, o.max_version)) {
    error = "TLS context: " + take_errors();
    return {};
  }
  SSL_CTX_set_num_tickets(c.ctx_, 0);
  SSL_CTX_set_session_cache_mode(c.ctx_, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_use_certificate_chain_file(c.ctx_, o.certificate_file.c_str()) != 1) {
    error = "TLS certificate " + o.certificate_file + ": " + take_errors();
    return {};
  }
  if (SSL_CTX_use_PrivateKey_file(c.ctx_, o.private_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "TLS private key " + o.private_key_file + ": " + take_errors();
    return {};
  }
  if (SSL_CTX_check_private_key(c.ctx_) != 1) {
    error = "TLS private key " + o.private_key_file + " does not match the certificate " +
            o.certificate_file + ": " + take_errors();
    return {};
  }
  return c;
}

context context::make_client(const client_options& o, std::string& error) {
  ERR_clear_error();
  context c;
  c.server_ = false;
  c.server_name_ = o.server_name;
  c.ctx_ = SSL_CTX_new(TLS_client_method());
  if (c.ctx_ == nullptr || !common_setup(c.ctx_, o.min_version, o.max_version)) {
    error = "TLS context: " + take_errors();
    return {};
  }
  SSL_CTX_set_session_cache_mode(c.ctx_, SSL_SESS_CACHE_OFF);
  if (o.verify_peer) {
    SSL_CTX_set_verify(c.ctx_, SSL_VERIFY_PEER, nullptr);
    const int ok = o.ca_file.empty()
                       ? SSL_CTX_set_default_verify_paths(c.ctx_)
                       : SSL_CTX_load_verify_locations(c.ctx_, o.ca_file.c_str(), nullptr);
    if (ok != 1) {
      error = "TLS trust anchors " + (o.ca_file.empty() ? std::string("(system)") : o.ca_file) +
              ": " + take_errors();
      return {};
    }
  } else {
    SSL_CTX_set_verify(c.ctx_, SSL_VERIFY_NONE, nullptr);
  }
  return c;
}

// record_tracker -------------------------------------------------------------------------

record_tracker::verdict record_tracker::feed(std::span<const std::byte> bytes) noexcept {
  std::size_t i = 0;
  while (verdict_ == verdict::ok && i < bytes.size()) {
    if (body_left_ > 0) {
      const std::size_t take = std::min(body_left_, bytes.size() - i);
      body_left_ -= take;
      i += take;
      continue;
    }
    header_[header_have_++] = static_cast<std::uint8_t>(bytes[i++]);
    // The first record of either side is a handshake record (22) of a 3.x version.
    if (records_ == 0 && header_have_ == 1 && header_[0] != 22) verdict_ = verdict::not_tls;
    if (records_ == 0 && header_have_ == 2 && header_[1] != 3) verdict_ = verdict::not_tls;
    if (header_have_ == 5) {
      const std::size_t len = (std::size_t{header_[3]} << 8) | header_[4];
      if (len > max_record_body) verdict_ = verdict::oversized_record;
      body_left_ = len;
      header_have_ = 0;
      ++records_;
    }
  }
  return verdict_;
}

// engine ---------------------------------------------------------------------------------

struct engine_callbacks {
  // Alerts and renegotiation come through the info callback; OpenSSL's return codes alone do
  // not tell a refused renegotiation (a warning alert, after which OpenSSL carries on) from a
  // quiet stream.
  static void info(const SSL* ssl, int where, int ret) {
    auto* self = static_cast<engine*>(SSL_get_app_data(ssl));
    if (self == nullptr) return;
    // SSL_CB_READ_ALERT and SSL_CB_WRITE_ALERT share the SSL_CB_ALERT bit: compare both bits.
    const int level = (ret >> 8) & 0xff;
    const int desc = ret & 0xff;
    if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT && level == SSL3_AL_FATAL) {
      self->fatal_alert_read_ = true;
      self->alert_ = desc;
    }
    if ((where & SSL_CB_WRITE_ALERT) == SSL_CB_WRITE_ALERT) {
      if (level == SSL3_AL_FATAL) self->alert_ = desc;
      // OpenSSL answers a TLS 1.2 ClientHello (or HelloRequest) after the handshake with this
      // warning when SSL_OP_NO_RENEGOTIATION is set.
      if (desc == SSL_AD_NO_RENEGOTIATION) self->renegotiation_seen_ = true;
    }
    // A backstop: a new handshake started on an established TLS 1.2 server stream (in TLS 1.3
    // this callback also marks post-handshake messages, which are no renegotiation).
    if ((where & SSL_CB_HANDSHAKE_START) != 0 && self->server_ && self->established_ &&
        SSL_version(ssl) != TLS1_3_VERSION) {
      self->renegotiation_seen_ = true;
    }
  }
};

engine::engine(const context& ctx) : server_(ctx.is_server()) {
  ERR_clear_error();
  ssl_ = SSL_new(ctx.native());
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || rbio_ == nullptr || wbio_ == nullptr) {
    if (rbio_ != nullptr) BIO_free(rbio_);
    if (wbio_ != nullptr) BIO_free(wbio_);
    rbio_ = wbio_ = nullptr;
    detail_ = take_errors();
    failure_ = failure::bad_handshake;
    return;
  }
  // An empty read BIO means "more later", not end of stream.
  BIO_set_mem_eof_return(rbio_, -1);
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_app_data(ssl_, this);
  SSL_set_info_callback(ssl_, &engine_callbacks::info);
  if (server_) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
    if (!ctx.server_name().empty()) {
      SSL_set_tlsext_host_name(ssl_, ctx.server_name().c_str());
      SSL_set1_host(ssl_, ctx.server_name().c_str());
    }
    advance();  // the ClientHello
  }
}

engine::~engine() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees both BIOs
}

void engine::fail(failure f) {
  if (failure_ == failure::none) failure_ = f;
}

void engine::sort_ssl_error(int ret) {
  const int e = SSL_get_error(ssl_, ret);
  switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return;
    case SSL_ERROR_ZERO_RETURN:
      peer_closed_ = true;
      return;
    default:
      break;
  }
  std::string reason = take_errors();
  if (detail_.empty()) detail_ = std::move(reason);
  if (fatal_alert_read_) {
    fail(failure::peer_alert);
  } else if (renegotiation_seen_) {
    fail(failure::renegotiation_refused);
  } else {
    fail(established_ ? failure::bad_record : failure::bad_handshake);
  }
}

void engine::advance() {
  if (failed() || established_) return;
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    established_ = true;
  } else {
    sort_ssl_error(r);
  }
  drain_output();
}

void engine::drain_output() {
  if (wbio_ == nullptr) return;
  const std::size_t pending = BIO_ctrl_pending(wbio_);
  if (pending == 0) return;
  if (out_head_ > 0 && out_head_ == out_.size()) {
    out_.clear();
    out_head_ = 0;
  }
  const std::size_t at = out_.size();
  out_.resize(at + pending);
  const int got = BIO_read(wbio_, out_.data() + at, static_cast<int>(std::min<std::size_t>(pending, INT_MAX)));
  out_.resize(at + static_cast<std::size_t>(std::max(got, 0)));
}

void engine::consume_output(std::size_t n) noexcept {
  out_head_ = std::min(out_head_ + n, out_.size());
  if (out_head_ == out_.size()) {
    out_.clear();
    out_head_ = 0;
  } else if (out_head_ > 64 * 1024 && out_head_ * 2 > out_.size()) {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_head_));
    out_head_ = 0;
  }
}

bool engine::feed(std::span<const std::byte> ciphertext) {
  if (failed()) return false;
  if (peer_closed_ || ciphertext.empty()) return true;
  switch (tracker_.feed(ciphertext)) {
    case record_tracker::verdict::ok: break;
    case record_tracker::verdict::not_tls:
      fail(server_ && tracker_.records() == 0 ? failure::plaintext_client
                                              : failure::bad_handshake);
      return false;
    case record_tracker::verdict::oversized_record:
      fail(established_ ? failure::bad_record : failure::bad_handshake);
      return false;
  }
  std::size_t at = 0;
  while (at < ciphertext.size()) {
    const int n = static_cast<int>(std::min<std::size_t>(ciphertext.size() - at, INT_MAX));
    const int put = BIO_write(rbio_, ciphertext.data() + at, n);
    if (put <= 0) {
      detail_ = take_errors();
      fail(established_ ? failure::bad_record : failure::bad_handshake);
      return false;
    }
    at += static_cast<std::size_t>(put);
  }
  advance();
  return !failed();
}

std::size_t engine::read(std::span<std::byte> out) {
  std::size_t total = 0;
  if (!established_) return 0;
  while (total < out.size() && !failed() && !peer_closed_) {
    ERR_clear_error();
    std::size_t got = 0;
    const int r = SSL_read_ex(ssl_, out.data() + total, out.size() - total, &got);
    if (r == 1) {
      total += got;
      continue;
    }
    sort_ssl_error(r);
    break;
  }
  if (renegotiation_seen_) fail(failure::renegotiation_refused);
  drain_output();
  return failed() ? 0 : total;
}

bool engine::readable() const noexcept {
  if (ssl_ == nullptr || failed() || peer_closed_ || !established_) return false;
  return SSL_pending(ssl_) > 0 || BIO_ctrl_pending(rbio_) > 0;
}

bool engine::write(std::span<const std::byte> plaintext) {
  if (failed() || !established_ || closing_) return false;
  if (plaintext.empty()) return true;
  ERR_clear_error();
  std::size_t written = 0;
  // With a memory BIO nothing can block: SSL_write_ex takes all of it or fails.
  const int r = SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &written);
  if (r != 1) sort_ssl_error(r);
  drain_output();
  return !failed() && written == plaintext.size();
}

void engine::close() {
  if (closing_ || failed() || ssl_ == nullptr) return;
  closing_ = true;
  if (!established_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  take_errors();
  drain_output();
}

failure engine::transport_ended() noexcept {
  if (!failed() && !peer_closed_ && !tracker_.at_boundary()) fail(failure::reset_mid_record);
  return failure_;
}

bool engine::request_renegotiation() {
  if (server_ || !established_ || failed() || SSL_version(ssl_) != TLS1_2_VERSION) return false;
  ERR_clear_error();
  SSL_clear_options(ssl_, SSL_OP_NO_RENEGOTIATION);
  if (SSL_renegotiate(ssl_) != 1) {
    take_errors();
    return false;
  }
  const int r = SSL_do_handshake(ssl_);
  if (r != 1) sort_ssl_error(r);
  drain_output();
  return !failed();
}

std::string_view engine::protocol() const noexcept {
  if (ssl_ == nullptr || !established_) return {};
  return SSL_get_version(ssl_);
}

}  // namespace quay::net::tls
