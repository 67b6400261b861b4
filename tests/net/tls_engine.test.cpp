// The TLS engine without I/O: a server engine and a client engine talk through memory. Each
// hostile input is sorted into its failure value.
#include "self_signed.hpp"
#include "tls_engine.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace tls = quay::net::tls;
using bytes = std::vector<std::byte>;

bytes text(std::string_view s) {
  bytes b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

bytes pattern(std::size_t n) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>((i * 31 + 7) & 0xff);
  return b;
}

// One throwaway certificate for the whole file, in a fresh temp directory.
class certificate {
 public:
  certificate() {
    dir_ = std::filesystem::temp_directory_path() /
           ("quay-tls-engine-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string error;
    files_ = tls::write_self_signed(dir_.string(), "test", error);
    if (files_.certificate_file.empty()) ADD_FAILURE() << error;
  }
  ~certificate() { std::filesystem::remove_all(dir_); }
  const tls::self_signed_files& files() const { return files_; }

 private:
  std::filesystem::path dir_;
  tls::self_signed_files files_;
};

const certificate& cert() {
  static certificate c;
  return c;
}

tls::context server_context(tls::version max = tls::version::tls1_3) {
  std::string error;
  tls::context::server_options o{cert().files().certificate_file, cert().files().private_key_file};
  o.max_version = max;
  auto c = tls::context::make_server(o, error);
  EXPECT_TRUE(c) << error;
  return c;
}

tls::context client_context(tls::version max = tls::version::tls1_3, bool trust = true) {
  std::string error;
  tls::context::client_options o;
  o.ca_file = trust ? cert().files().certificate_file : std::string{};
  o.server_name = "localhost";
  o.max_version = max;
  auto c = tls::context::make_client(o, error);
  EXPECT_TRUE(c) << error;
  return c;
}

// Moves output from one engine to the other until neither has any, in chunks of `chunk` bytes.
// Bounded: a handshake needs a handful of flights.
void pump(tls::engine& a, tls::engine& b, std::size_t chunk = 1 << 20) {
  for (int round = 0; round < 10'000; ++round) {
    bool moved = false;
    for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      const auto out = from->output();
      if (out.empty() || to->failed()) continue;
      const std::size_t n = std::min(chunk, out.size());
      to->feed(out.first(n));
      from->consume_output(n);
      moved = true;
    }
    if (!moved) return;
  }
  ADD_FAILURE() << "pump did not settle";
}

bytes read_all(tls::engine& e) {
  bytes got;
  std::byte buf[4096];
  for (int i = 0; i < 100'000; ++i) {
    const std::size_t n = e.read(buf);
    if (n == 0) break;
    got.insert(got.end(), buf, buf + n);
  }
  return got;
}

TEST(tls_engine, a_client_and_a_server_complete_a_tls_1_3_handshake_and_carry_data_both_ways) {
  auto sctx = server_context();
  auto cctx = client_context();
  tls::engine server(sctx), client(cctx);
  EXPECT_FALSE(client.output().empty()) << "the client's hello is queued at construction";
  pump(client, server);
  ASSERT_TRUE(server.handshake_done()) << server.detail();
  ASSERT_TRUE(client.handshake_done()) << client.detail();
  EXPECT_EQ(server.protocol(), "TLSv1.3");

  ASSERT_TRUE(client.write(text("hello server")));
  pump(client, server);
  EXPECT_EQ(read_all(server), text("hello server"));
  ASSERT_TRUE(server.write(text("hello client")));
  pump(client, server);
  EXPECT_EQ(read_all(client), text("hello client"));
  EXPECT_FALSE(server.failed());
  EXPECT_FALSE(client.failed());
}

TEST(tls_engine, a_tls_1_2_client_is_served_with_tls_1_2) {
  auto sctx = server_context();
  auto cctx = client_context(tls::version::tls1_2);
  tls::engine server(sctx), client(cctx);
  pump(client, server);
  ASSERT_TRUE(server.handshake_done()) << server.detail();
  EXPECT_EQ(server.protocol(), "TLSv1.2");
  ASSERT_TRUE(client.write(text("ping")));
  pump(client, server);
  EXPECT_EQ(read_all(server), text("ping"));
}

TEST(tls_engine, a_handshake_and_data_fed_one_byte_at_a_time_give_what_one_feed_gives) {
  auto sctx = server_context();
  auto cctx = client_context();
  tls::engine server(sctx), client(cctx);
  pump(client, server, 1);
  ASSERT_TRUE(server.handshake_done());
  ASSERT_TRUE(client.handshake_done());
  const bytes big = pattern(200'000);  // many records
  ASSERT_TRUE(client.write(big));
  bytes got;
  std::byte buf[777];
  for (int i = 0; i < 2'000'000 && !client.output().empty(); ++i) {
    const std::size_t n = std::min<std::size_t>(1 + i % 3000, client.output().size());
    ASSERT_TRUE(server.feed(client.output().first(n)));
    client.consume_output(n);
    for (std::size_t k; (k = server.read(buf)) > 0;) got.insert(got.end(), buf, buf + k);
  }
  EXPECT_EQ(got, big);
}

TEST(tls_engine, a_plain_text_quay_client_is_sorted_at_its_first_byte) {
  auto sctx = server_context();
  tls::engine server(sctx);
  const bytes quay_frame_header = {std::byte{8}, std::byte{0}, std::byte{0}, std::byte{0}};
  EXPECT_FALSE(server.feed(std::span(quay_frame_header).first(1)));
  EXPECT_EQ(server.why(), tls::failure::plaintext_client);
  EXPECT_FALSE(server.handshake_done());
}

TEST(tls_engine, an_http_request_on_the_tls_port_is_a_plain_text_client) {
  auto sctx = server_context();
  tls::engine server(sctx);
  EXPECT_FALSE(server.feed(text("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
  EXPECT_EQ(server.why(), tls::failure::plaintext_client);
}

TEST(tls_engine, garbage_inside_a_handshake_record_is_a_refused_handshake_with_an_alert) {
  auto sctx = server_context();
  tls::engine server(sctx);
  bytes rec = {std::byte{22}, std::byte{3}, std::byte{1}, std::byte{0}, std::byte{64}};
  const bytes junk = pattern(64);
  rec.insert(rec.end(), junk.begin(), junk.end());
  EXPECT_FALSE(server.feed(rec));
  EXPECT_EQ(server.why(), tls::failure::bad_handshake) << server.detail();
  EXPECT_FALSE(server.output().empty()) << "a fatal alert is queued for the peer";
  EXPECT_NE(server.alert_code(), 0);
}

TEST(tls_engine, a_record_announcing_more_than_tls_allows_is_refused_before_openssl_reads_it) {
  auto sctx = server_context();
  tls::engine server(sctx);
  const bytes rec = {std::byte{22}, std::byte{3}, std::byte{1}, std::byte{0xff}, std::byte{0xff}};
  EXPECT_FALSE(server.feed(rec));
  EXPECT_EQ(server.why(), tls::failure::bad_handshake);
}

TEST(tls_engine, a_client_that_does_not_trust_the_certificate_alerts_and_the_server_sees_the_alert) {
  auto sctx = server_context();
  std::string error;
  const auto other = tls::write_self_signed(std::filesystem::path(cert().files().certificate_file)
                                                .parent_path()
                                                .string(),
                                            "other", error);
  ASSERT_FALSE(other.certificate_file.empty()) << error;
  tls::context::client_options o;
  o.ca_file = other.certificate_file;  // trusts another certificate only
  o.server_name = "localhost";
  auto cctx = tls::context::make_client(o, error);
  ASSERT_TRUE(cctx) << error;
  tls::engine server(sctx), client(cctx);
  pump(client, server);
  EXPECT_EQ(client.why(), tls::failure::bad_handshake) << client.detail();
  EXPECT_EQ(server.why(), tls::failure::peer_alert);
  EXPECT_NE(server.alert_code(), 0);
}

TEST(tls_engine, a_tls_1_2_client_asking_to_renegotiate_is_refused_and_the_stream_ends) {
  auto sctx = server_context();
  auto cctx = client_context(tls::version::tls1_2);
  tls::engine server(sctx), client(cctx);
  pump(client, server);
  ASSERT_TRUE(server.handshake_done());
  ASSERT_TRUE(client.request_renegotiation());
  pump(client, server);
  read_all(server);
  EXPECT_EQ(server.why(), tls::failure::renegotiation_refused);
  EXPECT_FALSE(server.write(text("after")));
}

TEST(tls_engine, a_tls_1_3_stream_has_nothing_to_renegotiate) {
  auto sctx = server_context();
  auto cctx = client_context();
  tls::engine server(sctx), client(cctx);
  pump(client, server);
  EXPECT_FALSE(client.request_renegotiation());
  EXPECT_FALSE(server.failed());
}

TEST(tls_engine, a_transport_that_ends_inside_a_record_is_a_reset_mid_record) {
  auto sctx = server_context();
  auto cctx = client_context();
  tls::engine server(sctx), client(cctx);
  pump(client, server);
  ASSERT_TRUE(client.write(pattern(1000)));
  const auto out = client.output();
  ASSERT_GT(out.size(), 10u);
  ASSERT_TRUE(server.feed(out.first(out.size() / 2)));
  read_all(server);
  EXPECT_EQ(server.transport_ended(), tls::failure::reset_mid_record);
}

TEST(tls_engine, a_transport_that_ends_between_records_is_no_failure_and_close_notify_is_orderly) {
  auto sctx = server_context();
  auto cctx = client_context();
  tls::engine server(sctx), client(cctx);
  pump(client, server);
  ASSERT_TRUE(client.write(pattern(100)));
  pump(client, server);
  EXPECT_EQ(read_all(server).size(), 100u);
  EXPECT_EQ(server.transport_ended(), tls::failure::none);

  tls::engine server2(sctx), client2(cctx);
  pump(client2, server2);
  client2.close();
  pump(client2, server2);
  read_all(server2);
  EXPECT_TRUE(server2.peer_closed());
  EXPECT_FALSE(server2.failed());
}

TEST(tls_engine, a_tampered_application_record_is_a_refused_record) {
  auto sctx = server_context();
  auto cctx = client_context();
  tls::engine server(sctx), client(cctx);
  pump(client, server);
  ASSERT_TRUE(client.write(pattern(100)));
  bytes rec(client.output().begin(), client.output().end());
  client.consume_output(rec.size());
  rec[rec.size() - 3] ^= std::byte{0x40};
  server.feed(rec);
  read_all(server);
  EXPECT_EQ(server.why(), tls::failure::bad_record) << server.detail();
  EXPECT_FALSE(server.output().empty()) << "bad_record_mac is sent";
}

TEST(tls_engine, a_server_context_refuses_a_missing_certificate_with_the_path_in_the_error) {
  std::string error;
  auto c = tls::context::make_server({"/nonexistent/cert.pem", "/nonexistent/key.pem"}, error);
  EXPECT_FALSE(c);
  EXPECT_NE(error.find("/nonexistent/cert.pem"), std::string::npos) << error;
}

}  // namespace
