#pragma once
// The project's load generator: epoll, one thread, 127.0.0.1 only, bounded in time. N
// connections keep D frames in flight each; every frame is an Envelope carrying S payload bytes.
// Echo order per connection is FIFO, so each reply's round trip is timed against the oldest
// frame in flight on that connection.
//
// Every reply is checked byte for byte: frame k on connection c carries a payload no other frame
// of the run carries (c and k in its first bytes, then a slice of a fixed pseudo-random pattern
// chosen by c and k), and reply k on connection c must be exactly the wire bytes of that frame.
// The first difference ends the run with ok = false and an error naming the connection, the
// frame and the byte, whichever server is under test.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace quay::bench {

struct loadgen_config {
  std::uint16_t port = 0;
  std::size_t connections = 100;
  std::size_t depth = 1;
  std::size_t payload_bytes = 64;
  double warmup_s = 0.3;
  double measure_s = 2.0;
  /// Speak WebSocket (RFC 6455): upgrade each connection first, then send every envelope as one
  /// masked binary frame (mask key 0, so the client spends nothing on masking while the server
  /// unmasks as for any key) and read unmasked binary frames back.
  bool websocket = false;
};

struct loadgen_result {
  bool ok = false;
  std::uint64_t frames = 0;         ///< round trips completed in the measured window
  double seconds = 0;               ///< length of the measured window
  double thread_cpu_s = 0;          ///< CPU time of the load generator's thread in the window
  double process_cpu_s = 0;         ///< CPU time of the whole process in the window
  std::vector<double> latencies_us; ///< round trips in the window, microseconds
  std::string error;                ///< why the run failed (empty when ok)
};

/// Runs one load on the calling thread. Linux only (epoll).
loadgen_result run_loadgen(const loadgen_config& c);

/// Upgrades a connected blocking socket to WebSocket (sends the request, reads the 101).
bool websocket_upgrade(int fd);

/// Opens `n` connections to 127.0.0.1:`port` and keeps them idle; returns their descriptors
/// (fewer on failure). close_all() closes them.
std::vector<int> open_idle(std::uint16_t port, std::size_t n);
void close_all(std::vector<int>& fds);

}  // namespace quay::bench
