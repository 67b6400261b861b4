// libFuzzer target over the WebSocket receive path without I/O: the upgrade handshake
// (libhttp-parser) and then the framer (libwslay) on the bytes after it, each fed in
// input-chosen chunks.
//
// Input layout: byte 0 picks the mode (bit 0: skip the handshake and frame the whole stream)
// and small limits (bits 1-3), byte 1 seeds the chunk sizes, the rest is what a peer sends.
// Besides memory errors (ASan/UBSan), the target aborts when an invariant breaks:
//   1. chunked feeding gives the handshake's verdict and request length of one feed;
//   2. chunked framing hands up the messages, close code and output of one feed (pongs aside
//      when the stream fails: see compare());
//   3. no message is over the size limit, and every server frame is unmasked and whole;
//   4. the session's classification of the first bytes (classify_stream) is decided by at most
//      4 bytes, never changes once decided, and says websocket exactly for "GET ";
//   5. a plain GET (the session's HTTP request) is the same verdict, with the same target and
//      headers, whatever the split.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "connection.hpp"
#include "handshake.hpp"

namespace {

namespace ws = quay::net::ws;
using bytes = std::vector<std::byte>;

void check(bool ok) {
  if (!ok) std::abort();
}

// Yields chunk sizes 1..64 from a small LCG seeded by the input.
struct chunks {
  std::uint32_t state;
  std::size_t next() {
    state = state * 1103515245u + 12345u;
    return 1 + ((state >> 16) % 64);
  }
};

struct framed {
  std::vector<bytes> messages;
  bytes output;
  ws::close_reason reason{};
  std::uint16_t code = 0;
};

framed frame_stream(std::span<const std::byte> in, ws::connection_limits limits, chunks* split) {
  ws::connection c(limits);
  framed r;
  std::size_t at = 0;
  while (at < in.size()) {
    const std::size_t n = split != nullptr ? std::min(split->next(), in.size() - at) : in.size() - at;
    c.feed(in.subspan(at, n));
    at += n;
    bytes m;
    while (c.next_message(m)) r.messages.push_back(std::move(m));
  }
  const auto out = c.output();
  r.output.assign(out.begin(), out.end());
  r.reason = c.reason();
  r.code = c.close_code_sent();
  return r;
}

// Every server frame in `out` is unmasked, and the bytes end at a frame boundary. Returns
// the frames other than pongs.
bytes check_server_frames(std::span<const std::byte> out) {
  bytes kept;
  std::size_t i = 0;
  while (i < out.size()) {
    const std::size_t start = i;
    const bool pong = (std::to_integer<unsigned>(out[i]) & 0x0f) == 0xa;
    check(i + 2 <= out.size());
    const auto b1 = std::to_integer<unsigned>(out[i + 1]);
    check((b1 & 0x80) == 0);
    std::uint64_t n = b1 & 0x7f;
    i += 2;
    if (n == 126 || n == 127) {
      const std::size_t len_bytes = n == 126 ? 2 : 8;
      check(i + len_bytes <= out.size());
      n = 0;
      for (std::size_t k = 0; k < len_bytes; ++k) n = (n << 8) | std::to_integer<unsigned>(out[i + k]);
      i += len_bytes;
    }
    check(n <= out.size() - i);
    i += n;
    if (!pong) kept.insert(kept.end(), out.begin() + static_cast<std::ptrdiff_t>(start),
                           out.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return kept;
}

void compare(const framed& a, const framed& b) {
  check(a.messages == b.messages);
  // Pongs are compared by count only up to a failure: libwslay drops the pongs it queued in the
  // same read as a protocol error, so how many go out before the close depends on the split.
  // libwslay also checks a close frame's reason for UTF-8 per read, not per frame, so a split
  // changes its verdict both ways (a bad reason found before the frame is whole; a character
  // split between reads taken for a bad one). The connection checks the whole reason itself
  // too, but cannot undo wslay's 1007: with a 1007 on either side only the messages compare.
  const auto frames_a = check_server_frames(a.output);
  const auto frames_b = check_server_frames(b.output);
  if (a.code == 1007 || b.code == 1007) return;
  check(a.reason == b.reason);
  check(frames_a == frames_b);
  if (a.reason == quay::net::ws::close_reason::none) check(a.output == b.output);
  check(a.code == b.code);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  const std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data) + 2, size - 2);

  ws::connection_limits limits;
  ws::handshake_limits hlimits;
  if (mode & 0x2) limits.max_message_bytes = 300;
  if (mode & 0x4) limits.max_fragments = 4;
  if (mode & 0x8) {
    limits.max_pings_per_window = 2;
    hlimits.max_header_bytes = 256;
    hlimits.max_headers = 4;
  }

  {
    auto decided = ws::stream_kind::need_more;
    for (std::size_t n = 0; n <= std::min<std::size_t>(stream.size(), 8); ++n) {
      const auto k = ws::classify_stream(stream.first(n));
      if (decided != ws::stream_kind::need_more) check(k == decided);
      if (n >= 4) check(k != ws::stream_kind::need_more);
      decided = k;
    }
    if (stream.size() >= 4) {
      const bool get = std::equal(stream.begin(), stream.begin() + 4,
                                  reinterpret_cast<const std::byte*>("GET "));
      check((decided == ws::stream_kind::websocket) == get);
    }
  }

  std::span<const std::byte> frames = stream;
  if ((mode & 0x1) == 0) {
    ws::handshake whole(hlimits);
    std::size_t whole_consumed = 0;
    const auto verdict = whole.feed(stream, whole_consumed);

    ws::handshake pieces(hlimits);
    chunks split{data[1]};
    std::size_t at = 0;
    auto status = ws::handshake_status::need_more;
    while (at < stream.size() && status == ws::handshake_status::need_more) {
      const std::size_t n = std::min(split.next(), stream.size() - at);
      std::size_t consumed = 0;
      status = pieces.feed(stream.subspan(at, n), consumed);
      check(consumed <= n);
      at += consumed;
      if (status == ws::handshake_status::need_more) check(consumed == n);
    }
    check(status == verdict);
    // A refusal's reason may depend on the split: libhttp-parser reports a header name when it
    // ends or when its buffer does, so a request both malformed and over the header count is
    // refused for whichever it sees first.
    if (verdict == ws::handshake_status::accepted) check(pieces.error() == whole.error());
    (void)whole.response();
    // A split inside a header the parser reports in pieces may change which refusal is seen
    // first (above), so plain_get() is compared only where both calls agree on the error.
    if (pieces.error() == whole.error()) {
      check(pieces.plain_get() == whole.plain_get());
      if (whole.plain_get()) {
        check(pieces.target() == whole.target() && pieces.host() == whole.host());
        check(pieces.authorization() == whole.authorization() && pieces.accept() == whole.accept());
        check(!whole.target().empty());
      }
    }
    if (verdict != ws::handshake_status::accepted) return 0;
    check(at == whole_consumed);
    check(whole.response().starts_with("HTTP/1.1 101 "));
    frames = stream.subspan(whole_consumed);
  }

  const framed one = frame_stream(frames, limits, nullptr);
  chunks split{static_cast<std::uint32_t>(data[1]) * 7919u};
  const framed many = frame_stream(frames, limits, &split);
  compare(one, many);
  for (const auto& m : one.messages) check(m.size() <= limits.max_message_bytes);
  return 0;
}
