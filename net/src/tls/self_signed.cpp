#include "self_signed.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

#include <cstdio>
#include <memory>

namespace quay::net::tls {

namespace {

struct pkey_free { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };
struct x509_free { void operator()(X509* x) const { X509_free(x); } };
struct file_close { void operator()(std::FILE* f) const { std::fclose(f); } };

std::string openssl_reason(const char* what) {
  std::string s = what;
  if (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    s += ": ";
    s += buf;
  }
  ERR_clear_error();
  return s;
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

self_signed_files write_self_signed(const std::string& dir, const std::string& stem,
                                    std::string& error) {
  ERR_clear_error();
  std::unique_ptr<EVP_PKEY, pkey_free> key(EVP_EC_gen("P-256"));
  if (!key) return error = openssl_reason("EC key"), self_signed_files{};
  std::unique_ptr<X509, x509_free> cert(X509_new());
  if (!cert) return error = openssl_reason("X509_new"), self_signed_files{};
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (!add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") ||
      !add_extension(cert.get(), NID_subject_key_identifier, "hash") ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return error = openssl_reason("self-signed certificate"), self_signed_files{};
  }

  self_signed_files files{dir + "/" + stem + ".crt", dir + "/" + stem + ".key"};
  {
    std::unique_ptr<std::FILE, file_close> f(std::fopen(files.private_key_file.c_str(), "wb"));
    if (!f) return error = "cannot write " + files.private_key_file, self_signed_files{};
    ::chmod(files.private_key_file.c_str(), 0600);
    if (PEM_write_PrivateKey(f.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
      return error = openssl_reason("PEM key"), self_signed_files{};
  }
  {
    std::unique_ptr<std::FILE, file_close> f(std::fopen(files.certificate_file.c_str(), "wb"));
    if (!f) return error = "cannot write " + files.certificate_file, self_signed_files{};
    if (PEM_write_X509(f.get(), cert.get()) != 1)
      return error = openssl_reason("PEM certificate"), self_signed_files{};
  }
  return files;
}

}  // namespace quay::net::tls
