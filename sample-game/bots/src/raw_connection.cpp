#include "raw_connection.hpp"

#include <algorithm>

#include "quay/runtime/error.hpp"

namespace quay::bots::detail {

raw_connection::raw_connection(actor_system& actors, actor_ref owner, std::uint32_t id,
                               bool read)
    : actors_(actors), owner_(owner), id_(id), read_(read) {}

raw_connection* raw_connection::open(io_port& port, actor_system& actors, actor_ref owner,
                                     const endpoint& target, std::uint32_t id, bool read) {
  auto* c = new raw_connection(actors, owner, id, read);
  std::lock_guard lock(c->mu_);
  c->cop_.target = target;
  ++c->pending_;
  async_connect(port, c->cop_);
  return c;
}

void raw_connection::write(const std::uint8_t* data, std::size_t size) {
  std::lock_guard lock(mu_);
  if (ended_) return;
  queue_.emplace_back(data, data + size);
  queued_bytes_ += size;
  if (connected_) start_send_locked();
}

std::size_t raw_connection::pending_bytes() {
  std::lock_guard lock(mu_);
  return queued_bytes_;
}

void raw_connection::release() { release_impl(false); }

void raw_connection::release_with_reset() { release_impl(true); }

void raw_connection::release_impl(bool reset) {
  bool done = false;
  {
    std::lock_guard lock(mu_);
    released_ = true;
    ended_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    // Closing completes pending operations with errc::aborted; the last one frees the object.
    if (reset && sock_.is_open()) {
      sock_.reset();
    } else {
      sock_.close();
    }
    cop_.socket.close();
    done = finished_locked();
  }
  if (done) delete this;
}

void raw_connection::on_connect(completion* c, std::error_code ec, std::size_t) {
  auto* self = static_cast<op<connect_op>*>(c)->conn;
  bool done = false;
  {
    std::lock_guard lock(self->mu_);
    --self->pending_;
    if (ec || self->ended_) {
      self->end_locked(ec ? ec : make_error_code(errc::aborted));
    } else {
      self->sock_ = std::move(self->cop_.socket);
      self->connected_ = true;
      self->start_recv_locked();
      self->start_send_locked();
    }
    done = self->finished_locked();
  }
  if (done) delete self;
}

void raw_connection::on_send(completion* c, std::error_code ec, std::size_t) {
  auto* self = static_cast<op<send_op>*>(c)->conn;
  bool done = false;
  {
    std::lock_guard lock(self->mu_);
    --self->pending_;
    self->sending_ = false;
    // release() may have zeroed the count while this send was in flight.
    self->queued_bytes_ -= std::min(self->queued_bytes_, self->in_flight_.size());
    if (ec) {
      self->end_locked(ec);
    } else {
      self->start_send_locked();
    }
    done = self->finished_locked();
  }
  if (done) delete self;
}

void raw_connection::on_recv(completion* c, std::error_code ec, std::size_t) {
  auto* self = static_cast<op<recv_op>*>(c)->conn;
  bool done = false;
  {
    std::lock_guard lock(self->mu_);
    --self->pending_;
    if (ec) {
      // The server closed it (end_of_stream) or reset it: what the scenario waits to see.
      self->end_locked(ec);
    } else {
      self->start_recv_locked();  // what a broken client receives does not matter
    }
    done = self->finished_locked();
  }
  if (done) delete self;
}

void raw_connection::start_send_locked() {
  if (sending_ || ended_ || !connected_ || queue_.empty()) return;
  in_flight_ = std::move(queue_.front());
  queue_.pop_front();
  out_buf_ = {in_flight_.data(), in_flight_.size()};
  sop_.buffers = &out_buf_;
  sop_.count = 1;
  sending_ = true;
  ++pending_;
  async_send(sock_, sop_);
}

void raw_connection::start_recv_locked() {
  // A connection that never reads learns of its end from a failing send instead.
  if (ended_ || !read_) return;
  rop_.buffer = {in_buf_.data(), in_buf_.size()};
  ++pending_;
  async_recv(sock_, rop_);
}

void raw_connection::end_locked(std::error_code reason) {
  if (!ended_) {
    ended_ = true;
    sock_.close();
  }
  // The owner hears of the end once, and not at all once it let go of the connection.
  if (!released_ && !reported_) {
    reported_ = true;
    actors_.send(owner_, raw_closed_msg{reason, id_});
  }
}

}  // namespace quay::bots::detail
