// One cluster node in its own process, for the kill -9 test:
//   cluster_node <nats url> <cluster> <heartbeat ms>
// Prints "node <16 hex>" once it joined, "fenced" if it is declared dead, and exits on its own
// after 60 s (a bound, should the test that started it die first).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>

#include "quay/cluster/membership.hpp"
#include "quay/cluster/nats_transport.hpp"
#include "quay/runtime/io_port.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: cluster_node <nats url> <cluster> <heartbeat ms>\n");
    return 2;
  }
  namespace qc = quay::cluster;
  quay::io_port port({.workers = 2});
  std::error_code ec;
  auto t = qc::nats_transport::connect(port, {.url = argv[1], .name = "cluster_node"}, ec);
  if (!t) return 3;
  auto kv = t->open_kv("quay_" + std::string(argv[2]), ec);
  if (!kv) return 4;
  qc::membership_options o;
  o.cluster = argv[2];
  o.heartbeat = quay::millis{std::atoi(argv[3])};
  const auto self = qc::new_incarnation();
  qc::membership m(port, *t, *kv, self, o);
  std::promise<void> fenced;
  m.on_fenced([&] {
    std::printf("fenced\n");
    std::fflush(stdout);
    fenced.set_value();
  });
  std::promise<std::error_code> ready;
  m.start([&](std::error_code e) { ready.set_value(e); });
  if (ready.get_future().get()) return 5;
  std::printf("node %s\n", qc::to_string(self).c_str());
  std::fflush(stdout);
  fenced.get_future().wait_for(std::chrono::seconds(60));
  m.stop();
  kv->close();
  t->close();
  return 0;
}
