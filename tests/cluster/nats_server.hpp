#pragma once
// A real nats-server for a test: started on 127.0.0.1 on a free port (-p -1) with JetStream
// and a temp store dir, found through its ports file, stopped by its pid. Every wait is
// bounded. See /work/shared/real-parts.md (and docs/cluster.md) for the recipe.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace quay::test {

class nats_server {
 public:
  /// Starts a fresh server; throws if it does not answer within 10 s.
  nats_server() {
    char tmpl[] = "/tmp/quay-nats.XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    start(-1);
  }
  ~nats_server() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  nats_server(const nats_server&) = delete;
  nats_server& operator=(const nats_server&) = delete;

  const std::string& url() const { return url_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  /// Stops the server (SIGTERM, then SIGKILL after 5 s) and reaps it.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        break;
      }
      wait_a_little();
    }
    pid_ = -1;
  }

  /// Starts the server again on the same port with the same JetStream store.
  void restart() {
    stop();
    start(port_);
  }

 private:
  static void wait_a_little() {
    // A bounded poll step for a child process we cannot wait on otherwise.
    struct timespec ts{0, 10'000'000};
    ::nanosleep(&ts, nullptr);
  }

  void start(int port) {
    const std::string ports_dir = dir_ + "/ports";
    std::filesystem::create_directories(ports_dir);
    for (auto& e : std::filesystem::directory_iterator(ports_dir)) std::filesystem::remove(e.path());
    const std::string port_arg = std::to_string(port);
    const std::string sd = dir_ + "/js", log = dir_ + "/log", pidf = dir_ + "/pid";
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", port_arg.c_str(), "-js", "-sd",
               sd.c_str(), "-l", log.c_str(), "-P", pidf.c_str(), "--ports_file_dir",
               ports_dir.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    const std::string ports_file = ports_dir + "/nats-server_" + std::to_string(pid_) + ".ports";
    while (true) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("nats-server did not write " + ports_file + " within 10 s");
      }
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("nats-server exited at start (see " + log + ")");
      }
      std::ifstream in(ports_file);
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string text = ss.str();
      const auto at = text.find("nats://127.0.0.1:");
      if (at != std::string::npos) {
        const int p = std::atoi(text.c_str() + at + 17);
        if (p > 0 && answers(p)) {
          port_ = p;
          url_ = "nats://127.0.0.1:" + std::to_string(p);
          return;
        }
      }
      wait_a_little();
    }
  }

  static bool answers(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (ok) {
      char buf[8];
      ok = ::recv(fd, buf, sizeof buf, 0) > 0;  // the server's INFO line
    }
    ::close(fd);
    return ok;
  }

  std::string dir_;
  std::string url_;
  int port_ = -1;
  pid_t pid_ = -1;
};

}  // namespace quay::test
