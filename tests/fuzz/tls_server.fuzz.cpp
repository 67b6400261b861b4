// libFuzzer target over the TLS server engine's input (net/src/tls/tls_engine): what a peer
// sends before and after the handshake, fed in input-chosen chunks. No I/O.
//
// Input layout: byte 0 picks the mode (bit 0: first complete a real handshake with a client
// engine, so the rest lands in the record layer of an established TLS 1.3 stream; bit 1: the
// client speaks TLS 1.2), byte 1 seeds the chunk sizes, the rest is what the peer sends.
// Besides memory errors (ASan/UBSan), the target aborts when an invariant breaks:
//   1. a failure sticks: once failed(), feed() returns false and read() yields nothing;
//   2. plaintext_client is given only for a first byte other than 22 or a second other than 3;
//   3. read() never claims more than the buffer it was given, and output() only grows by what
//      the engine queued (consume_output() takes it back to empty);
//   4. transport_ended() after a failure keeps that failure.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <unistd.h>

#include "self_signed.hpp"
#include "tls_engine.hpp"

namespace {

namespace tls = quay::net::tls;

void check(bool ok) {
  if (!ok) std::abort();
}

struct contexts {
  tls::context server, client13, client12;
};

contexts* g = nullptr;

struct chunks {
  std::uint32_t state;
  std::size_t next() {
    state = state * 1103515245u + 12345u;
    return 1 + ((state >> 16) % 512);
  }
};

void pump(tls::engine& a, tls::engine& b) {
  for (int round = 0; round < 64; ++round) {
    bool moved = false;
    for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      const auto out = from->output();
      if (out.empty() || to->failed()) continue;
      to->feed(out);
      from->consume_output(out.size());
      moved = true;
    }
    if (!moved) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("quay-fuzz-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string error;
  const auto files = tls::write_self_signed(dir.string(), "fuzz", error);
  check(!files.certificate_file.empty());
  g = new contexts;
  g->server = tls::context::make_server({files.certificate_file, files.private_key_file}, error);
  tls::context::client_options c;
  c.verify_peer = false;
  g->client13 = tls::context::make_client(c, error);
  c.max_version = tls::version::tls1_2;
  g->client12 = tls::context::make_client(c, error);
  check(g->server && g->client13 && g->client12);
  // The engines loaded what they need: the files can go.
  std::filesystem::remove_all(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  chunks split{data[1]};
  const auto in = std::as_bytes(std::span(data + 2, size - 2));

  tls::engine server(g->server);
  if ((mode & 1) != 0) {
    tls::engine client((mode & 2) != 0 ? g->client12 : g->client13);
    pump(client, server);
    check(server.handshake_done() && client.handshake_done());
  }
  const bool fresh = (mode & 1) == 0;

  std::byte buf[2048];
  std::size_t at = 0;
  bool was_failed = false;
  while (at < in.size()) {
    const std::size_t n = std::min(split.next(), in.size() - at);
    const bool ok = server.feed(in.subspan(at, n));
    at += n;
    check(ok == !server.failed());
    if (was_failed) check(!ok);
    for (int i = 0; i < 64; ++i) {
      const std::size_t got = server.read(std::span(buf, (at % sizeof buf) + 1));
      check(got <= (at % sizeof buf) + 1);
      if (server.failed()) check(got == 0);
      if (got == 0) break;
    }
    server.consume_output(server.output().size());
    check(server.output().empty());
    was_failed = server.failed();
  }
  if (server.why() == tls::failure::plaintext_client) {
    check(fresh && !in.empty() &&
          (in[0] != std::byte{22} || (in.size() > 1 && in[1] != std::byte{3})));
  }
  const auto before = server.why();
  const auto after = server.transport_ended();
  if (before != tls::failure::none) check(after == before);
  return 0;
}
