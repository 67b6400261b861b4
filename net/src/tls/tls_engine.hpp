#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// OpenSSL's types, kept out of the engine's users.
struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace quay::net::tls {

/// Why a TLS stream failed. Each is a close reason the session logs; none is a bug.
enum class failure : std::uint8_t {
  none = 0,
  plaintext_client,       ///< the first bytes are not a TLS handshake record (a Quay frame, HTTP)
  bad_handshake,          ///< the handshake was refused here: a malformed hello, no shared
                          ///< version (TLS 1.3/1.2 only) or cipher, an untrusted certificate
  peer_alert,             ///< the peer sent a fatal alert (alert_code() says which)
  renegotiation_refused,  ///< a TLS 1.2 peer asked to renegotiate
  bad_record,             ///< after the handshake: a record that does not parse or decrypt
  reset_mid_record,       ///< the transport ended inside a TLS record
};

std::string_view describe(failure f) noexcept;

/// TLS protocol versions a context may speak (never below 1.2).
enum class version : std::uint8_t { tls1_2, tls1_3 };

/// An SSL_CTX: the certificate and key (server) or the trust anchors (client), shared by every
/// engine made from it. Build once at start-up; immutable afterwards, so engines on any worker
/// may use it at once (OpenSSL's SSL_CTX is thread-safe for SSL_new). Move-only.
class context {
 public:
  struct server_options {
    std::string certificate_file;  ///< PEM, the leaf first (a chain may follow)
    std::string private_key_file;  ///< PEM
    version min_version = version::tls1_2;
    version max_version = version::tls1_3;
  };
  struct client_options {
    std::string ca_file;        ///< PEM trust anchors; empty: the system's default paths
    std::string server_name;    ///< SNI and the name the certificate must carry; empty: none
    bool verify_peer = true;    ///< false only for tests of hostile servers
    version min_version = version::tls1_2;
    version max_version = version::tls1_3;
  };

  /// Loads the certificate and key; on failure returns an empty context and sets `error`
  /// (the file and OpenSSL's reason). Thread-safe.
  static context make_server(const server_options& o, std::string& error);
  /// Loads the trust anchors; on failure returns an empty context and sets `error`.
  static context make_client(const client_options& o, std::string& error);

  context() = default;
  context(context&&) noexcept;
  context& operator=(context&&) noexcept;
  ~context();

  explicit operator bool() const noexcept { return ctx_ != nullptr; }
  bool is_server() const noexcept { return server_; }
  const std::string& server_name() const noexcept { return server_name_; }
  ssl_ctx_st* native() const noexcept { return ctx_; }

 private:
  ssl_ctx_st* ctx_ = nullptr;
  bool server_ = false;
  std::string server_name_;
};

/// Most bytes a TLS record may announce: 2^14 plaintext plus the largest expansion TLS 1.2
/// allows (RFC 5246 6.2.3: 2048). Anything larger is refused before OpenSSL sees it.
inline constexpr std::size_t max_record_body = 16384 + 2048;

/// Follows the record layer of a byte stream (5-byte headers, big-endian lengths) without
/// decrypting: knows whether the stream stands at a record boundary (for reset_mid_record) and
/// sorts the first bytes (plaintext_client). A pure core. Thread contract: owner only.
class record_tracker {
 public:
  enum class verdict : std::uint8_t { ok, not_tls, oversized_record };
  /// Follows `bytes`, the next bytes of the stream. Once a verdict other than ok is returned it
  /// sticks.
  verdict feed(std::span<const std::byte> bytes) noexcept;
  /// True when every record begun so far is whole.
  bool at_boundary() const noexcept { return header_have_ == 0 && body_left_ == 0; }
  std::uint64_t records() const noexcept { return records_; }

 private:
  verdict verdict_ = verdict::ok;
  std::uint8_t header_[5]{};
  std::size_t header_have_ = 0;
  std::size_t body_left_ = 0;
  std::uint64_t records_ = 0;
};

/// One TLS connection driven through two memory BIOs: a pure core with no I/O and no clock.
///
/// The owner feeds the ciphertext it received (feed), takes plaintext out (read), hands
/// plaintext to send (write) and sends the ciphertext of output() (the handshake's flights,
/// records, alerts, close_notify), calling consume_output() for what went out. The handshake
/// advances inside feed(); a client's first flight is queued by the constructor. The
/// handshake deadline is the owner's (its timer). Renegotiation is refused (TLS 1.2), and so is
/// any version below 1.2.
///
/// Once failed() the engine reads and writes nothing more; output() may still hold an alert
/// to flush before the owner closes the socket. Thread contract: owner only (no internal
/// synchronisation); different engines may run on different threads at once.
class engine {
 public:
  /// An engine of the context's role. `ctx` must outlive the engine.
  explicit engine(const context& ctx);
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;
  ~engine();

  /// Processes received ciphertext: advances the handshake and buffers records for read().
  /// Returns false once failed().
  bool feed(std::span<const std::byte> ciphertext);
  /// Moves up to out.size() bytes of plaintext into `out`; returns how many (0: none waiting).
  std::size_t read(std::span<std::byte> out);
  /// True when read() may return plaintext without another feed(): whole records are buffered.
  bool readable() const noexcept;
  /// Encrypts `plaintext` into output(). Allowed once handshake_done() (before, it is queued
  /// by OpenSSL only for a client, so the engine refuses it). Returns false if failed or not
  /// yet established.
  bool write(std::span<const std::byte> plaintext);

  /// Ciphertext to send, in order.
  std::span<const std::byte> output() const noexcept {
    return {out_.data() + out_head_, out_.size() - out_head_};
  }
  void consume_output(std::size_t n) noexcept;

  /// Queues close_notify; nothing more is written.
  void close();
  /// The transport ended (FIN or reset). Sorts an end inside a record as reset_mid_record;
  /// returns the failure, if any.
  failure transport_ended() noexcept;

  /// Test hook and hostile-bot hook: a TLS 1.2 client asks to renegotiate (queues a new
  /// ClientHello). False if not a TLS 1.2 client past its handshake.
  bool request_renegotiation();

  bool handshake_done() const noexcept { return established_; }
  bool failed() const noexcept { return failure_ != failure::none; }
  failure why() const noexcept { return failure_; }
  /// The close_notify of the peer was received (an orderly end).
  bool peer_closed() const noexcept { return peer_closed_; }
  /// The TLS alert description of peer_alert, or the one sent for bad_handshake/bad_record.
  int alert_code() const noexcept { return alert_; }
  /// "TLSv1.3" / "TLSv1.2" once established.
  std::string_view protocol() const noexcept;
  /// OpenSSL's reason for the last failure (empty if none was given).
  const std::string& detail() const noexcept { return detail_; }

 private:
  friend struct engine_callbacks;
  void advance();
  void drain_output();
  void fail(failure f);
  void sort_ssl_error(int ret);

  ssl_st* ssl_ = nullptr;
  bio_st* rbio_ = nullptr;  // ciphertext in (owned by ssl_)
  bio_st* wbio_ = nullptr;  // ciphertext out (owned by ssl_)
  record_tracker tracker_;
  std::vector<std::byte> out_;
  std::size_t out_head_ = 0;
  failure failure_ = failure::none;
  std::string detail_;
  int alert_ = 0;
  bool server_ = false;
  bool established_ = false;
  bool peer_closed_ = false;
  bool closing_ = false;
  bool fatal_alert_read_ = false;
  bool renegotiation_seen_ = false;
};

}  // namespace quay::net::tls
