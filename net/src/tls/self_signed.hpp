#pragma once

#include <string>

namespace quay::net::tls {

/// Where write_self_signed put its files.
struct self_signed_files {
  std::string certificate_file;  ///< PEM; also the trust anchor a client loads (ca_file)
  std::string private_key_file;  ///< PEM, mode 0600
};

/// Writes a throwaway self-signed certificate (EC P-256, valid one day, CN and SAN "localhost"
/// and IP 127.0.0.1) and its key into `dir` as <stem>.crt and <stem>.key. For tests, the
/// benchmark and development: never a deployment's certificate. Returns empty paths and sets
/// `error` on failure. Thread-safe.
self_signed_files write_self_signed(const std::string& dir, const std::string& stem,
                                    std::string& error);

}  // namespace quay::net::tls
